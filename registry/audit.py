"""The tamper-evident audit log: a keyed hash chain of every triage, account, threshold and
watchlist event, signed checkpoints of its head, and its verification.

Each event carries an HMAC-SHA256, under the audit key kept outside the database
(registry.audit_key), of its content and the previous event's hash. Without the key an
edited, inserted, removed or reordered event cannot be made to fit. What the database alone
cannot show, a checkpoint file can: `pwatch audit checkpoint` signs the head (event, hash,
count); verifying against it reveals the newest events or the whole log deleted. Verification
also re-derives from the events the state they vouch for (alerts, accounts, thresholds,
challenge documents: registry.audit_state) and compares it with the tables.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.audit_key import AuditKey, AuditKeyError, load_key
from registry.errors import RegistryError
from registry.models import AuditHead, TriageEvent, utcnow

__all__ = [
    "GENESIS",
    "ChainReport",
    "Checkpoint",
    "anchor_chain",
    "append_event",
    "canonical_json",
    "event_hash",
    "lock_chain",
    "read_checkpoint",
    "verify_chain",
    "write_checkpoint",
]

GENESIS = "0" * 64
KEYED = "hmac-sha256"
LEGACY = "sha256"  # events written before the chain was keyed (schema < 0005)
_CHECKPOINT_KIND = "precursor-watch audit checkpoint"
_MAX_PROBLEMS = 20


def canonical_json(data: Any) -> str:
    """The one serialisation the chain signs: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, event: TriageEvent, key: AuditKey | None = None) -> str:
    """The event's link: HMAC over the previous hash and every recorded field (keyed events),
    or the SHA-256 an unkeyed event of an older registry was written with (key None)."""
    body = {
        "id": event.id,
        "alert_id": event.alert_id,
        "actor": event.actor,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "reason": event.reason_code,
        "note": event.note,
        "at": event.created_at.isoformat(timespec="microseconds") if event.created_at else None,
    }
    if key is None:  # frozen: the format of the unkeyed chain
        payload = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    body |= {"subject": event.subject, "payload": event.payload, "scheme": event.scheme}
    return key.mac((prev_hash + canonical_json(body)).encode("utf-8"))


def lock_chain(session: Session) -> AuditHead:
    """The chain head, locked for this transaction so concurrent appends queue up."""
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = session.scalars(stmt).first()
    if head is None:
        # The first appends on a fresh registry race to create the head (a plain INSERT made
        # all but one fail with a duplicate key): create it unless it exists, then lock it.
        values = {"id": 1, "last_event_id": None, "last_hash": GENESIS}
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(
                pg_insert(AuditHead).values(values).on_conflict_do_nothing(index_elements=["id"])
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            session.execute(
                sqlite_insert(AuditHead)
                .values(values)
                .on_conflict_do_nothing(index_elements=["id"])
            )
        head = session.scalars(stmt).one()
    return head


# (registry URL, key id) pairs whose key this process has matched against the chain's anchor.
_matched_keys: set[tuple[str, str]] = set()


def _chain_key(session: Session) -> AuditKey:
    """The audit key, once per process checked to be the one the chain was anchored with:
    events written under another key would break the chain for good."""
    bind = session.get_bind()
    key = load_key(bind)
    where = str(bind.engine.url)
    if (where, key.key_id) not in _matched_keys:
        anchored = _anchored_key_id(session)
        if anchored is not None and anchored != key.key_id:
            raise AuditKeyError(
                f"the audit key from {key.source} (id {key.key_id}) is not the key this "
                f"registry's chain was written with (id {anchored}); nothing was written"
            )
        _matched_keys.add((where, key.key_id))
    return key


def _anchored_key_id(session: Session) -> str | None:
    # The keyed anchor is the first keyed event (a downgrade re-links older ones unkeyed):
    # searched from the start, the scan stops there instead of crossing the whole log.
    anchor = session.scalars(
        select(TriageEvent.payload)
        .where(TriageEvent.action == "audit_anchor", TriageEvent.scheme == KEYED)
        .order_by(TriageEvent.id)
        .limit(1)
    ).first()
    return json.loads(anchor).get("key_id") if anchor else None


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    alert_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason_code: str | None = None,
    note: str | None = None,
    subject: str | None = None,
    payload: dict[str, Any] | None = None,
) -> TriageEvent:
    """Append one keyed event to the chain inside the caller's transaction."""
    key = _chain_key(session)
    head = lock_chain(session)
    event = TriageEvent(
        alert_id=alert_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason_code=reason_code,
        note=note,
        subject=subject,
        payload=canonical_json(payload) if payload is not None else None,
        scheme=KEYED,
        created_at=utcnow(),
        prev_hash=head.last_hash,
        hash="pending-" + os.urandom(24).hex(),
    )
    session.add(event)
    session.flush()  # assigns the id, which the hash covers
    event.hash = event_hash(head.last_hash, event, key)
    head.last_hash = event.hash
    head.last_event_id = event.id
    session.flush()
    return event


def anchor_chain(session: Session) -> TriageEvent | None:
    """Key the chain of a registry that has no keyed event yet (a new one, or one upgraded
    from the unkeyed chain): create the key file if needed and append an `audit_anchor`
    event that covers the old head and snapshots the state the chain vouches for from here
    on. A registry already keyed is left alone (its key must match)."""
    from registry.audit_state import snapshot

    lock_chain(session)
    keyed = session.scalars(select(TriageEvent.id).where(TriageEvent.scheme == KEYED).limit(1))
    bind = session.get_bind()
    if keyed.first() is not None:
        _chain_key(session)  # refuses a key that is not the chain's
        return None
    key = load_key(bind, create=True)
    legacy = session.scalar(select(func.count()).select_from(TriageEvent)) or 0
    payload = {"key_id": key.key_id, "unkeyed_events": legacy, **snapshot(session)}
    note = (
        f"audit chain keyed; it vouches for the {legacy} earlier unkeyed events and the "
        "state recorded here"
        if legacy
        else "audit chain started"
    )
    return append_event(session, actor="system", action="audit_anchor", note=note, payload=payload)


# --- checkpoints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed record of the chain head at one moment, kept outside the database."""

    event_id: int | None
    hash: str
    events: int
    written_at: str
    key_id: str
    registry: str

    def body(self) -> dict[str, Any]:
        return {
            "kind": _CHECKPOINT_KIND,
            "version": 1,
            "event_id": self.event_id,
            "hash": self.hash,
            "events": self.events,
            "written_at": self.written_at,
            "key_id": self.key_id,
            "registry": self.registry,
        }


def write_checkpoint(session: Session, path: Path) -> Checkpoint:
    """Verify the chain, then write its signed head to `path` (JSON). Refuses a broken chain:
    a checkpoint must never vouch for a tampered log."""
    report = verify_chain(session)
    if not report.ok:
        raise RegistryError(f"no checkpoint written: {report.describe()}")
    bind = session.get_bind()
    key = load_key(bind)
    last = session.scalars(select(TriageEvent).order_by(TriageEvent.id.desc()).limit(1)).first()
    cp = Checkpoint(
        event_id=last.id if last else None,
        hash=last.hash if last else GENESIS,
        events=report.events,
        written_at=utcnow().isoformat(timespec="seconds") + "Z",
        key_id=key.key_id,
        registry=bind.engine.url.render_as_string(hide_password=True),
    )
    doc = cp.body() | {"signature": key.mac(canonical_json(cp.body()).encode("utf-8"))}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return cp


def read_checkpoint(path: Path, key: AuditKey) -> Checkpoint:
    """A checkpoint file, checked for its signature under `key`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"no checkpoint file {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path} is not a readable checkpoint file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != _CHECKPOINT_KIND:
        raise RegistryError(f"{path} is not a precursor-watch audit checkpoint")
    try:
        cp = Checkpoint(
            event_id=doc["event_id"],
            hash=str(doc["hash"]),
            events=int(doc["events"]),
            written_at=str(doc["written_at"]),
            key_id=str(doc["key_id"]),
            registry=str(doc["registry"]),
        )
    except (KeyError, TypeError, ValueError):
        raise RegistryError(f"{path} is not a complete audit checkpoint") from None
    if cp.key_id != key.key_id:
        raise RegistryError(
            f"the checkpoint {path} was signed with another audit key (id {cp.key_id}; "
            f"this registry's key is {key.key_id})"
        )
    if doc.get("signature") != key.mac(canonical_json(cp.body()).encode("utf-8")):
        raise RegistryError(f"the checkpoint {path} was altered after it was written")
    return cp


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The verdict of `verify_chain`: the chain's own links, the checkpoint, the state."""

    ok: bool
    events: int
    first_broken_id: int | None = None
    problem: str = ""
    problems: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line for a user."""
        if self.ok:
            return f"audit chain intact: {self.events} events verified"
        if self.first_broken_id is not None:
            return f"audit chain broken at event {self.first_broken_id}: {self.problem}"
        more = len(self.problems) - 1
        return f"audit check failed: {self.problem}" + (
            f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        )


def _broken(count: int, event_id: int | None, problem: str) -> ChainReport:
    return ChainReport(False, count, event_id, problem, (problem,))


def verify_chain(session: Session, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the whole log in order; name the first event whose link or content is broken.
    Then check the head, the checkpoint if given, and the state the events vouch for."""
    from registry.audit_state import ChainState

    key = load_key(session.get_bind())
    state = ChainState()
    prev, count, last_id, keyed_seen = GENESIS, 0, None, False
    cp_seen = checkpoint is None or checkpoint.event_id is None
    stmt = select(TriageEvent).order_by(TriageEvent.id).execution_options(yield_per=2000)
    for event in session.scalars(stmt):
        count += 1
        if event.prev_hash != prev:
            return _broken(
                count,
                event.id,
                "its link to the previous event does not match "
                "(an event before it was removed, inserted or reordered)",
            )
        if event.scheme == KEYED:
            keyed_seen = True
        elif keyed_seen:
            return _broken(count, event.id, "an unkeyed event after the chain was keyed")
        if event_hash(prev, event, key if event.scheme == KEYED else None) != event.hash:
            return _broken(count, event.id, "its content was altered after it was written")
        if checkpoint is not None and event.id == checkpoint.event_id:
            cp_seen = True
            if event.hash != checkpoint.hash or count != checkpoint.events:
                return _broken(
                    count,
                    event.id,
                    f"it is not the event the checkpoint of {checkpoint.written_at} recorded "
                    f"(event {checkpoint.event_id} as number {checkpoint.events} of the log)",
                )
        if event.scheme == KEYED:
            state.apply(event)
        prev, last_id = event.hash, event.id
        session.expunge(event)  # keep memory flat on long logs
    head = session.get(AuditHead, 1)
    if count and head is not None and (head.last_hash != prev or head.last_event_id != last_id):
        return _broken(
            count,
            head.last_event_id,
            "the newest events were deleted (the chain head records a later event "
            "than the log holds)",
        )
    problems = _log_problems(count, keyed_seen)
    if checkpoint is not None and not cp_seen:
        problems.append(
            f"the log ends at event {last_id} ({count} events), but the checkpoint of "
            f"{checkpoint.written_at} recorded event {checkpoint.event_id} as number "
            f"{checkpoint.events}: the newest events were deleted"
        )
    if keyed_seen:
        problems += state.compare(session)
    if problems:
        shown = tuple(problems[:_MAX_PROBLEMS])
        return ChainReport(False, count, None, shown[0], shown)
    return ChainReport(True, count)


def _log_problems(count: int, keyed_seen: bool) -> list[str]:
    if count == 0:
        return [
            "the log is empty, but `pwatch init` starts every registry's log with a keyed "
            "anchor event: the whole log was deleted"
        ]
    if not keyed_seen:
        return [
            "no event of the log is keyed: it was rewritten without the audit key "
            "(or the registry was never anchored by `pwatch init`)"
        ]
    return []
