"""Lexical layer: the name index of the watchlist and the exact/abbreviation lookup.

Every name form is keyed by its compact form (letters and digits, lower case); a
description is looked up whole, then by windows of its tokens, longest first. An
abbreviation that collides with a benign chemical (4-AP, NPP) counts only with supporting
context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from detection.screening.config import ScreenConfig
from detection.screening.text import clean_texts, compact
from detection.screening.unit import Unit
from detection.screening.watchlist import Substance

__all__ = [
    "Lexicon",
    "NameForm",
    "is_modifier_after",
    "is_modifier_before",
    "layer_exact",
    "modifier_around",
]


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
        entries = []
        for sub in self.substances:
            self.cas.setdefault(sub.cas, (sub, None))
            for form in sub.forms:
                self.cas.setdefault(form.cas, (sub, f"{form.name} ({form.form})"))
            for name, kind in sub.all_names():
                entries.append(
                    (sub, name, "ambiguous" if kind == "ambiguous_abbreviation" else kind)
                )
        keys = [compact(c) for c in clean_texts([name for _, name, _ in entries])]
        for (sub, name, kind), key in zip(entries, keys, strict=True):
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
        # Suffix keys for the modified-name fallback ("4-fluoro-ANPP", "1-benzyl-4-AP").
        suffix_forms = sorted(
            [*self.names.values(), *self.ambiguous.values()], key=lambda nf: -len(nf.key)
        )
        self.suffix_by_key = {nf.key: nf for nf in suffix_forms if len(nf.key) >= 3}
        self.suffix_re = re.compile(
            "(?:" + "|".join(re.escape(k) for k in self.suffix_by_key) + ")$"
        )


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


# Context that makes an ambiguous abbreviation read as the precursor...
_SUPPORT_RE = re.compile(r"anilin|piperid|phenethyl|phenylethyl|fentan|opioid|precursor")
# ...and context that makes it read as the benign chemical or an ordinary product.
_AGAINST_RE = re.compile(
    r"pyridin|fampridin|fertili|npk|nitrogen|phosph|potass|nonylphenol|ethoxyl|polymer|"
    r"adhesive|resin|glue|coating|paint|film|vitamin|plastic|granule|polyprop|sulph|sulf"
)
_MAX_WINDOW = 6


def _windows(unit: Unit) -> Iterable[tuple[int, int, str]]:
    n = len(unit.tok_keys)
    for size in range(min(n, _MAX_WINDOW), 0, -1):
        for i in range(0, n - size + 1):
            yield i, i + size, "".join(unit.tok_keys[i : i + size])


def modifier_around(unit: Unit, i: int, j: int) -> str | None:
    """The token that modifies the name in token window [i, j), if any."""
    if i > 0 and is_modifier_before(unit.tok_keys[i - 1]):
        return unit.toks[i - 1]
    if j < len(unit.tok_keys) and is_modifier_after(unit.tok_keys[j]):
        return unit.toks[j]
    return None


def _context(unit: Unit, i: int, j: int) -> tuple[str | None, str | None]:
    """(supporting word, opposing word) around an ambiguous abbreviation in window [i, j)."""
    others = " ".join(unit.tok_keys[:i] + unit.tok_keys[j:])
    against = _AGAINST_RE.search(others)
    if against:
        word = next((t for t in unit.toks if _AGAINST_RE.search(compact(t))), against.group(0))
        return None, word
    support = _SUPPORT_RE.search(others)
    if support:
        return support.group(0), None
    if unit.hs_support:
        return "HS heading 2933.3x", None
    return None, None


def layer_exact(unit: Unit, lex: Lexicon, cfg: ScreenConfig) -> None:
    """Exact lookup of the whole description, then of token windows; ambiguous
    abbreviations decided by their context."""
    hit = lex.names.get(unit.key)
    if hit is not None:
        unit.decide(
            "controlled",
            hit.substance,
            100.0,
            hit.method,
            f"Exact match to the {hit.label} '{hit.name}' of {hit.substance.name}"
            f"{unit.salt_note()}.",
            hit,
        )
        return
    ambiguous: tuple[NameForm, int, int] | None = None
    for i, j, key in _windows(unit):
        nf = lex.names.get(key)
        if nf is not None:
            mod = modifier_around(unit, i, j)
            if mod is not None:
                unit.modified = unit.modified or (nf, mod)
                continue
            unit.decide(
                "controlled",
                nf.substance,
                98.0 if nf.kind != "abbreviation" else 95.0,
                nf.method,
                f"The {nf.label} '{nf.name}' of {nf.substance.name} appears as whole words "
                f"in the text{unit.salt_note()}.",
                nf,
            )
            return
        amb = lex.ambiguous.get(key)
        if amb is not None and ambiguous is None:
            ambiguous = (amb, i, j)
    if ambiguous is not None:
        _decide_ambiguous(unit, *ambiguous, cfg)


def _decide_ambiguous(unit: Unit, nf: NameForm, i: int, j: int, cfg: ScreenConfig) -> None:
    if modifier_around(unit, i, j) is not None:
        unit.modified = unit.modified or (nf, unit.toks[i - 1] if i > 0 else unit.toks[j])
        return
    support, against = _context(unit, i, j)
    if against:
        unit.decide(
            "clear",
            None,
            10.0,
            "abbreviation-ambiguous",
            f"'{nf.name}' is an ambiguous abbreviation of {nf.substance.preferred_name}, but "
            f"the word '{against}' shows it means something else here.",
        )
    elif support:
        unit.decide(
            "controlled",
            nf.substance,
            cfg.ambiguous_context_score,
            "abbreviation",
            f"Ambiguous abbreviation '{nf.name}' read as {nf.substance.preferred_name} "
            f"(score {cfg.ambiguous_context_score:.0f}) because of the context '{support}'.",
            nf,
        )
    else:
        unit.candidate = nf.substance
        unit.decide(
            "clear",
            None,
            cfg.ambiguous_candidate_score,
            "abbreviation-ambiguous",
            f"'{nf.name}' may be {nf.substance.preferred_name} (CAS {nf.substance.cas}) but is "
            f"also a common benign name; low-score candidate "
            f"({cfg.ambiguous_candidate_score:.0f}) without supporting context.",
        )
