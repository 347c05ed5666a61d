"""Fallback layer: names no structure was read for, decided by what they visibly carry.

A name with the fentanyl stem is fentanyl-related (an analogue of the nearest listed
precursor); a listed name with a modifying prefix or word ("4-fluoro-ANPP", "4-piperidone
ethylene ketal") is a possible masked or substituted form.
"""

from __future__ import annotations

from detection.screening.config import ScreenConfig
from detection.screening.lexical import Lexicon, is_modifier_before
from detection.screening.structure import StructureIndex, fentanyl_stem_nearest
from detection.screening.unit import Unit

__all__ = ["layer_fallbacks"]


def layer_fallbacks(unit: Unit, lex: Lexicon, index: StructureIndex, cfg: ScreenConfig) -> None:
    """Decide an undecided unit by the fentanyl stem or a modified listed name, if it has one."""
    if "fentan" in unit.key:
        near, sim = fentanyl_stem_nearest(index)
        if near is not None:
            unit.decide(
                "analogue",
                near,
                cfg.stem_score,
                "stem",
                f"The name carries the fentanyl stem: a fentanyl-related substance (a controlled "
                f"drug built on the 4-anilinopiperidine core, not a listed precursor); nearest "
                f"listed substance {near.name} (Tanimoto {sim:.2f} for fentanyl itself).",
            )
            return
    if unit.modified is None:
        for tk in unit.tok_keys:
            m = lex.suffix_re.search(tk)
            if m is not None and m.start() > 0 and is_modifier_before(tk[: m.start()]):
                unit.modified = (lex.suffix_by_key[m.group(0)], tk[: m.start()])
                break
    if unit.modified is not None:
        nf, mod = unit.modified
        unit.decide(
            "analogue",
            nf.substance,
            cfg.modified_name_score,
            "modified-name",
            f"The {nf.label} '{nf.name}' of {nf.substance.name} appears with the modifying "
            f"prefix or word '{mod}': a possible masked or substituted form (structure not "
            f"resolved).",
        )
