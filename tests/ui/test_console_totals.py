"""Every page that adds quantities up counts each consignment once: checked against a case a
reader can compute by hand (console_factories.mirror_case: 3 consignments in 4 records,
2,800 + 500 + 300 = 3,600 kg, where adding the records would give 6,350 kg)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import console_factories as cf
import pytest
from sqlalchemy import Engine

from registry.db import session_scope
from registry.models import EarlyWarning


@pytest.fixture
def totals_db(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine, declared=3000.0)
    pks = cf.mirror_case(sqlite_engine)
    numbers = {
        "year": 2026, "role": "exporter", "shipped": 3600.0, "declared": 3000.0, "elapsed": 1.0,
        "ratio_annual": 1.2, "ratio_pace": 1.2, "n": 3, "first_over": "2026-08-01",
    }  # fmt: skip
    alert = cf.make_alert(
        sqlite_engine,
        severity="critical",
        shipment_pks=pks,
        summary="Facility FAC-1 shipped 3600.0 kg of NPP in 2026 against 3000.0 kg declared (120%).",
        evidence=cf.evidence("declared_quantity_exceeded", numbers),
    )
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    return sqlite_engine, alert


def _markdown(at) -> str:  # type: ignore[no-untyped-def]
    import re

    return " ".join(re.sub(r"\\(.)", r"\1", m.value) for m in at.markdown)


def test_alert_detail_and_its_declared_chart(totals_db) -> None:  # type: ignore[no-untyped-def]
    _, alert = totals_db
    at = cf.open_detail(cf.login("ines"), alert)
    assert cf.MIRROR_CASE_SENTENCE in _markdown(at)
    captions = [c.value for c in at.caption]
    assert any(
        "Declared versus shipped over 2026: 3 consignments, 3,600 kg against 3,000 kg declared" in c
        for c in captions
    ), captions
    assert cf.visible_problems(at) == []


def test_case_page(totals_db) -> None:  # type: ignore[no-untyped-def]
    _, alert = totals_db
    at = cf.login("ines")
    at.session_state["case_id"] = alert
    at.switch_page("views/case.py").run()
    assert not at.exception, at.exception
    assert cf.MIRROR_CASE_SENTENCE in _markdown(at)


def test_facility_page(totals_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ana")
    at.session_state["facility_id"] = "FAC-1"
    at.switch_page("views/facilities.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shipped (as supplier)"] == "3,600 kg"
    assert metrics["Consignments shipped"] == "3"
    assert cf.visible_problems(at) == []


def test_overview(totals_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("vera")  # a viewer lands on the overview
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tonnes flagged"] == "3.6"  # the open alert's consignments
    assert metrics["Consignments"] == "3"
    assert metrics["All chemicals moved (t)"] == "3.6"
    assert metrics["Import records, the check (t)"] == "2.8"  # A's import record, 2,750 kg
    assert metrics["Open critical alerts"] == "1"
    assert cf.visible_problems(at) == []


def test_early_warning_counts_one_analogue_per_structure_and_each_consignment_once(
    totals_db,  # type: ignore[no-untyped-def]
) -> None:
    engine, _ = totals_db
    names = ("N-ethoxycarbonyl-4-piperidone", "ethyl 4-oxopiperidine-1-carboxylate")
    with session_scope(engine) as s:
        for i, name in enumerate(names):
            s.add(
                EarlyWarning(
                    name_key=f"k{i}", name=name, smiles="CCOC(=O)N1CCC(=O)CC1",
                    inchikey="LUBGFMZTGFXIIN-UHFFFAOYSA-N", nearest_cas="41661-47-6",
                    first_seen=dt.date(2026, 9, 1), last_seen=dt.date(2026, 10, 1),
                    shipment_count=2, total_kg=260.0,
                )
            )  # fmt: skip
    # One consignment under two names (the exporter's and the importer's), one more of 60 kg.
    common = {"cas": None, "hs_code": "2933.39"}
    cf.make_records(
        engine,
        [
            {"date": dt.date(2026, 9, 1), "quantity_kg": 100.0, "consignment_ref": "EW-1", "product": names[0], **common},
            {"date": dt.date(2026, 9, 9), "quantity_kg": 100.0, "consignment_ref": "EW-1", "product": names[1], "flow": "M", "source": "MEX-customs", **common},
            {"date": dt.date(2026, 12, 1), "quantity_kg": 60.0, "consignment_ref": "EW-2", "product": names[1], **common},
        ],
    )  # fmt: skip
    at = cf.login("vera")
    at.switch_page("views/early_warning.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 1  # one structure, two names
    row = table.iloc[0]
    assert (row["names seen"], row["consignments"], row["quantity"]) == (2, 2, "160 kg")
    assert cf.visible_problems(at) == []


@pytest.mark.slow
def test_declared_chart_adds_up_to_the_detectors_own_total(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a seeded sample (both sides of most consignments loaded), the chart of every
    declared-quantity alert ends where the detector's evidence says the year's shipments are."""
    from sqlalchemy import select

    from registry.detect_store import run_detection
    from registry.models import AlertRow
    from sample_data.generate import generate
    from sample_data.registry_load import load_facilities, load_shipments

    sample = generate(11, 6000)
    load_facilities(sqlite_engine, sample)
    load_shipments(sqlite_engine, sample.registry_shipments)
    run_detection(sqlite_engine)
    cf.standard_users(sqlite_engine)
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    with session_scope(sqlite_engine) as s:
        alerts = [
            (a.id, a.evidence["numbers"])
            for a in s.scalars(
                select(AlertRow).where(AlertRow.detector == "declared_quantity_exceeded")
            )
        ]
    assert alerts, "the sample plants declared-quantity excesses"
    at = cf.login("ines")
    for alert_id, numbers in alerts:
        cf.open_detail(at, alert_id)
        want = (
            f"{numbers['n']} consignments, {numbers['shipped']:,.0f} kg against "
            f"{numbers['declared']:,.0f} kg declared"
        )
        assert any(want in c.value for c in at.caption), (alert_id, want)
