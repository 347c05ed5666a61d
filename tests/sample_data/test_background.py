"""The subtle planted cases stand clear of how far the legitimate background goes."""

from __future__ import annotations

import pytest

from sample_data.background import background_extremes


@pytest.mark.parametrize("seed", [909, 910])
def test_subtle_cases_are_beyond_the_background(seed: int) -> None:
    b = background_extremes(seed, 20_000)
    assert b["relations"] >= 150
    # plant_volume: subtle unusual size 4-6 times usual on steady relations
    assert b["largest / median, steady relations"] < 4
    # subtle burst: 6 consignments within one usual gap of a regular relation
    assert b["most consignments within 1.0 gaps, regular relations"] < 6
    # moderate burst: 9 or more within 1.5 gaps, any relation
    assert b["most consignments within 1.5 gaps, other relations"] < 9
    # subtle series: 3 or more usual consignments in parts each below usual
    key = "3+ within half a gap (<= 14 days), each below usual: total / usual, {} relations"
    assert b[key.format("regular")] < 3 and b[key.format("other")] < 3
    # plant_goods: subtle mis-valuation 4.5-8 times the product's usual price; an honest
    # listed precursor under-valued at 1/25-1/10 of its usual price
    assert b["price / product median, highest"] < 4.5
    assert b["price / product median, lowest"] > 1 / 10
