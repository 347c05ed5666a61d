"""CAS layer: CAS numbers in the text or the cas field, check digit validated.

A salt's or hydrate's CAS number maps to its free base, the listed substance. A
CAS-shaped number with a wrong check digit is ignored and the explanation says so.
"""

from __future__ import annotations

import polars as pl

from detection.screening.lexical import Lexicon
from detection.screening.text import CAS_SPAN_PATTERN, is_cas_number
from detection.screening.unit import Decision
from detection.screening.watchlist import cas_check_digit_ok

__all__ = ["cas_decision", "cas_decisions", "cas_spans"]

_SPAN_EDGES = " -|,;:()[]#"


def cas_spans(text: pl.Expr, cas_field: pl.Expr) -> pl.Expr:
    """The CAS-shaped numbers (with their boundary characters) of the text and the cas field."""
    src = pl.concat_str([text, cas_field.fill_null("").str.slice(0, 200)], separator=" | ")
    return src.str.extract_all(CAS_SPAN_PATTERN)


def cas_decision(spans: list[str], lex: Lexicon, notes: list[str]) -> Decision | None:
    """The listed substance the first valid listed CAS number names; bad check digits noted."""
    stripped = (s.strip(_SPAN_EDGES) for s in spans)
    found = [(c, cas_check_digit_ok(c)) for c in stripped if is_cas_number(c)]
    bad = [c for c, ok in found if not ok]
    if bad:
        notes.append(f"CAS-shaped number {bad[0]} has an invalid check digit and was ignored")
    for cas, ok in found:
        if ok and cas in lex.cas:
            sub, form = lex.cas[cas]
            what = f"{form}, a form of {sub.name}" if form else sub.name
            return Decision(
                "controlled",
                sub,
                100.0,
                "cas",
                f"CAS {cas} (check digit valid) is {what}; listed free base CAS {sub.cas}.",
            )
    return None


def cas_decisions(
    prep: pl.DataFrame, lex: Lexicon
) -> tuple[list[tuple[int, Decision]], list[tuple[int, str]]]:
    """(row index, decision) for rows a CAS number decides, and (row index, note) for notes."""
    decided: list[tuple[int, Decision]] = []
    notes_out: list[tuple[int, str]] = []
    rows = prep.filter(pl.col("cas_spans").list.len() > 0).select("idx", "cas_spans")
    for idx, spans in rows.iter_rows():
        notes: list[str] = []
        hit = cas_decision(spans, lex, notes)
        if hit is not None:
            decided.append((idx, hit))
        if notes:
            notes_out.append((idx, "; ".join(notes)))
    return decided, notes_out
