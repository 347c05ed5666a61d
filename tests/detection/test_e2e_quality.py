"""The quality targets the way a user meets them: CSV files -> ingest -> detect -> answer key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# Never looked at while tuning (101 and 102 were the tuning seeds of the noisy generator).
FRESH_SEED = 919


@pytest.mark.slow
def test_quality_targets_end_to_end_on_a_fresh_seed(tmp_path: Path) -> None:
    """The party links, countries, units, values and dates all come from the ingest pipeline
    (a European customs feed: semicolons, day-first dates, decimal commas, its own headers)."""
    from eval_e2e import _run

    # 40,000 records plant 16 cases of each pattern: a recall target of 0.9 then tolerates one
    # miss, as it means to; with 8 cases (20,000 records) it would demand every case.
    per, stats = _run(FRESH_SEED, 40_000, tmp_path, style="eu")
    print(per, stats)
    # Issue #12's target is 0.9 for every pattern, bursts included: a long burst (17
    # consignments over 195 days) is judged against its relation's cadence outside the whole
    # run of shipments, so its own shipments no longer raise its baseline.
    for row in per.iter_rows(named=True):
        assert row["recall"] >= 0.9, row
    assert stats["quarantined"] == 0
    assert stats["p_at_k"] >= 0.85
    assert stats["x_wrong"] <= 0.01 and stats["m_wrong"] <= 0.01


@pytest.mark.slow
def test_a_noisy_feed_with_nothing_planted_end_to_end(tmp_path: Path) -> None:
    from eval_e2e import _run

    _, stats = _run(FRESH_SEED, 20_000, tmp_path, noise_only=True)
    print(stats)
    assert stats["per_10k"] <= 5
