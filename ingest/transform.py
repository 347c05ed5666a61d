"""Source batches -> canonical rows, quarantined rows (every reason) and data-quality findings:
the one entry point, by kind (ingest.shipment_rows, ingest.facility_rows; what they share is
ingest.shaping)."""

from __future__ import annotations

import polars as pl

from ingest.facility_rows import shape_facilities
from ingest.shaping import MAX_FIELD_CHARS, Context, Shaped
from ingest.shipment_rows import shape_shipments

__all__ = ["MAX_FIELD_CHARS", "Context", "Shaped", "shape"]


def shape(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    """Shape one source batch of `ctx.kind` into loadable rows, quarantine and findings."""
    if ctx.kind == "shipments":
        return shape_shipments(chunk, ctx)
    return shape_facilities(chunk, ctx)
