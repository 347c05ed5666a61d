"""The seeded sample generator: deterministic, canonical columns, every pattern planted on
real records, and independent of the detectors it grades."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from sample_data.generate import PATTERNS, NoiseConfig, generate, write_sample

SHIPMENT_COLUMNS = [
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "cas", "hs_code", "flow", "consignment_ref",
    "transit_countries", "value", "currency", "exporter_address", "importer_address", "source",
]  # fmt: skip
FACILITY_COLUMNS = [
    "facility_id", "name", "country", "activity", "substance", "cas", "declared_annual_kg",
    "declaration_year", "address", "lat", "lon", "declared_on",
]  # fmt: skip
KEY_COLUMNS = [
    "anomaly_id", "pattern", "shipment_ids", "facility_id", "substance_cas", "description",
    "strength",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return generate(11, 6000)


def test_same_seed_same_sample(sample) -> None:  # type: ignore[no-untyped-def]
    again = generate(11, 6000)
    for name in (
        "shipments",
        "answer_key",
        "facilities",
        "registry_shipments",
        "declarations",
        "noise",
    ):
        assert getattr(again, name).equals(getattr(sample, name)), name
    other = generate(12, 6000)
    assert not other.shipments.equals(sample.shipments)


def test_columns_and_contracts(sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert sample.shipments.columns == SHIPMENT_COLUMNS
    assert sample.facilities.columns == FACILITY_COLUMNS
    assert sample.answer_key.columns == KEY_COLUMNS
    assert sample.registry_shipments.schema == pl.Schema(SHIPMENT_SCHEMA)
    assert sample.declarations.schema == pl.Schema(DECLARATION_SCHEMA)
    assert sample.shipments["shipment_id"].is_unique().all()
    assert sample.registry_shipments["shipment_id"].equals(sample.shipments["shipment_id"])
    paths = write_sample(sample, tmp_path)
    assert [p.name for p in paths] == ["facilities.csv", "shipments.csv", "answer_key.csv"]
    back = pl.read_csv(paths[1], infer_schema=False)
    assert back.columns == SHIPMENT_COLUMNS
    assert back.height == sample.shipments.height


@pytest.mark.parametrize("n", [1000, 20_000])
def test_size_is_about_what_was_asked(n: int) -> None:
    s = generate(3, n)
    assert 0.85 * n <= s.shipments.height <= 1.15 * n


def test_registry_frame_is_the_feed_read_canonically(sample) -> None:  # type: ignore[no-untyped-def]
    reg = sample.registry_shipments
    countries = set(reg["exporter_country"]) | set(reg["importer_country"])
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in countries)
    assert set(reg["flow"]) == {"X", "M"}
    assert reg["quantity_kg"].min() > 0
    # value_usd is the value at the month's rate: dollars stay dollars.
    usd = reg.filter(pl.col("currency") == "USD")
    assert (usd["value"] - usd["value_usd"]).abs().max() < 1e-6
    other = reg.filter(pl.col("currency").is_in(["EUR", "INR", "CNY"]))
    assert other.height > 0 and (other["value"] != other["value_usd"]).all()
    assert reg["exporter_norm"].null_count() == 0
    assert reg["exporter_address"].null_count() < reg.height * 0.3


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_pattern_is_planted_on_real_records(sample, pattern: str) -> None:  # type: ignore[no-untyped-def]
    key = sample.answer_key.filter(pl.col("pattern") == pattern)
    assert key.height >= 2
    ids = set(sample.shipments["shipment_id"])
    for row in key.iter_rows(named=True):
        records = row["shipment_ids"].split(";")
        assert records and set(records) <= ids
        assert re.search(r"\d", row["description"]), row["description"]
    assert set(key["strength"]) <= {"blatant", "moderate", "subtle"}


def test_cases_do_not_share_records(sample) -> None:  # type: ignore[no-untyped-def]
    ids = sample.answer_key["shipment_ids"].str.split(";").explode()
    assert ids.is_unique().all()


def test_nothing_planted_in_the_no_anomaly_mode() -> None:
    s = generate(5, 3000, plant=())
    assert s.answer_key.height == 0
    assert s.shipments.height > 2500
    assert set(s.noise["kind"]) >= {"missing_import", "double_reported", "pounds_as_kg"}


def test_clean_background_has_no_noise() -> None:
    s = generate(5, 3000, noise=NoiseConfig.none(), plant=())
    assert s.noise.height == 0
    assert set(s.shipments["exporter_country"]) <= set(s.registry_shipments["exporter_country"])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 200"):
        generate(1, 10)
    with pytest.raises(ValueError, match="unknown pattern"):
        generate(1, 1000, plant=["teleportation"])


def test_the_generator_does_not_import_detection() -> None:
    """The generator grades the detectors, so it must not know them."""
    package = Path(__file__).parents[2] / "sample_data"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+detection\b", text, re.M), path
        assert "detection." not in text, path
