"""The five detectors of today's diversion methods, and what must NOT alert (tiny factory frames)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from tests.detection.test_detectors import decl, decls, run, ship

NPP = "39742-60-4"
ADDR = "Room 1203, Building 5, No. 88 Zhongshan Road, Pudong District, Shanghai"


def priced(i: int, day: int, kg: float, usd_per_kg: float, **kw: Any) -> dict[str, Any]:
    return ship(i, day, kg, value=kg * usd_per_kg, currency="USD", value_usd=kg * usd_per_kg, **kw)


def acetone(i: int, day: int, usd_per_kg: float, **kw: Any) -> dict[str, Any]:
    kw = {"product": "Acetone", "cas": None, "hs_code": "2914.11", **kw}
    return priced(i, day, 100.0, usd_per_kg, **kw)


def _listed_market(n: int = 20, first: int = 1) -> list[dict[str, Any]]:
    """4-AP at 180-220 USD/kg."""
    return [priced(first + k, 5 * k, 20.0, 180.0 + 2 * (k % 20)) for k in range(n)]


def _acetone_market(n: int = 30, first: int = 100, spread: float = 0.1) -> list[dict[str, Any]]:
    """Acetone at about 1 USD/kg; `spread` is the relative step between price levels."""
    return [acetone(first + k, 3 * k, 1.0 * (1 + spread) ** (k % 7 - 3)) for k in range(n)]


def _consignee(i: int, name: str, kg: float, day: int, **kw: Any) -> dict[str, Any]:
    return ship(
        i, day, kg, importer=name, importer_norm=None, importer_facility_id=None,
        importer_country="MEX", **{"importer_address": ADDR, **kw},
    )  # fmt: skip


def _typical_consignees() -> list[dict[str, Any]]:
    """Three declared consignees taking 100 kg each of 4-AP (a typical consignee: 100 kg)."""
    return [
        ship(500 + 10 * c + k, 20 * k + c, 25.0, importer=f"Declared {c}", importer_facility_id=f"F{c + 3}")
        for c in range(3)
        for k in range(4)
    ]  # fmt: skip


Case = tuple[str, Callable[[], list[dict[str, Any]]], Callable[[], pl.DataFrame] | None, bool]

CASES: dict[str, Case] = {
    # ---- end_user_reexport
    "declared consumer exports the substance": (
        "end_user_reexport",
        lambda: [ship(1, 5, 40.0)],
        lambda: decls({**decl("F1"), "activity": "consumption"}, decl("F2")),
        True,
    ),
    "declared trader re-exports": (
        "end_user_reexport",
        lambda: [ship(1, 5, 40.0)],
        lambda: decls({**decl("F1"), "activity": "trade"}, decl("F2")),
        False,
    ),
    "consumer that also processes the substance": (
        "end_user_reexport",
        lambda: [ship(1, 5, 40.0)],
        lambda: decls(
            {**decl("F1"), "activity": "consumption"},
            {**decl("F1"), "activity": "processing"},
            decl("F2"),
        ),
        False,
    ),
    # ---- value_mismatch
    "benign description priced like a listed precursor": (
        "value_mismatch",
        lambda: [*_listed_market(), *_acetone_market(), acetone(999, 50, 250.0)],
        None,
        True,
    ),
    "listed precursor declared at a twentieth of its price": (
        "value_mismatch",
        lambda: [*_listed_market(), priced(999, 50, 20.0, 10.0)],
        None,
        True,
    ),
    "acetone at twice its usual price": (
        "value_mismatch",
        lambda: [*_listed_market(), *_acetone_market(), acetone(999, 50, 2.0)],
        None,
        False,
    ),
    "a product whose prices spread wide": (
        "value_mismatch",
        lambda: [*_listed_market(), *_acetone_market(spread=1.5), acetone(999, 50, 40.0)],
        None,
        False,
    ),
    "expensive acetone still cheaper than any listed precursor": (
        "value_mismatch",
        lambda: [*_listed_market(), *_acetone_market(), acetone(999, 50, 60.0)],
        None,
        False,
    ),
    # ---- hs_mismatch
    "listed substance under an unrelated heading": (
        "hs_mismatch",
        lambda: [ship(1, 5, 20.0, hs_code="3824.99")],
        None,
        True,
    ),
    "listed substance under a sloppy but related code": (
        "hs_mismatch",
        lambda: [ship(1, 5, 20.0, hs_code="2933.99"), ship(2, 9, 20.0, hs_code="2933")],
        None,
        False,
    ),
    "uninformative description under NPP's own subheading": (
        "hs_mismatch",
        lambda: [ship(1, 5, 20.0, product="Pharmaceutical intermediate", cas=None, hs_code="2933.37")],
        None,
        True,
    ),
    "NPP named under its own subheading": (
        "hs_mismatch",
        lambda: [ship(1, 5, 20.0, product="NPP", cas=None, hs_code="2933.37")],
        None,
        False,
    ),
    "a chapter-only code is not judged": (
        "hs_mismatch",
        lambda: [ship(1, 5, 20.0, hs_code="29")],
        None,
        False,
    ),
    # ---- shared_address_network
    "four front companies at one address": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 20.0, 30 + k) for k, n in enumerate(
                ["Orion Import SA de CV", "Vega Quimica SA", "Lyra Comercial SA", "Deneb Trading SA",
                 "Orion Import SA de CV", "Vega Quimica SA", "Lyra Comercial SA", "Deneb Trading SA"]
            )],
        ],
        None,
        True,
    ),
    "four front companies, their one address written four ways": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 20.0, 30 + k, importer_address=a) for k, (n, a) in enumerate(zip(
                ["Orion Import SA de CV", "Vega Quimica SA", "Lyra Comercial SA", "Deneb Trading SA"] * 2,
                ["Avenida Cedro 265, Oficina 1513, Colonia Centro, C.P. 75116, Toluca",
                 "Av. Cedro 265 Of. 1513, Col. Centro, CP 75116",
                 "AV CEDRO 265 OF 1513 COL CENTRO C.P. 75116 TOLUCA",
                 "Av Cedro No. 265, Ofic. 1513, Centro, 75116 Toluca"] * 2, strict=True,
            ))],
        ],
        None,
        True,
    ),
    "four consignees at four numbers of one street": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 20.0, 30 + k, importer_address=f"Av. Cedro {265 + 2 * (k % 4)}, Col. Centro, CP 75116") for k, n in enumerate(
                ["Orion Import SA de CV", "Vega Quimica SA", "Lyra Comercial SA", "Deneb Trading SA"] * 2
            )],
        ],
        None,
        False,
    ),
    "two group companies at one head office": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 20.0, 30 + k) for k, n in enumerate(
                ["Orion Import SA de CV", "Orion Logistica SA", "Orion Import SA de CV", "Orion Logistica SA"] * 2
            )],
        ],
        None,
        False,
    ),
    "one consignee under four spellings": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 20.0, 30 + k) for k, n in enumerate(
                ["Orion Import SA de CV", "ORION IMPORT S.A. DE C.V.", "Orion Import", "Orion Imports SA"] * 2
            )],
        ],
        None,
        False,
    ),
    "several consignees at one address, large consignments": (
        "shared_address_network",
        lambda: [
            *_typical_consignees(),
            *[_consignee(10 + k, n, 300.0, 30 + k) for k, n in enumerate(
                ["Orion Import SA", "Vega Quimica SA", "Lyra Comercial SA", "Deneb Trading SA"]
            )],
        ],
        None,
        False,
    ),
    # ---- diverted_consignment
    "import record names another consignee": (
        "diverted_consignment",
        lambda: [
            ship(1, 5, 100.0, consignment_ref="R1"),
            ship(2, 12, 100.0, flow="M", consignment_ref="R1", importer="Gamma Trading SA",
                 importer_norm=None, importer_facility_id=None),
        ],
        None,
        True,
    ),
    "import record in another country": (
        "diverted_consignment",
        lambda: [
            ship(1, 5, 100.0, consignment_ref="R1"),
            ship(2, 12, 100.0, flow="M", consignment_ref="R1", importer_country="GTM"),
        ],
        None,
        True,
    ),
    "import record spells the consignee another way": (
        "diverted_consignment",
        lambda: [
            ship(1, 5, 100.0, consignment_ref="R1", importer_facility_id=None, importer_norm=None),
            ship(2, 12, 100.0, flow="M", consignment_ref="R1", importer="BETA PHARMA INCORPORATED",
                 importer_norm=None, importer_facility_id=None),
        ],
        None,
        False,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_new_detector_table(case: str) -> None:
    name, rows, declarations, fires = CASES[case]
    alerts = run(name, rows(), declarations() if declarations else None)
    assert (alerts.height > 0) == fires, alerts.select("detector", "summary").to_dicts()
    for a in alerts.iter_rows(named=True):
        assert a["detector"] == name
        assert 0 <= a["score"] <= 100 and a["severity"] in ("low", "medium", "high", "critical")
        ev = json.loads(a["evidence"])
        assert ev["thresholds"] and ev["numbers"] is not None and ev["records"]
        assert any(ch.isdigit() for ch in a["summary"])


def test_shared_address_summary_names_the_consignees_and_the_numbers() -> None:
    rows = CASES["four front companies at one address"][1]()
    a = run("shared_address_network", rows)
    assert a.height == 1
    s = a["summary"][0]
    assert "4 differently named consignees" in s and "Zhongshan" in s and "160 kg together" in s


def test_value_mismatch_says_priced_like_a_listed_precursor() -> None:
    a = run("value_mismatch", CASES["benign description priced like a listed precursor"][1]())
    assert "priced like a listed precursor" in a["summary"][0]
    assert "250.0 USD/kg" in a["summary"][0]


def _with_notes(
    name: str, rows: list[dict[str, Any]], **overrides: Any
) -> tuple[pl.DataFrame, pl.DataFrame]:
    from detection.detectors import DETECTORS
    from detection.prepare import prepare
    from detection.run import run_detectors
    from tests.detection.test_detectors import fake_screener, frame

    ctx = prepare(frame(rows), decls(), screener=fake_screener)
    notes: list[pl.DataFrame] = []
    det = tuple(d for d in DETECTORS if d.name == name)
    alerts = run_detectors(ctx, {name: overrides}, detectors=det, notes=notes)
    return alerts, pl.concat(notes)


def _relation_missing(*lost: int) -> list[dict[str, Any]]:
    """60 consignments of one relation, every 10 days, among 300 of another exporter to the
    same country that all arrive (so the country's miss rate is its own, not this relation's);
    the import records of `lost` never come."""
    from tests.detection.test_detectors import ACETONE, _mirrored

    rows = [r for r in _mirrored(60) if not (r["flow"] == "M" and (r["id"] // 2 - 1) in lost)]
    other = {"exporter": "Gamma Chem Co., Ltd.", "exporter_norm": "GAMMA CHEM",
             "exporter_facility_id": "F3"}  # fmt: skip
    for k in range(300):
        ref = {"consignment_ref": f"G{k}", **other}
        rows += [
            ship(1000 + 2 * k, 2 * k, 10.0, **ref),
            ship(1001 + 2 * k, 2 * k + 5, 10.0, flow="M", **ref),
        ]
    return [*rows, {**ACETONE, "id": 999, "shipment_id": "S999"}]


def test_misses_close_in_time_corroborate_each_other_and_make_one_alert() -> None:
    # Two misses within three consecutive exports of a 60-export relation: at the country's
    # miss rate (2 in 360) about a 0.4% chance anywhere in the relation.
    alerts, notes = _with_notes("export_never_arrived", _relation_missing(30, 32))
    assert alerts.height == 1, alerts["summary"].to_list()
    a = alerts.row(0, named=True)
    assert a["key"].startswith("relation|")
    assert sorted(a["shipment_pks"]) == [61, 65]  # both export records, one alert
    assert "2 consignments" in a["summary"]
    assert "2 of 3 consecutive exports of this relation are missing (of 60)" in a["summary"]
    numbers = json.loads(a["evidence"])["numbers"]
    assert numbers["relation_how"] == "close" and numbers["relation_p"] < 0.01
    assert notes.filter(pl.col("kind") == "not raised").height == 0


def test_the_same_two_misses_years_apart_are_chance_and_stay_counted() -> None:
    # Two misses 45 exports apart: a 7% chance somewhere in 60 exports at that rate, and
    # two of 60 missing anywhere 4.5%: chance, counted in the report, not raised.
    alerts, notes = _with_notes("export_never_arrived", _relation_missing(5, 50))
    assert alerts.height == 0
    assert notes.filter(pl.col("kind") == "not raised")["records"].to_list() == [2]


UNIT_ROWS = [
    ship(1, 5, 100.0, consignment_ref="R1"),
    ship(2, 12, 220.46, flow="M", consignment_ref="R1"),
    ship(3, 40, 100.0, consignment_ref="R2"),
    ship(4, 47, 50.0, flow="M", consignment_ref="R2"),
]


def test_a_mirror_gap_that_is_a_unit_factor_is_counted_not_raised() -> None:
    alerts, notes = _with_notes("mirror_quantity_gap", UNIT_ROWS)
    assert alerts.height == 1 and "unit error" not in alerts["summary"][0]
    note = notes.row(0, named=True)
    assert (note["kind"], note["scope"], note["records"]) == (
        "not raised",
        "mirror_quantity_gap",
        1,
    )
    assert "likely unit errors" in note["reason"] and note["examples"] == ["S1"]


def test_a_unit_error_raised_as_an_alert_has_its_own_words_and_low_severity() -> None:
    alerts, _ = _with_notes("mirror_quantity_gap", UNIT_ROWS, unit_errors_as_alerts=True)
    unit, gap = alerts.sort("key").rows(named=True)
    assert "unit error" in unit["summary"] and "pounds written as kilograms" in unit["summary"]
    assert unit["severity"] == "low"
    assert "unit error" not in gap["summary"] and gap["severity"] != "low"


def test_a_consignment_reported_by_two_sources_counts_once() -> None:
    """The same export in two authorities' feeds: one consignment for the declared quantity."""
    rows = [ship(i, 30 * i, 50.0) for i in range(1, 3)]
    twice = [*rows, *[{**r, "id": r["id"] + 100, "source": "other"} for r in rows]]
    d = decls(decl("F1", kg=150.0, year=2024), decl("F2", kg=1000.0))
    assert run("declared_quantity_exceeded", rows, d).height == 0
    assert run("declared_quantity_exceeded", twice, d).height == 0
    # The same source twice is two consignments (a repeat order), and exceeds 150 kg.
    again = [*rows, *[{**r, "id": r["id"] + 100, "date": r["date"]} for r in rows]]
    assert run("declared_quantity_exceeded", again, d).height == 1


def test_lone_missing_import_is_low_and_corroboration_raises_it() -> None:
    from tests.detection.test_detectors import ACETONE, _mirrored

    def never(row: dict[str, Any], **overrides: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
        return _with_notes("export_never_arrived", [*_mirrored(15), row, ACETONE], **overrides)

    alerts, notes = never(ship(99, 100, 10.0, consignment_ref="L"))
    assert alerts.height == 0 and notes["records"].to_list() == [1]
    assert "nothing corroborates" in notes["reason"][0]
    lone = never(ship(99, 100, 10.0, consignment_ref="L"), raise_lone=True)[0].row(0, named=True)
    assert lone["severity"] == "low" and "nothing else corroborates it" in lone["summary"]
    big = never(ship(99, 100, 100.0, consignment_ref="L"))[0].row(0, named=True)
    assert big["severity"] != "low" and "10.0 times the relation's usual" in big["summary"]
    assert big["score"] > lone["score"]
