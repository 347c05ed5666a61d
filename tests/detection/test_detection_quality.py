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


def test_planted_unusual_sizes_are_what_the_answer_key_says() -> None:
    """Each planted unusual size is 4-15 times its relation's usual shipment, as labelled
    (it once scaled a random consignment: on seed 505 two small ones ended up 2.7 and 3.1
    times usual, inside normal trade's spread, while labelled 5.1 times)."""
    import polars as pl

    from detection.run import prepare_for

    s = generate(505, 20_000)
    ctx = prepare_for(s.registry_shipments, s.declarations)
    cons = ctx.consignments.filter(pl.col("substance").is_not_null()).with_columns(
        pl.concat_str(["exp_key", "imp_key", "substance"], separator="|").alias("rel")
    )
    ids = s.registry_shipments.select("id", "shipment_id")
    planted = (
        s.answer_key.filter(pl.col("pattern") == "unusual_size")
        .with_columns(pl.col("shipment_ids").str.split(";").list.first().alias("shipment_id"))
        .join(ids, on="shipment_id")
    )
    assert planted.height == 8
    for r in planted.iter_rows(named=True):
        hit = cons.filter(pl.col("pks").list.contains(r["id"]))
        rel, kg = hit["rel"][0], hit["quantity_kg"][0]
        usual = cons.filter(pl.col("rel") == rel, ~pl.col("pks").list.contains(r["id"]))[
            "quantity_kg"
        ].median()
        assert isinstance(usual, float)
        assert kg / usual >= 3.5, (r["description"], kg, usual)
