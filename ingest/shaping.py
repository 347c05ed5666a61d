"""What shaping a source batch of either kind shares: the context of a load, the shaped
result, the canonical frame, the reasons every row is checked for, the quarantine records
and the CAS findings, and mapping a scalar function over a column's distinct values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ingest.fields import fields_of
from ingest.link import LinkIndex
from ingest.normalise import cas_ok, to_alpha3
from ingest.numbers import number_style_evidence
from ingest.readers import EXTRA_FIELDS
from ingest.reasons import Finding, Quarantined, Reason, reason, too_long
from ingest.record_limits import RecordLimits

__all__ = [
    "MAX_FIELD_CHARS",
    "Context",
    "Shaped",
    "alpha3",
    "canonical_frame",
    "cas_findings",
    "comma_proved",
    "common_reasons",
    "decimal_comma",
    "map_distinct",
    "shown",
    "split_quarantine",
]

MAX_FIELD_CHARS = 65_536  # a longer field quarantines its row (stored truncated in the quarantine)
_RAW_SHOWN = 1_000


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
    limits: RecordLimits = field(default_factory=RecordLimits)
    load_date: dt.date = field(default_factory=dt.date.today)  # dates are judged against it
    date_orders: set[str] = field(default_factory=set)  # day/month orders the feed proved
    number_styles: set[str] = field(default_factory=set)  # decimal separators the feed proved

    def src(self, canon: str) -> str | None:
        """Internal column name (c<i>) feeding `canon`, if mapped."""
        name = self.mapping.get(canon)
        return None if name is None else f"c{self.columns.index(name)}"


@dataclass
class Shaped:
    good: pl.DataFrame
    quarantined: list[Quarantined]
    findings: list[Finding]
    rows: int
    notes: dict[str, int] = field(default_factory=dict)  # what a load says of loaded rows


def map_distinct(
    frame: pl.DataFrame, col: str, fn: Callable[[str], Any], dtype: pl.DataType
) -> pl.Expr:
    """Apply a scalar function to the distinct non-null values of `col`; map back as an expression."""
    values = frame.get_column(col).drop_nulls().unique().to_list()
    if not values:
        return pl.lit(None, dtype=dtype)
    return pl.col(col).replace_strict(
        values, [fn(v) for v in values], default=None, return_dtype=dtype
    )


def shown(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, 60)


def decimal_comma(values: pl.Series, ctx: Context) -> bool:
    """The profile's decimal_comma option when given; else what this feed's numbers prove so
    far (1.234,5 or 12,5 elsewhere in the column make "1.234" read 1234)."""
    if ctx.options.get("decimal_comma") is not None:
        return bool(ctx.options["decimal_comma"])
    return comma_proved(number_style_evidence(values), ctx)


def comma_proved(evidence: set[str], ctx: Context) -> bool:
    """Add `evidence` ('comma', 'dot') to what the feed proved; True when "1.234" is 1234
    (the profile's decimal_comma option, else only commas proved so far)."""
    given = ctx.options.get("decimal_comma")
    if given is not None:
        return bool(given)
    ctx.number_styles |= evidence
    return ctx.number_styles == {"comma"}


def common_reasons(frame: pl.DataFrame, ctx: Context) -> list[Reason]:
    reasons: list[Reason] = []
    for i, name in enumerate(ctx.columns):
        c = f"c{i}"
        reasons.append(
            too_long(
                pl.col(c),
                MAX_FIELD_CHARS,
                pl.format(
                    "field '{}' is {} characters long (limit {})",
                    pl.lit(name[:60]),
                    pl.col(c).str.len_chars(),
                    pl.lit(MAX_FIELD_CHARS),
                ),
                f"a field longer than {MAX_FIELD_CHARS:,} characters",
            )
        )
        # PostgreSQL text cannot hold NUL (SQLite can): quarantine on both, the same way.
        reasons.append(
            reason(
                pl.col(c).str.contains("\x00", literal=True),
                pl.lit(f"field '{name[:60]}' contains a NUL character (0x00)"),
                "a field holds a NUL character",
            )
        )
    extras = [f"x{i}" for i in range(EXTRA_FIELDS) if f"x{i}" in frame.columns]
    if extras:
        reasons.append(
            reason(
                pl.any_horizontal([pl.col(x).is_not_null() for x in extras]),
                pl.lit(f"row has more fields than the header ({len(ctx.columns)} columns)"),
                "more fields than the header",
            )
        )
    for spec in fields_of(ctx.kind):
        # A missing unit may come from the quantity text or default_unit: checked later.
        if spec.required and spec.name in ctx.mapping and spec.name != "unit":
            missing = f"missing {spec.name}"
            reasons.append(reason(pl.col(spec.name).is_null(), pl.lit(missing), missing))
        if spec.max_len and spec.name in ctx.mapping:
            longer = f"{spec.name} longer than {spec.max_len} characters"
            reasons.append(too_long(pl.col(spec.name), spec.max_len, pl.lit(longer), longer))
    return reasons


def canonical_frame(chunk: pl.DataFrame, ctx: Context) -> pl.DataFrame:
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


def split_quarantine(chunk: pl.DataFrame, bad: pl.DataFrame, ctx: Context) -> list[Quarantined]:
    """The quarantine records (row, raw values, reasons, headings) of the bad rows."""
    quarantined: list[Quarantined] = []
    if bad.height:
        raw_cols = [c for c in chunk.columns if c != "__row"]
        raw_frame = chunk.join(
            bad.select("__row", "__reasons", "__headings"), on="__row", how="inner"
        ).sort("__row")
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
            quarantined.append(
                Quarantined(int(rec["__row"]), raw, list(rec["__reasons"]), list(rec["__headings"]))
            )
    return quarantined


def cas_findings(frame: pl.DataFrame) -> list[Finding]:
    values = frame.get_column("cas").drop_nulls().unique().to_list()
    badset = [v for v in values if not cas_ok(v)]
    if not badset:
        return []
    rows = frame.filter(pl.col("cas").is_in(badset)).select("__row", "cas")
    return [
        Finding(
            int(r),
            "cas",
            str(v)[:1000],
            "invalid CAS number (check digit or format); kept as given",
            "invalid CAS number (check digit or format), kept as given",
        )
        for r, v in rows.iter_rows()
    ]


def alpha3(frame: pl.DataFrame, columns: list[str]) -> list[pl.Expr]:
    """Each of `columns` as ISO alpha-3 codes (null when unknown): every distinct spelling
    across the columns looked up once."""
    names = pl.concat([frame.get_column(c) for c in columns]).drop_nulls().unique().to_list()
    iso3 = {c: to_alpha3(c) for c in names}
    if not iso3:
        return [pl.lit(None, dtype=pl.String) for _ in columns]
    return [
        pl.col(c).replace_strict(
            list(iso3), list(iso3.values()), default=None, return_dtype=pl.String
        )
        for c in columns
    ]
