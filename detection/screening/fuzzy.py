"""Fuzzy layer: rapidfuzz matching of name keys, guarded so a typo matches and an isomer does not.

A candidate pair must agree on locants (a dropped ring-nitrogen "1" aside), on the
functional ending (piperidone is not piperidine), on ring names and on substituents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from detection.screening.config import ScreenConfig
from detection.screening.lexical import Lexicon, NameForm, modifier_around
from detection.screening.text import chem_stems, end_class, locants_compatible, ring_stems
from detection.screening.unit import Unit

__all__ = ["FuzzyIndex", "fuzzy_best", "layer_fuzzy"]


class FuzzyIndex:
    """The name forms fuzzy matching runs against, with their chemistry guards."""

    def __init__(self, lex: Lexicon):
        # Only names long enough for a one-letter typo to be unambiguous.
        self.forms = [
            nf for nf in lex.names.values() if nf.kind != "abbreviation" and len(nf.key) >= 8
        ]
        self.keys = [nf.key for nf in self.forms]
        self._guards = [
            (end_class(nf.key), ring_stems(nf.key), chem_stems(nf.key)) for nf in self.forms
        ]

    def guard_ok(self, query: str, j: int) -> bool:
        """Chemistry guards for a fuzzy pair: locants, functional ending, ring and substituents."""
        cand = self.keys[j]
        if not locants_compatible(query, cand):
            return False
        end_c, rings_c, stems_c = self._guards[j]
        end_q = end_class(query)
        if end_q is not None and end_c is not None and end_q != end_c:
            return False
        if not ring_stems(query) <= rings_c:
            return False
        stems_q = chem_stems(query)
        if not stems_q <= stems_c:
            return False
        # A substituent of the name missing from the query must be there misspelt, not
        # dropped: "4-aminopiperidine" is not a typo of "4-(phenylamino)piperidine".
        return all(fuzz.partial_ratio(s, query) >= 80 for s in stems_c - stems_q if len(s) >= 4)


def fuzzy_best(
    index: FuzzyIndex, queries: Sequence[str], cutoff: float
) -> dict[str, tuple[NameForm, float]]:
    """For each query key, the best guarded fuzzy match at or above `cutoff` (batched cdist)."""
    out: dict[str, tuple[NameForm, float]] = {}
    if not queries or not index.keys:
        return out
    step = 50000
    for start in range(0, len(queries), step):
        part = list(queries[start : start + step])
        mat = process.cdist(
            part,
            index.keys,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        rows, cols = np.nonzero(mat)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            q = part[i]
            if q == index.keys[j]:
                continue  # exact hits are handled by the exact layer
            score = float(fuzz.ratio(q, index.keys[j]))
            prev = out.get(q)
            if prev is not None and prev[1] >= score:
                continue
            if index.guard_ok(q, j):
                out[q] = (index.forms[j], score)
    return out


def _queries(unit: Unit) -> list[str]:
    """The whole key and the unmodified token windows, long enough to match fuzzily."""
    out = [unit.key] if len(unit.key) >= 8 else []
    if len(unit.tok_keys) > 1:
        n = len(unit.tok_keys)
        for size in range(min(n - 1, 4), 0, -1):
            for i in range(0, n - size + 1):
                if modifier_around(unit, i, i + size) is None:
                    key = "".join(unit.tok_keys[i : i + size])
                    if len(key) >= 8:
                        out.append(key)
    return out


def layer_fuzzy(units: list[Unit], index: FuzzyIndex, cfg: ScreenConfig) -> None:
    """Decide the units whose key or a token window fuzzily matches a listed name form."""
    per_unit = [(unit, _queries(unit)) for unit in units]
    queries = list(dict.fromkeys(q for _, qs in per_unit for q in qs))
    best = fuzzy_best(index, queries, cfg.fuzzy_min)
    if not best:
        return
    for unit, qs in per_unit:
        hits = [best[q] for q in qs if q in best]
        if not hits:
            continue
        nf, score = max(hits, key=lambda h: h[1])
        unit.decide(
            "controlled",
            nf.substance,
            score,
            "fuzzy",
            f"Fuzzy match (score {score:.0f}) to {nf.label} '{nf.name}' of "
            f"{nf.substance.name}; locants, ring and substituent names agree{unit.salt_note()}.",
            nf,
        )
