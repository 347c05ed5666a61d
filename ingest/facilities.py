"""Loading a declared-facility registry: facilities and their declarations upserted by key,
each declared substance resolved to the listed substance it is (free-base CAS)."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, text

from ingest.chunks import Progress, chunks, store_quarantine
from ingest.readers import SourceFile
from ingest.reasons import Tally
from ingest.report import LoadReport
from ingest.transform import Context, shape
from registry.models import Declaration, Facility

__all__ = ["load_facilities", "with_listed_substance"]

_IN_CHUNK = 500  # ids per IN (...) lookup
# Declarations are keyed (facility, substance, activity, year): a later row replaces one.
_DECLARATION_KEY = ["facility_id", "substance", "activity", "declaration_year"]


def load_facilities(
    conn: Connection,
    src: SourceFile,
    ctx: Context,
    report: LoadReport,
    progress: Progress | None,
    chunk_size: int,
) -> None:
    """Shape and store every chunk's quarantine, then upsert the good rows' facilities and
    declarations (the last row of a facility in the file gives its current record)."""
    tallies = (Tally(), Tally())
    parts: list[pl.DataFrame] = []
    for chunk in chunks(src, chunk_size, progress):
        shaped = shape(chunk, ctx)
        report.rows_total += shaped.rows
        store_quarantine(conn, ctx, shaped, report, tallies)
        if shaped.good.height:
            parts.append(shaped.good)
    report.tally(*tallies)
    if not parts:
        return
    good = with_listed_substance(pl.concat(parts))
    ids = _upsert_facilities(conn, good, ctx.batch_id)
    decl = good.sort("row_number").unique(_DECLARATION_KEY, keep="last", maintain_order=True)
    report.rows_duplicate += good.height - decl.height
    report.rows_updated += _upsert_declarations(conn, decl, ids, ctx.batch_id)
    report.rows_loaded += decl.height


def with_listed_substance(good: pl.DataFrame) -> pl.DataFrame:
    """`substance_cas`: the declared substance resolved to the listed substance (free-base
    CAS) when the screen says it is one; each distinct (substance, CAS) screened once."""
    from detection.screening import screen_names

    pairs = good.select("substance", "cas").unique(maintain_order=True)
    screened = screen_names(pairs["substance"].to_list(), cas=pairs["cas"].to_list())
    resolved = pairs.with_columns(
        pl.when(screened["verdict"] == "controlled")
        .then(screened["substance_cas"])
        .otherwise(None)
        .alias("substance_cas")
    )
    return good.join(resolved, on=["substance", "cas"], how="left", nulls_equal=True)


def _upsert_facilities(conn: Connection, good: pl.DataFrame, batch_id: int) -> list[str]:
    """Insert new facilities, update known ones; returns the facility ids of the file."""
    fac = good.sort("row_number").unique("facility_id", keep="last", maintain_order=True)
    ids = fac["facility_id"].to_list()
    existing: set[str] = set()
    for off in range(0, len(ids), _IN_CHUNK):
        existing.update(
            conn.execute(
                select(Facility.facility_id).where(
                    Facility.facility_id.in_(ids[off : off + _IN_CHUNK])
                )
            ).scalars()
        )
    rows = [
        {
            "facility_id": r["facility_id"],
            "name": r["name"],
            "name_norm": r["name_norm"],
            "country": r["country"],
            "address": r["address"],
            "lat": r["lat"],
            "lon": r["lon"],
            "batch_id": batch_id,
        }
        for r in fac.iter_rows(named=True)
    ]
    new = [r for r in rows if r["facility_id"] not in existing]
    old = [r for r in rows if r["facility_id"] in existing]
    if new:
        conn.execute(insert(Facility), new)
    if old:
        conn.execute(
            text(
                "UPDATE facilities SET name=:name, name_norm=:name_norm, country=:country, "
                "address=:address, lat=:lat, lon=:lon, batch_id=:batch_id "
                "WHERE facility_id=:facility_id"
            ),
            old,
        )
    return ids


def _upsert_declarations(
    conn: Connection, decl: pl.DataFrame, ids: list[str], batch_id: int
) -> int:
    """Insert new declarations, replace those of the same key; returns how many replaced."""
    current: dict[tuple[Any, ...], int] = {}
    for off in range(0, len(ids), _IN_CHUNK):
        for row in conn.execute(
            select(
                Declaration.id,
                Declaration.facility_id,
                Declaration.substance,
                Declaration.activity,
                Declaration.declaration_year,
            ).where(Declaration.facility_id.in_(ids[off : off + _IN_CHUNK]))
        ):
            current[(row[1], row[2], row[3], row[4])] = row[0]
    inserts, updates = [], []
    for r in decl.iter_rows(named=True):
        values = {
            "facility_id": r["facility_id"],
            "activity": r["activity"],
            "substance": r["substance"],
            "cas": r["cas"],
            "substance_cas": r["substance_cas"],
            "declared_annual_kg": r["declared_annual_kg"],
            "declaration_year": r["declaration_year"],
            "batch_id": batch_id,
            "row_number": r["row_number"],
        }
        k = tuple(r[c] for c in _DECLARATION_KEY)
        if k in current:
            updates.append({**values, "id": current[k]})
        else:
            inserts.append(values)
    if inserts:
        conn.execute(insert(Declaration), inserts)
    if updates:
        conn.execute(
            text(
                "UPDATE declarations SET cas=:cas, substance_cas=:substance_cas, "
                "declared_annual_kg=:declared_annual_kg, batch_id=:batch_id, "
                "row_number=:row_number WHERE id=:id"
            ),
            updates,
        )
    return len(updates)
