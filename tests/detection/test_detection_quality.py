"""Golden end-to-end run: generate a fresh seed -> detect -> score against the answer key."""

from __future__ import annotations

import pytest

from detection.evaluate import evaluate
from detection.run import detect
from sample_data.generate import generate

# Seed 7 is the tuning seed; 909 was never looked at while tuning. 40,000 records give 16
# anomalies per pattern, so one miss does not decide the recall target.
FRESH_SEED = 909


@pytest.mark.slow
def test_quality_targets_on_a_fresh_seed() -> None:
    s = generate(FRESH_SEED, 40_000)
    alerts = detect(s.registry_shipments, s.declarations)
    ev = evaluate(alerts, s.registry_shipments, s.answer_key)
    print(ev.table())
    for row in ev.per_pattern.iter_rows(named=True):
        assert row["recall"] >= 0.9, row
    assert ev.precision_at_k >= 0.8
    assert ev.alerts_per_10k <= 60
