"""Lexical layers: the name index of the watchlist, exact/abbreviation lookup and guarded fuzzy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from detection.screening.text import (
    chem_stems,
    clean_text,
    compact,
    end_class,
    locants_compatible,
    ring_stems,
)
from detection.screening.watchlist import Substance

__all__ = ["Lexicon", "NameForm", "fuzzy_best", "is_modifier_after", "is_modifier_before"]


@dataclass(frozen=True)
class NameForm:
    """One name form of a listed substance, as the index holds it."""

    key: str  # compact key
    name: str  # as written in the watchlist
    kind: str  # systematic | short | preferred | synonym | form | abbreviation | ambiguous
    substance: Substance

    @property
    def method(self) -> str:
        if self.kind in ("abbreviation", "ambiguous"):
            return "abbreviation"
        if self.kind in ("systematic", "short", "preferred"):
            return "exact"
        return "synonym"

    @property
    def label(self) -> str:
        names = {"short": "name", "preferred": "preferred name", "form": "salt/hydrate name"}
        return (
            names.get(self.kind, self.kind.replace("_", " ") + " name")
            .replace("abbreviation name", "abbreviation")
            .replace("synonym name", "synonym")
            .replace("ambiguous name", "ambiguous abbreviation")
        )


class Lexicon:
    """Every name form and CAS number of a set of substances, keyed for fast lookup."""

    def __init__(self, substances: Sequence[Substance]):
        self.substances = list(substances)
        self.names: dict[str, NameForm] = {}
        self.ambiguous: dict[str, NameForm] = {}
        self.cas: dict[str, tuple[Substance, str | None]] = {}
        for sub in self.substances:
            self.cas.setdefault(sub.cas, (sub, None))
            for form in sub.forms:
                self.cas.setdefault(form.cas, (sub, f"{form.name} ({form.form})"))
            for name, kind in sub.all_names():
                kind = "ambiguous" if kind == "ambiguous_abbreviation" else kind
                cleaned, _ = clean_text(name)
                key = compact(cleaned)
                if not key:
                    continue
                nf = NameForm(key, name, kind, sub)
                if kind == "ambiguous":
                    self.ambiguous.setdefault(key, nf)
                elif key not in self.names or self.names[key].kind == "short":
                    self.names[key] = nf
        # Ambiguous keys never count as plain names (the short name of 4-AP is "4-AP").
        for key in self.ambiguous:
            self.names.pop(key, None)
        # Fuzzy only against names long enough for a one-letter typo to be unambiguous.
        fuzzy = [nf for nf in self.names.values() if nf.kind != "abbreviation" and len(nf.key) >= 8]
        self.fuzzy_forms = fuzzy
        self.fuzzy_keys = [nf.key for nf in fuzzy]
        self._guards = [(end_class(nf.key), ring_stems(nf.key), chem_stems(nf.key)) for nf in fuzzy]
        # Suffix keys for the modified-name fallback ("4-fluoro-ANPP", "1-benzyl-4-AP").
        suffix_forms = sorted(
            [*self.names.values(), *self.ambiguous.values()], key=lambda nf: -len(nf.key)
        )
        self.suffix_by_key = {nf.key: nf for nf in suffix_forms if len(nf.key) >= 3}
        self.suffix_re = re.compile(
            "(?:" + "|".join(re.escape(k) for k in self.suffix_by_key) + ")$"
        )

    def guard_ok(self, query: str, j: int) -> bool:
        """Chemistry guards for a fuzzy pair: locants, functional ending, ring and substituents."""
        cand = self.fuzzy_keys[j]
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
    lex: Lexicon, queries: Sequence[str], cutoff: float
) -> dict[str, tuple[NameForm, float]]:
    """For each query key, the best guarded fuzzy match at or above `cutoff` (batched cdist)."""
    out: dict[str, tuple[NameForm, float]] = {}
    if not queries or not lex.fuzzy_keys:
        return out
    step = 50000
    for start in range(0, len(queries), step):
        part = list(queries[start : start + step])
        mat = process.cdist(
            part,
            lex.fuzzy_keys,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        rows, cols = np.nonzero(mat)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            q = part[i]
            if q == lex.fuzzy_keys[j]:
                continue  # exact hits are handled by the exact layer
            score = float(fuzz.ratio(q, lex.fuzzy_keys[j]))
            prev = out.get(q)
            if prev is not None and prev[1] >= score:
                continue
            if lex.guard_ok(q, j):
                out[q] = (lex.fuzzy_forms[j], score)
    return out


_MOD_BEFORE_RE = re.compile(
    r"(?:yl|oxy|oro|omo|odo|boc|cbz|fmoc|bn|carbonyl|ortho|meta|para|tert|^[nomp])$"
)
_MOD_AFTER = frozenset(
    {
        "ketal",
        "acetal",
        "oxime",
        "imine",
        "hydrazone",
        "ethylene",
        "ethyleneketal",
        "dimethyl",
        "diethyl",
        "enamine",
        "semicarbazone",
        "cyanohydrin",
        "analogue",
        "analog",
        "derivative",
        "amide",
        "carbamate",
    }
)


def is_modifier_before(token_key: str) -> bool:
    """True when a token just before a name changes the compound (benzyl, N-Cbz, 4-fluoro)."""
    return bool(_MOD_BEFORE_RE.search(token_key))


def is_modifier_after(token_key: str) -> bool:
    """True when a token just after a name changes the compound (ketal, oxime...)."""
    return token_key in _MOD_AFTER
