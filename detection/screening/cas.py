"""CAS layer: CAS numbers in the text or the cas field, check digit validated.

A salt's or hydrate's CAS number maps to its free base, the listed substance. A
CAS-shaped number with a wrong check digit is ignored and the explanation says so. A
number written without hyphens or with spaces ("CAS 39742604", "39742 60 4") is read
when it follows "CAS" or stands alone (the whole name or cas field) and its check digit
is valid: a bare digit run elsewhere is more often a lot number or a quantity.
"""

from __future__ import annotations

import re

import polars as pl

from detection.screening.lexical import Lexicon
from detection.screening.text import CAS_SPAN_PATTERN, is_cas_number
from detection.screening.unit import Decision
from detection.screening.watchlist import cas_check_digit_ok

__all__ = ["cas_decision", "cas_decisions", "cas_spans"]

_SPAN_EDGES = " -|,;:()[]#"
# Digits of a CAS number written loosely (spaces, missing hyphens), after "CAS" or alone.
_LOOSE = r"\d{2,7}[ -]?\d{2}[ -]?\d"
_AFTER_CAS_PATTERN = rf"(?i)\bcas\s*(?:no|number|rn|#)?\.?\s*[:#]?\s*{_LOOSE}(?:[^\d-]|$)"
_ALONE_PATTERN = rf"^\s*{_LOOSE}\s*$"
_CAS_WORD_RE = re.compile(r"(?i)^.*?cas\s*(?:no|number|rn|#)?\.?\s*[:#]?\s*")


def cas_spans(text: pl.Expr, cas_field: pl.Expr) -> pl.Expr:
    """The CAS-shaped numbers (with their boundary characters) of the text and the cas field,
    and those written loosely after "CAS" or alone (one regex pass)."""

    def marked(col: pl.Expr) -> pl.Expr:
        # A number standing alone is read as if it followed "CAS".
        alone = col.str.contains(_ALONE_PATTERN)
        return pl.when(alone).then(pl.concat_str([pl.lit("CAS "), col])).otherwise(col)

    field = cas_field.fill_null("").str.slice(0, 200)
    src = pl.concat_str([marked(text), marked(field)], separator=" | ")
    return src.str.extract_all(f"{CAS_SPAN_PATTERN}|{_AFTER_CAS_PATTERN}")


def _canonical(span: str) -> tuple[str, str | None]:
    """(NNNNNNN-NN-N, how it was written if not so) of a span."""
    core = _CAS_WORD_RE.sub("", span).strip(_SPAN_EDGES)
    if is_cas_number(core):
        return core, None
    digits = re.sub(r"\D", "", core)
    if not 5 <= len(digits) <= 10:
        return core, None
    return f"{digits[:-3]}-{digits[-3:-1]}-{digits[-1]}", core


def cas_decision(spans: list[str], lex: Lexicon, notes: list[str]) -> Decision | None:
    """The listed substance the first valid listed CAS number names; bad check digits noted."""
    written: dict[str, str | None] = {}
    for cas, was in map(_canonical, spans):
        written.setdefault(cas, was)  # in order of appearance; the first spelling wins
    found = [(c, cas_check_digit_ok(c), w) for c, w in written.items() if is_cas_number(c)]
    bad = [c if w is None else w for c, ok, w in found if not ok]
    if bad:
        notes.append(f"CAS-shaped number {bad[0]} has an invalid check digit and was ignored")
    for cas, ok, was in found:
        if ok and cas in lex.cas:
            sub, form = lex.cas[cas]
            what = f"{form}, a form of {sub.name}" if form else sub.name
            how = f", written '{was}'" if was else ""
            return Decision(
                "controlled",
                sub,
                100.0,
                "cas",
                f"CAS {cas} (check digit valid{how}) is {what}; listed free base CAS {sub.cas}.",
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
