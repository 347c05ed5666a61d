"""Why a row is quarantined or a value not stored: reasons as polars expressions, each with
the sentence stored with its row and a heading in words for the load's summary, and the
tally that summary is made of ("2 rows quarantined: negative quantity (rows 4 and 9)")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import polars as pl

__all__ = [
    "Finding",
    "Quarantined",
    "Reason",
    "ReasonCount",
    "Tally",
    "apply_reasons",
    "reason",
    "too_long",
]


class Reason(NamedTuple):
    """One way a row can fail. `cond` may be a cheap superset (a byte length for a character
    limit): a flagged row whose messages are all null is not quarantined. Messages and
    headings are only computed for the flagged rows."""

    cond: pl.Expr
    message: pl.Expr  # the sentence stored with the row, with its values
    heading: pl.Expr  # what is wrong, without the row's values, for the summary


class Quarantined(NamedTuple):
    row: int
    raw: dict[str, Any]  # the source row's values by column name
    reasons: list[str]
    headings: list[str]


class Finding(NamedTuple):
    """Something wrong with a row that loaded (e.g. an invalid CAS number)."""

    row: int
    field: str
    value: str
    finding: str
    heading: str


def reason(cond: pl.Expr, message: pl.Expr, heading: str | pl.Expr) -> Reason:
    return Reason(
        cond.fill_null(False), message, pl.lit(heading) if isinstance(heading, str) else heading
    )


def too_long(col: pl.Expr, limit: int, message: pl.Expr, heading: str) -> Reason:
    """More than `limit` characters: tested on the byte length (free: string offsets), counted
    in characters only on the rows that have more bytes than that."""
    return reason(
        col.str.len_bytes() > limit, pl.when(col.str.len_chars() > limit).then(message), heading
    )


def apply_reasons(
    frame: pl.DataFrame, reasons: list[Reason], raw: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good rows, bad rows with their `__reasons` and `__headings`); the raw source columns
    (`raw`, needed by the tests and messages only) are dropped from the good rows."""
    failing = pl.any_horizontal([r.cond for r in reasons])
    frame = frame.with_columns(failing.alias("__bad"))
    good = frame.filter(~pl.col("__bad")).drop([*raw, "__bad"])
    bad = frame.filter(pl.col("__bad")).drop("__bad")
    empty = pl.lit([], dtype=pl.List(pl.String))
    if not bad.height:
        return good, bad.with_columns(empty.alias("__reasons"), empty.alias("__headings"))
    bad = bad.with_columns(
        pl.concat_list([pl.when(r.cond).then(r.message) for r in reasons])
        .list.drop_nulls()
        .alias("__reasons"),
        pl.concat_list([pl.when(r.cond & r.message.is_not_null()).then(r.heading) for r in reasons])
        .list.drop_nulls()
        .alias("__headings"),
    )
    flagged_only = bad.filter(pl.col("__reasons").list.len() == 0)
    if flagged_only.height:
        good = pl.concat([good, flagged_only.drop([*raw, "__reasons", "__headings"])]).sort("__row")
        bad = bad.filter(pl.col("__reasons").list.len() > 0)
    return good, bad


_EXAMPLES = 3


@dataclass
class ReasonCount:
    """One heading of a load's summary: how many rows, and the first of them."""

    heading: str
    rows: int
    examples: list[int]

    def sentence(self, what: str) -> str:
        """'2 rows quarantined: negative quantity (rows 4 and 9)'."""
        shown = [f"{r:,}" for r in self.examples]
        more = self.rows - len(shown)
        if more > 0:
            where = f"rows {', '.join(shown)} and {more:,} more"
        elif len(shown) == 1:
            where = f"row {shown[0]}"
        else:
            where = f"rows {', '.join(shown[:-1])} and {shown[-1]}"
        noun = "row" if self.rows == 1 else "rows"
        return f"{self.rows:,} {noun} {what}: {self.heading} ({where})"


@dataclass
class Tally:
    """Rows per heading, in the order headings first appear; the first rows of each kept."""

    counts: dict[str, ReasonCount] = field(default_factory=dict)

    def add(self, heading: str, row: int) -> None:
        entry = self.counts.setdefault(heading, ReasonCount(heading, 0, []))
        entry.rows += 1
        if len(entry.examples) < _EXAMPLES:
            entry.examples.append(row)

    def add_quarantined(self, rows: Iterable[Quarantined]) -> None:
        for q in rows:
            for heading in dict.fromkeys(q.headings):  # a heading twice in one row counts once
                self.add(heading, q.row)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.add(f.heading, f.row)

    def ranked(self) -> list[ReasonCount]:
        """Most rows first; ties by heading."""
        return sorted(self.counts.values(), key=lambda c: (-c.rows, c.heading))
