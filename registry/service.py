"""The service layer: the only way alert state changes. Roles, state machine, four eyes,
optimistic locking and the audit log are enforced here for the console and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from registry.audit import append_event
from registry.errors import PermissionDenied, RegistryError, StaleAlert, TransitionNotAllowed
from registry.models import (
    DISMISS_REASON_CODES,
    STATUSES,
    TRIAGE_ACTIONS,
    AlertRow,
    ChallengeRequest,
    DetectorSetting,
    User,
    utcnow,
)

__all__ = [
    "ACTIONS",
    "DISMISS_REASONS",
    "FOUR_EYES_SEVERITIES",
    "POLICY",
    "Action",
    "act",
    "acting_user",
    "allowed",
    "available_actions",
    "require_role",
    "set_detector_setting",
]

FOUR_EYES_SEVERITIES = frozenset({"high", "critical"})

DISMISS_REASONS: dict[str, str] = dict(
    zip(
        DISMISS_REASON_CODES,
        (
            "Trade verified as legitimate with the competent authority",
            "Covered by an updated or late declaration",
            "Data error in the feed (unit, date, duplicate record)",
            "Mirror gap explained by timing or reporting practice",
            "Product is not a listed precursor or analogue",
            "Duplicate of another alert",
            "Other (explained in the note)",
        ),
        strict=True,
    )
)

# Which roles may do what. Access is decided here, never by hiding buttons.
POLICY: dict[str, frozenset[str]] = {
    "claim": frozenset({"inspector", "supervisor"}),
    "assign": frozenset({"supervisor"}),
    "start_review": frozenset({"inspector", "supervisor"}),
    "note": frozenset({"inspector", "supervisor"}),
    "escalate": frozenset({"inspector", "supervisor"}),
    "dismiss": frozenset({"inspector", "supervisor"}),
    "approve": frozenset({"supervisor"}),
    "reject": frozenset({"supervisor"}),
    "reopen": frozenset({"supervisor"}),
    "tune_thresholds": frozenset({"supervisor"}),
    "promote_analogue": frozenset({"supervisor"}),
    "ingest": frozenset({"analyst", "supervisor"}),
    # the body's pages: queue, alerts, cases, facilities, early warning, overview (what
    # each role sees of them is registry.access.ACCESS: by classification, state, assignment)
    "view": frozenset({"analyst", "inspector", "supervisor", "viewer"}),
    # add accounts, reset passwords, change roles, disable and enable (registry.users)
    "manage_accounts": frozenset({"supervisor"}),
    "set_classification": frozenset({"supervisor"}),
    # requests for clarification (registry.clarifications): drafted by those who triage,
    # approved or rejected by a supervisor who did not draft it, answered by the state
    "draft_clarification": frozenset({"inspector", "supervisor"}),
    "decide_clarification": frozenset({"supervisor"}),
    "answer_clarification": frozenset({"authority"}),
    "follow_up_clarification": frozenset({"inspector", "supervisor"}),
    # a national authority's declarations (registry.declarations); deadlines per year
    "submit_declarations": frozenset({"authority"}),
    "set_declaration_deadline": frozenset({"supervisor"}),
}

ACTIONS = TRIAGE_ACTIONS

# action -> statuses it may start from
_FROM: dict[str, frozenset[str]] = {
    "claim": frozenset({"new"}),
    "assign": frozenset({"new", "assigned", "in_review"}),
    "start_review": frozenset({"assigned"}),
    "note": frozenset(STATUSES),  # a note may be added whatever the status
    "escalate": frozenset({"in_review"}),
    "dismiss": frozenset({"in_review"}),
    "approve": frozenset({"pending_escalation", "pending_dismissal"}),
    "reject": frozenset({"pending_escalation", "pending_dismissal"}),
    "reopen": frozenset({"escalated", "dismissed"}),
}


@dataclass(frozen=True)
class Action:
    """A request to act on an alert, as the console or the CLI makes it."""

    action: str
    reason_code: str | None = None
    note: str | None = None
    assignee: str | None = None


def allowed(role: str, action: str) -> bool:
    """Does the policy table let `role` do `action` at all?"""
    return role in POLICY.get(action, frozenset())


def require_role(user: User, action: str) -> None:
    """Raise PermissionDenied unless the user's role may do `action`."""
    if not user.active:
        raise PermissionDenied(f"account {user.username!r} is disabled")
    if not allowed(user.role, action):
        article = "an" if user.role[:1] in "aeiou" else "a"
        raise PermissionDenied(f"{article} {user.role} may not {action.replace('_', ' ')}")


def acting_user(session: Session, user: User) -> User:
    """The actor as the registry holds it now, in this transaction: a User object read
    earlier (a console session, a CLI login) may have been disabled or changed role since."""
    fresh = session.scalars(select(User).where(User.username == user.username)).first()
    if fresh is None or not fresh.active:
        raise PermissionDenied(f"account {user.username!r} is disabled or no longer exists")
    return fresh


def _check_assignee(session: Session, username: str | None) -> None:
    """Alerts go only to enabled accounts whose role works alerts (inspectors, supervisors)."""
    target = session.scalars(select(User).where(User.username == username)).first()
    if target is None or not target.active or not allowed(target.role, "start_review"):
        workers = " or ".join(sorted(POLICY["start_review"]))
        raise RegistryError(
            f"cannot assign to {username!r}: alerts go to an enabled {workers} account"
        )


def _check(alert: AlertRow, user: User, req: Action) -> str | None:
    """Validate the request; return the status it leads to (None: unchanged)."""
    action = req.action
    if action not in _FROM:
        raise RegistryError(f"unknown action {action!r}")
    require_role(user, action)
    if alert.status not in _FROM[action]:
        raise TransitionNotAllowed(
            f"cannot {action.replace('_', ' ')} alert {alert.id}: it is {alert.status}"
        )
    is_assignee = alert.assignee == user.username
    if action == "claim":
        return "assigned"
    if action == "assign":
        if not req.assignee:
            raise RegistryError("assign needs the user to assign the alert to")
        return "assigned"
    if action == "note":
        if not (req.note and req.note.strip()):
            raise RegistryError("a note cannot be empty")
        return None
    if action in ("start_review", "escalate", "dismiss") and not is_assignee:
        owner = alert.assignee or "nobody"
        raise PermissionDenied(
            f"alert {alert.id} is assigned to {owner}; only the assignee may {action.replace('_', ' ')}"
        )
    if action == "start_review":
        return "in_review"
    if action == "escalate":
        if not (req.note and req.note.strip()):
            raise RegistryError("an escalation needs a note stating the grounds")
        return "pending_escalation"  # every challenge-inspection request needs a supervisor
    if action == "dismiss":
        if req.reason_code not in DISMISS_REASONS:
            raise RegistryError(
                f"a dismissal needs a reason code, one of: {', '.join(DISMISS_REASONS)}"
            )
        if not (req.note and req.note.strip()):
            raise RegistryError("a dismissal needs a note")
        return "pending_dismissal" if alert.severity in FOUR_EYES_SEVERITIES else "dismissed"
    if action in ("approve", "reject"):
        if alert.proposed_by == user.username:
            raise PermissionDenied("nobody may approve or reject their own proposal (four eyes)")
        if action == "reject":
            return "in_review"
        return "escalated" if alert.status == "pending_escalation" else "dismissed"
    if action == "reopen":
        return "new"
    raise RegistryError(f"unknown action {action!r}")  # pragma: no cover


def available_actions(alert: AlertRow, user: User) -> list[str]:
    """The actions this user could take on this alert now (for menus; the rules still apply)."""
    out = []
    for action in ACTIONS:
        probe = Action(action, reason_code="other", note="x", assignee=user.username)
        try:
            _check(alert, user, probe)
        except RegistryError:
            continue
        out.append(action)
    return out


def act(
    session: Session,
    alert_id: int,
    user: User,
    req: Action,
    *,
    expected_version: int | None,
) -> AlertRow:
    """Apply one triage action, atomically, with the audit event, inside the caller's transaction.

    `expected_version` is the alert version the actor saw; if someone changed the alert since,
    StaleAlert is raised and nothing is written. Only notes may pass None.
    """
    alert = _lock_alert(session, alert_id)
    if alert is None:
        raise RegistryError(f"no alert {alert_id}")
    if expected_version is None and req.action != "note":
        raise RegistryError("state changes need the alert version the actor saw")
    if expected_version is not None and alert.version != expected_version:
        raise StaleAlert(_stale_message(alert))
    user = acting_user(session, user)
    to_status = _check(alert, user, req)
    if req.action == "assign":
        _check_assignee(session, req.assignee)
    from_status = alert.status
    payload: dict | None = None
    if to_status is not None:
        alert.status = to_status
        alert.updated_at = utcnow()
        if req.action == "claim":
            alert.assignee = user.username
        elif req.action == "assign":
            alert.assignee = req.assignee
        elif req.action in ("escalate", "dismiss") and to_status.startswith("pending_"):
            alert.proposed_by = user.username
            alert.proposed_reason_code = req.reason_code
            alert.proposed_note = req.note
        elif req.action in ("approve", "reject"):
            if req.action == "approve" and from_status == "pending_escalation":
                doc = _create_challenge_request(session, alert, user, req.note)
                payload = {"challenge_request": doc.id, "sha256": doc.sha256}
            if req.action == "reject":
                alert.proposed_by = None
                alert.proposed_reason_code = None
                alert.proposed_note = None
        elif req.action == "reopen":
            alert.assignee = None
            alert.proposed_by = None
            alert.proposed_reason_code = None
            alert.proposed_note = None
        try:
            session.flush()  # UPDATE ... WHERE version = seen: a concurrent writer makes it fail
        except StaleDataError as exc:
            session.rollback()
            fresh = session.get(AlertRow, alert_id, populate_existing=True)
            raise StaleAlert(_stale_message(fresh) if fresh else str(exc)) from exc
    reason = req.reason_code if req.action == "dismiss" else None
    if req.action == "approve" and from_status == "pending_dismissal":
        reason = alert.proposed_reason_code
    append_event(
        session,
        actor=user.username,
        action=req.action,
        alert_id=alert.id,
        from_status=from_status,
        to_status=alert.status,
        reason_code=reason,
        note=req.note if req.action != "assign" else f"assigned to {req.assignee}",
        subject=req.assignee if req.action == "assign" else None,
        payload=payload,
    )
    return alert


def _lock_alert(session: Session, alert_id: int) -> AlertRow | None:
    """Read the alert under a write lock, so status and version cannot change until commit.

    Without it a note (which needs no version) could record a status that a concurrent
    action had just changed.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a no-op write takes the database write lock first.
        session.execute(
            update(AlertRow.__table__)  # type: ignore[arg-type]
            .where(AlertRow.__table__.c.id == alert_id)
            .values(version=AlertRow.__table__.c.version)
        )
        return session.get(AlertRow, alert_id, populate_existing=True)
    return session.get(AlertRow, alert_id, populate_existing=True, with_for_update=True)


def _stale_message(alert: AlertRow) -> str:
    who = f", assigned to {alert.assignee}" if alert.assignee else ""
    return (
        f"alert {alert.id} was changed by someone else while you looked at it "
        f"(now {alert.status}{who}, version {alert.version}); reload it and try again"
    )


def _create_challenge_request(
    session: Session, alert: AlertRow, approver: User, note: str | None
) -> ChallengeRequest:
    from registry.challenge import create_challenge_request

    return create_challenge_request(session, alert, approver.username, note)


def set_detector_setting(session: Session, user: User, detector: str, values: dict) -> None:
    """A supervisor changes a detector's thresholds; the change is audited with the values.
    Values out of a threshold's range (or of the wrong type) are refused with the config's
    own message."""
    user = acting_user(session, user)
    require_role(user, "tune_thresholds")
    from detection.run import configs

    try:
        configs({detector: values})
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    row = session.scalars(
        select(DetectorSetting).where(DetectorSetting.detector == detector)
    ).first()
    old = dict(row.values) if row else {}
    if row is None:
        row = DetectorSetting(detector=detector, values=values, updated_by=user.username)
        session.add(row)
    else:
        row.values = values
        row.updated_by = user.username
        row.updated_at = utcnow()
    append_event(
        session,
        actor=user.username,
        action="tune_thresholds",
        note=f"{detector}: {old} -> {values}",
        subject=detector,
        payload={"values": values},
    )
