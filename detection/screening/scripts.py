"""Text read before cleaning: mojibake repaired (or marked unreadable), and names written in
Chinese or Russian put into English by their parts.

Each runs in Python over the distinct values that need it (a polars filter finds them), so
the cost falls only on the few rows with such text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from detection.screening.chinese import HAN_PATTERN, read_chinese
from detection.screening.cyrillic import CYRILLIC_PATTERN, read_cyrillic
from detection.screening.encoding import SUSPECT_PATTERN, repair_mojibake

__all__ = ["read_scripts", "repair_encoding"]


def _map_distinct(
    df: pl.DataFrame,
    col: str,
    pattern: str,
    fn: Callable[[str], tuple[object, ...]],
    schema: Mapping[str, pl.DataType],
) -> pl.DataFrame:
    """`fn` over the distinct values of `col` matching `pattern`, joined back (nulls elsewhere)."""
    values = df.filter(pl.col(col).str.contains(pattern))[col].unique().to_list()
    if not values:  # the usual batch: nothing to read, no join to pay for
        return df.with_columns(pl.lit(None, dtype=t).alias(k) for k, t in schema.items())
    rows = [(v, *fn(v)) for v in values]
    found = pl.DataFrame(rows, schema={col: pl.String(), **schema}, orient="row")
    return df.join(found, on=col, how="left", maintain_order="left")


def _repair(text: str) -> tuple[str, str | None, str | None]:
    r = repair_mojibake(text)
    return r.text, r.note, r.unreadable


def repair_encoding(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """Adds `read` (the text to screen), `encoding_note` and `unreadable` (the reason)."""
    schema = {"read": pl.String(), "encoding_note": pl.String(), "unreadable": pl.String()}
    out = _map_distinct(df, col, SUSPECT_PATTERN, _repair, schema)
    return out.with_columns(read=pl.coalesce("read", col))


def _read(text: str) -> tuple[str, str]:
    english, folded = read_chinese(text)
    language = "Chinese"
    how = "Chinese name read by its parts"
    if folded:
        how += ", traditional characters folded to simplified"
    if english == text:
        english, language = read_cyrillic(text), "Russian"
        how = "Russian name read by its parts"
    if not english:
        return english, f"the {language} text has no chemical name parts"
    return english, f"read as '{english[:120]}' ({how})"


def read_scripts(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """Replaces `col` by its English reading where it has Chinese or Cyrillic letters; adds
    `reading_note` saying how it was read."""
    schema = {"reading": pl.String(), "reading_note": pl.String()}
    out = _map_distinct(df, col, f"{HAN_PATTERN}|{CYRILLIC_PATTERN}", _read, schema)
    return out.with_columns(pl.coalesce("reading", col).alias(col)).drop("reading")
