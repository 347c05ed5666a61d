"""shipment_burst judges a run of shipments against the relation's cadence outside the run."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.detection.test_detectors import D0, ship
from tests.detection.test_detectors import run as run_detector

AS_OF = D0 + dt.timedelta(days=1100)


def _every(days: int, start: int, stop: int, first_id: int) -> list[dict[str, Any]]:
    """100 kg every `days` days from `start` up to `stop` (exclusive)."""
    return [ship(first_id + k, d, 100.0) for k, d in enumerate(range(start, stop, days))]


def _bursts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    alerts = run_detector("shipment_burst", rows, as_of=AS_OF)
    return [json.loads(e) for e in alerts["evidence"]]


# A relation shipping every 100 days for three years (11 shipments), and 16 more within
# six months (one every 12 days from day 505): every 84-day stretch of the burst holds 7 or
# 8 shipments, and the burst's other shipments would make that look ordinary if they
# counted towards the relation's normal rate.
REGULAR = _every(100, 0, 1100, 1)
LONG_BURST = _every(12, 505, 697, 100)


def test_a_long_burst_is_judged_against_the_time_outside_it() -> None:
    found = _bursts([*REGULAR, *LONG_BURST])
    assert len(found) == 1
    ev = found[0]
    n = ev["numbers"]
    assert {r["id"] for r in LONG_BURST} <= set(ev["records"])
    # The baseline is the relation's shipments outside the burst, every one of them.
    assert n["baseline_shipments"] + n["count"] == n["history"] == 27
    assert n["count"] >= 16 and n["window_days"] >= 180
    assert 80 <= n["cadence_days"] <= 120
    assert n["expected_in_window"] <= 2.5 and n["p"] <= 3e-4


def test_the_same_shipments_spread_evenly_are_not_a_burst() -> None:
    assert _bursts(_every(40, 0, 1100, 1)) == []  # 28 shipments, one every 40 days


def test_a_relation_that_stopped_trading_is_not_a_burst() -> None:
    # 20 shipments, one every 15 days, then nothing for two years: its rate is that of its
    # active life, not 20 shipments spread over three years.
    assert _bursts(_every(15, 0, 300, 1)) == []


def test_the_sentence_gives_the_numbers_of_the_evidence() -> None:
    alerts = run_detector("shipment_burst", [*REGULAR, *LONG_BURST], as_of=AS_OF)
    n = json.loads(alerts["evidence"][0])["numbers"]
    summary = alerts["summary"][0]
    for part in (
        f"sent {n['count']} shipments",
        f"between {n['first_date']} and {n['last_date']}",
        f"shipped {n['baseline_shipments']} times in {n['baseline_days']} days",
        f"one every {round(n['cadence_days'])} days",
        f"{round(n['expected_in_window'], 1)} were expected in {n['window_days']} days",
        "(chance of so many: about 1 in ",
    ):
        assert part in summary, (part, summary)
