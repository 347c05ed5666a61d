"""The evidence catalogue describes every registered detector, every number its evidence
carries and every threshold, and formats values for reading."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest

from detection.catalogue import (
    CATALOGUE,
    OUTLIER,
    Entry,
    detector_label,
    explain_evidence,
    flow_word,
    format_value,
)
from detection.config import OutlierConfig
from detection.detectors import DETECTORS


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_every_registered_detector_and_threshold_is_described(detector) -> None:  # type: ignore[no-untyped-def]
    words = CATALOGUE.get(detector.name)
    assert words is not None, f"describe {detector.name} in detection/catalogue.py"
    assert words.label and words.meaning and "_" not in words.label
    fields = {f.name for f in dataclasses.fields(detector.config)}
    assert fields - set(words.thresholds) == set(), "thresholds without words"
    assert set(words.thresholds) - fields == set(), "words for thresholds that do not exist"


def test_outlier_signal_is_described() -> None:
    assert {f.name for f in dataclasses.fields(OutlierConfig())} <= set(OUTLIER.thresholds)


@pytest.fixture(scope="module")
def sample_alerts() -> pl.DataFrame:
    """Every detector run over a seeded sample that plants every pattern."""
    from detection.run import detect
    from sample_data.generate import generate

    sample = generate(7, 3000)
    return detect(sample.registry_shipments, sample.declarations)


def test_every_number_in_the_evidence_is_described(sample_alerts: pl.DataFrame) -> None:
    fired = set(sample_alerts["detector"].unique().to_list())
    # The sample plants every pattern: a detector that stops firing here must be looked at.
    assert fired == {d.name for d in DETECTORS} - _silent_on_sample(), fired
    missing: dict[str, set[str]] = {}
    for detector, raw in sample_alerts.select("detector", "evidence").iter_rows():
        evidence = json.loads(raw)
        for key in evidence.get("numbers", {}):
            if key not in CATALOGUE[detector].numbers:
                missing.setdefault(detector, set()).add(key)
        for key in evidence.get("outlier", {}):
            if key not in OUTLIER.numbers:
                missing.setdefault("outlier", set()).add(key)
    assert missing == {}


def _silent_on_sample() -> set[str]:
    """Detectors registered after the sample generator learnt their patterns (none today)."""
    return set()


def test_explained_evidence_reads_as_words(sample_alerts: pl.DataFrame) -> None:
    for detector, raw in sample_alerts.select("detector", "evidence").iter_rows():
        parts = explain_evidence(detector, json.loads(raw), {"21409-26-7": "ANPP"})
        for line in [*parts["numbers"], *parts["thresholds"], *parts["outlier"]]:
            assert "_" not in line.label, line
            assert line.value not in ("None", "nan") and line.value.strip(), line


KG, SHARE, P = Entry("q", "kg"), Entry("s", "share"), Entry("p", "probability")


@pytest.mark.parametrize(
    ("entry", "value", "shown"),
    [
        (KG, 2269.0, "2,269 kg"),
        (KG, 16.6851, "16.7 kg"),
        (KG, None, ""),
        (KG, float("nan"), ""),
        (SHARE, 0.4003, "40%"),
        (SHARE, 1.62, "162%"),
        (SHARE, 0.004, "0.4%"),
        (P, 7.6e-11, "about 1 in 13 billion"),
        (P, 0.0004, "about 1 in 2.5 thousand"),
        (P, 2.72e-12, "about 1 in 370 billion"),
        (P, 0.0055, "about 1 in 180"),
        (P, 0.2, "20%"),
        (Entry("t", "times"), 3.24, "3.2 times"),
        (Entry("d", "days"), 12.4, "12 days"),
        (Entry("y", "year"), 2024, "2024"),
        (Entry("c", "count"), 12345, "12,345"),
        (Entry("r", "rank"), 0.924, "more unusual than 92% of trade relations"),
        (Entry("pt", "points"), 6.8, "+6.8 points"),
        (Entry("when", "date"), "2024-05-20", "2024-05-20"),
        (Entry("role", "text", words={"exporter": "as exporter"}), "exporter", "as exporter"),
        (Entry("names", "list"), ["a", "b"], "a, b"),
        (Entry("s", "substances"), ["21409-26-7"], "ANPP"),
    ],
)
def test_values_are_formatted_for_reading(entry: Entry, value: object, shown: str) -> None:
    assert format_value(entry, value, {"21409-26-7": "ANPP"}) == shown


def test_plain_names() -> None:
    assert detector_label("export_never_arrived") == "Export never arrived"
    assert detector_label("a_future_detector") == "A future detector"
    assert (flow_word("X"), flow_word("m"), flow_word(None)) == (
        "export record",
        "import record",
        "record (side not given)",
    )
