"""Read-only queries behind the console pages. Filtering, sorting and paging happen in SQL so a
page stays fast with millions of shipments; every write goes through registry.service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from registry.models import (
    AlertRow,
    AlertShipment,
    ChallengeRequest,
    Declaration,
    EarlyWarning,
    Facility,
    IngestBatch,
    QuarantinedRow,
    Shipment,
    SubstanceRow,
    TriageEvent,
    User,
    utcnow,
)

__all__ = [
    "OPEN_STATUSES",
    "SEVERITY_RANK",
    "SORTS",
    "QueueFilter",
    "alert_history",
    "alert_shipments",
    "challenge_requests",
    "deadline_info",
    "facility_profile",
    "queue_counts",
    "queue_options",
    "queue_page",
    "relation_shipments",
    "search_facilities",
]

OPEN_STATUSES = ("new", "assigned", "in_review", "pending_escalation", "pending_dismissal")
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
SHIPMENT_COLUMNS = (
    "id",
    "source",
    "shipment_id",
    "date",
    "flow",
    "exporter",
    "exporter_country",
    "importer",
    "importer_country",
    "product",
    "cas",
    "quantity_kg",
    "consignment_ref",
    "exporter_facility_id",
    "importer_facility_id",
)

# Ordering by this expression instead of the column keeps SQLite from walking the whole date
# index in order when a selective party or facility index is there to filter first.
_DATE_KEY = func.coalesce(Shipment.date, Shipment.date)

_sev_rank = case(
    *((AlertRow.severity == s, r) for s, r in SEVERITY_RANK.items()),
    else_=0,
)

SORTS: dict[str, tuple[Any, ...]] = {
    "Severity, then score": (_sev_rank.desc(), AlertRow.score.desc(), AlertRow.id),
    "Score (highest first)": (AlertRow.score.desc(), AlertRow.id),
    "Oldest first": (AlertRow.created_at, AlertRow.id),
    "Newest first": (AlertRow.created_at.desc(), AlertRow.id.desc()),
    "Alert number": (AlertRow.id,),
}


@dataclass
class QueueFilter:
    """What the inspector asked the queue for."""

    statuses: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    detectors: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    substances: list[str] = field(default_factory=list)
    facility: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    assignee: str = ""
    overdue_only: bool = False


def _overdue_clause(deadlines: dict[str, float], now: dt.datetime) -> Any:
    parts = [
        and_(AlertRow.severity == sev, AlertRow.created_at < now - dt.timedelta(hours=hours))
        for sev, hours in deadlines.items()
    ]
    return and_(AlertRow.status.in_(OPEN_STATUSES), or_(*parts))


def _apply(
    stmt: Any,
    f: QueueFilter,
    deadlines: dict[str, float],
    *,
    with_status: bool = True,
) -> Any:
    if with_status and f.statuses:
        stmt = stmt.where(AlertRow.status.in_(f.statuses))
    if f.severities:
        stmt = stmt.where(AlertRow.severity.in_(f.severities))
    if f.detectors:
        stmt = stmt.where(AlertRow.detector.in_(f.detectors))
    if f.countries:
        stmt = stmt.where(AlertRow.country.in_(f.countries))
    if f.substances:
        stmt = stmt.where(AlertRow.substance_cas.in_(f.substances))
    if f.facility.strip():
        stmt = stmt.where(AlertRow.facility_id == f.facility.strip())
    if f.assignee.strip():
        stmt = stmt.where(AlertRow.assignee == f.assignee.strip())
    if f.date_from:
        stmt = stmt.where(AlertRow.created_at >= dt.datetime.combine(f.date_from, dt.time()))
    if f.date_to:
        end = dt.datetime.combine(f.date_to, dt.time()) + dt.timedelta(days=1)
        stmt = stmt.where(AlertRow.created_at < end)
    if f.overdue_only:
        stmt = stmt.where(_overdue_clause(deadlines, utcnow()))
    return stmt


def queue_counts(session: Session, f: QueueFilter, deadlines: dict[str, float]) -> dict[str, int]:
    """Alerts per status under every filter but the status one."""
    stmt = _apply(
        select(AlertRow.status, func.count()).group_by(AlertRow.status),
        f,
        deadlines,
        with_status=False,
    )
    return {status: int(n) for status, n in session.execute(stmt)}


def queue_page(
    session: Session,
    f: QueueFilter,
    deadlines: dict[str, float],
    *,
    sort: str = "Severity, then score",
    page: int = 0,
    page_size: int = 50,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of alerts as dicts with age and deadline)."""
    total = session.scalar(_apply(select(func.count(AlertRow.id)), f, deadlines)) or 0
    stmt = _apply(
        select(
            AlertRow.id,
            AlertRow.detector,
            AlertRow.severity,
            AlertRow.score,
            AlertRow.status,
            AlertRow.assignee,
            AlertRow.facility_id,
            AlertRow.substance_cas,
            AlertRow.country,
            AlertRow.summary,
            AlertRow.created_at,
            AlertRow.version,
        ),
        f,
        deadlines,
    )
    stmt = stmt.order_by(*SORTS.get(sort, SORTS["Severity, then score"]))
    stmt = stmt.limit(page_size).offset(max(page, 0) * page_size)
    now = utcnow()
    rows = []
    for r in session.execute(stmt).mappings():
        d = dict(r)
        d.update(deadline_info(d["severity"], d["status"], d["created_at"], deadlines, now))
        rows.append(d)
    return int(total), rows


def deadline_info(
    severity: str,
    status: str,
    created_at: dt.datetime,
    deadlines: dict[str, float],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Age in hours, the review deadline for the severity, hours left and whether it is overdue."""
    now = now or utcnow()
    age_h = (now - created_at).total_seconds() / 3600
    limit = deadlines.get(severity, 168.0)
    is_open = status in OPEN_STATUSES
    return {
        "age_h": round(age_h, 1),
        "deadline_h": limit,
        "left_h": round(limit - age_h, 1) if is_open else None,
        "overdue": bool(is_open and age_h > limit),
    }


def queue_options(session: Session) -> dict[str, list[Any]]:
    """Distinct values for the queue filters (from the alerts table only: cheap)."""
    detectors = list(
        session.scalars(select(AlertRow.detector).distinct().order_by(AlertRow.detector))
    )
    countries = [
        c
        for c in session.scalars(select(AlertRow.country).distinct().order_by(AlertRow.country))
        if c
    ]
    cas = [
        c
        for c in session.scalars(
            select(AlertRow.substance_cas).distinct().order_by(AlertRow.substance_cas)
        )
        if c
    ]
    names = dict(
        session.execute(
            select(SubstanceRow.cas, SubstanceRow.name).where(SubstanceRow.cas.in_(cas))
        ).all()
    )
    users = list(
        session.scalars(
            select(User.username)
            .where(User.role.in_(("inspector", "supervisor")), User.active.is_(True))
            .order_by(User.username)
        )
    )
    return {
        "detectors": detectors,
        "countries": countries,
        "substances": [(c, names.get(c, c)) for c in cas],
        "triagers": users,
    }


def alert_shipments(session: Session, alert_id: int) -> list[dict[str, Any]]:
    """The shipment records an alert rests on."""
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    stmt = (
        select(*cols)
        .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
        .where(AlertShipment.alert_id == alert_id)
        .order_by(Shipment.date, Shipment.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def relation_shipments(
    session: Session,
    flagged: list[dict[str, Any]],
    facility_id: str | None,
    *,
    limit: int = 3000,
) -> tuple[str, list[dict[str, Any]]]:
    """The history the flagged records belong to, newest first: the same exporter (its declared
    facility when linked, else its normalised name and country) shipping the same substances to
    the same importing countries; else the facility's shipments. (description, rows)."""
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    if flagged:
        first = flagged[0]
        countries = sorted({s["importer_country"] for s in flagged if s.get("importer_country")})
        cas = sorted({s["cas"] for s in flagged if s.get("cas")})
        stmt = select(*cols)
        if first.get("exporter_facility_id"):
            stmt = stmt.where(Shipment.exporter_facility_id == first["exporter_facility_id"])
        else:
            norm = session.scalar(select(Shipment.exporter_norm).where(Shipment.id == first["id"]))
            stmt = stmt.where(
                Shipment.exporter_norm == norm,
                Shipment.exporter_country == first["exporter_country"],
            )
        if countries:
            stmt = stmt.where(Shipment.importer_country.in_(countries))
        if cas:
            stmt = stmt.where(Shipment.cas.in_(cas))
        rows = [
            dict(r)
            for r in session.execute(stmt.order_by(_DATE_KEY.desc()).limit(limit)).mappings()
        ]
        seen = {r["id"] for r in rows}
        rows += [s for s in flagged if s["id"] not in seen]
        desc = (
            f"{first['exporter']} ({first['exporter_country']}) to {', '.join(countries) or 'any country'}"
            + (f", CAS {', '.join(cas)}" if cas else "")
        )
        return desc, rows
    if facility_id:
        return f"facility {facility_id}", _facility_side_rows(session, facility_id, limit)
    return "", []


def _facility_side_rows(
    session: Session, facility_id: str, limit: int, extra: Any = None
) -> list[dict[str, Any]]:
    """A facility's shipments as exporter or importer, newest first: two index searches merged
    (an OR of the two columns makes SQLite scan the table)."""
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    rows: dict[int, dict[str, Any]] = {}
    for col in (Shipment.exporter_facility_id, Shipment.importer_facility_id):
        stmt = select(*cols).where(col == facility_id)
        if extra is not None:
            stmt = stmt.where(extra)
        for r in session.execute(stmt.order_by(_DATE_KEY.desc()).limit(limit)).mappings():
            rows[r["id"]] = dict(r)
    return sorted(rows.values(), key=lambda r: (r["date"], r["id"]), reverse=True)[:limit]


def facility_year_shipments(
    session: Session, facility_id: str, year: int, limit: int = 20000
) -> list[dict[str, Any]]:
    """A facility's shipments (as exporter or importer) in one calendar year, by date."""
    in_year = func.substr(cast(Shipment.date, String), 1, 4) == str(year)
    rows = _facility_side_rows(session, facility_id, limit, in_year)
    return sorted(rows, key=lambda r: (r["date"], r["id"]))


def consignment_records(session: Session, refs: list[str]) -> list[dict[str, Any]]:
    """Every record (export and import side) of the given consignments."""
    if not refs:
        return []
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    stmt = (
        select(*cols)
        .where(Shipment.consignment_ref.in_(refs[:200]))
        .order_by(Shipment.consignment_ref, Shipment.flow)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def alert_history(session: Session, alert_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(
            TriageEvent.id,
            TriageEvent.created_at,
            TriageEvent.actor,
            TriageEvent.action,
            TriageEvent.from_status,
            TriageEvent.to_status,
            TriageEvent.reason_code,
            TriageEvent.note,
        )
        .where(TriageEvent.alert_id == alert_id)
        .order_by(TriageEvent.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def challenge_requests(session: Session, alert_id: int) -> list[ChallengeRequest]:
    return list(
        session.scalars(
            select(ChallengeRequest)
            .where(ChallengeRequest.alert_id == alert_id)
            .order_by(ChallengeRequest.id)
        )
    )


def search_facilities(
    session: Session, text: str, country: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    """Declared facilities whose id or name contains the text (case-insensitive)."""
    stmt = select(Facility.facility_id, Facility.name, Facility.country, Facility.address)
    t = text.strip().lower()
    if t:
        like = f"%{t}%"
        stmt = stmt.where(
            or_(
                func.lower(Facility.facility_id).like(like),
                Facility.name_norm.like(like),
                func.lower(Facility.name).like(like),
            )
        )
    if country:
        stmt = stmt.where(Facility.country == country)
    stmt = stmt.order_by(Facility.name).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def facility_profile(session: Session, facility_id: str) -> dict[str, Any] | None:
    """A facility with its declarations, recent shipments, trading partners and alerts."""
    fac = session.get(Facility, facility_id)
    if fac is None:
        return None
    decls = [
        {
            "substance": d.substance,
            "substance_cas": d.substance_cas,
            "activity": d.activity,
            "declared_annual_kg": d.declared_annual_kg,
            "declaration_year": d.declaration_year,
        }
        for d in session.scalars(
            select(Declaration)
            .where(Declaration.facility_id == facility_id)
            .order_by(Declaration.substance, Declaration.declaration_year)
        )
    ]
    ships = _facility_side_rows(session, facility_id, 500)
    n_ships = (
        session.scalar(
            select(func.count(Shipment.id)).where(Shipment.exporter_facility_id == facility_id)
        )
        or 0
    ) + (
        session.scalar(
            select(func.count(Shipment.id)).where(
                Shipment.importer_facility_id == facility_id,
                or_(
                    Shipment.exporter_facility_id.is_(None),
                    Shipment.exporter_facility_id != facility_id,
                ),
            )
        )
        or 0
    )
    out_partners = session.execute(
        select(
            Shipment.importer,
            Shipment.importer_country,
            func.count(Shipment.id),
            func.sum(Shipment.quantity_kg),
        )
        .where(Shipment.exporter_facility_id == facility_id)
        .group_by(Shipment.importer, Shipment.importer_country)
        .order_by(func.sum(Shipment.quantity_kg).desc())
        .limit(50)
    ).all()
    in_partners = session.execute(
        select(
            Shipment.exporter,
            Shipment.exporter_country,
            func.count(Shipment.id),
            func.sum(Shipment.quantity_kg),
        )
        .where(Shipment.importer_facility_id == facility_id)
        .group_by(Shipment.exporter, Shipment.exporter_country)
        .order_by(func.sum(Shipment.quantity_kg).desc())
        .limit(50)
    ).all()
    parties = [
        {"party": p, "country": c, "role": "buyer (importer)", "shipments": n, "kg": kg}
        for p, c, n, kg in out_partners
    ] + [
        {"party": p, "country": c, "role": "supplier (exporter)", "shipments": n, "kg": kg}
        for p, c, n, kg in in_partners
    ]
    alerts = [
        dict(r)
        for r in session.execute(
            select(
                AlertRow.id,
                AlertRow.detector,
                AlertRow.severity,
                AlertRow.status,
                AlertRow.score,
                AlertRow.summary,
            )
            .where(AlertRow.facility_id == facility_id)
            .order_by(AlertRow.id.desc())
            .limit(200)
        ).mappings()
    ]
    return {
        "facility": {
            "facility_id": fac.facility_id,
            "name": fac.name,
            "country": fac.country,
            "address": fac.address,
            "lat": fac.lat,
            "lon": fac.lon,
        },
        "declarations": decls,
        "shipments": ships,
        "shipment_count": int(n_ships),
        "parties": parties,
        "alerts": alerts,
    }


def early_warnings(session: Session) -> list[EarlyWarning]:
    return list(
        session.scalars(
            select(EarlyWarning).order_by(EarlyWarning.status, EarlyWarning.first_seen.desc())
        )
    )


def substance(session: Session, cas: str | None) -> SubstanceRow | None:
    return session.get(SubstanceRow, cas) if cas else None


def quarantine_report(session: Session, batch_id: int, limit: int = 500) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(QuarantinedRow)
        .where(QuarantinedRow.batch_id == batch_id)
        .order_by(QuarantinedRow.row_number)
        .limit(limit)
    )
    return [
        {"row": q.row_number, "reasons": "; ".join(map(str, q.reasons)), "raw": q.raw} for q in rows
    ]


def recent_batches(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    stmt = (
        select(
            IngestBatch.id,
            IngestBatch.kind,
            IngestBatch.file_name,
            IngestBatch.started_at,
            IngestBatch.rows_total,
            IngestBatch.rows_loaded,
            IngestBatch.rows_duplicate,
            IngestBatch.rows_quarantined,
            IngestBatch.loaded_by,
        )
        .order_by(IngestBatch.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def screen_explanations(session: Session, products: list[str]) -> list[dict[str, Any]]:
    """The screen's cached verdicts and explanations for these product texts."""
    from registry.models import ScreenResult

    if not products:
        return []
    stmt = (
        select(
            ScreenResult.product,
            ScreenResult.verdict,
            ScreenResult.substance_name,
            ScreenResult.method,
            ScreenResult.score,
            ScreenResult.explanation,
        )
        .where(ScreenResult.product.in_(products))
        .limit(20)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]
