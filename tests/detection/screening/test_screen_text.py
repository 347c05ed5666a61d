"""Text normalisation: the vectorised (polars) cleaning agrees with the per-string one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.screening import ScreenConfig, _prepare, screen_names
from detection.screening.text import clean_text, compact, locants_compatible, sanitize

HERE = Path(__file__).parent


def test_vectorised_cleaning_matches_python() -> None:
    names = pl.read_csv(HERE / "eval_names.csv", infer_schema=False)["name"].to_list()
    names += ["N-Phenethyl-4-piperidone 99% min, 25 kg drum lot 123456", "4-AP 2HCl", "x.HCl"]
    prep = _prepare(names, [None] * len(names), [None] * len(names))
    for name, cleaned in zip(names, prep["cleaned"].to_list(), strict=True):
        assert cleaned == clean_text(sanitize(name)[0])[0], name


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
