"""attach: new columns beside a large frame, its rows and order kept."""

from __future__ import annotations

import polars as pl
import pytest

from detection.frames import attach


def test_attach_adds_the_lookup_columns_in_the_frames_order() -> None:
    frame = pl.DataFrame({"id": [3, 1, 2, 1], "name": ["c", "a", "b", "a"]})
    lookup = pl.DataFrame({"id": [1, 2], "score": [0.5, 0.25]})
    out = attach(frame, lookup, "id")
    assert out.columns == ["id", "name", "score"]
    assert out.rows() == [(3, "c", None), (1, "a", 0.5), (2, "b", 0.25), (1, "a", 0.5)]


def test_attach_matches_missing_keys_only_when_asked() -> None:
    frame = pl.DataFrame({"k": ["x", None]})
    lookup = pl.DataFrame({"k": ["x", None], "v": [1, 2]})
    assert attach(frame, lookup, "k")["v"].to_list() == [1, None]
    assert attach(frame, lookup, "k", nulls_equal=True)["v"].to_list() == [1, 2]


def test_attach_refuses_a_lookup_with_a_repeated_key() -> None:
    frame = pl.DataFrame({"id": [1, 2]})
    lookup = pl.DataFrame({"id": [1, 1], "v": [1, 2]})
    with pytest.raises(ValueError, match="more than once"):
        attach(frame, lookup, "id")
