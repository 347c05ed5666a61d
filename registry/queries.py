"""Named read functions: everything the console and `pwatch alerts` read, in one place.

Filtering, sorting and paging happen in SQL so a page stays fast with millions of shipments;
every write goes through registry.service. Views call these, never the ORM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from registry.db import session_scope
from registry.models import (
    SEVERITIES,
    AlertRow,
    AlertShipment,
    ChallengeRequest,
    DetectorSetting,
    Facility,
    Party,
    ScreenResult,
    Shipment,
    ShipmentRecord,
    SubstanceRow,
    TriageEvent,
    User,
    utcnow,
)

__all__ = [
    "ALERT_COLUMNS",
    "OPEN_STATUSES",
    "SEVERITY_RANK",
    "SHIPMENT_COLUMNS",
    "SORTS",
    "AlertFilter",
    "alert",
    "alert_history",
    "alert_shipments",
    "alerts_frame",
    "audit_events",
    "challenge_requests",
    "count_alerts",
    "data_version",
    "deadline_info",
    "detector_settings",
    "facility_name",
    "list_alerts",
    "pending_approvals",
    "queue_counts",
    "queue_options",
    "screen_explanations",
    "substance",
    "substance_names",
]

# The `pwatch alerts --format csv` contract (ARCHITECTURE.md), in order.
ALERT_COLUMNS = [
    "alert_id",
    "detector",
    "severity",
    "score",
    "status",
    "shipment_ids",
    "facility_id",
    "substance_cas",
    "summary",
    "created_at",
]
OPEN_STATUSES = ("new", "assigned", "in_review", "pending_escalation", "pending_dismissal")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES, start=1)}  # low 1 ... critical 4
SHIPMENT_COLUMNS = (
    "id",
    "source",
    "shipment_id",
    "date",
    "flow",
    "exporter",
    "exporter_norm",
    "exporter_country",
    "importer",
    "importer_norm",
    "importer_country",
    "product",
    "cas",
    "hs_code",
    "quantity_kg",
    "consignment_ref",
    "exporter_facility_id",
    "importer_facility_id",
    "batch_id",
)

_sev_rank = case(*((AlertRow.severity == s, r) for s, r in SEVERITY_RANK.items()), else_=0)

SORTS: dict[str, tuple[Any, ...]] = {
    "Severity, then score": (_sev_rank.desc(), AlertRow.score.desc(), AlertRow.id),
    "Score (highest first)": (AlertRow.score.desc(), AlertRow.id),
    "Oldest first": (AlertRow.created_at, AlertRow.id),
    "Newest first": (AlertRow.created_at.desc(), AlertRow.id.desc()),
    "Alert number": (AlertRow.id,),
}


@dataclass
class AlertFilter:
    """What a user asked an alert list for (the console's queue, `pwatch alerts`)."""

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
    text: str = ""  # free text: alert number, party, product, facility id or name
    ids: list[int] | None = None  # only these alerts (a case's members)
    # The account reading: only the alerts registry.access lets it see (None: the local
    # operator of the command line, who sees everything).
    user: Any = None
    classifications: list[str] = field(default_factory=list)


def _overdue_clause(deadlines: dict[str, float], now: dt.datetime) -> Any:
    parts = [
        and_(AlertRow.severity == sev, AlertRow.created_at < now - dt.timedelta(hours=hours))
        for sev, hours in deadlines.items()
    ]
    return and_(AlertRow.status.in_(OPEN_STATUSES), or_(*parts))


def _text_clause(text: str) -> Any:
    """Alerts that mention the text: number, summary (parties, products, substance), evidence,
    facility id or name, or a party of their records by name."""
    t = text.strip().casefold()
    conds: list[Any] = [
        func.lower(AlertRow.summary).contains(t, autoescape=True),
        func.lower(func.coalesce(AlertRow.facility_id, "")).contains(t, autoescape=True),
        func.lower(cast(AlertRow.evidence, String)).contains(t, autoescape=True),
        AlertRow.facility_id.in_(
            select(Facility.facility_id).where(
                func.lower(Facility.name).contains(t, autoescape=True)
            )
        ),
    ]
    number = t.lstrip("#").strip()
    if number.isdigit():
        conds.append(AlertRow.id == int(number))
    parties = select(Party.id).where(func.lower(Party.name).contains(t, autoescape=True))
    records = select(ShipmentRecord.id).where(
        or_(
            ShipmentRecord.exporter_party_id.in_(parties),
            ShipmentRecord.importer_party_id.in_(parties),
        )
    )
    conds.append(
        AlertRow.id.in_(
            select(AlertShipment.alert_id).where(AlertShipment.shipment_pk.in_(records))
        )
    )
    return or_(*conds)


def _apply(
    stmt: Any, f: AlertFilter, deadlines: dict[str, float], *, with_status: bool = True
) -> Any:
    from registry.access import alert_classification, alert_scope

    if f.user is not None:
        stmt = stmt.where(alert_scope(f.user))
    if f.classifications:
        stmt = stmt.where(alert_classification().in_(f.classifications))
    if with_status and f.statuses:
        stmt = stmt.where(AlertRow.status.in_(f.statuses))
    for values, col in (
        (f.severities, AlertRow.severity),
        (f.detectors, AlertRow.detector),
        (f.countries, AlertRow.country),
        (f.substances, AlertRow.substance_cas),
    ):
        if values:
            stmt = stmt.where(col.in_(values))
    if f.ids is not None:
        stmt = stmt.where(AlertRow.id.in_(f.ids))
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
    if f.text.strip():
        stmt = stmt.where(_text_clause(f.text))
    return stmt


def queue_counts(session: Session, f: AlertFilter, deadlines: dict[str, float]) -> dict[str, int]:
    """Alerts per status under every filter but the status one."""
    stmt = _apply(
        select(AlertRow.status, func.count()).group_by(AlertRow.status),
        f,
        deadlines,
        with_status=False,
    )
    return {status: int(n) for status, n in session.execute(stmt)}


def count_alerts(session: Session, f: AlertFilter, deadlines: dict[str, float]) -> int:
    return int(session.scalar(_apply(select(func.count(AlertRow.id)), f, deadlines)) or 0)


_LIST_SCHEMA: dict[str, pl.DataType] = {
    "alert_id": pl.Int64(),
    "detector": pl.String(),
    "severity": pl.String(),
    "score": pl.Float64(),
    "status": pl.String(),
    "facility_id": pl.String(),
    "substance_cas": pl.String(),
    "summary": pl.String(),
    "created_at": pl.Datetime(),
    "country": pl.String(),
    "assignee": pl.String(),
    "last_detected_at": pl.Datetime(),
    "version": pl.Int64(),
    "classification": pl.String(),
}
_CLASSIFICATION = list(_LIST_SCHEMA).index("classification")


def list_alerts(
    session: Session,
    f: AlertFilter,
    deadlines: dict[str, float],
    *,
    sort: str = "Severity, then score",
    limit: int | None = 50,
    offset: int = 0,
    with_shipment_ids: bool = False,
) -> pl.DataFrame:
    """One row per alert matching the filter, in the sort's order: the one alert list of the
    console's queue and `pwatch alerts`. Adds age and review deadline columns (hours), and
    the source shipment ids (`;`-joined) when asked."""
    from registry.access import alert_classification

    cols = [getattr(AlertRow, "id" if c == "alert_id" else c) for c in _LIST_SCHEMA]
    cols[_CLASSIFICATION] = alert_classification().label("classification")
    stmt = _apply(select(*cols), f, deadlines).order_by(
        *SORTS.get(sort, SORTS["Severity, then score"])
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(max(offset, 0))
    rows = [tuple(r) for r in session.execute(stmt)]
    frame = pl.DataFrame(rows, schema=list(_LIST_SCHEMA.items()), orient="row")
    now = utcnow()
    hours = [
        deadline_info(sev, status, created, deadlines, now)
        for sev, status, created in frame.select("severity", "status", "created_at").iter_rows()
    ]
    frame = frame.with_columns(
        pl.Series("age_h", [h["age_h"] for h in hours], dtype=pl.Float64),
        pl.Series("left_h", [h["left_h"] for h in hours], dtype=pl.Float64),
        pl.Series("overdue", [h["overdue"] for h in hours], dtype=pl.Boolean),
    )
    if with_shipment_ids:
        frame = frame.join(
            _shipment_ids(session, frame["alert_id"].to_list()), on="alert_id", how="left"
        )
    return frame


def _shipment_ids(session: Session, alert_ids: list[int]) -> pl.DataFrame:
    links: list[tuple[int, str]] = []
    for i in range(0, len(alert_ids), 5000):
        chunk = alert_ids[i : i + 5000]
        links += [
            (int(a), str(s))
            for a, s in session.execute(
                select(AlertShipment.alert_id, ShipmentRecord.shipment_id)
                .join(ShipmentRecord, ShipmentRecord.id == AlertShipment.shipment_pk)
                .where(AlertShipment.alert_id.in_(chunk))
            )
        ]
    lk = pl.DataFrame(
        links, schema=[("alert_id", pl.Int64()), ("shipment_id", pl.String())], orient="row"
    )
    return (
        lk.sort("shipment_id")
        .group_by("alert_id")
        .agg(pl.col("shipment_id").str.join(";").alias("shipment_ids"))
    )


def alerts_frame(engine: Engine, status: str | None = None, user: Any = None) -> pl.DataFrame:
    """The contract's alert listing (`pwatch alerts`): one row per alert, highest score first,
    of the alerts `user` may see (every alert without one), with their classification."""
    with session_scope(engine) as session:
        frame = list_alerts(
            session,
            AlertFilter(statuses=[status] if status else [], user=user),
            {},
            sort="Score (highest first)",
            limit=None,
            with_shipment_ids=True,
        )
    return frame.select(
        [*ALERT_COLUMNS, "country", "assignee", "last_detected_at", "classification"]
    )


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


def queue_options(session: Session, user: Any = None) -> dict[str, list[Any]]:
    """Distinct values for the queue filters, of the alerts the user may see."""
    from registry.access import alert_scope

    seen = alert_scope(user)
    detectors = list(
        session.scalars(
            select(AlertRow.detector).where(seen).distinct().order_by(AlertRow.detector)
        )
    )
    countries = [
        c
        for c in session.scalars(
            select(AlertRow.country).where(seen).distinct().order_by(AlertRow.country)
        )
        if c
    ]
    cas = [
        c
        for c in session.scalars(
            select(AlertRow.substance_cas).where(seen).distinct().order_by(AlertRow.substance_cas)
        )
        if c
    ]
    names = substance_names(session, cas)
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


def substance_names(session: Session, cas: list[str] | None = None) -> dict[str, str]:
    """Listed (and promoted) substances' names by CAS, with the surveillance list's designer
    precursors, for turning ids into names."""
    from detection.surveillance import SURVEILLANCE

    out = {s.cas: s.name for s in SURVEILLANCE}
    stmt = select(SubstanceRow.cas, SubstanceRow.name)
    if cas is not None:
        stmt = stmt.where(SubstanceRow.cas.in_(cas))
    out.update({c: n for c, n in session.execute(stmt)})
    return out


def alert(session: Session, alert_id: int) -> AlertRow | None:
    """One alert, detached-safe (the caller reads its columns inside the session)."""
    return session.get(AlertRow, int(alert_id))


def facility_name(session: Session, facility_id: str | None) -> str | None:
    if not facility_id:
        return None
    fac = session.get(Facility, facility_id)
    return fac.name if fac else None


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


def challenge_requests(session: Session, alert_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(
            ChallengeRequest.id,
            ChallengeRequest.created_at,
            ChallengeRequest.created_by,
            ChallengeRequest.markdown,
            ChallengeRequest.sha256,
        )
        .where(ChallengeRequest.alert_id == alert_id)
        .order_by(ChallengeRequest.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def substance(session: Session, cas: str | None) -> dict[str, Any] | None:
    row = session.get(SubstanceRow, cas) if cas else None
    if row is None:
        return None
    return {"cas": row.cas, "name": row.name, "smiles": row.smiles, "origin": row.origin}


def screen_explanations(session: Session, products: list[str]) -> list[dict[str, Any]]:
    """The screen's cached verdicts and explanations for these product texts."""
    if not products:
        return []
    stmt = (
        select(
            ScreenResult.product,
            ScreenResult.verdict,
            ScreenResult.substance_cas,
            ScreenResult.substance_name,
            ScreenResult.method,
            ScreenResult.score,
            ScreenResult.explanation,
        )
        .where(ScreenResult.product.in_(products))
        .limit(20)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def pending_approvals(session: Session, limit: int = 200, user: Any = None) -> list[dict[str, Any]]:
    """Proposals waiting for a second official, oldest first (of the alerts `user` sees)."""
    from registry.access import alert_scope

    stmt = (
        select(
            AlertRow.id,
            AlertRow.version,
            AlertRow.status,
            AlertRow.severity,
            AlertRow.detector,
            AlertRow.proposed_by,
            AlertRow.proposed_reason_code,
            AlertRow.proposed_note,
            AlertRow.summary,
            AlertRow.updated_at,
        )
        .where(AlertRow.status.in_(("pending_escalation", "pending_dismissal")), alert_scope(user))
        .order_by(AlertRow.updated_at)
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def audit_events(
    session: Session, actor: str = "", alert_id: int | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """The newest triage-log events, optionally of one actor or one alert."""
    stmt = select(
        TriageEvent.id,
        TriageEvent.created_at,
        TriageEvent.actor,
        TriageEvent.action,
        TriageEvent.alert_id,
        TriageEvent.from_status,
        TriageEvent.to_status,
        TriageEvent.reason_code,
        TriageEvent.note,
        TriageEvent.hash,
    )
    if actor.strip():
        stmt = stmt.where(TriageEvent.actor == actor.strip())
    if alert_id:
        stmt = stmt.where(TriageEvent.alert_id == int(alert_id))
    return [
        dict(r)
        for r in session.execute(stmt.order_by(TriageEvent.id.desc()).limit(limit)).mappings()
    ]


def detector_settings(session: Session) -> dict[str, tuple[dict[str, Any], str, dt.datetime]]:
    """Supervisors' threshold overrides: detector -> (values, changed by, changed at)."""
    return {
        r.detector: (dict(r.values), r.updated_by, r.updated_at)
        for r in session.scalars(select(DetectorSetting))
    }


def data_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever something a page shows changes (a load, a detection run, a triage
    event, a promotion): the key of the console's caches, instead of a timer."""
    from registry.models import DetectionRun, EarlyWarning, IngestBatch

    return tuple(
        session.execute(
            select(
                select(func.max(IngestBatch.id)).scalar_subquery(),
                select(func.max(IngestBatch.finished_at)).scalar_subquery(),
                select(func.max(DetectionRun.id)).scalar_subquery(),
                select(func.max(DetectionRun.finished_at)).scalar_subquery(),
                select(func.max(TriageEvent.id)).scalar_subquery(),
                select(func.count(AlertRow.id)).scalar_subquery(),
                select(func.max(AlertRow.updated_at)).scalar_subquery(),
                select(func.count(EarlyWarning.id)).scalar_subquery(),
            )
        ).one()
    )
