"""Every planted case says in words what its records show: the numbers of each answer-key
description are checked against the registry frame, one checker per pattern."""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl
import pytest

from sample_data.catalogue import ANALOGUES, BENIGN, LISTED
from sample_data.generate import PATTERNS, Sample, generate


@pytest.fixture(scope="module")
def sample() -> Sample:
    return generate(23, 20_000)


def _kg(text: str, before: str) -> float:
    """The number written just before `before` ("1,250 kg", "3 consignments")."""
    m = re.search(r"([\d,]+(?:\.\d+)?) " + re.escape(before), text)
    assert m, (before, text)
    return float(m.group(1).replace(",", ""))


def _records(s: Sample, row: dict) -> pl.DataFrame:
    ids = row["shipment_ids"].split(";")
    return s.registry_shipments.filter(pl.col("shipment_id").is_in(ids))


def _first(rec: pl.DataFrame) -> pl.DataFrame:
    """One record per consignment: the exporting authority's own record."""
    return rec.filter(pl.col("flow") == "X", pl.col("source").str.ends_with("customs"))


def _approx(a: float, b: float, rel: float = 0.01) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def unusual_size(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    assert x.height == 1
    assert _approx(x["quantity_kg"][0], _kg(row["description"], "kg of"))
    assert _kg(row["description"], "times the") >= 4


def frequency_burst(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    assert x.height == _kg(row["description"], "consignments of")
    span = (x["date"].max() - x["date"].min()).days  # type: ignore[operator]
    assert span <= _kg(row["description"], "days,")


def series_splitting(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    assert x.height == _kg(row["description"], "consignments of")
    span = (x["date"].max() - x["date"].min()).days  # type: ignore[operator]
    assert span < _kg(row["description"], "day(s),")
    assert x["quantity_kg"].max() <= _kg(row["description"], "kg against") * 1.01
    assert _kg(row["description"], "kg against") < _kg(row["description"], "kg, together")
    assert _approx(x["quantity_kg"].sum(), _kg(row["description"], "kg ="))


def mirror_quantity_gap(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x, m = _first(rec), rec.filter(pl.col("flow") == "M")
    assert x.height == 1 and m.height == 1
    assert x["consignment_ref"][0] is not None
    assert x["consignment_ref"][0] == m["consignment_ref"][0]
    ratio = m["quantity_kg"][0] / x["quantity_kg"][0]
    assert _approx(ratio, _kg(row["description"], "times)"), rel=0.02)
    assert abs(ratio / 2.2046 - 1) > 0.05 and abs(ratio * 2.2046 - 1) > 0.05  # not a unit slip


def export_never_arrived(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    assert set(rec["flow"]) == {"X"}
    reporting = set(s.registry_shipments.filter(pl.col("flow") == "M")["importer_country"])
    assert set(rec["importer_country"]) <= reporting


def diverted_consignment(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x, m = _first(rec), rec.filter(pl.col("flow") == "M")
    assert x.height == 1 and m.height == 1
    assert x["consignment_ref"][0] is not None
    assert x["consignment_ref"][0] == m["consignment_ref"][0]
    other_country = x["importer_country"][0] != m["importer_country"][0]
    other_entity = x["importer_facility_id"][0] != m["importer_facility_id"][0] or (
        x["importer_facility_id"][0] is None and x["importer_norm"][0] != m["importer_norm"][0]
    )
    assert other_country or other_entity


def declared_quantity_exceeded(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    year = int(re.search(r"for (\d{4})", row["description"]).group(1))  # type: ignore[union-attr]
    d = s.declarations.filter(
        pl.col("facility_id") == row["facility_id"],
        pl.col("substance_cas") == row["substance_cas"],
        pl.col("declaration_year") == year,
    )
    assert d.height == 1
    declared = d["declared_annual_kg"][0]
    assert _approx(declared, _kg(row["description"], "kg of"))
    moved = _first(rec)["quantity_kg"].sum()
    assert _approx(
        moved,
        _kg(row["description"], "kg by") if year == 2025 else _kg(row["description"], "kg in"),
    )
    assert moved / declared >= (0.95 if year == 2025 else 1.12)


def undeclared_party(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    assert (x["exporter_facility_id"].is_null() | x["importer_facility_id"].is_null()).all()
    if "trading as" in row["description"]:  # the alias sits at the facility's address
        fac = s.facilities.filter(pl.col("facility_id") == row["facility_id"])["address"][0]
        for written in x["exporter_address"].drop_nulls():
            assert set(re.findall(r"\d+", written)) <= set(re.findall(r"\d+", fac))


def end_user_reexport(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    assert set(x["exporter_facility_id"]) == {row["facility_id"]}
    declared = s.declarations.filter(pl.col("facility_id") == row["facility_id"])
    assert set(declared["activity"]) == {"consumption"}
    assert row["substance_cas"] in set(declared["substance_cas"])
    assert _approx(x["quantity_kg"].sum(), _kg(row["description"], "kg, to"))


def shared_address_network(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec)
    n = _kg(row["description"], "undeclared consignees")
    assert x["importer_facility_id"].null_count() == x.height
    assert x["importer_norm"].n_unique() >= n  # several names (and their spellings)
    assert x["importer_country"].n_unique() == 1
    assert _approx(x["quantity_kg"].sum(), _kg(row["description"], "kg in"))
    assert x.height == _kg(row["description"], "consignments of")


def masked_name(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    text = re.search(r"as '(.+?)'", row["description"]).group(1)  # type: ignore[union-attr]
    assert set(rec["product"]) == {text}
    listed = next(x for x in LISTED if x.cas == row["substance_cas"])
    assert not any(name.lower() in text.lower() for name in (*listed.plain, listed.key))


def designer_analogue(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    names = {n for a in ANALOGUES for n in (a.name, *a.synonyms)}
    assert set(rec["product"]) <= names
    assert _approx(_first(rec)["quantity_kg"].sum(), _kg(row["description"], "kg"))


def value_mismatch(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    x = _first(rec).filter(pl.col("value_usd").is_not_null())
    stated = _kg(row["description"], "USD/kg,")
    for per_kg in (x["value_usd"] / x["quantity_kg"]).to_list():
        assert _approx(per_kg, stated, 0.02)
    if "declared as itself" not in row["description"]:
        cover = re.search(r"declared as (.+?) at", row["description"]).group(1)  # type: ignore[union-attr]
        chinese = next(b.chinese for b in BENIGN if b.name == cover)
        assert all(cover.lower() in p.lower() or p == chinese for p in rec["product"])


def hs_mismatch(s: Sample, row: dict, rec: pl.DataFrame) -> None:
    hs = re.search(r"under HS '([^']+)'", row["description"]).group(1)  # type: ignore[union-attr]
    assert set(rec["hs_code"]) == {hs}


CHECKS: dict[str, Callable[[Sample, dict, pl.DataFrame], None]] = {
    f.__name__: f
    for f in (
        unusual_size, frequency_burst, series_splitting, mirror_quantity_gap,
        export_never_arrived, diverted_consignment, declared_quantity_exceeded,
        undeclared_party, end_user_reexport, shared_address_network, masked_name,
        designer_analogue, value_mismatch, hs_mismatch,
    )
}  # fmt: skip


def test_every_pattern_has_a_checker() -> None:
    assert set(CHECKS) == set(PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_descriptions_match_the_records(sample: Sample, pattern: str) -> None:
    cases = sample.answer_key.filter(pl.col("pattern") == pattern)
    assert cases.height == 8
    assert sorted(cases["strength"]) == ["blatant"] * 2 + ["moderate"] * 4 + ["subtle"] * 2
    for row in cases.iter_rows(named=True):
        rec = _records(sample, row)
        assert rec.height == len(row["shipment_ids"].split(";"))
        CHECKS[pattern](sample, row, rec)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "n"), [(2, 20_000), (7, 20_000), (16, 60_000)])
def test_descriptions_hold_on_other_seeds(seed: int, n: int) -> None:
    s = generate(seed, n)
    counts = dict(s.answer_key.group_by("pattern").len().iter_rows())
    assert counts == dict.fromkeys(PATTERNS, round(n * 8 / 20_000))
    for row in s.answer_key.iter_rows(named=True):
        CHECKS[row["pattern"]](s, row, _records(s, row))
