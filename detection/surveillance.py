"""The special-surveillance list: designer precursors that detection watches through the screen.

These are not on Table I but one easy step turns each into a listed precursor (DOMAIN.md:
the US controls amides/carbamates/halides of 4-AP and acetals/amides/carbamates of
4-piperidone). They are handed to `screen_frame(extra=...)`; a hit on one of them is a
designer-analogue finding, never a "controlled" one. CAS numbers are given only where the
check digit holds and the number is on record in public catalogues; otherwise the id is a
`surveillance:` slug.
"""

from __future__ import annotations

from detection.screening.watchlist import Substance

__all__ = ["SURVEILLANCE", "SURVEILLANCE_IDS", "surveillance_parent"]

_SRC = "DOMAIN.md designer-precursor patterns; 21 CFR 1310 (2020, 2023 rules)"

SURVEILLANCE: tuple[Substance, ...] = (
    Substance(
        cas="19099-93-5",
        name="N-Cbz-4-piperidone",
        preferred_name="1-Cbz-4-piperidone",
        systematic_name="benzyl 4-oxopiperidine-1-carboxylate",
        smiles="O=C1CCN(CC1)C(=O)OCc1ccccc1",
        hs_codes=("2933.39",),
        instrument="special surveillance (carbamate of 4-piperidone)",
        listed_on=None,
        source=_SRC,
        synonyms=("N-Cbz-4-piperidone", "1-benzyloxycarbonyl-4-piperidone", "Cbz-4-piperidone"),
    ),
    Substance(
        cas="29976-53-2",
        name="N-carbethoxy-4-piperidone",
        preferred_name="ethyl 4-oxopiperidine-1-carboxylate",
        systematic_name="ethyl 4-oxopiperidine-1-carboxylate",
        smiles="CCOC(=O)N1CCC(=O)CC1",
        hs_codes=("2933.39",),
        instrument="special surveillance (carbamate of 4-piperidone)",
        listed_on=None,
        source=_SRC,
        synonyms=("1-ethoxycarbonyl-4-piperidone", "N-ethoxycarbonyl-4-piperidone"),
    ),
    Substance(
        cas="177-11-7",
        name="4-piperidone ethylene ketal",
        preferred_name="4-piperidone ethylene ketal",
        systematic_name="1,4-dioxa-8-azaspiro[4.5]decane",
        smiles="C1CNCCC12OCCO2",
        hs_codes=("2934.99",),
        instrument="special surveillance (acetal of 4-piperidone)",
        listed_on=None,
        source=_SRC,
        synonyms=("4-piperidone ethylene acetal",),
    ),
    Substance(
        cas="surveillance:benzyl-4-AP",
        name="benzyl-4-AP",
        preferred_name="1-benzyl-4-anilinopiperidine",
        systematic_name="1-benzyl-N-phenylpiperidin-4-amine",
        smiles="C(c1ccccc1)N1CCC(CC1)Nc1ccccc1",
        hs_codes=("2933.39",),
        instrument="special surveillance (N-benzyl 4-AP, benzylfentanyl precursor)",
        listed_on=None,
        source=_SRC,
        synonyms=("1-benzyl-4-(phenylamino)piperidine",),
    ),
    Substance(
        cas="surveillance:4-F-4-AP",
        name="4-fluoro-4-AP",
        preferred_name="4-(4-fluoroanilino)piperidine",
        systematic_name="N-(4-fluorophenyl)piperidin-4-amine",
        smiles="Fc1ccc(cc1)NC1CCNCC1",
        hs_codes=("2933.39",),
        instrument="special surveillance (halide of 4-AP)",
        listed_on=None,
        source=_SRC,
        synonyms=("para-fluoro-4-anilinopiperidine",),
    ),
    Substance(
        cas="288573-56-8",
        name="1-boc-4-(4-fluoroanilino)piperidine",
        preferred_name="1-boc-4-(4-fluoroanilino)piperidine",
        systematic_name="tert-butyl 4-(4-fluoroanilino)piperidine-1-carboxylate",
        smiles="CC(C)(C)OC(=O)N1CCC(CC1)Nc1ccc(F)cc1",
        hs_codes=("2933.39",),
        instrument="special surveillance (halide of 1-boc-4-AP)",
        listed_on=None,
        source=_SRC,
        synonyms=("tert-butyl 4-[(4-fluorophenyl)amino]piperidine-1-carboxylate",),
    ),
)

SURVEILLANCE_IDS: frozenset[str] = frozenset(s.cas for s in SURVEILLANCE)

# The listed precursor one easy step away, for the alert's explanation.
_PARENT = {
    "19099-93-5": "41661-47-6",
    "29976-53-2": "41661-47-6",
    "177-11-7": "41661-47-6",
    "surveillance:benzyl-4-AP": "23056-29-3",
    "surveillance:4-F-4-AP": "23056-29-3",
    "288573-56-8": "125541-22-2",
}


def surveillance_parent(cas: str) -> str | None:
    """CAS of the listed precursor that the surveillance substance `cas` converts into."""
    return _PARENT.get(cas)
