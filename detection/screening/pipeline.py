"""The screening pipeline: prepare the text of distinct rows, run the layers cheapest first, and
assemble the contract frame with each row's notes.

Layers (one module each): cas, lexical (exact and abbreviations), fuzzy, structure
(OPSIN + RDKit), fallbacks (fentanyl stem, modified names), no_locant. Each works on the
distinct cleaned descriptions only and records what it found on their `Unit`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import polars as pl

from detection.screening.cas import cas_decisions, cas_spans
from detection.screening.config import ScreenConfig
from detection.screening.fallbacks import layer_fallbacks
from detection.screening.fuzzy import FuzzyIndex, layer_fuzzy
from detection.screening.lexical import Lexicon, layer_exact
from detection.screening.no_locant import layer_no_locant
from detection.screening.scripts import read_scripts, repair_encoding
from detection.screening.structure import StructureIndex, layer_structure
from detection.screening.text import (
    CONTROL_NOTE,
    FOREIGN_PATTERN,
    MAX_NAME_CHARS,
    TRUNCATION_NOTE,
    cleaned,
    had_control,
    salt_words,
    sanitized,
)
from detection.screening.unit import Decision, Unit
from detection.screening.watchlist import Substance, load_watchlist

__all__ = ["SCREEN_EXTRA_SCHEMA", "SCREEN_SCHEMA", "screen_frame", "screen_names"]

SCREEN_SCHEMA: dict[str, pl.DataType] = {
    "name": pl.String(),
    "verdict": pl.String(),  # controlled | analogue | clear
    "substance_cas": pl.String(),
    "substance_name": pl.String(),
    "score": pl.Float64(),  # 0-100
    "method": pl.String(),
    "explanation": pl.String(),
}

# Extra columns after the contract's: the structure read, the similarity to the nearest
# listed substance, and the low-score candidate of an unsupported ambiguous abbreviation.
SCREEN_EXTRA_SCHEMA: dict[str, pl.DataType] = {
    "smiles": pl.String(),
    "nearest_similarity": pl.Float64(),
    "candidate_cas": pl.String(),
}
_OUT_SCHEMA = {k: v for k, v in {**SCREEN_SCHEMA, **SCREEN_EXTRA_SCHEMA}.items() if k != "name"}
_UNIT_KEY = ["cleaned", "hs_support", "salt_key"]
_HS_SUPPORT_PATTERN = r"2933\.?3[3679]"


class _Indexes:
    """The watchlist (plus promoted substances) indexed once for each layer."""

    def __init__(self, substances: Sequence[Substance]):
        self.lexicon = Lexicon(substances)
        self.fuzzy = FuzzyIndex(self.lexicon)
        self.structure = StructureIndex(substances)


@functools.lru_cache(maxsize=8)
def _indexes(extra: tuple[Substance, ...]) -> _Indexes:
    return _Indexes([*load_watchlist(), *extra])


def _prepare(
    names: Sequence[str | None], cas: Sequence[str | None], hs: Sequence[str | None]
) -> pl.DataFrame:
    """Vectorised: mojibake repaired, sanitised (NFKC) text, Chinese and Russian names read in
    English, cleaned text, CAS candidates, HS support, salt words."""
    df = pl.DataFrame(
        {"raw": names, "cas_field": cas, "hs_field": hs},
        schema={"raw": pl.String(), "cas_field": pl.String(), "hs_field": pl.String()},
    ).with_row_index("idx")
    df = df.with_columns(
        head=pl.col("raw").str.slice(0, MAX_NAME_CHARS),
        raw_len=pl.col("raw").str.len_chars().fill_null(0),
    )
    df = repair_encoding(df, "head")
    df = df.with_columns(
        text=sanitized(pl.col("read")),
        had_control=had_control(pl.col("read")),
        cas_text=sanitized(pl.col("cas_field")),
    )
    df = read_scripts(df, "text")
    hs_src = pl.concat_str([pl.col("text"), pl.col("hs_field").fill_null("")], separator=" ")
    df = df.with_columns(
        cleaned=cleaned(pl.col("text")),
        cas_spans=cas_spans(pl.col("text"), pl.col("cas_text")),
        hs_support=hs_src.str.contains(_HS_SUPPORT_PATTERN),
        salts=salt_words(pl.col("text")),
    )
    return df.with_columns(
        key=pl.col("cleaned").str.to_lowercase().str.replace_all(r"[^0-9a-z]+", ""),
        salt_key=pl.col("salts")
        .list.eval(pl.element().str.strip_chars(" .;").str.to_lowercase())
        .list.unique()
        .list.sort()
        .list.join(" "),
    )


def _run_layers(units: list[Unit], ix: _Indexes, cfg: ScreenConfig) -> None:
    """Layers 2-6 over the distinct units, cheapest first; each decides what it can."""
    open_units: list[Unit] = []
    for unit in units:
        try:
            layer_exact(unit, ix.lexicon, cfg)
        except Exception as exc:  # one bad name must not sink the batch
            unit.decide("clear", None, 0.0, "error", f"The name could not be screened ({exc!r}).")
        if unit.decision is None:
            open_units.append(unit)
    layer_fuzzy(open_units, ix.fuzzy, cfg)
    open_units = [u for u in open_units if u.decision is None]
    layer_structure(open_units, ix.structure, cfg)
    for unit in open_units:
        if unit.decision is None:
            layer_fallbacks(unit, ix.lexicon, ix.structure, cfg)
    layer_no_locant(units, ix.lexicon, ix.fuzzy, cfg)


def _final(unit: Unit) -> Decision:
    """The unit's decision, or the reason nothing matched."""
    if unit.decision is not None:
        return unit.decision
    if unit.structure_down and not unit.structure_tried:
        why = (
            f"No listed name form matched and the name could not be checked by "
            f"structure ({unit.structure_down})."
        )
        return Decision("clear", None, 0.0, "structure-unavailable", why)
    if unit.no_ring_word:
        why = (
            "No listed name form matched, and the name names no piperidine ring, which every "
            "listed precursor and designer pattern has."
        )
    elif unit.structure_tried and unit.smiles is None:
        why = "No listed name form matched, and OPSIN could not parse the name as a structure."
    else:
        why = "No listed name form, CAS number or structure matched."
    return Decision("clear", None, 0.0, "none", why)


def _result_row(
    d: Decision,
    smiles: str | None = None,
    similarity: float | None = None,
    candidate: str | None = None,
) -> tuple[object, ...]:
    return (
        d.verdict,
        d.substance.cas if d.substance else None,
        d.substance.name if d.substance else None,
        round(max(0.0, min(100.0, d.score)), 1),
        d.method,
        d.explanation,
        smiles,
        similarity,
        candidate,
    )


def _unit_frame(prep: pl.DataFrame, ix: _Indexes, cfg: ScreenConfig) -> pl.DataFrame:
    """Layers 2-6 over the distinct (cleaned, hs_support, salt_key) of rows not decided by CAS."""
    unit_keys = prep.select(_UNIT_KEY).unique(maintain_order=True)
    units = []
    for c, h, sk in unit_keys.iter_rows():
        try:
            units.append(Unit.of(c, bool(h), sk.split(" ") if sk else []))
        except Exception as exc:  # one bad name must not sink the batch
            unit = Unit(c, bool(h), sk.split(" ") if sk else [])
            unit.decide("clear", None, 0.0, "error", f"The name could not be screened ({exc!r}).")
            units.append(unit)
    _run_layers(units, ix, cfg)
    rows = [
        _result_row(_final(u), u.smiles, u.similarity, u.candidate.cas if u.candidate else None)
        for u in units
    ]
    res = pl.DataFrame(rows, schema=_OUT_SCHEMA, orient="row")
    return pl.concat([unit_keys, res], how="horizontal")


def _unreadable(out: pl.DataFrame) -> pl.DataFrame:
    """Text that could not be read and in which nothing was found is `unreadable`, not clear."""
    hit = pl.col("unreadable").is_not_null() & (pl.col("verdict") == "clear")
    why = pl.format(
        "The text could not be read: {}. Nothing listed was found in what could be read; "
        "re-read the source with its right encoding (UTF-8, GBK or cp1252).",
        pl.col("unreadable"),
    )
    return out.with_columns(
        verdict=pl.when(hit).then(pl.lit("unreadable")).otherwise("verdict"),
        method=pl.when(hit).then(pl.lit("mojibake")).otherwise("method"),
        score=pl.when(hit).then(pl.lit(0.0)).otherwise("score"),
        substance_cas=pl.when(hit).then(pl.lit(None)).otherwise("substance_cas"),
        substance_name=pl.when(hit).then(pl.lit(None)).otherwise("substance_name"),
        explanation=pl.when(hit).then(why).otherwise("explanation"),
    )


def _notes(out: pl.DataFrame) -> pl.DataFrame:
    """Verdict defaults for rows no layer saw, and the notes each explanation ends with."""
    no_text = pl.col("text") == ""
    no_key = pl.col("key") == ""
    undecided = pl.col("verdict").is_null()
    out = out.with_columns(
        verdict=pl.col("verdict").fill_null("clear"),
        score=pl.col("score").fill_null(0.0),
        method=pl.col("method").fill_null("none"),
        explanation=pl.when(undecided & no_text)
        .then(pl.lit("Empty name: nothing to screen."))
        .when(undecided & no_key)
        .then(
            pl.lit(
                "The name has no Latin letters or digits left after removing trade words; "
                "no listed name form matched."
            )
        )
        .otherwise(pl.col("explanation")),
    )
    out = _unreadable(out)
    unreadable = pl.col("verdict") == "unreadable"
    note = pl.concat_str(
        [
            pl.when(pl.col("raw_len") > MAX_NAME_CHARS).then(
                pl.format(TRUNCATION_NOTE, pl.col("raw_len"), pl.lit(MAX_NAME_CHARS))
            ),
            pl.when(pl.col("had_control")).then(pl.lit(CONTROL_NOTE)),
            pl.col("encoding_note"),
            pl.when(pl.col("unreadable").is_not_null() & ~unreadable).then(
                pl.format("part of the text could not be read ({})", pl.col("unreadable"))
            ),
            pl.when(~unreadable).then(pl.col("reading_note")),
            pl.when(
                pl.col("text").str.contains(FOREIGN_PATTERN)
                & pl.col("verdict").is_in(["controlled", "analogue"])
                & pl.col("reading_note").is_null()
            ).then(
                pl.format(
                    "read as '{}' (Spanish/Portuguese/French/German spelling)",
                    pl.col("cleaned").str.slice(0, 120),
                )
            ),
            pl.col("cas_note"),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    ended = pl.concat_str(
        [pl.col("explanation").str.strip_chars_end("."), pl.lit("; "), pl.col("note"), pl.lit(".")]
    )
    return out.with_columns(note=note).with_columns(
        explanation=pl.when(pl.col("note") != "").then(ended).otherwise(pl.col("explanation"))
    )


def _screen_distinct(
    names: Sequence[str | None],
    cas: Sequence[str | None],
    hs: Sequence[str | None],
    extra: tuple[Substance, ...],
    cfg: ScreenConfig | None,
) -> pl.DataFrame:
    """Screen distinct rows; returns the contract frame (plus extras) in input order."""
    ix = _indexes(extra)
    cfg = cfg or ScreenConfig()
    prep = _prepare(names, cas, hs)
    # Layer 1, CAS: only rows with a CAS-shaped number, few in practice.
    decided, cas_notes = cas_decisions(prep, ix.lexicon)
    fixed = pl.DataFrame(
        [(idx, *_result_row(d)) for idx, d in decided],
        schema={"idx": pl.UInt32(), **_OUT_SCHEMA},
        orient="row",
    )
    notes = pl.DataFrame(
        cas_notes, schema={"idx": pl.UInt32(), "cas_note": pl.String()}, orient="row"
    )
    todo = prep.filter((pl.col("key") != "") & ~pl.col("idx").is_in(fixed["idx"].to_list()))
    units = _unit_frame(todo, ix, cfg)
    cols = ["idx", "raw", "text", "key", "raw_len", "had_control", *_UNIT_KEY]
    cols += ["encoding_note", "unreadable", "reading_note"]
    out = (
        prep.select(cols)
        .join(units, on=_UNIT_KEY, how="left", maintain_order="left", nulls_equal=True)
        .update(fixed, on="idx", how="left")
        .join(notes, on="idx", how="left", maintain_order="left")
    )
    return _notes(out).select(pl.col("raw").alias("name"), *_OUT_SCHEMA)


def _as_strings(values: Sequence[object]) -> list[str | None]:
    return [None if v is None else str(v) for v in values]


def screen_names(
    names: Iterable[str | None],
    *,
    cas: Iterable[str | None] | None = None,
    hs_code: Iterable[str | None] | None = None,
    extra: Sequence[Substance] = (),
    config: ScreenConfig | None = None,
) -> pl.DataFrame:
    """Screen each name (and its optional CAS and HS fields); one output row per input row.

    The contract columns come first; `smiles`, `nearest_similarity` and `candidate_cas`
    follow. `extra` substances (promoted from early warning) screen as controlled.
    """
    names = list(names)
    n = len(names)
    cas_list = list(cas) if cas is not None else [None] * n
    hs_list = list(hs_code) if hs_code is not None else [None] * n
    if len(cas_list) != n or len(hs_list) != n:
        raise ValueError("names, cas and hs_code must have the same length")
    str_schema = {"n": pl.String(), "c": pl.String(), "h": pl.String()}
    try:
        df = pl.DataFrame({"n": names, "c": cas_list, "h": hs_list}, schema=str_schema)
    except (TypeError, pl.exceptions.PolarsError):
        columns = {"n": names, "c": cas_list, "h": hs_list}
        df = pl.DataFrame({k: _as_strings(v) for k, v in columns.items()}, schema=str_schema)
    distinct = df.unique(maintain_order=True)
    res = _screen_distinct(
        distinct["n"].to_list(),
        distinct["c"].to_list(),
        distinct["h"].to_list(),
        tuple(extra),
        config,
    )
    if distinct.height == n:
        return res
    both = pl.concat([distinct, res.drop("name")], how="horizontal")
    out = df.join(both, on=["n", "c", "h"], how="left", nulls_equal=True, maintain_order="left")
    return out.rename({"n": "name"}).drop("c", "h")


def screen_frame(
    frame: pl.DataFrame,
    *,
    name_col: str = "product",
    cas_col: str | None = "cas",
    hs_col: str | None = "hs_code",
    extra: Sequence[Substance] = (),
    config: ScreenConfig | None = None,
) -> pl.DataFrame:
    """Screen the distinct (name, cas, hs) rows of `frame`; returns those columns and verdicts."""
    cols = [name_col]
    if cas_col and cas_col in frame.columns:
        cols.append(cas_col)
    if hs_col and hs_col in frame.columns:
        cols.append(hs_col)
    distinct = frame.select(cols).unique(maintain_order=True)
    none: list[str | None] = [None] * distinct.height

    def column(col: str | None) -> list[str | None]:
        return distinct[col].cast(pl.String).to_list() if col in cols else none

    res = _screen_distinct(column(name_col), column(cas_col), column(hs_col), tuple(extra), config)
    return pl.concat([distinct, res.drop("name")], how="horizontal")
