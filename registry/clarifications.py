"""Requests for clarification (CWC Article IX): from an alert or a case an inspector drafts a
request to the state concerned, with questions and the evidence to share chosen field by
field; a supervisor other than the drafter approves it (four eyes), which starts the state's
deadline; the state's authority answers with text and attachments; the inspector then closes
it, asks again (a new request, approved again) or proposes a challenge inspection with the
answer on record. Every step is an audited event.

What may be shared is computed here from the registry, never taken from the client: only
the state's own data (its facilities and their declarations, the records one of whose sides
is in the state, without the other side's name) and the detector's figures of an alert about
the state. The values are stored with the request as approved, so the state sees exactly what
the supervisor approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from registry.audit import append_event
from registry.errors import PermissionDenied, RegistryError, StaleAlert
from registry.files import safe_name
from registry.models import AlertRow, AlertShipment, Declaration, Facility, Shipment, User, utcnow
from registry.models_states import ClarificationAttachment, ClarificationRequest
from registry.settings import get_settings

__all__ = [
    "FOLLOW_UPS",
    "SENT",
    "Shareable",
    "answer",
    "attachments",
    "decide",
    "draft",
    "follow_up",
    "is_overdue",
    "overdue_requests",
    "request_for",
    "requests_for",
    "shareable",
    "shared_alert_ids",
    "shared_frame",
    "states_of",
]

# Statuses of a request the state has received (approved at some point).
SENT = ("open", "answered", "closed", "followed_up", "challenge_proposed")
MAX_ATTACHMENTS = 5
# Evidence kinds safe to share: figures, never words (a detector's text or list evidence can
# carry another state's party names).
_FIGURE_KINDS = frozenset(
    {"kg", "count", "share", "times", "number", "probability", "days", "date", "year"}
)


@dataclass(frozen=True)
class Shareable:
    """One piece of evidence that may be shared with the state: its key, label and value."""

    key: str
    label: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "value": self.value}


def shared_alert_ids(state: str) -> Any:
    """SQL: the alerts a request for clarification sent to `state` is about."""
    return select(ClarificationRequest.alert_id).where(
        ClarificationRequest.state == state, ClarificationRequest.status.in_(SENT)
    )


def states_of(session: Session, alert_ids: list[int]) -> list[str]:
    """The states an alert (or a case) concerns: its country, its facility's, its records'."""
    found: set[str] = set()
    for country, fac_country in session.execute(
        select(AlertRow.country, Facility.country)
        .outerjoin(Facility, Facility.facility_id == AlertRow.facility_id)
        .where(AlertRow.id.in_(alert_ids))
    ):
        found.update(c for c in (country, fac_country) if c)
    for exp, imp in session.execute(
        select(Shipment.exporter_country, Shipment.importer_country)
        .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
        .where(AlertShipment.alert_id.in_(alert_ids))
        .distinct()
    ):
        found.update(c for c in (exp, imp) if c)
    return sorted(found)


def _kg(x: float | None) -> str:
    return "" if x is None else f"{x:,.1f} kg" if abs(x) < 100 else f"{x:,.0f} kg"


def _facility_items(session: Session, alerts: list[AlertRow], state: str) -> list[Shareable]:
    out: list[Shareable] = []
    ids = sorted({a.facility_id for a in alerts if a.facility_id})
    for fac in session.scalars(
        select(Facility).where(Facility.facility_id.in_(ids), Facility.country == state)
    ):
        out.append(
            Shareable(f"facility:{fac.facility_id}", "Your declared facility", f"{fac.name} ({fac.facility_id})")
        )  # fmt: skip
        decls = session.scalars(
            select(Declaration)
            .where(Declaration.facility_id == fac.facility_id)
            .order_by(Declaration.declaration_year, Declaration.substance)
        ).all()
        if decls:
            text = "; ".join(
                f"{d.substance}, {d.activity}, {d.declaration_year or 'every year'}: "
                f"{_kg(d.declared_annual_kg)}"
                for d in decls
            )
            out.append(
                Shareable(f"declarations:{fac.facility_id}", f"Declarations of {fac.facility_id}", text)
            )  # fmt: skip
    return out


def _figure_items(session: Session, alerts: list[AlertRow], state: str) -> list[Shareable]:
    from detection.catalogue import CATALOGUE, format_value
    from registry.queries import substance_names

    names = substance_names(session)
    out: list[Shareable] = []
    fac_state = dict(
        session.execute(
            select(Facility.facility_id, Facility.country).where(
                Facility.facility_id.in_([a.facility_id for a in alerts if a.facility_id])
            )
        ).all()
    )
    for a in alerts:
        if state not in (a.country, fac_state.get(a.facility_id or "")):
            continue  # figures of an alert about another state are not this state's
        words = CATALOGUE.get(a.detector)
        numbers = (a.evidence or {}).get("numbers")
        if words is None or not isinstance(numbers, dict):
            continue
        for key, value in numbers.items():
            entry = words.numbers.get(key)
            if entry is None or entry.kind not in _FIGURE_KINDS:
                continue
            text = format_value(entry, value, names)
            if text:
                out.append(Shareable(f"figure:{a.id}:{key}", f"Alert {a.id}: {entry.label}", text))
    return out


def _record_items(session: Session, alert_ids: list[int], state: str) -> list[Shareable]:
    from detection.catalogue import flow_word
    from registry.words import country_name

    out: list[Shareable] = []
    rows = session.scalars(
        select(Shipment)
        .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
        .where(
            AlertShipment.alert_id.in_(alert_ids),
            or_(Shipment.exporter_country == state, Shipment.importer_country == state),
        )
        .distinct()
        .order_by(Shipment.date, Shipment.id)
    ).all()
    for r in rows:
        if r.exporter_country == state:
            own = f"{r.exporter} exported to a party in {country_name(r.importer_country)}"
        else:
            own = f"{r.importer} imported from a party in {country_name(r.exporter_country)}"
        out.append(
            Shareable(
                f"record:{r.id}",
                f"Record {r.shipment_id} ({flow_word(r.flow)}, {r.source})",
                f"{r.date}: {own}; product {r.product!r}, {_kg(r.quantity_kg)}"
                + (f", consignment {r.consignment_ref}" if r.consignment_ref else ""),
            )
        )
    return out


def shareable(session: Session, alert_ids: list[int], state: str) -> list[Shareable]:
    """Everything of these alerts that may be shared with `state`, field by field."""
    from detection.catalogue import detector_label

    alerts = list(session.scalars(select(AlertRow).where(AlertRow.id.in_(alert_ids))))
    found = ", ".join(sorted({detector_label(a.detector) for a in alerts}))
    out = [Shareable("finding", "What the monitoring found", found)] if alerts else []
    out += _facility_items(session, alerts, state)
    out += _figure_items(session, alerts, state)
    out += _record_items(session, alert_ids, state)
    return out


def _actor(session: Session, user: User, action: str) -> User:
    from registry.service import acting_user, require_role

    fresh = acting_user(session, user)
    require_role(fresh, action)
    return fresh


def _event(
    session: Session, actor: str, action: str, req: ClarificationRequest, note: str, **extra: Any
) -> None:
    append_event(
        session,
        actor=actor,
        action=action,
        alert_id=req.alert_id,
        note=note,
        subject=f"clarification:{req.id}",
        payload={"request": req.id, "state": req.state, "status": req.status, **extra},
    )


def draft(
    session: Session,
    user: User,
    alert_ids: list[int],
    state: str,
    questions: str,
    keys: list[str],
    *,
    follows: int | None = None,
) -> ClarificationRequest:
    """An inspector's (or supervisor's) draft, waiting for a supervisor's approval."""
    from registry.access import alert_scope

    user = _actor(session, user, "draft_clarification")
    ids = sorted({int(a) for a in alert_ids})
    if not ids:
        raise RegistryError("a request for clarification is about an alert or a case")
    seen = set(session.scalars(select(AlertRow.id).where(AlertRow.id.in_(ids), alert_scope(user))))
    if missing := [a for a in ids if a not in seen]:
        raise RegistryError(f"no alert {missing[0]} that you may see")
    state = (state or "").strip().upper()
    if state not in states_of(session, ids):
        raise RegistryError(
            f"{state or 'no state'} is not a state this alert concerns: ask one of "
            + ", ".join(states_of(session, ids))
        )
    if not (questions and questions.strip()):
        raise RegistryError("a request for clarification needs the questions to the state")
    if not keys:
        raise RegistryError(
            "a request for clarification must share at least one piece of evidence with the "
            "state: choose what to share"
        )
    offer = {s.key: s for s in shareable(session, ids, state)}
    if unknown := [k for k in keys if k not in offer]:
        raise RegistryError(
            f"{unknown[0]!r} is not evidence that may be shared with {state}; nothing was saved"
        )
    req = ClarificationRequest(
        alert_id=ids[0],
        alert_ids=ids,
        state=state,
        status="pending_approval",
        questions=questions.strip(),
        shared=[offer[k].as_dict() for k in dict.fromkeys(keys)],
        drafted_by=user.username,
        drafted_at=utcnow(),
        follows=follows,
    )
    session.add(req)
    session.flush()
    _event(
        session,
        user.username,
        "clarification_drafted",
        req,
        f"request {req.id} to {state} drafted, sharing {len(req.shared)} item(s)",
        shared=[s["key"] for s in req.shared],
    )
    return req


def _lock(session: Session, request_id: int, version: int | None) -> ClarificationRequest:
    stmt = select(ClarificationRequest).where(ClarificationRequest.id == request_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    req = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if req is None:
        raise RegistryError(f"no request for clarification {request_id}")
    if version is not None and req.version != version:
        raise StaleAlert(
            f"request {request_id} was changed by someone else while you looked at it "
            f"(now {req.status.replace('_', ' ')}); reload it and try again"
        )
    return req


def decide(
    session: Session,
    user: User,
    request_id: int,
    approve: bool,
    note: str | None = None,
    *,
    expected_version: int | None = None,
) -> ClarificationRequest:
    """A supervisor other than the drafter approves (the request goes to the state and its
    deadline starts) or rejects a draft."""
    user = _actor(session, user, "decide_clarification")
    req = _lock(session, request_id, expected_version)
    if req.status != "pending_approval":
        raise RegistryError(f"request {request_id} is {req.status.replace('_', ' ')}, not a draft")
    if req.drafted_by == user.username:
        raise PermissionDenied("nobody may approve or reject their own request (four eyes)")
    now = utcnow()
    req.status = "open" if approve else "rejected"
    req.decided_by, req.decided_at = user.username, now
    req.decision_note = (note or "").strip() or None
    if approve:
        req.deadline_at = now + dt.timedelta(days=get_settings().clarification_days)
    session.flush()
    _event(
        session,
        user.username,
        "clarification_approved" if approve else "clarification_rejected",
        req,
        f"request {req.id} to {req.state} "
        + (f"sent, answer due {req.deadline_at:%Y-%m-%d %H:%M} UTC" if approve else "rejected")
        + (f": {req.decision_note}" if req.decision_note else ""),
        deadline=req.deadline_at.isoformat() if req.deadline_at else None,
    )
    return req


def is_overdue(req: ClarificationRequest, now: dt.datetime | None = None) -> bool:
    """Sent, unanswered, and past its deadline."""
    now = now or utcnow()
    return req.status == "open" and req.deadline_at is not None and req.deadline_at < now


def answer(
    session: Session,
    user: User,
    request_id: int,
    text: str,
    files: list[tuple[str, bytes]] | None = None,
) -> ClarificationRequest:
    """The state's authority answers an open request before its deadline, with text and up
    to MAX_ATTACHMENTS files (each at most PWATCH_MAX_ATTACHMENT_MB). All or nothing."""
    user = _actor(session, user, "answer_clarification")
    req = _lock(session, request_id, None)
    if req.state != user.state or req.status not in SENT:
        raise RegistryError(f"no request for clarification {request_id} to your state")
    if req.status != "open":
        raise RegistryError(f"request {request_id} was already answered; nothing was stored")
    if is_overdue(req):
        assert req.deadline_at is not None
        raise RegistryError(
            f"the deadline of request {request_id} passed on {req.deadline_at:%Y-%m-%d %H:%M} "
            "UTC; the answer was not stored (ask the inspection body to reissue the request)"
        )
    if not (text and text.strip()):
        raise RegistryError("an answer needs text (attachments may come with it)")
    stored = _attach(session, req, user, files or [])
    req.status = "answered"
    req.answer, req.answered_by, req.answered_at = text.strip(), user.username, utcnow()
    session.flush()
    _event(
        session,
        user.username,
        "clarification_answered",
        req,
        f"request {req.id} answered by {req.state}"
        + (f" with {len(stored)} attachment(s)" if stored else ""),
        answer_sha256=hashlib.sha256(req.answer.encode("utf-8")).hexdigest(),
        attachments=[[a.file_name, a.sha256] for a in stored],
    )
    return req


def _attach(
    session: Session, req: ClarificationRequest, user: User, files: list[tuple[str, bytes]]
) -> list[ClarificationAttachment]:
    cap = get_settings().max_attachment_mb
    if len(files) > MAX_ATTACHMENTS:
        raise RegistryError(f"at most {MAX_ATTACHMENTS} attachments per answer; nothing was stored")
    out = []
    for name, data in files:
        if len(data) > cap * 1024 * 1024:
            raise RegistryError(
                f"{safe_name(name)} is {len(data) / 1048576:,.1f} MB, over the "
                f"{cap:g} MB limit of an attachment; nothing was stored"
            )
        if not data:
            raise RegistryError(f"{safe_name(name)} is empty; nothing was stored")
        att = ClarificationAttachment(
            request_id=req.id,
            file_name=safe_name(name),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            uploaded_by=user.username,
            uploaded_at=utcnow(),
        )
        session.add(att)
        out.append(att)
    return out


FOLLOW_UPS = ("close", "ask_again", "challenge")


def follow_up(
    session: Session,
    user: User,
    request_id: int,
    outcome: str,
    note: str,
    *,
    questions: str | None = None,
    keys: list[str] | None = None,
    expected_version: int | None = None,
) -> ClarificationRequest:
    """After the answer (or a missed deadline): close the request, ask again (a new draft that
    follows it, approved again), or propose a challenge inspection of the alert with the
    answer on record (the alert's escalation, four eyes as always). Returns the request the
    outcome produced (the new draft when asking again)."""
    from registry.service import Action, act

    user = _actor(session, user, "follow_up_clarification")
    if outcome not in FOLLOW_UPS:
        raise RegistryError(f"unknown outcome {outcome!r}: use one of {', '.join(FOLLOW_UPS)}")
    req = _lock(session, request_id, expected_version)
    if req.status != "answered" and not is_overdue(req):
        raise RegistryError(
            f"request {request_id} is {req.status.replace('_', ' ')}: it can be followed up "
            "once answered or past its deadline"
        )
    if not (note and note.strip()):
        raise RegistryError("say why (a note is required)")
    new: ClarificationRequest | None = None
    if outcome == "ask_again":
        new = draft(
            session, user, list(req.alert_ids), req.state, questions or "", keys or [],
            follows=req.id,
        )  # fmt: skip
    elif outcome == "challenge":
        alert = session.get(AlertRow, req.alert_id)
        answer_on_record = (
            f"answered {req.answered_at:%Y-%m-%d} by {req.answered_by}: {req.answer}"
            if req.answered_at
            else f"not answered by its deadline {req.deadline_at:%Y-%m-%d}"
        )
        act(
            session,
            req.alert_id,
            user,
            Action(
                "escalate",
                note=f"{note.strip()} (request for clarification {req.id} to {req.state}, "
                f"{answer_on_record})",
            ),
            expected_version=alert.version if alert else None,
        )
    req.status = {"close": "closed", "ask_again": "followed_up", "challenge": "challenge_proposed"}[
        outcome
    ]
    req.closed_by, req.closed_at, req.closing_note = user.username, utcnow(), note.strip()
    session.flush()
    action = {"close": "clarification_closed", "ask_again": "clarification_followed_up", "challenge": "clarification_challenge"}[outcome]  # fmt: skip
    _event(session, user.username, action, req, f"request {req.id}: {note.strip()}",
           follow_up=new.id if new else None)  # fmt: skip
    return new or req


def requests_for(
    session: Session, user: User | None, *, statuses: list[str] | None = None
) -> list[ClarificationRequest]:
    """The requests this user may see, newest first: an authority its state's (once sent);
    staff those about alerts they may see."""
    from registry.access import alert_scope

    stmt = select(ClarificationRequest)
    if user is not None and user.role == "authority":
        stmt = stmt.where(
            ClarificationRequest.state == user.state, ClarificationRequest.status.in_(SENT)
        )
    elif user is not None:
        stmt = stmt.where(
            ClarificationRequest.alert_id.in_(select(AlertRow.id).where(alert_scope(user)))
        )
    if statuses:
        stmt = stmt.where(ClarificationRequest.status.in_(statuses))
    return list(session.scalars(stmt.order_by(ClarificationRequest.id.desc())))


def request_for(
    session: Session, user: User | None, request_id: int
) -> ClarificationRequest | None:
    """One request, if this user may see it."""
    return next((r for r in requests_for(session, user) if r.id == int(request_id)), None)


def attachments(session: Session, request_id: int) -> list[ClarificationAttachment]:
    return list(
        session.scalars(
            select(ClarificationAttachment)
            .where(ClarificationAttachment.request_id == request_id)
            .order_by(ClarificationAttachment.id)
        )
    )


def overdue_requests(session: Session, user: User | None) -> dict[int, list[int]]:
    """Overdue requests this user may see, by alert: {alert id: [request ids]}."""
    from registry.access import alert_scope

    stmt = select(ClarificationRequest.alert_id, ClarificationRequest.id).where(
        and_(ClarificationRequest.status == "open", ClarificationRequest.deadline_at < utcnow())
    )
    if user is not None and user.role == "authority":
        stmt = stmt.where(ClarificationRequest.state == user.state)
    elif user is not None:
        stmt = stmt.where(
            ClarificationRequest.alert_id.in_(select(AlertRow.id).where(alert_scope(user)))
        )
    out: dict[int, list[int]] = {}
    for alert_id, rid in session.execute(stmt.order_by(ClarificationRequest.id)):
        out.setdefault(int(alert_id), []).append(int(rid))
    return out


def shared_frame(session: Session, user: User) -> Any:
    """What the body shared with an authority's state, one row per request: the alert it is
    about, its status and deadline, the questions and the evidence shared (exactly as
    approved), and the classification (`pwatch alerts` for an authority)."""
    import polars as pl

    from registry.access import classification_of

    rows = [
        {
            "request": r.id,
            "alert_id": r.alert_id,
            "status": r.status,
            "answer_due": r.deadline_at.isoformat(timespec="minutes") if r.deadline_at else None,
            "overdue": is_overdue(r),
            "questions": r.questions,
            "shared": " | ".join(f"{s['label']}: {s['value']}" for s in r.shared),
            "classification": classification_of(session, "alert", r.alert_id),
        }
        for r in requests_for(session, user)
    ]
    schema = {
        "request": pl.Int64(), "alert_id": pl.Int64(), "status": pl.String(),
        "answer_due": pl.String(), "overdue": pl.Boolean(), "questions": pl.String(),
        "shared": pl.String(), "classification": pl.String(),
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def open_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count(ClarificationRequest.id)).where(ClarificationRequest.status == "open")
        )
        or 0
    )
