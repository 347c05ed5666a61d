"""The seeded sample generator: deterministic, canonical columns, every pattern labelled."""

from __future__ import annotations

import polars as pl
import pytest

from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from detection.screening.watchlist import cas_check_digit_ok
from sample_data.generate import _BENIGN, _LISTED, PATTERNS, generate, write_sample

SHIPMENT_COLUMNS = [
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "cas", "hs_code", "flow", "consignment_ref", "transit_countries",
]  # fmt: skip
FACILITY_COLUMNS = [
    "facility_id", "name", "country", "activity", "substance", "cas", "declared_annual_kg",
    "declaration_year", "address", "lat", "lon",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample():
    return generate(11, 3000)


def test_same_seed_same_sample(sample):
    again = generate(11, 3000)
    assert again.shipments.equals(sample.shipments)
    assert again.answer_key.equals(sample.answer_key)
    assert again.facilities.equals(sample.facilities)
    assert again.registry_shipments.equals(sample.registry_shipments)


def test_columns_and_contracts(sample, tmp_path):
    assert sample.shipments.columns == SHIPMENT_COLUMNS
    assert sample.facilities.columns == FACILITY_COLUMNS
    assert sample.registry_shipments.schema == pl.Schema(SHIPMENT_SCHEMA)
    assert sample.declarations.schema == pl.Schema(DECLARATION_SCHEMA)
    write_sample(sample, tmp_path)
    back = pl.read_csv(tmp_path / "shipments.csv", infer_schema=False)
    assert back.height == sample.shipments.height
    assert sample.shipments["shipment_id"].is_unique().all()


def test_every_pattern_is_injected_and_points_at_real_records(sample):
    assert set(sample.answer_key["pattern"]) == set(PATTERNS)
    ids = set(sample.shipments["shipment_id"])
    for row in sample.answer_key.iter_rows(named=True):
        assert set(row["shipment_ids"].split(";")) <= ids


def test_feed_is_messy_like_real_feeds(sample):
    s = sample.shipments
    assert {"X", "M"} <= set(s["flow"])
    assert {"kg", "lb", "KGS"} <= set(s["unit"])
    assert s["exporter_country"].n_unique() > 20  # names, alpha-2, alpha-3, variants
    # Some importing countries never report: no M records from them.
    reg = sample.registry_shipments
    m_countries = set(reg.filter(pl.col("flow") == "M")["importer_country"])
    assert {"GTM", "NGA"}.isdisjoint(m_countries)


def test_cas_numbers_are_well_formed():
    for s in _LISTED:
        assert cas_check_digit_ok(str(s["cas"]))
    for _name, cas, _hs, _size in _BENIGN:
        assert cas == "" or cas_check_digit_ok(cas)


def test_too_small_is_refused():
    with pytest.raises(ValueError):
        generate(1, 10)
