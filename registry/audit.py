"""The tamper-evident triage log: append events to a hash chain and verify it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AuditHead, TriageEvent, utcnow

__all__ = ["GENESIS", "ChainReport", "append_event", "event_hash", "verify_chain"]

GENESIS = "0" * 64


def event_hash(prev_hash: str, event: TriageEvent) -> str:
    """SHA-256 over the previous hash and every recorded field of the event."""
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
    payload = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_head(session: Session) -> AuditHead:
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
) -> TriageEvent:
    """Append one event to the chain inside the caller's transaction."""
    head = _lock_head(session)
    event = TriageEvent(
        alert_id=alert_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason_code=reason_code,
        note=note,
        created_at=utcnow(),
        prev_hash=head.last_hash,
        hash="pending-" + hashlib.sha256(f"{actor}{utcnow()}".encode()).hexdigest()[:48],
    )
    session.add(event)
    session.flush()  # assigns the id, which the hash covers
    event.hash = event_hash(head.last_hash, event)
    head.last_hash = event.hash
    head.last_event_id = event.id
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The verdict of `verify_chain`."""

    ok: bool
    events: int
    first_broken_id: int | None = None
    problem: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole log in order; name the first event whose link or content is broken."""
    prev = GENESIS
    count = 0
    last_id: int | None = None
    for event in session.scalars(select(TriageEvent).order_by(TriageEvent.id)).yield_per(2000):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(
                False,
                count,
                event.id,
                "its link to the previous event does not match "
                "(an event before it was removed, inserted or reordered)",
            )
        if event_hash(prev, event) != event.hash:
            return ChainReport(
                False, count, event.id, "its content was altered after it was written"
            )
        prev = event.hash
        last_id = event.id
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.last_event_id != last_id):
        return ChainReport(
            False,
            count,
            head.last_event_id,
            "the newest events were deleted (the chain head "
            "records a later event than the log holds)",
        )
    return ChainReport(True, count)
