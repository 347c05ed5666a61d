"""Text normalisation: sanitising, cleaning (trade, salt, CAS words off), keys and locants."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.screening import ScreenConfig, screen_names
from detection.screening.text import clean_text, compact, locants_compatible, sanitize


@pytest.mark.parametrize(
    ("raw", "text", "cleaned"),
    [
        ("N-Phenethyl-4-piperidone 99% min, 25 kg drum lot 123456",
         "N-Phenethyl-4-piperidone 99% min, 25 kg drum lot 123456", "N-Phenethyl-4-piperidone"),
        ("4-AP 2HCl", "4-AP 2HCl", "4-AP"),
        ("x.HCl", "x.HCl", "x"),
        ("4\u2011piperidone\u00a0hydrochloride", "4-piperidone hydrochloride", "4-piperidone"),
        ("ANPP\x00\x07 CAS 21409-26-7", "ANPP CAS 21409-26-7", "ANPP"),
        ("clorhidrato de N-fenetil-4-piperidona", "clorhidrato de N-fenetil-4-piperidona",
         "N-phenethyl-4-piperidone"),
        ("4-Piperidinone, 1-(phenylmethyl)-", "4-Piperidinone, 1-(phenylmethyl)-",
         "1-(phenylmethyl)-4-Piperidinone"),
        ("Tech grade acetone, 200 L drum", "Tech grade acetone, 200 L drum", "acetone"),
    ],
)  # fmt: skip
def test_sanitize_and_clean(raw: str, text: str, cleaned: str) -> None:
    assert sanitize(raw)[0] == text
    assert clean_text(text)[0] == cleaned


def test_sanitize_notes_truncation_and_control_characters() -> None:
    text, notes = sanitize("ANPP\x00" + "y" * 600)
    assert len(text) <= 500
    assert notes == ["name is 605 characters; only the first 500 were screened",
                     "control characters were removed"]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "name", "ok"),
    [
        ("1boc3ap", "1boc4ap", False),
        ("2piperidone", "4piperidone", False),
        ("4piperidon", "4piperidone", True),
        ("boc4ap", "1boc4ap", True),
        ("piperidone", "4piperidone", False),
        ("nphenethyl4piperidone", "1phenethyl4piperidone", True),
    ],
)
def test_locant_guard(query: str, name: str, ok: bool) -> None:
    assert locants_compatible(query, name) is ok


def test_compact_folds_spacing_and_case() -> None:
    assert compact("4 - Anilino Piperidine") == compact("4-anilinopiperidine")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=20))
def test_lexical_layers_never_raise(names: list[str]) -> None:
    cfg = dataclasses.replace(ScreenConfig(), structure=False)
    out = screen_names(names, config=cfg)
    assert out["name"].to_list() == names
    assert out["explanation"].null_count() == 0
