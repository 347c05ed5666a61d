"""Reading back what ingest stored: quarantined rows of a batch or of all batches."""

from __future__ import annotations

import json

import polars as pl
from sqlalchemy import Engine, select

from registry.models import IngestBatch, QuarantinedRow

__all__ = ["quarantine_frame"]


def quarantine_frame(engine: Engine, batch_id: int | None = None) -> pl.DataFrame:
    """One row per quarantined source row: batch, file, row number, reasons and raw values."""
    stmt = (
        select(
            QuarantinedRow.batch_id,
            IngestBatch.file_name,
            QuarantinedRow.row_number,
            QuarantinedRow.reasons,
            QuarantinedRow.raw,
        )
        .join(IngestBatch, IngestBatch.id == QuarantinedRow.batch_id)
        .order_by(QuarantinedRow.batch_id, QuarantinedRow.row_number)
    )
    if batch_id is not None:
        stmt = stmt.where(QuarantinedRow.batch_id == batch_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pl.DataFrame(
        {
            "batch_id": [r[0] for r in rows],
            "file_name": [r[1] for r in rows],
            "row_number": [r[2] for r in rows],
            "reasons": ["; ".join(r[3] or []) for r in rows],
            "raw": [json.dumps(r[4], ensure_ascii=False) for r in rows],
        },
        schema={
            "batch_id": pl.Int64,
            "file_name": pl.String,
            "row_number": pl.Int64,
            "reasons": pl.String,
            "raw": pl.String,
        },
    )
