"""The watchlist data: valid CAS check digits, SMILES that match OPSIN's parse of each name."""

from __future__ import annotations

import pytest
from rdkit import Chem

from detection.screening.opsin import opsin_to_smiles
from detection.screening.structure import parent_of
from detection.screening.watchlist import cas_check_digit_ok, load_watchlist

SUBSTANCES = load_watchlist()


def test_seven_listed_substances() -> None:
    assert len(SUBSTANCES) == 7
    assert len({s.cas for s in SUBSTANCES}) == 7


@pytest.mark.parametrize("sub", SUBSTANCES, ids=lambda s: s.name)
def test_cas_check_digits(sub) -> None:  # type: ignore[no-untyped-def]
    assert cas_check_digit_ok(sub.cas)
    for form in sub.forms:
        assert cas_check_digit_ok(form.cas), form


@pytest.mark.parametrize("sub", SUBSTANCES, ids=lambda s: s.name)
def test_every_entry_has_a_source_and_smiles_parses(sub) -> None:  # type: ignore[no-untyped-def]
    assert sub.source
    assert Chem.MolFromSmiles(sub.smiles) is not None
    for form in sub.forms:
        if form.smiles:
            assert Chem.MolToInchiKey(parent_of(form.smiles)) == Chem.MolToInchiKey(
                parent_of(sub.smiles)
            )


@pytest.mark.java
def test_smiles_match_opsin_parse_of_systematic_names() -> None:
    parsed = opsin_to_smiles([s.systematic_name for s in SUBSTANCES])
    for sub, smi in zip(SUBSTANCES, parsed, strict=True):
        assert smi is not None, sub.systematic_name
        ours = Chem.MolToInchiKey(Chem.MolFromSmiles(sub.smiles))
        theirs = Chem.MolToInchiKey(Chem.MolFromSmiles(smi))
        assert ours == theirs, sub.name


def test_no_name_key_collides_between_substances() -> None:
    from detection.screening.lexical import Lexicon

    lex = Lexicon(SUBSTANCES)
    seen: dict[str, str] = {}
    for sub in SUBSTANCES:
        for name, _ in sub.all_names():
            from detection.screening.text import clean_text, compact

            key = compact(clean_text(name)[0])
            assert seen.setdefault(key, sub.cas) == sub.cas, name
    assert lex.names
