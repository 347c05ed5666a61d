"""Named read functions for the registry pages: declared facilities, loads and quarantine.

Quantities are added up per consignment (registry.consignments), never per record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from registry.access import batch_scope, facility_scope, record_scope
from registry.consignments import consignment_frame, totals
from registry.models import (
    AlertRow,
    Declaration,
    Facility,
    IngestBatch,
    QuarantinedRow,
    Shipment,
    ShipmentRecord,
)
from registry.queries import SHIPMENT_COLUMNS

__all__ = [
    "batch_rows",
    "consignment_records",
    "facilities_frame",
    "facility_profile",
    "facility_side_rows",
    "facility_year_shipments",
    "quarantine_report",
    "recent_batches",
    "relation_shipments",
    "search_facilities",
    "source_overlap",
    "sources",
]

# Ordering by this expression instead of the column keeps SQLite from walking the whole date
# index in order when a selective party or facility index is there to filter first.
_DATE_KEY = func.coalesce(Shipment.date, Shipment.date)

# A facility page adds up at most this many of its records (newest first).
FACILITY_RECORDS = 20_000


def relation_shipments(
    session: Session,
    flagged: list[dict[str, Any]],
    facility_id: str | None,
    *,
    limit: int = 3000,
    user: Any = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The history the flagged records belong to, newest first: the same exporter (its declared
    facility when linked, else its normalised name and country) shipping the same substances to
    the same importing countries; else the facility's shipments. (description, rows)."""
    from registry.words import country_name

    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    if flagged:
        first = flagged[0]
        countries = sorted({s["importer_country"] for s in flagged if s.get("importer_country")})
        cas = sorted({s["cas"] for s in flagged if s.get("cas")})
        stmt = select(*cols).where(record_scope(user))
        if first.get("exporter_facility_id"):
            stmt = stmt.where(Shipment.exporter_facility_id == first["exporter_facility_id"])
        else:
            stmt = stmt.where(
                Shipment.exporter_norm == first["exporter_norm"],
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
        to = ", ".join(country_name(c) for c in countries) or "any country"
        desc = f"{first['exporter']} ({country_name(first['exporter_country'])}) to {to}"
        return desc, rows
    if facility_id:
        return f"facility {facility_id}", facility_side_rows(
            session, facility_id, limit, record_scope(user)
        )
    return "", []


def facility_side_rows(
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
    session: Session,
    facility_id: str,
    year: int,
    limit: int = 20000,
    margin_days: int = 120,
    user: Any = None,
) -> list[dict[str, Any]]:
    """A facility's shipments (as exporter or importer) in a calendar year, by date, with
    `margin_days` either side: a consignment exported in December and recorded by its
    importer in January has both its records here (count its consignments by their date)."""
    start = dt.date(year, 1, 1) - dt.timedelta(days=margin_days)
    end = dt.date(year, 12, 31) + dt.timedelta(days=margin_days)
    rows = facility_side_rows(
        session,
        facility_id,
        limit,
        (Shipment.date >= start) & (Shipment.date <= end) & record_scope(user),
    )
    return sorted(rows, key=lambda r: (r["date"], r["id"]))


def consignment_records(
    session: Session, refs: list[str], user: Any = None
) -> list[dict[str, Any]]:
    """Every record (export and import side) of the given consignments that `user` sees."""
    if not refs:
        return []
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    stmt = (
        select(*cols)
        .where(Shipment.consignment_ref.in_(refs[:200]), record_scope(user))
        .order_by(Shipment.consignment_ref, Shipment.flow)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def search_facilities(
    session: Session, text: str, country: str = "", limit: int = 200, user: Any = None
) -> list[dict[str, Any]]:
    """Declared facilities `user` may see whose id or name contains the text."""
    stmt = select(
        Facility.facility_id,
        Facility.name,
        Facility.country,
        Facility.address,
        Facility.classification,
    ).where(facility_scope(user))
    t = text.strip().casefold()
    if t:
        stmt = stmt.where(
            or_(
                func.lower(Facility.facility_id).contains(t, autoescape=True),
                Facility.name_norm.contains(t, autoescape=True),
                func.lower(Facility.name).contains(t, autoescape=True),
            )
        )
    if country:
        stmt = stmt.where(Facility.country == country)
    stmt = stmt.order_by(Facility.name).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def facilities_frame(session: Session, user: Any = None, country: str = "") -> pl.DataFrame:
    """`pwatch facilities`: one row per facility and declared substance (a facility with no
    declaration on one row of its own) in the facilities format, with the classification,
    of what `user` may see."""
    from registry.access import declaration_scope

    decl = select(Declaration).where(declaration_scope(user)).subquery()
    stmt = (
        select(
            Facility.facility_id,
            Facility.name,
            Facility.country,
            decl.c.activity,
            decl.c.substance,
            decl.c.cas,
            decl.c.declared_annual_kg,
            decl.c.declaration_year,
            Facility.address,
            Facility.classification.label("facility_classification"),
            decl.c.classification.label("declaration_classification"),
        )
        .outerjoin(decl, decl.c.facility_id == Facility.facility_id)
        .where(facility_scope(user))
        .order_by(Facility.facility_id, decl.c.declaration_year, decl.c.substance)
    )
    if country:
        stmt = stmt.where(Facility.country == country.strip().upper())
    schema = {
        "facility_id": pl.String(), "name": pl.String(), "country": pl.String(),
        "activity": pl.String(), "substance": pl.String(), "cas": pl.String(),
        "declared_annual_kg": pl.Float64(), "declaration_year": pl.Int64(), "address": pl.String(),
        "facility_classification": pl.String(), "declaration_classification": pl.String(),
    }  # fmt: skip
    frame = pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=schema, orient="row")
    rank = {c: i for i, c in enumerate(("restricted", "protected", "highly_protected"))}
    return frame.with_columns(
        pl.struct("facility_classification", "declaration_classification")
        .map_elements(
            lambda r: max(
                (v for v in r.values() if v), key=lambda v: rank.get(v, 1), default="protected"
            ),
            return_dtype=pl.String,
        )
        .alias("classification")
    ).drop("facility_classification", "declaration_classification")


def facility_profile(session: Session, facility_id: str, user: Any = None) -> dict[str, Any] | None:
    """A facility with its declarations, its consignments (each counted once, as supplier
    and as buyer), its trading partners and its alerts: what `user` may see of them (None
    when the facility is not one it may see)."""
    from registry.access import alert_scope, can_see, declaration_scope

    fac = session.get(Facility, facility_id)
    if fac is None or not can_see(session, user, "facility", facility_id):
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
            .where(Declaration.facility_id == facility_id, declaration_scope(user))
            .order_by(Declaration.substance, Declaration.declaration_year)
        )
    ]
    records = facility_side_rows(session, facility_id, FACILITY_RECORDS, record_scope(user))
    cons = consignment_frame(session, records)
    shipped = cons.filter(pl.col("exporter_facility_id") == facility_id)
    received = cons.filter(
        (pl.col("importer_facility_id") == facility_id)
        & (pl.col("exporter_facility_id").fill_null("") != facility_id)
    )
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
            .where(AlertRow.facility_id == facility_id, alert_scope(user))
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
            "classification": fac.classification,
        },
        "declarations": decls,
        "records": records,
        "capped": len(records) >= FACILITY_RECORDS,
        "consignments": cons,
        "shipped": totals(shipped),
        "received": totals(received),
        "partners": _partners(shipped, received),
        "alerts": alerts,
    }


def _partners(shipped: pl.DataFrame, received: pl.DataFrame) -> pl.DataFrame:
    """Trading partners with their consignments and kg, each consignment counted once."""
    parts = [
        frame.group_by(pl.col(party).alias("party"), pl.col(country).alias("country")).agg(
            pl.lit(role).alias("role"),
            pl.len().alias("consignments"),
            pl.col("quantity_kg").sum().alias("kg"),
        )
        for frame, party, country, role in (
            (shipped, "importer", "importer_country", "buyer"),
            (received, "exporter", "exporter_country", "supplier"),
        )
    ]
    return pl.concat(parts).sort("kg", descending=True)


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


def recent_batches(session: Session, limit: int = 20, user: Any = None) -> list[dict[str, Any]]:
    stmt = (
        select(
            IngestBatch.id,
            IngestBatch.kind,
            IngestBatch.source,
            IngestBatch.file_name,
            IngestBatch.started_at,
            IngestBatch.rows_total,
            IngestBatch.rows_loaded,
            IngestBatch.rows_duplicate,
            IngestBatch.rows_quarantined,
            IngestBatch.loaded_by,
            IngestBatch.classification,
        )
        .where(batch_scope(user))
        .order_by(IngestBatch.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def sources(session: Session) -> list[str]:
    """The shipment sources loaded so far (a source names the authority or feed)."""
    stmt = (
        select(IngestBatch.source)
        .where(IngestBatch.kind == "shipments", IngestBatch.source != "")
        .distinct()
        .order_by(IngestBatch.source)
    )
    return [s for s in session.scalars(stmt) if s]


def source_overlap(
    session: Session, source: str, shipment_ids: list[str], limit: int = 5
) -> list[tuple[str, int]]:
    """Other sources that already hold some of these shipment ids: (source, how many), most
    first. A feed loaded again under a new source name would load every record twice."""
    found: dict[str, int] = {}
    ids = sorted({s for s in shipment_ids if s})
    # One index search per other source: (source, shipment_id) is the records' unique key.
    for other in sources(session):
        if other == source:
            continue
        for i in range(0, len(ids), 500):
            n = session.scalar(
                select(func.count()).where(
                    ShipmentRecord.source == other,
                    ShipmentRecord.shipment_id.in_(ids[i : i + 500]),
                )
            )
            if n:
                found[other] = found.get(other, 0) + int(n)
    return sorted(found.items(), key=lambda kv: -kv[1])[:limit]


def batch_rows(session: Session, batch_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The last rows of a load as the registry stored them (converted: ISO dates and
    countries, kg, sides), in file order. The newest ids: there is no index on the batch,
    and a search from the end of the table finds a recent load's rows at once."""
    from registry.models import Shipment

    stmt = (
        select(
            Shipment.row_number,
            Shipment.shipment_id,
            Shipment.date,
            Shipment.flow,
            Shipment.exporter,
            Shipment.exporter_country,
            Shipment.importer,
            Shipment.importer_country,
            Shipment.product,
            Shipment.quantity,
            Shipment.unit,
            Shipment.quantity_kg,
        )
        .where(Shipment.batch_id == batch_id)
        .order_by(Shipment.id.desc())
        .limit(limit)
    )
    return sorted(
        (dict(r) for r in session.execute(stmt).mappings()), key=lambda r: r["row_number"]
    )
