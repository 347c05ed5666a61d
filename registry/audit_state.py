"""The state the audit chain vouches for, re-derived from its events and compared with the
tables: each alert's status, assignee and proposer; each account's role, whether it is
enabled, its state and (by digest) its password hash and second factor; detector thresholds; the sha256 of each
challenge-inspection request. A row changed, inserted or deleted without its event shows up
as a difference.

The chain's `audit_anchor` event holds the state as it stood when the chain was keyed (an
upgraded registry's history before it was unkeyed); the events after it are applied to it.
Events carry their data as fields (subject, payload), never as prose to parse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AlertRow, ChallengeRequest, DetectorSetting, TriageEvent, User

__all__ = ["ChainState", "password_digest", "snapshot"]

# An alert no event has touched: as detection stores it.
_FRESH = ("new", None, None)

AlertState = tuple[str, str | None, str | None]  # status, assignee, proposed_by


def password_digest(password_hash: str) -> str:
    """What the chain records of a password: a digest of its (salted argon2) hash."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


def totp_digest(secret: str | None) -> str | None:
    from registry.second_factor import totp_digest as digest

    return digest(secret)


def _document_digest(markdown: str) -> str:
    from registry.challenge import document_sha256

    return document_sha256(markdown)


@dataclass
class ChainState:
    """What the events say the registry holds."""

    alerts: dict[int, AlertState] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    documents: dict[int, str] = field(default_factory=dict)

    def apply(self, event: TriageEvent) -> None:
        """Advance the state by one (keyed) event."""
        data = json.loads(event.payload) if event.payload else {}
        if event.action == "audit_anchor":
            self._restore(data)
        elif event.alert_id is not None:
            self._apply_alert(event, data)
        elif event.subject is not None and event.action in _ACCOUNT_FIELDS:
            if event.action == "user_added":
                self.accounts[event.subject] = {}
            account = self.accounts.setdefault(event.subject, {})
            account.update({k: data[k] for k in _ACCOUNT_FIELDS[event.action] if k in data})
        elif event.action == "tune_thresholds" and event.subject is not None:
            self.thresholds[event.subject] = data.get("values", {})

    def _restore(self, data: dict[str, Any]) -> None:
        self.alerts = {int(k): (v[0], v[1], v[2]) for k, v in data.get("alerts", {}).items()}
        self.accounts = {k: dict(v) for k, v in data.get("accounts", {}).items()}
        self.thresholds = dict(data.get("thresholds", {}))
        self.documents = {int(k): v for k, v in data.get("documents", {}).items()}

    def _apply_alert(self, event: TriageEvent, data: dict[str, Any]) -> None:
        assert event.alert_id is not None
        status, assignee, proposer = self.alerts.get(event.alert_id, _FRESH)
        status = event.to_status or status
        if event.action == "claim":
            assignee = event.actor
        elif event.action == "assign":
            assignee = event.subject
        elif event.action in ("escalate", "dismiss") and status.startswith("pending_"):
            proposer = event.actor
        elif event.action == "reject":
            proposer = None
        elif event.action == "reopen":
            assignee = proposer = None
        self.alerts[event.alert_id] = (status, assignee, proposer)
        if "challenge_request" in data:
            self.documents[int(data["challenge_request"])] = data["sha256"]

    def compare(self, session: Session) -> list[str]:
        """Every difference between this state and the tables, in plain words."""
        now = _table_state(session)
        out = _compare_alerts(self.alerts, now.alerts)
        out += _compare_accounts(self.accounts, now.accounts)
        for detector in sorted(set(self.thresholds) | set(now.thresholds)):
            said, held = self.thresholds.get(detector), now.thresholds.get(detector)
            if _canon(said) != _canon(held):
                out.append(
                    f"the thresholds of {detector} are {_canon(held)} in the registry, but the "
                    f"audit chain records {_canon(said)}: changed without an event"
                )
        out += _compare_documents(self.documents, session)
        return out


# action -> the account fields its payload sets
_ACCOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "user_added": ("role", "active", "password", "state", "totp"),
    "password_set": ("password",),
    "password_rehashed": ("password",),
    "role_changed": ("role", "state"),
    "totp_enrolled": ("totp",),
    "totp_removed": ("totp",),
    "account_disabled": ("active",),
    "account_enabled": ("active",),
}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if value is not None else "nothing"


def _describe(state: AlertState) -> str:
    status, assignee, proposer = state
    return f"{status}, assigned to {assignee or 'nobody'}" + (
        f", proposed by {proposer}" if proposer else ""
    )


def _compare_alerts(said: dict[int, AlertState], held: dict[int, AlertState]) -> list[str]:
    out = []
    for alert_id in sorted(set(said) | set(held)):
        expected, actual = said.get(alert_id, _FRESH), held.get(alert_id, _FRESH)
        if expected != actual:
            out.append(
                f"alert {alert_id} is {_describe(actual)} in the registry, but its events "
                f"leave it {_describe(expected)}: changed without an event"
            )
    return out


def _compare_accounts(said: dict[str, dict], held: dict[str, dict]) -> list[str]:
    out = []
    for name in sorted(set(said) | set(held)):
        if name not in said:
            out.append(f"account {name} is not in the audit chain: added without an event")
            continue
        if name not in held:
            out.append(f"account {name} is in the audit chain but gone from the registry")
            continue
        for key, what in (
            ("role", "role"),
            ("active", "enabled"),
            ("password", "password"),
            ("state", "state"),
            ("totp", "second factor"),
        ):
            if said[name].get(key) != held[name].get(key):
                detail = (
                    "was replaced"
                    if key in ("password", "totp")
                    else f"is {held[name].get(key)} in the registry, but the audit chain "
                    f"says {said[name].get(key)}"
                )
                out.append(f"account {name}: {what} {detail}: changed without an event")
    return out


def _compare_documents(said: dict[int, str], session: Session) -> list[str]:
    out = []
    rows = session.execute(
        select(ChallengeRequest.id, ChallengeRequest.sha256, ChallengeRequest.markdown).order_by(
            ChallengeRequest.id
        )
    )
    held = set()
    for rid, sha, markdown in rows:
        held.add(rid)
        if _document_digest(markdown) != sha:
            out.append(f"challenge request {rid}: its document does not match its sha256")
        elif rid not in said:
            out.append(f"challenge request {rid} is not in the audit chain: added without an event")
        elif said[rid] != sha:
            out.append(
                f"challenge request {rid}: its document is not the one the audit chain "
                "recorded (rewritten, with a new sha256)"
            )
    out += [
        f"challenge request {rid} is in the audit chain but gone from the registry"
        for rid in sorted(set(said) - held)
    ]
    return out


def _table_state(session: Session) -> ChainState:
    """The same state as the tables hold it."""
    alerts = {
        aid: (status, assignee, proposer)
        for aid, status, assignee, proposer in session.execute(
            select(AlertRow.id, AlertRow.status, AlertRow.assignee, AlertRow.proposed_by)
        )
        if (status, assignee, proposer) != _FRESH
    }
    accounts = {
        u.username: {
            "role": u.role,
            "active": u.active,
            "password": password_digest(u.password_hash),
            "state": u.state,
            "totp": totp_digest(u.totp_secret) if u.totp_enabled else None,
        }
        for u in session.scalars(select(User))
    }
    thresholds = {
        d: dict(v)
        for d, v in session.execute(select(DetectorSetting.detector, DetectorSetting.values))
    }
    documents = {
        rid: sha
        for rid, sha in session.execute(select(ChallengeRequest.id, ChallengeRequest.sha256))
    }
    return ChainState(alerts, accounts, thresholds, documents)


def snapshot(session: Session) -> dict[str, Any]:
    """The tables' state as an anchor event records it (JSON: keys are strings)."""
    now = _table_state(session)
    return {
        "alerts": {str(k): list(v) for k, v in now.alerts.items()},
        "accounts": now.accounts,
        "thresholds": now.thresholds,
        "documents": {str(k): v for k, v in now.documents.items()},
    }
