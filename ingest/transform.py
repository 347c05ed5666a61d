"""Source batches -> canonical rows, quarantined rows (every reason) and data-quality findings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ingest.fields import fields_of
from ingest.limits import IngestLimits
from ingest.link import Link, LinkIndex
from ingest.normalise import (
    cas_ok,
    date_order_evidence,
    normalise_activity,
    normalise_company,
    normalise_flow,
    parse_date,
    to_alpha3,
    unit_factor,
)
from ingest.numbers import number_style_evidence, read_coordinate, read_number
from ingest.profile import declared_header_factor
from ingest.readers import EXTRA_FIELDS
from ingest.values import shape_values

__all__ = ["MAX_FIELD_CHARS", "SHIPMENT_COLUMNS", "Context", "Shaped", "shape"]

MAX_FIELD_CHARS = 65_536  # a longer field quarantines its row (stored truncated in the quarantine)
_RAW_SHOWN = 1_000

SHIPMENT_COLUMNS = [
    "source",
    "shipment_id",
    "date",
    "exporter",
    "exporter_norm",
    "exporter_country",
    "importer",
    "importer_norm",
    "importer_country",
    "product",
    "cas",
    "hs_code",
    "quantity",
    "unit",
    "quantity_kg",
    "flow",
    "consignment_ref",
    "transit_countries",
    "value",
    "currency",
    "value_usd",
    "exporter_address",
    "importer_address",
    "exporter_facility_id",
    "exporter_link_score",
    "exporter_link_method",
    "importer_facility_id",
    "importer_link_score",
    "importer_link_method",
    "batch_id",
    "file_hash",
    "row_number",
]


@dataclass
class Context:
    """Everything a batch needs to be shaped: the mapping, options and the link index."""

    kind: str
    columns: list[str]  # source header, by position
    mapping: dict[str, str]  # canonical -> source column
    options: dict[str, Any]
    densities: dict[str, float]
    source: str  # batch-level source (used when no per-row source column, or overriding it)
    source_overrides_column: bool
    batch_id: int = 0
    file_hash: str = ""
    link_index: LinkIndex | None = None
    ambiguous: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    limits: IngestLimits = field(default_factory=IngestLimits)
    date_orders: set[str] = field(default_factory=set)  # day/month orders the feed proved
    number_styles: set[str] = field(default_factory=set)  # decimal separators the feed proved

    def src(self, canon: str) -> str | None:
        """Internal column name (c<i>) feeding `canon`, if mapped."""
        name = self.mapping.get(canon)
        return None if name is None else f"c{self.columns.index(name)}"


@dataclass
class Shaped:
    good: pl.DataFrame
    quarantined: list[tuple[int, dict[str, Any], list[str]]]  # (row, raw, reasons)
    findings: list[tuple[int, str, str, str]]  # (row, field, value, finding)
    rows: int
    notes: dict[str, int] = field(default_factory=dict)  # what a load says of loaded rows


def _map_distinct(
    frame: pl.DataFrame, col: str, fn: Callable[[str], Any], dtype: pl.DataType
) -> pl.Expr:
    """Apply a scalar function to the distinct non-null values of `col`; map back as an expression."""
    values = frame.get_column(col).drop_nulls().unique().to_list()
    if not values:
        return pl.lit(None, dtype=dtype)
    return pl.col(col).replace_strict(
        values, [fn(v) for v in values], default=None, return_dtype=dtype
    )


def _shown(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, 60)


def _decimal_comma(values: pl.Series, ctx: Context) -> bool:
    """The profile's decimal_comma option when given; else what this feed's numbers prove so
    far (1.234,5 or 12,5 elsewhere in the column make "1.234" read 1234)."""
    if ctx.options.get("decimal_comma") is not None:
        return bool(ctx.options["decimal_comma"])
    return _comma_proved(number_style_evidence(values), ctx)


def _comma_proved(evidence: set[str], ctx: Context) -> bool:
    """Add `evidence` ('comma', 'dot') to what the feed proved; True when "1.234" is 1234
    (the profile's decimal_comma option, else only commas proved so far)."""
    given = ctx.options.get("decimal_comma")
    if given is not None:
        return bool(given)
    ctx.number_styles |= evidence
    return ctx.number_styles == {"comma"}


# (row may fail, message). The test may be a cheap superset (a byte length for a character
# limit): a row it flags whose messages are all null is not quarantined. Messages are built
# for the flagged rows only.
Reason = tuple[pl.Expr, pl.Expr]


def _r(cond: pl.Expr, message: pl.Expr) -> Reason:
    return (cond.fill_null(False), message)


def _too_long(col: pl.Expr, limit: int, message: pl.Expr) -> Reason:
    """More than `limit` characters: tested on the byte length (free: string offsets), counted
    in characters only on the rows that have more bytes than that."""
    return _r(col.str.len_bytes() > limit, pl.when(col.str.len_chars() > limit).then(message))


def _with_reasons(
    frame: pl.DataFrame, reasons: list[Reason], raw: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good rows, bad rows with `__reasons`, their list of messages); the raw source columns
    (`raw`, needed by the tests and messages only) are dropped from the good rows."""
    failing = pl.any_horizontal([c for c, _ in reasons])
    frame = frame.with_columns(failing.alias("__bad"))
    good = frame.filter(~pl.col("__bad")).drop([*raw, "__bad"])
    bad = frame.filter(pl.col("__bad"))
    if not bad.height:
        return good, bad.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("__reasons"))
    bad = bad.with_columns(
        pl.concat_list([pl.when(c).then(m) for c, m in reasons])
        .list.drop_nulls()
        .alias("__reasons")
    ).drop("__bad")
    flagged_only = bad.filter(pl.col("__reasons").list.len() == 0)
    if flagged_only.height:
        good = pl.concat([good, flagged_only.drop([*raw, "__reasons"])]).sort("__row")
        bad = bad.filter(pl.col("__reasons").list.len() > 0)
    return good, bad


def _common_reasons(frame: pl.DataFrame, ctx: Context) -> list[Reason]:
    reasons: list[Reason] = []
    for i, name in enumerate(ctx.columns):
        c = f"c{i}"
        reasons.append(
            _too_long(
                pl.col(c),
                MAX_FIELD_CHARS,
                pl.format(
                    "field '{}' is {} characters long (limit {})",
                    pl.lit(name[:60]),
                    pl.col(c).str.len_chars(),
                    pl.lit(MAX_FIELD_CHARS),
                ),
            )
        )
        # PostgreSQL text cannot hold NUL (SQLite can): quarantine on both, the same way.
        reasons.append(
            _r(
                pl.col(c).str.contains("\x00", literal=True),
                pl.lit(f"field '{name[:60]}' contains a NUL character (0x00)"),
            )
        )
    extras = [f"x{i}" for i in range(EXTRA_FIELDS) if f"x{i}" in frame.columns]
    if extras:
        reasons.append(
            _r(
                pl.any_horizontal([pl.col(x).is_not_null() for x in extras]),
                pl.lit(f"row has more fields than the header ({len(ctx.columns)} columns)"),
            )
        )
    for spec in fields_of(ctx.kind):
        # A missing unit may come from the quantity text or default_unit: checked later.
        if spec.required and spec.name in ctx.mapping and spec.name != "unit":
            reasons.append(_r(pl.col(spec.name).is_null(), pl.lit(f"missing {spec.name}")))
        if spec.max_len and spec.name in ctx.mapping:
            reasons.append(
                _too_long(
                    pl.col(spec.name),
                    spec.max_len,
                    pl.lit(f"{spec.name} longer than {spec.max_len} characters"),
                )
            )
    return reasons


def _canonical_frame(chunk: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    exprs: list[pl.Expr] = [pl.col("__row")]
    mapped: list[str] = []
    for spec in fields_of(ctx.kind):
        src = ctx.src(spec.name)
        if src:
            exprs.append(pl.col(src).str.strip_chars().alias(spec.name))
            mapped.append(spec.name)
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(spec.name))
    extras = [pl.col(c) for c in chunk.columns if c.startswith("x")]
    lengths = [pl.col(c) for c in chunk.columns if c.startswith("c")]
    frame = chunk.select(*exprs, *lengths, *extras)
    # Empty once stripped -> null: a second pass over the stripped values (one when/then
    # around the stripping expression costs twice as much).
    return frame.with_columns(
        pl.when(pl.col(n).str.len_bytes() > 0).then(pl.col(n)).alias(n) for n in mapped
    )


def shape(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    """Shape one source batch of `ctx.kind` into loadable rows, quarantine and findings."""
    if ctx.kind == "shipments":
        return _shape_shipments(chunk, ctx)
    return _shape_facilities(chunk, ctx)


def _split(
    chunk: pl.DataFrame, bad: pl.DataFrame, ctx: Context
) -> list[tuple[int, dict[str, Any], list[str]]]:
    """The quarantine records (row, raw values, reasons) of the bad rows."""
    quarantined: list[tuple[int, dict[str, Any], list[str]]] = []
    if bad.height:
        raw_cols = [c for c in chunk.columns if c != "__row"]
        raw_frame = chunk.join(bad.select("__row", "__reasons"), on="__row", how="inner").sort(
            "__row"
        )
        names = {f"c{i}": n or f"column_{i + 1}" for i, n in enumerate(ctx.columns)}
        names.update({f"x{i}": f"__extra_{i + 1}" for i in range(EXTRA_FIELDS)})
        for rec in raw_frame.iter_rows(named=True):
            raw: dict[str, Any] = {}
            for c in raw_cols:
                v = rec[c]
                if c.startswith("x") and v is None:
                    continue
                if isinstance(v, str) and len(v) > _RAW_SHOWN:
                    v = v[:_RAW_SHOWN] + f"...[truncated, {len(v)} characters]"
                raw[names[c]] = v
            quarantined.append((int(rec["__row"]), raw, list(rec["__reasons"])))
    return quarantined


def _cas_findings(frame: pl.DataFrame) -> list[tuple[int, str, str, str]]:
    values = frame.get_column("cas").drop_nulls().unique().to_list()
    badset = [v for v in values if not cas_ok(v)]
    if not badset:
        return []
    rows = frame.filter(pl.col("cas").is_in(badset)).select("__row", "cas")
    return [
        (int(r), "cas", str(v)[:1000], "invalid CAS number (check digit or format); kept as given")
        for r, v in rows.iter_rows()
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
    counts = frame.group_by(keys).agg(pl.len().alias("n"), pl.col(role).first().alias("party"))
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


def _shape_shipments(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    opts = ctx.options
    frame = _canonical_frame(chunk, ctx)
    # Quantity and unit: "25 kg" in the quantity column is split when no unit is given.
    split = pl.col("quantity").str.extract_groups(
        r"^([-+]?[\d.,\s']*\d\.?)\s*([A-Za-z#µ(][\w .#/()]*)$"
    )
    default_unit = opts.get("default_unit")
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
            pl.lit(default_unit, dtype=pl.String),
        ).alias("__unit"),
    )
    # Quantities repeat (drums of 25 kg): each distinct text is parsed once and joined back.
    qty_texts = frame.select(pl.col("__qty").unique())
    comma = _decimal_comma(qty_texts.get_column("__qty"), ctx)
    frame = frame.join(
        qty_texts.with_columns(read_number(pl.col("__qty"), comma).alias("__q")),
        on="__qty",
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    frame = frame.with_columns(
        _map_distinct(
            frame, "__unit", lambda u: (unit_factor(u) or ("", 0.0))[0], pl.String()
        ).alias("__ukind"),
        _map_distinct(
            frame, "__unit", lambda u: (unit_factor(u) or ("", None))[1], pl.Float64()
        ).alias("__ufactor"),
    )
    dens = ctx.densities
    if dens:
        keys = list(dens)
        vals = [dens[k] for k in keys]
        density = pl.coalesce(
            pl.col("cas")
            .str.to_lowercase()
            .replace_strict(keys, vals, default=None, return_dtype=pl.Float64),
            pl.col("product")
            .str.to_lowercase()
            .replace_strict(keys, vals, default=None, return_dtype=pl.Float64),
        )
    else:
        density = pl.lit(None, dtype=pl.Float64)
    date_format = opts.get("date_format")
    dates = frame.get_column("date").drop_nulls().unique().to_list()
    order = None
    if not date_format:
        # 13/01/2025 elsewhere in the feed settles 02/01/2025 as day first (and 01/13/2025 as
        # month first); a feed that proves both orders leaves such dates quarantined.
        ctx.date_orders |= date_order_evidence(dates)
        order = next(iter(ctx.date_orders)) if len(ctx.date_orders) == 1 else None
    parsed = {d: parse_date(d, date_format, order) for d in dates}
    countries = (
        pl.concat([frame.get_column("exporter_country"), frame.get_column("importer_country")])
        .drop_nulls()
        .unique()
        .to_list()
    )
    iso3 = {c: to_alpha3(c) for c in countries}

    def country(col: str) -> pl.Expr:
        if not iso3:
            return pl.lit(None, dtype=pl.String)
        return pl.col(col).replace_strict(
            list(iso3), list(iso3.values()), default=None, return_dtype=pl.String
        )

    def date_col(idx: int) -> pl.Expr:
        if not parsed:
            return pl.lit(None, dtype=pl.String)
        vals = [(v[0].isoformat() if v[0] else None) if idx == 0 else v[1] for v in parsed.values()]
        return pl.col("date").replace_strict(
            list(parsed), vals, default=None, return_dtype=pl.String
        )

    if ctx.source_overrides_column:
        source = pl.lit(ctx.source, dtype=pl.String)
    else:
        source = pl.coalesce(pl.col("source"), pl.lit(ctx.source, dtype=pl.String))
    frame = frame.with_columns(
        date_col(0).alias("__date"),
        date_col(1).alias("__date_problem"),
        country("exporter_country").alias("__exc"),
        country("importer_country").alias("__imc"),
        _map_distinct(frame, "exporter", normalise_company, pl.String()).alias("exporter_norm"),
        _map_distinct(frame, "importer", normalise_company, pl.String()).alias("importer_norm"),
        _map_distinct(frame, "flow", normalise_flow, pl.String()).alias("__flow"),
        density.alias("__density"),
        source.alias("__source"),
    )
    q = pl.col("__q")
    is_volume = pl.col("__ukind") == "volume"
    reasons = _common_reasons(frame, ctx)
    reasons += [
        _r(
            pl.col("__qty").is_not_null() & q.is_null(),
            pl.format("non-numeric quantity '{}'", _shown(pl.col("quantity"))),
        ),
        _r(q < 0, pl.format("negative quantity '{}'", _shown(pl.col("quantity")))),
        _r(
            pl.col("__unit").is_null() & pl.col("quantity").is_not_null(),
            pl.lit('missing unit (or set default_unit = "kg" under [options])'),
        ),
        _r(
            pl.col("__unit").is_not_null() & pl.col("__ufactor").is_null(),
            pl.format("unknown unit '{}'", _shown(pl.col("__unit"))),
        ),
        _r(
            is_volume & pl.col("__density").is_null(),
            pl.format(
                "quantity in {} (a volume) needs a density for '{}': add it under [densities] in the profile",
                _shown(pl.col("__unit")),
                _shown(pl.coalesce(pl.col("product"), pl.lit(""))),
            ),
        ),
        _r(pl.col("__date_problem").is_not_null(), pl.col("__date_problem")),
        _r(
            pl.col("exporter_country").is_not_null() & pl.col("__exc").is_null(),
            pl.format(
                "unknown country '{}' in exporter_country", _shown(pl.col("exporter_country"))
            ),
        ),
        _r(
            pl.col("importer_country").is_not_null() & pl.col("__imc").is_null(),
            pl.format(
                "unknown country '{}' in importer_country", _shown(pl.col("importer_country"))
            ),
        ),
        _r(
            pl.col("flow").is_not_null() & pl.col("__flow").is_null(),
            pl.format(
                "unknown flow '{}' (expected X, M, export or import)", _shown(pl.col("flow"))
            ),
        ),
        _r(pl.col("__source").str.len_chars() > 200, pl.lit("source longer than 200 characters")),
        _r(pl.col("__unit").str.len_chars() > 32, pl.lit("unit longer than 32 characters")),
    ]
    raw = [c for c in chunk.columns if c != "__row" and c in frame.columns]
    good, bad = _with_reasons(frame, reasons, raw)
    quarantined = _split(chunk, bad, ctx)
    findings = _cas_findings(good)
    good = good.with_columns(
        pl.col("__exc").alias("exporter_country"),
        pl.col("__imc").alias("importer_country"),
    )
    good = _links(_links(good, ctx, "exporter"), ctx, "importer")
    good, value_findings, notes = shape_values(
        good,
        opts.get("default_currency"),
        lambda evidence: _comma_proved(evidence, ctx),
        ctx.limits.max_rate_gap_days,
    )
    findings += value_findings
    factor = (
        pl.when(is_volume)
        .then(pl.col("__ufactor") * pl.col("__density"))
        .otherwise(pl.col("__ufactor"))
    )
    out = good.select(
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
        (q * factor).alias("quantity_kg"),
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
    return Shaped(out, quarantined, findings, chunk.height, notes)


def _shape_facilities(chunk: pl.DataFrame, ctx: Context) -> Shaped:
    frame = _canonical_frame(chunk, ctx)
    countries = frame.get_column("country").drop_nulls().unique().to_list()
    iso3 = {c: to_alpha3(c) for c in countries}
    country = (
        pl.col("country").replace_strict(
            list(iso3), list(iso3.values()), default=None, return_dtype=pl.String
        )
        if iso3
        else pl.lit(None, dtype=pl.String)
    )
    year_num = read_number(pl.col("declaration_year"), False)
    # "Declared Quantity (t/year)": the header's unit, to kg.
    to_kg = declared_header_factor(ctx.mapping.get("declared_annual_kg", "")) or 1.0
    frame = frame.with_columns(
        country.alias("__country"),
        _map_distinct(frame, "activity", normalise_activity, pl.String()).alias("__activity"),
        (
            read_number(
                pl.col("declared_annual_kg"),
                _decimal_comma(frame.get_column("declared_annual_kg"), ctx),
            )
            * to_kg
        ).alias("__kg"),
        year_num.alias("__year"),
        read_coordinate(pl.col("lat")).alias("__lat"),
        read_coordinate(pl.col("lon")).alias("__lon"),
        _map_distinct(frame, "name", normalise_company, pl.String()).alias("name_norm"),
    )
    reasons = _common_reasons(frame, ctx)
    reasons += [
        _r(
            pl.col("country").is_not_null() & pl.col("__country").is_null(),
            pl.format("unknown country '{}'", _shown(pl.col("country"))),
        ),
        _r(
            pl.col("activity").is_not_null() & pl.col("__activity").is_null(),
            pl.format(
                "unknown activity '{}' (expected production, processing, trade or consumption)",
                _shown(pl.col("activity")),
            ),
        ),
        _r(
            pl.col("declared_annual_kg").is_not_null() & pl.col("__kg").is_null(),
            pl.format("non-numeric declared_annual_kg '{}'", _shown(pl.col("declared_annual_kg"))),
        ),
        _r(pl.col("__kg") < 0, pl.lit("negative declared_annual_kg")),
        _r(
            pl.col("declaration_year").is_not_null()
            & (
                year_num.is_null()
                | (year_num != year_num.round(0))
                | (year_num < 1900)
                | (year_num > 2200)
            ),
            pl.format("impossible declaration_year '{}'", _shown(pl.col("declaration_year"))),
        ),
        _r(
            pl.col("lat").is_not_null()
            & (pl.col("__lat").is_null() | (pl.col("__lat").abs() > 90)),
            pl.format("impossible lat '{}'", _shown(pl.col("lat"))),
        ),
        _r(
            pl.col("lon").is_not_null()
            & (pl.col("__lon").is_null() | (pl.col("__lon").abs() > 180)),
            pl.format("impossible lon '{}'", _shown(pl.col("lon"))),
        ),
    ]
    raw = [c for c in chunk.columns if c != "__row" and c in frame.columns]
    good, bad = _with_reasons(frame, reasons, raw)
    quarantined = _split(chunk, bad, ctx)
    findings = _cas_findings(good)
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


def raw_json(raw: dict[str, Any]) -> str:
    return json.dumps(raw, ensure_ascii=False)


def top_reasons(counts: dict[str, int], n: int = 5) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def count_reasons(
    quarantined: Iterable[tuple[int, dict[str, Any], list[str]]], into: dict[str, int]
) -> None:
    for _, _, reasons in quarantined:
        for r in reasons:
            # Group "unknown unit 'x'" and "unknown unit 'y'" under one heading for the summary.
            key = r.split(" '", 1)[0] if "'" in r else r
            into[key] = into.get(key, 0) + 1
