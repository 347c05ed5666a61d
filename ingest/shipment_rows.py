"""Shaping a batch of shipment records: quantities to kg, dates, countries, parties and their
facility links, flows and customs values; every reason a row fails, with the plausibility
bounds of ingest.limits."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ingest.dates import date_order_evidence, parse_date
from ingest.link import Link
from ingest.normalise import normalise_company, normalise_flow
from ingest.numbers import read_numbers
from ingest.reasons import Reason, apply_reasons, reason
from ingest.shaping import (
    Context,
    Shaped,
    alpha3,
    canonical_frame,
    cas_findings,
    comma_proved,
    common_reasons,
    map_distinct,
    shown,
    split_quarantine,
)
from ingest.units import unit_factor
from ingest.values import shape_values

__all__ = ["shape_shipments"]

# "25 kg" in the quantity column, split when no unit is given.
_QUANTITY_WITH_UNIT = r"^([-+]?[\d.,\s']*\d\.?)\s*([A-Za-z#µ(][\w .#/()]*)$"


def shape_shipments(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    """Shape one source batch of shipment records into loadable rows, quarantine, findings."""
    frame = _read_quantities(canonical_frame(chunk, ctx), ctx)
    frame = frame.with_columns(
        *_dates(frame, ctx),
        *[c.alias(n) for c, n in zip(alpha3(frame, _COUNTRIES), ("__exc", "__imc"), strict=True)],
        map_distinct(frame, "exporter", normalise_company, pl.String()).alias("exporter_norm"),
        map_distinct(frame, "importer", normalise_company, pl.String()).alias("importer_norm"),
        map_distinct(frame, "flow", normalise_flow, pl.String()).alias("__flow"),
        _density(ctx).alias("__density"),
        _source(ctx).alias("__source"),
    )
    q = pl.col("__q")
    reasons = common_reasons(frame, ctx)
    reasons += _plausibility_reasons(q, q * _KG_FACTOR, ctx)
    reasons += _shipment_reasons(q)
    raw = [c for c in chunk.columns if c != "__row" and c in frame.columns]
    good, bad = apply_reasons(frame, reasons, raw)
    quarantined = split_quarantine(chunk, bad, ctx)
    findings = cas_findings(good)
    good = good.with_columns(
        pl.col("__exc").alias("exporter_country"),
        pl.col("__imc").alias("importer_country"),
    )
    good = _links(_links(good, ctx, "exporter"), ctx, "importer")
    good, value_findings, notes = shape_values(
        good,
        ctx.options.get("default_currency"),
        lambda evidence: comma_proved(evidence, ctx),
        ctx.limits,
    )
    findings += value_findings
    return Shaped(_rows(good, ctx), quarantined, findings, chunk.height, notes)


_COUNTRIES = ["exporter_country", "importer_country"]
_IS_VOLUME = pl.col("__ukind") == "volume"
# kg per unit of the row's quantity: a mass unit's factor, or a volume's times the density.
_KG_FACTOR = (
    pl.when(_IS_VOLUME)
    .then(pl.col("__ufactor") * pl.col("__density"))
    .otherwise(pl.col("__ufactor"))
)


def _read_quantities(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """`__qty` (the number's text), `__unit`, `__q` (the number), `__ukind` (mass or
    volume) and `__ufactor` (to kg or litres) of each row."""
    split = pl.col("quantity").str.extract_groups(_QUANTITY_WITH_UNIT)
    frame = frame.with_columns(
        pl.coalesce(
            pl.when(pl.col("unit").is_null())
            .then(split.struct.field("1"))
            .otherwise(pl.col("quantity")),
            pl.col("quantity"),
        ).alias("__qty"),
        pl.coalesce(
            pl.col("unit"),
            split.struct.field("2").str.strip_chars(),
            pl.lit(ctx.options.get("default_unit"), dtype=pl.String),
        ).alias("__unit"),
    )
    # Quantities repeat (drums of 25 kg): each distinct text is parsed once and joined back.
    qty_texts = frame.select(pl.col("__qty").unique())
    numbers = read_numbers(qty_texts.get_column("__qty"), lambda ev: comma_proved(ev, ctx))
    frame = frame.join(
        qty_texts.with_columns(numbers.alias("__q")),
        on="__qty",
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return frame.with_columns(
        map_distinct(
            frame, "__unit", lambda u: (unit_factor(u) or ("", 0.0))[0], pl.String()
        ).alias("__ukind"),
        map_distinct(
            frame, "__unit", lambda u: (unit_factor(u) or ("", None))[1], pl.Float64()
        ).alias("__ufactor"),
    )


def _density(ctx: Context) -> pl.Expr:
    """kg per litre of the row's substance, from the profile's [densities] (by CAS, then by
    product name); null when the profile gives none."""
    if not ctx.densities:
        return pl.lit(None, dtype=pl.Float64)
    keys = list(ctx.densities)
    vals = [ctx.densities[k] for k in keys]
    return pl.coalesce(
        pl.col(c)
        .str.to_lowercase()
        .replace_strict(keys, vals, default=None, return_dtype=pl.Float64)
        for c in ("cas", "product")
    )


def _dates(frame: pl.DataFrame, ctx: Context) -> list[pl.Expr]:
    """`__date` (ISO text) and `__date_problem` (why a date could not be read), each
    distinct date text parsed once."""
    date_format = ctx.options.get("date_format")
    dates = frame.get_column("date").drop_nulls().unique().to_list()
    order = None
    if not date_format:
        # 13/01/2025 elsewhere in the feed settles 02/01/2025 as day first (and 01/13/2025 as
        # month first); a feed that proves both orders leaves such dates quarantined.
        ctx.date_orders |= date_order_evidence(dates)
        order = next(iter(ctx.date_orders)) if len(ctx.date_orders) == 1 else None
    parsed = {d: parse_date(d, date_format, order) for d in dates}
    if not parsed:
        return [pl.lit(None, dtype=pl.String).alias(n) for n in ("__date", "__date_problem")]
    iso = [v[0].isoformat() if v[0] else None for v in parsed.values()]
    problems = [v[1] for v in parsed.values()]
    return [
        pl.col("date")
        .replace_strict(list(parsed), vals, default=None, return_dtype=pl.String)
        .alias(name)
        for vals, name in ((iso, "__date"), (problems, "__date_problem"))
    ]


def _source(ctx: Context) -> pl.Expr:
    """The record's source: the batch's when it overrides, else a per-row source column."""
    if ctx.source_overrides_column:
        return pl.lit(ctx.source, dtype=pl.String)
    return pl.coalesce(pl.col("source"), pl.lit(ctx.source, dtype=pl.String))


def _plausibility_reasons(q: pl.Expr, kg: pl.Expr, ctx: Context) -> list[Reason]:
    """A quantity that is no finite number, negative or beyond any real consignment, and a
    date outside the plausible range (ctx.limits), quarantine their row."""
    lim = ctx.limits
    latest = ctx.load_date + dt.timedelta(days=lim.max_days_after_load)
    quantity = shown(pl.col("quantity"))
    earliest = f"{lim.earliest_year:04d}-01-01"
    date = pl.col("__date")  # ISO text: compared as text
    most = f"{lim.max_quantity_kg:,.0f}"
    return [
        reason(
            q.is_infinite(),
            pl.format("quantity '{}' is not a finite number", quantity),
            "quantity is not a finite number",
        ),
        reason(
            q.is_finite() & (q < 0),
            pl.format("negative quantity '{}'", quantity),
            "negative quantity",
        ),
        reason(
            q.is_finite() & (kg > lim.max_quantity_kg),
            pl.format(
                "quantity '{}' {} is more than {} kg, which no real consignment reaches",
                quantity,
                shown(pl.coalesce(pl.col("__unit"), pl.lit(""))),
                pl.lit(most),
            ),
            f"quantity above {most} kg, which no real consignment reaches",
        ),
        reason(
            date < earliest,
            pl.format("date {} is before {}", date, pl.lit(earliest)),
            f"date before {lim.earliest_year}",
        ),
        reason(
            date > latest.isoformat(),
            pl.format(
                "date {} is more than {} days after the load ({})",
                date,
                pl.lit(lim.max_days_after_load),
                pl.lit(ctx.load_date.isoformat()),
            ),
            f"date more than {lim.max_days_after_load} days after the load",
        ),
    ]


def _shipment_reasons(q: pl.Expr) -> list[Reason]:
    """Quantity text, unit, date, countries, flow and lengths a shipment row fails on."""
    return [
        reason(
            pl.col("__qty").is_not_null() & q.is_null(),
            pl.format("non-numeric quantity '{}'", shown(pl.col("quantity"))),
            "quantity is not a number",
        ),
        reason(
            pl.col("__unit").is_null() & pl.col("quantity").is_not_null(),
            pl.lit('missing unit (or set default_unit = "kg" under [options])'),
            "missing unit",
        ),
        reason(
            pl.col("__unit").is_not_null() & pl.col("__ufactor").is_null(),
            pl.format("unknown unit '{}'", shown(pl.col("__unit"))),
            "unknown unit",
        ),
        reason(
            _IS_VOLUME & pl.col("__density").is_null(),
            pl.format(
                "quantity in {} (a volume) needs a density for '{}': add it under [densities] in the profile",
                shown(pl.col("__unit")),
                shown(pl.coalesce(pl.col("product"), pl.lit(""))),
            ),
            "quantity in litres or another volume without a density for the product",
        ),
        reason(
            pl.col("__date_problem").is_not_null(),
            pl.col("__date_problem"),
            pl.when(pl.col("__date_problem").str.starts_with("ambiguous"))
            .then(pl.lit("ambiguous date (day and month order unknown)"))
            .otherwise(pl.lit("unreadable or impossible date")),
        ),
        reason(
            pl.col("exporter_country").is_not_null() & pl.col("__exc").is_null(),
            pl.format(
                "unknown country '{}' in exporter_country", shown(pl.col("exporter_country"))
            ),
            "unknown exporter country",
        ),
        reason(
            pl.col("importer_country").is_not_null() & pl.col("__imc").is_null(),
            pl.format(
                "unknown country '{}' in importer_country", shown(pl.col("importer_country"))
            ),
            "unknown importer country",
        ),
        reason(
            pl.col("flow").is_not_null() & pl.col("__flow").is_null(),
            pl.format("unknown flow '{}' (expected X, M, export or import)", shown(pl.col("flow"))),
            "unknown flow (expected X, M, export or import)",
        ),
        reason(
            pl.col("__source").str.len_chars() > 200,
            pl.lit("source longer than 200 characters"),
            "source longer than 200 characters",
        ),
        reason(
            pl.col("__unit").str.len_chars() > 32,
            pl.lit("unit longer than 32 characters"),
            "unit longer than 32 characters",
        ),
    ]


def _links(frame: pl.DataFrame, ctx: Context, role: str) -> pl.DataFrame:
    """Add {role}_facility_id, _link_score, _link_method (decided per distinct party)."""
    cols = [f"{role}_facility_id", f"{role}_link_score", f"{role}_link_method"]
    if not ctx.link_index or frame.height == 0:
        return frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(cols[0]),
            pl.lit(None, dtype=pl.Float64).alias(cols[1]),
            pl.lit(None, dtype=pl.String).alias(cols[2]),
        )
    keys = [f"{role}_norm", f"{role}_country"]
    # In order of first appearance: ambiguous parties are recorded in the same order each run.
    counts = frame.group_by(keys, maintain_order=True).agg(
        pl.len().alias("n"), pl.col(role).first().alias("party")
    )
    pairs = list(counts.select(keys).iter_rows())
    decided: dict[tuple[str, str], Link] = ctx.link_index.link_many(pairs)
    for norm, country, n, party in counts.iter_rows():
        link = decided[(norm, country)]
        if link.ambiguous:
            entry = ctx.ambiguous.setdefault(
                (role, norm, country),
                {"party": party, "candidates": list(link.candidates), "count": 0},
            )
            entry["count"] += int(n)
    links = pl.DataFrame(
        {
            keys[0]: [p[0] for p in pairs],
            keys[1]: [p[1] for p in pairs],
            cols[0]: [decided[p].facility_id for p in pairs],
            cols[1]: [decided[p].score for p in pairs],
            cols[2]: [decided[p].method for p in pairs],
        },
        schema={
            keys[0]: pl.String,
            keys[1]: pl.String,
            cols[0]: pl.String,
            cols[1]: pl.Float64,
            cols[2]: pl.String,
        },
    )
    return frame.join(links, on=keys, how="left", nulls_equal=True, maintain_order="left")


def _rows(good: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """The loadable rows, in the shape of the `shipments` view."""
    q = pl.col("__q")
    return good.select(
        pl.col("__source").alias("source"),
        "shipment_id",
        pl.col("__date").alias("date"),
        "exporter",
        "exporter_norm",
        "exporter_country",
        "importer",
        "importer_norm",
        "importer_country",
        "product",
        "cas",
        "hs_code",
        q.alias("quantity"),
        pl.col("__unit").alias("unit"),
        (q * _KG_FACTOR).alias("quantity_kg"),
        pl.col("__flow").alias("flow"),
        "consignment_ref",
        "transit_countries",
        pl.col("__value").alias("value"),
        pl.col("__currency").alias("currency"),
        pl.col("__value_usd").alias("value_usd"),
        "exporter_address",
        "importer_address",
        "exporter_facility_id",
        "exporter_link_score",
        "exporter_link_method",
        "importer_facility_id",
        "importer_link_score",
        "importer_link_method",
        pl.lit(ctx.batch_id, dtype=pl.Int64).alias("batch_id"),
        pl.lit(ctx.file_hash, dtype=pl.String).alias("file_hash"),
        pl.col("__row").alias("row_number"),
    )
