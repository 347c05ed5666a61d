"""The registry's shipment records exported as detection reads them (`pwatch export shipments`):
Parquet, exact, for engines that read the feed without a database connection; CSV for people,
its text cells neutralised against spreadsheet formulas like every CSV the command line writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, select

from detection.schema import SHIPMENT_SCHEMA
from registry.access import batch_scope
from registry.db import session_scope
from registry.detect_store import load_shipments
from registry.models import IngestBatch, User

__all__ = ["EXPORT_FORMATS", "export_shipments", "read_exported_shipments"]

EXPORT_FORMATS = ("parquet", "csv")


def export_shipments(
    engine: Engine,
    path: Path,
    fmt: str = "parquet",
    *,
    csv_cell: Callable[[Any], Any] | None = None,
    user: User | None = None,
) -> tuple[int, int]:
    """Write every stored shipment record (SHIPMENT_SCHEMA: the columns and types detection
    reads, `id` the registry key alerts link to) to `path`; with `user`, only the records of
    the batches that account may see. Returns (records written, records left out).
    `csv_cell` rewrites each text cell of a CSV (the command line's formula neutraliser)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use parquet or csv")
    with session_scope(engine) as session:
        frame = load_shipments(session)
        total = frame.height
        if user is not None:
            seen = session.scalars(select(IngestBatch.id).where(batch_scope(user))).all()
            frame = frame.filter(pl.col("batch_id").is_in(list(seen)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    # Written beside and renamed: a reader never sees half a file.
    if fmt == "parquet":
        frame.write_parquet(tmp, compression="zstd", statistics=True)
    else:
        if csv_cell is not None:
            text = [c for c, t in frame.schema.items() if t == pl.String()]
            frame = frame.with_columns(
                pl.col(c).map_elements(csv_cell, return_dtype=pl.String) for c in text
            )
        frame.write_csv(tmp, date_format="%Y-%m-%d")
    tmp.replace(path)
    return frame.height, total - frame.height


def read_exported_shipments(path: Path) -> pl.DataFrame:
    """A Parquet export read back as the SHIPMENT_SCHEMA frame; a file that is not Parquet,
    or lacks a column, raises ValueError saying so."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a file that is not Parquet
        raise ValueError(f"{path.name} is not a Parquet file ({type(exc).__name__})") from exc
    missing = [c for c in SHIPMENT_SCHEMA if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path.name} is not a shipment export (`pwatch export shipments`): "
            f"missing {', '.join(missing)}"
        )
    return frame.select(pl.col(c).cast(t) for c, t in SHIPMENT_SCHEMA.items())
