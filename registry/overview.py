"""The policymakers' overview in figures: findings, the period covered, what was declared,
what moved and what was caught, the flows between countries.

Quantities are the export side of each consignment (export records, and records whose feed
gave no side unless they are the later twin of one consignment); import records are added up
apart, as the check. Aggregated in SQL, one pass over the shipments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, bindparam, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from registry.models import (
    AlertRow,
    AlertShipment,
    Declaration,
    DetectionRun,
    Facility,
    IngestBatch,
    ScreenResult,
    Shipment,
    ShipmentRecord,
)

__all__ = [
    "export_side",
    "keep_snapshot",
    "load_snapshot",
    "overview_summary",
    "save_snapshot",
    "snapshot_path",
]

OPEN = ("new", "assigned", "in_review", "pending_escalation", "pending_dismissal")


def export_side() -> Any:
    """SQL condition: the record that counts for its consignment. An export record; an import
    record whose consignment reference no export record carries (the exporting country sent
    none); a record without a side, unless an earlier side-less record of the same consignment
    reference is there (detection reads such twins as export then import). An import record
    without a reference is taken as the check of an export (detection pairs most of them)."""
    exported = aliased(ShipmentRecord)
    has_export = exists(
        select(exported.id).where(
            exported.consignment_ref == Shipment.consignment_ref, exported.flow == "X"
        )
    )
    twin = aliased(ShipmentRecord)
    earlier_twin = exists(
        select(twin.id).where(
            twin.consignment_ref == Shipment.consignment_ref,
            twin.flow.is_(None),
            twin.id != Shipment.id,
            or_(twin.date < Shipment.date, and_(twin.date == Shipment.date, twin.id < Shipment.id)),
        )
    )
    return or_(
        Shipment.flow == "X",
        and_(Shipment.flow == "M", Shipment.consignment_ref.is_not(None), ~has_export),
        and_(
            Shipment.flow.is_(None),
            or_(Shipment.consignment_ref.is_(None), ~earlier_twin),
        ),
    )


def _listed_clause(session: Session) -> tuple[Any, bool]:
    """(SQL condition 'the screen called this record's product a listed precursor', whether
    detection has screened anything yet)."""
    if session.scalar(select(func.count(ScreenResult.id))) == 0:
        return literal(False), False
    rows = session.execute(
        select(ScreenResult.product, ScreenResult.cas)
        .where(ScreenResult.verdict == "controlled")
        .distinct()
    ).all()
    from detection.surveillance import SURVEILLANCE_IDS

    texts = sorted({(p or "", c or "") for p, c in rows})
    # Designer precursors come back "controlled" against the surveillance list: not listed.
    designer = {
        (p or "", c or "")
        for p, c in session.execute(
            select(ScreenResult.product, ScreenResult.cas).where(
                ScreenResult.substance_cas.in_(list(SURVEILLANCE_IDS))
            )
        )
    }
    texts = [t for t in texts if t not in designer]
    if not texts:
        return literal(False), True
    # One text key per (product, cas), rendered inline (escaped): no bind-parameter limit caps
    # the list, and PostgreSQL reads a long scalar list as one array.
    key = func.coalesce(Shipment.product, "") + "\x1f" + func.coalesce(Shipment.cas, "")
    clause = key.in_(
        bindparam(
            "listed_texts",
            [f"{p}\x1f{c}" for p, c in texts],
            type_=String(),
            expanding=True,
            literal_execute=True,
        )
    )
    return clause, True


def _cells(session: Session, month: Any, listed: Any, side: Any) -> list[Any]:
    """One pass over the shipments: month x country pair x side, with the listed part."""
    return session.execute(
        select(
            month,
            Shipment.exporter_country,
            Shipment.importer_country,
            side.label("export_side"),
            func.count(Shipment.id),
            func.sum(Shipment.quantity_kg),
            func.sum(case((listed, Shipment.quantity_kg), else_=0.0)),
            func.sum(case((listed, 1), else_=0)),
        ).group_by(month, Shipment.exporter_country, Shipment.importer_country, side)
    ).all()  # type: ignore[return-value]


def overview_summary(session: Session) -> dict[str, Any]:
    """Everything the overview shows, as plain data (cached by the console per data version)."""
    month = func.substr(cast(Shipment.date, String), 1, 7)
    listed, screened = _listed_clause(session)
    side = export_side()
    cells = _cells(session, month, listed, side)
    flagged_ids = select(AlertShipment.shipment_pk).distinct().scalar_subquery()
    open_ids = (
        select(AlertShipment.shipment_pk)
        .join(AlertRow, AlertRow.id == AlertShipment.alert_id)
        .where(AlertRow.status.in_(OPEN))
        .distinct()
        .scalar_subquery()
    )
    caught = session.execute(
        select(
            month,
            func.count(Shipment.id),
            func.sum(Shipment.quantity_kg),
            func.sum(case((Shipment.id.in_(open_ids), Shipment.quantity_kg), else_=0.0)),
        )
        .where(Shipment.id.in_(flagged_ids), side)
        .group_by(month)
    ).all()
    alerts = session.execute(
        select(
            AlertRow.detector, AlertRow.status, AlertRow.severity, func.count(AlertRow.id)
        ).group_by(AlertRow.detector, AlertRow.status, AlertRow.severity)
    ).all()
    concerned = sorted(
        c
        for c in session.scalars(
            select(AlertRow.country).where(AlertRow.status.in_(OPEN)).distinct()
        )
        if c
    )
    declared = session.execute(
        select(Declaration.declaration_year, func.sum(Declaration.declared_annual_kg)).group_by(
            Declaration.declaration_year
        )
    ).all()
    first, last = session.execute(
        select(func.min(ShipmentRecord.date), func.max(ShipmentRecord.date))
    ).one()
    return {
        "facilities": int(session.scalar(select(func.count(Facility.facility_id))) or 0),
        "screened": screened,
        "period": [first, last],
        "loaded_at": session.scalar(select(func.max(IngestBatch.finished_at))),
        "detected_at": session.scalar(select(func.max(DetectionRun.finished_at))),
        "cells": [
            {
                "month": m,
                "from": a,
                "to": b,
                "export_side": bool(x),
                "records": int(n),
                "kg": float(kg or 0),
                "listed_kg": float(lkg or 0),
                "listed_records": int(ln or 0),
            }
            for m, a, b, x, n, kg, lkg, ln in cells
        ],
        "caught": [
            {"month": m, "records": int(n), "kg": float(kg or 0), "open_kg": float(okg or 0)}
            for m, n, kg, okg in caught
        ],
        "alerts": [
            {"detector": d, "status": s, "severity": v, "alerts": int(n)} for d, s, v, n in alerts
        ],
        "concerned": concerned,
        "declared": [{"year": y, "kg": float(kg or 0)} for y, kg in declared if y is not None],
    }


def partial_years(first: dt.date | None, last: dt.date | None) -> dict[int, str]:
    """Years the data covers only in part, with how far: {2025: 'to 30 Sep'}."""
    out: dict[int, str] = {}
    if first is None or last is None:
        return out
    if (first.month, first.day) != (1, 1):
        out[first.year] = f"from {first:%d %b}"
    if (last.month, last.day) != (12, 31):
        out[last.year] = (
            f"{first:%d %b} to {last:%d %b}"
            if last.year == first.year and first.year in out
            else f"to {last:%d %b}"
        )
    return out


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__} in an overview snapshot")


def _untag(obj: dict[str, Any]) -> Any:
    if "__datetime__" in obj:
        return dt.datetime.fromisoformat(obj["__datetime__"])
    if "__date__" in obj:
        return dt.date.fromisoformat(obj["__date__"])
    return obj


def snapshot_path(data_dir: Path, url: str) -> Path:
    """Where the overview's figures of the registry at `url` are kept."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(data_dir) / "cache" / f"overview-{digest}.json"


def keep_snapshot(session: Session, data_dir: Path, url: str) -> None:
    """Compute the overview's figures now and keep them for the console (after a detection
    run, so no console page waits for the first computation over a large registry)."""
    from registry.queries import data_version

    version = data_version(session)
    save_snapshot(snapshot_path(data_dir, url), version, overview_summary(session))


def save_snapshot(path: Path, version: Any, summary: dict[str, Any]) -> None:
    """Keep the figures on disk (0600), so a console server started later shows them at once
    while it brings them up to date: the first computation over a large registry takes
    seconds. Written to a temporary file and renamed, so a reader never sees half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"version": list(version), "summary": summary}, out, default=_tag)
    os.replace(tmp, path)


def load_snapshot(path: Path) -> tuple[list[Any], dict[str, Any]] | None:
    """(version, figures) of the last snapshot, or None when there is none or it is unreadable."""
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f, object_hook=_untag)
        return list(data["version"]), dict(data["summary"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
