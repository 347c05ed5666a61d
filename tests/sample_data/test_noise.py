"""Every kind of background noise is present at its rate, shows in the records the way the
noise log says, and goes away with its knob."""

from __future__ import annotations

import dataclasses
import re

import polars as pl
import pytest

from sample_data.catalogue import BENIGN, LISTED, SLOPPY_HS, VAGUE, VAGUE_ZH
from sample_data.generate import NoiseConfig, Sample, generate
from sample_data.noise import NOISE_KINDS

_KG = ["kg", "KGS", "Kilogram", "KG"]
_CJK = r"[\u4e00-\u9fff]"


@pytest.fixture(scope="module")
def sample() -> Sample:
    return generate(31, 20_000)


def _logged(s: Sample, kind: str) -> pl.DataFrame:
    ids = s.noise.filter(pl.col("kind") == kind)["shipment_id"]
    return s.registry_shipments.filter(pl.col("shipment_id").is_in(ids.implode()))


def _planted(s: Sample) -> pl.Series:
    return s.answer_key["shipment_ids"].str.split(";").explode()


def _own(s: Sample) -> pl.DataFrame:
    """Each consignment's record by the exporting authority, background only."""
    return s.registry_shipments.filter(
        pl.col("flow") == "X",
        pl.col("source").str.ends_with("customs"),
        ~pl.col("shipment_id").is_in(_planted(s).implode()),
    )


def _mirror(s: Sample, rec: pl.DataFrame) -> pl.DataFrame:
    """Pairs of (this record, the other side's customs record) sharing a consignment ref."""
    other = s.registry_shipments.filter(pl.col("source").str.ends_with("customs"))
    return (
        rec.filter(pl.col("consignment_ref").is_not_null())
        .join(other, on="consignment_ref", suffix="_o")
        .filter(pl.col("flow") != pl.col("flow_o"))
    )


def test_every_kind_is_logged(sample: Sample) -> None:
    assert set(sample.noise["kind"]) == set(NOISE_KINDS)


def test_missing_imports(sample: Sample) -> None:
    reporting = set(sample.registry_shipments.filter(pl.col("flow") == "M")["importer_country"])
    due = _own(sample).filter(
        pl.col("importer_country").is_in(list(reporting)), pl.col("date") < pl.date(2025, 7, 1)
    )
    lost = _logged(sample, "missing_import")
    assert 0.006 <= lost.height / due.height <= 0.014  # knob 0.01
    assert _mirror(sample, lost).height == 0  # no import record carries their reference


def test_pounds_typed_as_kg(sample: Sample) -> None:
    lb = _logged(sample, "pounds_as_kg")
    kg_records = sample.shipments.filter(pl.col("unit").is_in(_KG)).height
    assert 0.0025 <= lb.height / kg_records <= 0.0055  # knob 0.004 of kg-unit records
    feed = sample.shipments.filter(pl.col("shipment_id").is_in(lb["shipment_id"].implode()))
    assert set(feed["unit"]) <= set(_KG)
    pairs = _mirror(sample, lb).filter(~pl.col("shipment_id_o").is_in(lb["shipment_id"].implode()))
    ratio = (pairs["quantity_kg"] / pairs["quantity_kg_o"]).to_list()
    assert ratio and all(abs(r - 2.2046) < 0.05 * 2.2046 for r in ratio)


def test_one_consignment_reported_twice(sample: Sample) -> None:
    twice = _logged(sample, "double_reported")
    seconds = twice.filter(~pl.col("source").str.ends_with("customs"))
    assert seconds.height * 2 == twice.height
    assert 0.01 <= seconds.height / _own(sample).height <= 0.02  # knob 0.015 of consignments
    firsts = twice.filter(pl.col("source").str.ends_with("customs"))
    pairs = seconds.join(firsts, on=["consignment_ref", "flow"], suffix="_1")
    with_ref = seconds.filter(pl.col("consignment_ref").is_not_null()).height
    # The same consignment, another id and source (an import record may drop the reference).
    assert with_ref > 0 and pairs.height >= 0.8 * with_ref
    assert (pairs["shipment_id"] != pairs["shipment_id_1"]).all()
    assert (pairs["source"] != pairs["source_1"]).all()


def test_import_records_dated_in_the_next_year(sample: Sample) -> None:
    late = _logged(sample, "late_import")
    assert set(late["flow"]) == {"M"} and late.height >= 50
    pairs = _mirror(sample, late)
    assert pairs.height > 0
    assert (pairs["date"].dt.year() > pairs["date_o"].dt.year()).all()


def test_sloppy_hs_codes(sample: Sample) -> None:
    sloppy = _logged(sample, "sloppy_hs")
    assert 0.11 <= sloppy.height / sample.registry_shipments.height <= 0.17  # knob 0.15
    exact = re.compile(r"^\d{4}\.\d{2}$")
    for code in sloppy["hs_code"].drop_nulls():
        assert not exact.match(code) or code in SLOPPY_HS, code
        assert code.replace(" ", "").replace(".", "")[:4].isdigit()


def test_names_written_differently(sample: Sample) -> None:
    variant = _logged(sample, "name_variant")
    share = variant.height / sample.registry_shipments.height
    assert 0.4 <= share <= 0.6  # 0.3 per name, two names a record
    # A party's names across records: several spellings, one entity.
    linked = sample.registry_shipments.filter(pl.col("exporter_facility_id").is_not_null())
    spellings = linked.group_by("exporter_facility_id").agg(pl.col("exporter").n_unique())
    assert spellings["exporter"].median() >= 3  # type: ignore[operator]


def test_chinese_text_only_from_chinese_customs(sample: Sample) -> None:
    zh = _logged(sample, "chinese_text")
    cjk = pl.concat_str("product", "exporter", "importer", ignore_nulls=True).str.contains(_CJK)
    assert zh.height >= 100 and zh.filter(~cjk).height == 0
    assert set(zh["source"]) == {"CHN customs"}
    others = _own(sample).filter(~pl.col("shipment_id").is_in(zh["shipment_id"].implode()))
    assert others.filter(cjk).height == 0


def test_country_spellings(sample: Sample) -> None:
    spelt = _logged(sample, "country_spelling")
    feed = sample.shipments.join(
        sample.registry_shipments.select("shipment_id", "exporter_country", "importer_country"),
        on="shipment_id",
        suffix="_alpha3",
    )
    written = feed.filter(
        (pl.col("exporter_country") != pl.col("exporter_country_alpha3"))
        | (pl.col("importer_country") != pl.col("importer_country_alpha3"))
    )
    second = ~pl.col("source").str.ends_with("customs")  # second reports use alpha-2
    assert set(written.filter(~second)["shipment_id"]) == set(spelt["shipment_id"])
    assert 0.55 <= spelt.height / sample.shipments.height <= 0.7  # 0.4 per field, two fields


def test_harmlessly_vague_benign_products(sample: Sample) -> None:
    vague = _logged(sample, "vague_benign")
    assert vague.height >= 20 and set(vague["product"]) <= set(VAGUE + VAGUE_ZH)
    assert {c[:4] for c in vague["hs_code"].drop_nulls()} == {"2933"}
    assert "2933.36" not in set(vague["hs_code"]) and "2933.37" not in set(vague["hs_code"])


def test_re_exports_by_traders_and_processors(sample: Sample) -> None:
    re_exports = _logged(sample, "trader_reexport")
    assert re_exports.height >= 200
    activity = dict(sample.declarations.select("facility_id", "activity").unique().iter_rows())
    assert {activity[f] for f in re_exports["exporter_facility_id"]} == {"trade", "processing"}


def test_shared_head_offices(sample: Sample) -> None:
    groups = sample.noise.filter(pl.col("kind") == "head_office")["facility_id"]
    fac = sample.facilities.select("facility_id", "address").unique()
    shared = fac.filter(pl.col("address").is_duplicated())["facility_id"]
    assert groups.len() >= 4 and set(groups) == set(shared)


def test_declarations_revised_mid_year(sample: Sample) -> None:
    revised = sample.noise.filter(pl.col("kind") == "declaration_revision")
    assert 0.03 <= revised.height / sample.declarations.height <= 0.09  # knob 0.06
    key = ["facility_id", "substance", "activity", "declaration_year"]
    twice = sample.facilities.filter(pl.len().over(key) == 2).sort([*key, "declared_on"])
    assert twice.height == 2 * revised.height
    in_force = twice.group_by(key, maintain_order=True).last()
    # The row below (filed later) is the one in force.
    assert (
        in_force.join(
            sample.declarations.rename({"substance_cas": "cas"}),
            on=["facility_id", "cas", "declaration_year", "declared_annual_kg"],
        ).height
        == in_force.height
    )


def test_wide_price_spreads(sample: Sample) -> None:
    flat = generate(31, 3000, noise=dataclasses.replace(NoiseConfig.none(), price_spread=0.0))
    for s, low, high in ((sample, 2.0, None), (flat, None, 1.1)):
        x = _own(s).filter(pl.col("value_usd").is_not_null(), pl.col("cas") == BENIGN[0].cas)
        per_kg = x["value_usd"] / x["quantity_kg"]
        spread = per_kg.max() / per_kg.min()  # type: ignore[operator]
        assert (low is None or spread >= low) and (high is None or spread <= high)


_KNOB_KIND = {
    "missing_imports": "missing_import", "pounds_as_kg": "pounds_as_kg",
    "double_reported": "double_reported", "declaration_revisions": "declaration_revision",
    "late_imports": "late_import", "sloppy_hs": "sloppy_hs", "head_offices": "head_office",
    "trader_reexports": "trader_reexport", "name_variants": "name_variant",
    "chinese_text": "chinese_text", "country_spellings": "country_spelling",
    "vague_benign": "vague_benign",
}  # fmt: skip


def test_every_knob_but_price_spread_has_a_logged_kind() -> None:
    knobs = {f.name for f in dataclasses.fields(NoiseConfig)}
    assert set(_KNOB_KIND) == knobs - {"price_spread"}
    assert set(_KNOB_KIND.values()) == set(NOISE_KINDS)
    assert all(NoiseConfig.describe().values())


@pytest.mark.parametrize("knob", sorted(_KNOB_KIND))
def test_a_knob_at_zero_removes_its_noise(knob: str) -> None:
    s = generate(8, 3000, noise=dataclasses.replace(NoiseConfig(), **{knob: 0.0}))
    kinds = set(s.noise["kind"])
    assert _KNOB_KIND[knob] not in kinds
    assert kinds >= set(NOISE_KINDS) - {_KNOB_KIND[knob]} - {"pounds_as_kg"}


def test_listed_precursors_are_in_the_clean_background_too() -> None:
    s = generate(8, 3000, noise=NoiseConfig.none(), plant=())
    cas = {x.cas for x in LISTED}
    assert s.registry_shipments.filter(pl.col("cas").is_in(list(cas))).height > 500
