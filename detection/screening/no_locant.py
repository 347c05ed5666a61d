"""No-locant layer: a name that gives no ring position, read again at the 4-position.

"phenethyl piperidone", "anilinopiperidine" and "N-boc piperidone" name no position;
OPSIN reads them at a default one, rarely what a trader meant. Read with the 4-position
every listed precursor has, such a name may name a listed substance: then it is flagged
for review as an analogue of it (the 2- and 3-isomers are not listed, so it is not
called controlled).
"""

from __future__ import annotations

import re

from detection.screening.config import ScreenConfig
from detection.screening.fuzzy import FuzzyIndex, layer_fuzzy
from detection.screening.lexical import Lexicon, layer_exact
from detection.screening.text import compact, digit_groups, end_class
from detection.screening.unit import Unit

__all__ = ["layer_no_locant"]

_RING_WORD_RE = re.compile(r"(?i)piperid")
_BARE_RING_RE = re.compile(r"(?i)^(?:piperid(?:ine|one|inone|inol|inamine))$")


def _function(name: str) -> str | None:
    """The functional class a name ends in, "oxo" names counting as ketones."""
    key = compact(name)
    return "ketone" if "oxo" in key else end_class(key)


def _readings(unit: Unit) -> list[Unit]:
    """The unit's text with "4-" put before its first ring word (two placements), or none."""
    decision = unit.decision
    if decision is None or decision.verdict != "clear" or decision.method == "error":
        return []
    text = unit.cleaned
    # No ring position: no digit at all, or only the ring nitrogen's "1-".
    if set(digit_groups(compact(text))) - {"1"} or not _RING_WORD_RE.search(text):
        return []
    if _BARE_RING_RE.match(text.strip()):
        return []  # "piperidine", "piperidone" alone: no substituent, nothing to read
    words = text.split()
    for i, w in enumerate(words):
        m = _RING_WORD_RE.search(w)
        if m is None:
            continue
        variants = [w[: m.start()] + "4-" + w[m.start() :], "4-" + w]
        return [
            Unit.of(" ".join([*words[:i], v, *words[i + 1 :]]), unit.hs_support, unit.salts)
            for v in dict.fromkeys(variants)
        ]
    return []


def layer_no_locant(units: list[Unit], lex: Lexicon, fuzzy: FuzzyIndex, cfg: ScreenConfig) -> None:
    """Flag cleared names without a ring position whose 4-reading names a listed substance."""
    todo = [(unit, cand) for unit in units for cand in _readings(unit)]
    if not todo:
        return
    for _, cand in todo:
        layer_exact(cand, lex, cfg)
    layer_fuzzy([c for _, c in todo if c.decision is None], fuzzy, cfg)
    for unit, cand in todo:
        if unit.decision is not None and unit.decision.verdict != "clear":
            continue  # an earlier variant already decided
        got = cand.decision
        if got is None or got.verdict != "controlled" or got.substance is None:
            continue
        ring = next(w for w in unit.cleaned.split() if _RING_WORD_RE.search(w))
        if got.matched is None or _function(ring) != _function(got.matched.name):
            continue  # a piperidine is not a piperidone: the reading must keep the function
        sub = got.substance
        unit.decide(
            "analogue",
            sub,
            cfg.modified_name_score,
            "no-locant",
            f"The name gives no ring position; read as '{cand.cleaned}' (the 4-position every "
            f"listed precursor has) it names {sub.name} (CAS {sub.cas}). Flagged for review: "
            f"the 2- and 3-isomers are not listed.",
        )
        unit.candidate = sub
