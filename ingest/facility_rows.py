"""Shaping a batch of a declared-facility registry: countries, activities, declared
quantities in kg (by the header's unit), years and coordinates; every reason a row fails."""

from __future__ import annotations

import polars as pl

from ingest.normalise import normalise_activity, normalise_company
from ingest.numbers import read_coordinate, read_number
from ingest.profile import declared_header_factor
from ingest.reasons import Reason, apply_reasons, reason
from ingest.shaping import (
    Context,
    Shaped,
    alpha3,
    canonical_frame,
    cas_findings,
    common_reasons,
    decimal_comma,
    map_distinct,
    shown,
    split_quarantine,
)

__all__ = ["shape_facilities"]


def shape_facilities(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    """Shape one source batch of a facility registry into loadable rows, quarantine, findings."""
    frame = canonical_frame(chunk, ctx)
    year = read_number(pl.col("declaration_year"), False)
    # "Declared Quantity (t/year)": the header's unit, to kg.
    to_kg = declared_header_factor(ctx.mapping.get("declared_annual_kg", "")) or 1.0
    frame = frame.with_columns(
        alpha3(frame, ["country"])[0].alias("__country"),
        map_distinct(frame, "activity", normalise_activity, pl.String()).alias("__activity"),
        (
            read_number(
                pl.col("declared_annual_kg"),
                decimal_comma(frame.get_column("declared_annual_kg"), ctx),
            )
            * to_kg
        ).alias("__kg"),
        year.alias("__year"),
        read_coordinate(pl.col("lat")).alias("__lat"),
        read_coordinate(pl.col("lon")).alias("__lon"),
        map_distinct(frame, "name", normalise_company, pl.String()).alias("name_norm"),
    )
    reasons = common_reasons(frame, ctx) + _facility_reasons(year)
    raw = [c for c in chunk.columns if c != "__row" and c in frame.columns]
    good, bad = apply_reasons(frame, reasons, raw)
    quarantined = split_quarantine(chunk, bad, ctx)
    findings = cas_findings(good)
    out = good.select(
        "facility_id",
        "name",
        "name_norm",
        pl.col("__country").alias("country"),
        "address",
        pl.col("__lat").alias("lat"),
        pl.col("__lon").alias("lon"),
        pl.col("__activity").alias("activity"),
        "substance",
        "cas",
        pl.col("__kg").alias("declared_annual_kg"),
        pl.col("__year").cast(pl.Int64).alias("declaration_year"),
        pl.col("__row").alias("row_number"),
    )
    return Shaped(out, quarantined, findings, chunk.height)


def _facility_reasons(year: pl.Expr) -> list[Reason]:
    """Country, activity, declared quantity, year and coordinates a registry row fails on."""
    return [
        reason(
            pl.col("country").is_not_null() & pl.col("__country").is_null(),
            pl.format("unknown country '{}'", shown(pl.col("country"))),
            "unknown country",
        ),
        reason(
            pl.col("activity").is_not_null() & pl.col("__activity").is_null(),
            pl.format(
                "unknown activity '{}' (expected production, processing, trade or consumption)",
                shown(pl.col("activity")),
            ),
            "unknown activity (expected production, processing, trade or consumption)",
        ),
        reason(
            pl.col("declared_annual_kg").is_not_null() & pl.col("__kg").is_null(),
            pl.format("non-numeric declared_annual_kg '{}'", shown(pl.col("declared_annual_kg"))),
            "declared_annual_kg is not a number",
        ),
        reason(
            pl.col("__kg") < 0,
            pl.lit("negative declared_annual_kg"),
            "negative declared_annual_kg",
        ),
        reason(
            pl.col("declaration_year").is_not_null()
            & (year.is_null() | (year != year.round(0)) | (year < 1900) | (year > 2200)),
            pl.format("impossible declaration_year '{}'", shown(pl.col("declaration_year"))),
            "impossible declaration_year",
        ),
        reason(
            pl.col("lat").is_not_null()
            & (pl.col("__lat").is_null() | (pl.col("__lat").abs() > 90)),
            pl.format("impossible lat '{}'", shown(pl.col("lat"))),
            "impossible latitude",
        ),
        reason(
            pl.col("lon").is_not_null()
            & (pl.col("__lon").is_null() | (pl.col("__lon").abs() > 180)),
            pl.format("impossible lon '{}'", shown(pl.col("lon"))),
            "impossible longitude",
        ),
    ]
