"""Need-to-know access (the Confidentiality Annex): ONE table, ACCESS, says for every role and
every kind of item which classifications it sees and in what scope; every read of the console,
the command line, exports and documents takes its filter from the clauses built here.

Scopes: `all` (every item of that classification), `assigned` (only items tied to an alert
assigned to the user: the alert itself, its facility, the batches of its records), `own_state`
(the user's own state's items), `shared` (only what an open request for clarification shared
with the user's state, and only the fields it shared), `none`. Without a user (the command
line run by the local operator, as before accounts) nothing is filtered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, case, false, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction

from registry.audit import append_event
from registry.errors import PermissionDenied, RegistryError
from registry.models import (
    AlertRow,
    AlertShipment,
    Declaration,
    Facility,
    IngestBatch,
    Shipment,
    ShipmentRecord,
    User,
)
from registry.vocab import CLASSIFICATIONS

__all__ = [
    "ACCESS",
    "CLASSIFICATION_WORDS",
    "alert_classification",
    "alert_scope",
    "batch_scope",
    "can_see",
    "classification_of",
    "declaration_scope",
    "facility_scope",
    "record_access",
    "record_scope",
    "sees_any",
    "set_classification",
]

ALL, ASSIGNED, OWN_STATE, SHARED, NONE = "all", "assigned", "own_state", "shared", "none"
KINDS = ("facility", "declaration", "batch", "alert")
RANK = {c: i for i, c in enumerate(CLASSIFICATIONS, start=1)}
CLASSIFICATION_WORDS = {
    "restricted": "restricted",
    "protected": "protected",
    "highly_protected": "highly protected",
}


def _same(scopes: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    """One row of scopes (restricted, protected, highly protected) for every kind of item."""
    return {kind: dict(zip(CLASSIFICATIONS, scopes, strict=True)) for kind in KINDS}


# role -> kind of item -> classification -> scope. The one policy table.
ACCESS: dict[str, dict[str, dict[str, str]]] = {
    # policymakers: what the body has released (restricted); the overview's aggregates
    "viewer": _same((ALL, NONE, NONE)),
    # analysts load and check data: up to protected
    "analyst": _same((ALL, ALL, NONE)),
    # inspectors: up to protected; highly protected only for the alerts assigned to them
    "inspector": _same((ALL, ALL, ASSIGNED)),
    "supervisor": _same((ALL, ALL, ALL)),
    # a national authority: its own state's facilities, declarations and submissions, at
    # every level (they are its own data); alerts only as a request for clarification shares them
    "authority": {
        **_same((OWN_STATE, OWN_STATE, OWN_STATE)),
        "alert": dict.fromkeys(CLASSIFICATIONS, SHARED),
    },
}


class greatest(GenericFunction[int]):
    """GREATEST(a, b) on PostgreSQL, the scalar MAX(a, b) on SQLite."""

    type = Integer()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"MAX({compiler.process(element.clauses, **kw)})"


def _rank(column: Any) -> Any:
    return case(*((column == c, r) for c, r in RANK.items()), else_=RANK["protected"])


def _alert_rank() -> Any:
    """An alert's classification rank: a supervisor's choice, else the highest of the batches
    of its records and of its facility (protected when it rests on nothing classified)."""
    batches = (
        select(func.max(_rank(IngestBatch.classification)))
        .select_from(AlertShipment)
        .join(ShipmentRecord, ShipmentRecord.id == AlertShipment.shipment_pk)
        .join(IngestBatch, IngestBatch.id == ShipmentRecord.batch_id)
        .where(AlertShipment.alert_id == AlertRow.id)
        .correlate(AlertRow)
        .scalar_subquery()
    )
    facility = (
        select(_rank(Facility.classification))
        .where(Facility.facility_id == AlertRow.facility_id)
        .correlate(AlertRow)
        .scalar_subquery()
    )
    derived = func.coalesce(
        func.nullif(greatest(func.coalesce(batches, 0), func.coalesce(facility, 0)), 0),
        RANK["protected"],
    )
    return case(
        (AlertRow.classification.is_not(None), _rank(AlertRow.classification)), else_=derived
    )


def alert_classification() -> Any:
    """SQL: an alert's classification (word code), as ACCESS reads it."""
    rank = _alert_rank()
    return case(*((rank == r, c) for c, r in RANK.items()), else_="protected")


def _ranks(rules: dict[str, str], scope: str) -> list[int]:
    return [RANK[c] for c, s in rules.items() if s == scope]


def _assigned_alerts(user: User) -> Any:
    return select(AlertRow.id).where(AlertRow.assignee == user.username)


def _shared_alerts(user: User) -> Any:
    from registry.clarifications import shared_alert_ids

    return shared_alert_ids(user.state or "")


def _clause(user: User | None, kind: str, rank: Any, scoped: dict[str, Any]) -> Any:
    """The filter for `kind` under ACCESS: rank in the levels seen in full, or in the levels
    seen in a scope and the item within that scope."""
    if user is None:
        return true()
    rules = ACCESS.get(user.role, {}).get(kind, {})
    parts = []
    full = _ranks(rules, ALL)
    if len(full) == len(CLASSIFICATIONS):
        return true()
    if full:
        parts.append(rank.in_(full))
    for scope in (ASSIGNED, OWN_STATE, SHARED):
        levels = _ranks(rules, scope)
        if levels and scope in scoped:
            parts.append(and_(rank.in_(levels), scoped[scope]()))
    return or_(*parts) if parts else false()


def alert_scope(user: User | None) -> Any:
    """SQL condition on AlertRow: the alerts this user may see."""
    return _clause(
        user,
        "alert",
        _alert_rank(),
        {
            ASSIGNED: lambda: AlertRow.assignee == user.username if user else false(),
            SHARED: lambda: AlertRow.id.in_(_shared_alerts(user)) if user else false(),
        },
    )


def facility_scope(user: User | None) -> Any:
    """SQL condition on Facility."""
    return _clause(
        user,
        "facility",
        _rank(Facility.classification),
        {
            ASSIGNED: lambda: Facility.facility_id.in_(
                select(AlertRow.facility_id).where(AlertRow.assignee == _name(user))
            ),
            OWN_STATE: lambda: Facility.country == _state(user),
        },
    )


def declaration_scope(user: User | None) -> Any:
    """SQL condition on Declaration."""
    return _clause(
        user,
        "declaration",
        _rank(Declaration.classification),
        {
            ASSIGNED: lambda: Declaration.facility_id.in_(
                select(AlertRow.facility_id).where(AlertRow.assignee == _name(user))
            ),
            OWN_STATE: lambda: Declaration.facility_id.in_(
                select(Facility.facility_id).where(Facility.country == _state(user))
            ),
        },
    )


def _assigned_batches(user: User | None) -> Any:
    return (
        select(ShipmentRecord.batch_id)
        .join(AlertShipment, AlertShipment.shipment_pk == ShipmentRecord.id)
        .join(AlertRow, AlertRow.id == AlertShipment.alert_id)
        .where(AlertRow.assignee == _name(user))
    )


def batch_scope(user: User | None) -> Any:
    """SQL condition on IngestBatch (a loaded file or a submission, and its quarantine)."""
    return _clause(
        user,
        "batch",
        _rank(IngestBatch.classification),
        {
            ASSIGNED: lambda: IngestBatch.id.in_(_assigned_batches(user)),
            OWN_STATE: lambda: IngestBatch.state == _state(user),
        },
    )


def record_scope(user: User | None) -> Any:
    """SQL condition on Shipment (the view): records of the batches this user may see."""
    return _clause(
        user,
        "batch",
        _rank(Shipment.classification),
        {
            ASSIGNED: lambda: Shipment.batch_id.in_(_assigned_batches(user)),
            OWN_STATE: lambda: Shipment.batch_id.in_(
                select(IngestBatch.id).where(IngestBatch.state == _state(user))
            ),
        },
    )


def _name(user: User | None) -> str:
    return user.username if user is not None else ""


def _state(user: User | None) -> str:
    return (user.state or "") if user is not None else ""


def sees_any(user: User | None, kind: str) -> bool:
    """Whether ACCESS lets this user see any item of `kind` at all (menus, commands)."""
    if user is None:
        return True
    return any(s != NONE for s in ACCESS.get(user.role, {}).get(kind, {}).values())


_KEYS: dict[str, tuple[Any, Any, Any]] = {
    "facility": (Facility, Facility.facility_id, facility_scope),
    "declaration": (Declaration, Declaration.id, declaration_scope),
    "batch": (IngestBatch, IngestBatch.id, batch_scope),
    "alert": (AlertRow, AlertRow.id, alert_scope),
}


def can_see(session: Session, user: User | None, kind: str, key: Any) -> bool:
    """Whether this user may see this one item (False as well when it does not exist)."""
    _model, column, scope = _KEYS[kind]
    found = session.scalar(select(func.count()).where(column == key, scope(user)))
    return bool(found)


def classification_of(session: Session, kind: str, key: Any) -> str | None:
    """An item's classification as ACCESS reads it (None: no such item)."""
    model, column, _scope = _KEYS[kind]
    expr = alert_classification() if kind == "alert" else model.classification
    return session.scalar(select(expr).where(column == key))


def record_access(
    session: Session, user: User | None, kind: str, keys: list[Any], what: str
) -> int:
    """Record, as an audited access event, that the user saw highly protected items (an alert
    page, a facility page, an export, a document). Returns how many were highly protected."""
    if user is None or not keys:
        return 0
    model, column, _scope = _KEYS[kind]
    expr = alert_classification() if kind == "alert" else model.classification
    high = sorted(
        str(k)
        for k in session.scalars(
            select(column).where(column.in_(list(keys)), expr == "highly_protected")
        )
    )
    if not high:
        return 0
    append_event(
        session,
        actor=user.username,
        action="access",
        note=f"viewed highly protected {kind} {', '.join(high[:20])}"
        + (f" and {len(high) - 20} more" if len(high) > 20 else "")
        + f" ({what})",
        subject=f"{kind}:{high[0]}" if len(high) == 1 else f"{kind}:{len(high)} items",
        payload={"kind": kind, "keys": high, "what": what},
    )
    return len(high)


def set_classification(
    session: Session, user: User, kind: str, key: Any, classification: str, reason: str
) -> str:
    """A supervisor changes an item's classification, with a reason; audited. Returns the
    classification it had."""
    from registry.service import acting_user, require_role

    user = acting_user(session, user)
    require_role(user, "set_classification")
    if kind not in _KEYS:
        raise RegistryError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if classification not in CLASSIFICATIONS:
        raise RegistryError(
            f"unknown classification {classification!r}: use one of {', '.join(CLASSIFICATIONS)}"
        )
    if not (reason and reason.strip()):
        raise RegistryError("a change of classification needs a reason")
    model, column, _scope = _KEYS[kind]
    row = session.scalars(select(model).where(column == key)).first()
    if row is None:
        raise RegistryError(f"no {kind} {key}")
    before = classification_of(session, kind, key) or "protected"
    if before == classification and (kind != "alert" or row.classification is not None):
        raise PermissionDenied(f"{kind} {key} is already {CLASSIFICATION_WORDS[classification]}")
    row.classification = classification
    session.flush()
    append_event(
        session,
        actor=user.username,
        action="classification_changed",
        alert_id=int(key) if kind == "alert" else None,
        note=f"{kind} {key}: {CLASSIFICATION_WORDS[before]} -> "
        f"{CLASSIFICATION_WORDS[classification]}: {reason.strip()}",
        subject=f"{kind}:{key}",
        payload={"kind": kind, "key": str(key), "classification": classification, "from": before},
    )
    return before
