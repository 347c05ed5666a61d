"""Load a generated sample straight into a registry (tests and benchmarks; no ingest step).

The real path is `pwatch ingest`; this writes the frames the generator already knows to be
canonical, so detection can be tested and measured on its own.
"""

from __future__ import annotations

import hashlib

import polars as pl
from sqlalchemy import Engine, insert, select

from registry.db import session_scope
from registry.models import Declaration, Facility, IngestBatch
from registry.shipments import write_shipments
from sample_data.generate import Sample

__all__ = ["load_facilities", "load_shipments"]


def load_facilities(engine: Engine, sample: Sample) -> None:
    """Facilities and their declarations."""
    d = sample.declarations
    with session_scope(engine) as session:
        fac = d.unique("facility_id", keep="first", maintain_order=True)
        known = set(session.execute(select(Facility.facility_id)).scalars())
        session.execute(
            insert(Facility),
            [
                {"facility_id": r["facility_id"], "name": r["name"], "name_norm": r["name_norm"], "country": r["country"]}
                for r in fac.iter_rows(named=True)
                if r["facility_id"] not in known
            ],
        ) if fac.height else None  # fmt: skip
        rows = d.join(
            sample.facilities.select(
                "facility_id", pl.col("cas"), pl.col("declaration_year").cast(pl.Int64)
            ).unique(),
            left_on=["facility_id", "substance_cas", "declaration_year"],
            right_on=["facility_id", "cas", "declaration_year"],
            how="left",
        )
        if rows.height:
            session.execute(
                insert(Declaration),
                [
                    {
                        "facility_id": r["facility_id"],
                        "activity": r["activity"],
                        "substance": r["substance"] or "",
                        "cas": r["substance_cas"],
                        "substance_cas": r["substance_cas"],
                        "declared_annual_kg": r["declared_annual_kg"],
                        "declaration_year": r["declaration_year"],
                    }
                    for r in rows.iter_rows(named=True)
                ],
            )


def load_shipments(engine: Engine, frame: pl.DataFrame, *, chunk: int = 50_000) -> int:
    """Insert SHIPMENT_SCHEMA rows as one new ingest batch; returns the batch id.

    The frame's `id` column is kept, so alerts can be compared across databases."""
    digest = hashlib.sha256(
        str(frame.height).encode() + str(frame["id"].min()).encode()
    ).hexdigest()
    with session_scope(engine) as session:
        batch = IngestBatch(kind="shipments", source="sample", file_name="sample", file_hash=digest)
        session.add(batch)
        session.flush()
        bid = int(batch.id)
        rows = frame.with_columns(
            pl.lit(bid).alias("batch_id"),
            pl.col("quantity_kg").alias("quantity"),
            pl.lit("kg").alias("unit"),
            pl.lit(digest).alias("file_hash"),
            pl.col("id").alias("row_number"),
            pl.col("exporter_norm").fill_null(""),
            pl.col("importer_norm").fill_null(""),
        )
        write_shipments(session.connection(), rows)
    return bid
