"""Plausibility at ingest (issue #18 items 1 and 4), through `pwatch ingest` on both backends:
a quantity that is no finite number or beyond any real consignment, and a date before 1990 or
more than a few days after the load, quarantine their row; an implausible customs value is
left empty with a finding. Before, 1e309 loaded as infinity and stopped every detection run,
and 9999-12-31 moved the reference date of the whole registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from tests_ingest_helpers import FACILITY_HEADER, SHIPMENT_HEADER, facility, shipment, write_csv
from typer.testing import CliRunner

from registry.models import DataQualityFinding, QuarantinedRow, Shipment
from ui.cli import app
from ui.cli.common import state

TODAY = dt.date.today()


@pytest.fixture
def cli_db(db_url: str) -> str:
    res = CliRunner().invoke(app, ["--db", db_url, "init"])
    assert res.exit_code == 0, res.output
    yield db_url
    state.db = None
    state.debug = False


def _ingest(db: str, path: Path) -> str:
    res = CliRunner().invoke(app, ["--db", db, "ingest", "shipments", str(path)])
    assert res.exit_code == 0, res.output
    return res.stderr


# (row fields, quarantine reasons or None when the row loads)
QUANTITY_AND_DATE_CASES = [
    ({}, None),
    ({"quantity": "1e309"}, ["quantity '1e309' is not a finite number"]),
    ({"quantity": "-1e309"}, ["quantity '-1e309' is not a finite number"]),
    ({"quantity": "2e22"},
     ["quantity '2e22' kg is more than 1,000,000,000 kg, which no real consignment reaches"]),
    ({"quantity": "1e7", "unit": "t"},  # 10 million tonnes
     ["quantity '1e7' t is more than 1,000,000,000 kg, which no real consignment reaches"]),
    ({"quantity": "400000", "unit": "t"}, None),  # a full Valemax ore carrier
    ({"quantity": "-3"}, ["negative quantity '-3'"]),
    ({"date": "9999-12-31"},
     [f"date 9999-12-31 is more than 7 days after the load ({TODAY.isoformat()})"]),
    ({"date": "0001-01-01"}, ["date 0001-01-01 is before 1990-01-01"]),
    ({"date": "1989-12-31"}, ["date 1989-12-31 is before 1990-01-01"]),
    ({"date": "1990-01-01"}, None),
    ({"date": (TODAY + dt.timedelta(days=3)).isoformat()}, None),
    ({"date": (TODAY + dt.timedelta(days=30)).isoformat()},
     [f"date {(TODAY + dt.timedelta(days=30)).isoformat()} is more than 7 days after the load "
      f"({TODAY.isoformat()})"]),
    ({"quantity": "1e309", "date": "9999-12-31"},
     ["quantity '1e309' is not a finite number",
      f"date 9999-12-31 is more than 7 days after the load ({TODAY.isoformat()})"]),
]  # fmt: skip


def test_implausible_quantities_and_dates_are_quarantined(cli_db: str, tmp_path: Path) -> None:
    rows = [shipment(i + 1, **over) for i, (over, _) in enumerate(QUANTITY_AND_DATE_CASES)]
    _ingest(cli_db, write_csv(tmp_path / "ship.csv", rows, SHIPMENT_HEADER))
    engine = create_engine(cli_db)
    with engine.connect() as conn:
        quarantined = dict(
            conn.execute(select(QuarantinedRow.row_number, QuarantinedRow.reasons)).all()
        )
        loaded = set(conn.execute(select(Shipment.row_number)).scalars())
        top = conn.execute(select(Shipment.quantity_kg).order_by(Shipment.quantity_kg.desc()))
        largest = top.scalars().first()
    engine.dispose()
    for row, (_, reasons) in enumerate(QUANTITY_AND_DATE_CASES, start=1):
        if reasons is None:
            assert row in loaded and row not in quarantined, row
        else:
            assert quarantined.get(row) == reasons, row
    assert largest == 400_000_000.0


@pytest.mark.slow
def test_detection_runs_after_a_load_with_1e309(cli_db: str, tmp_path: Path) -> None:
    fac = write_csv(tmp_path / "fac.csv", [facility("F1")], FACILITY_HEADER)
    res = CliRunner().invoke(app, ["--db", cli_db, "ingest", "facilities", str(fac)])
    assert res.exit_code == 0, res.output
    rows = [shipment(i, quantity=str(20 + i), date=f"2024-01-{i:02d}") for i in range(1, 9)]
    rows.append(shipment(9, quantity="1e309"))
    rows.append(shipment(10, date="9999-12-31"))
    _ingest(cli_db, write_csv(tmp_path / "ship.csv", rows, SHIPMENT_HEADER))
    res = CliRunner().invoke(app, ["--db", cli_db, "detect"])
    assert res.exit_code == 0, res.output


VALUE_CASES = [
    ("1000", "USD", 1000.0, None),
    ("1e309", "USD", None, "value '1e309' is not a finite number; the row loaded without its value"),
    ("-5", "USD", None, "negative value '-5'; the row loaded without its value"),
    ("2e10", "USD", None,
     "value '2e10' USD is more than 10,000,000,000 US dollars, which no real consignment "
     "reaches; the row loaded without its value"),
    ("9e9", "USD", 9e9, None),
    ("2e17", "AED", None,  # no ECB rate: judged in its own currency
     "value '2e17' is more than 10,000,000,000,000,000 in any currency, which no real "
     "consignment reaches; the row loaded without its value"),
]  # fmt: skip


def test_implausible_values_are_left_empty_and_the_rows_load(cli_db: str, tmp_path: Path) -> None:
    rows = [
        shipment(i, value=value, currency=cur)
        for i, (value, cur, _, _) in enumerate(VALUE_CASES, start=1)
    ]
    err = _ingest(
        cli_db, write_csv(tmp_path / "ship.csv", rows, [*SHIPMENT_HEADER, "value", "currency"])
    )
    assert f"{len(VALUE_CASES)} loaded" in err and "0 quarantined" in err
    engine = create_engine(cli_db)
    with engine.connect() as conn:
        values = dict(conn.execute(select(Shipment.row_number, Shipment.value)).all())
        findings = dict(
            conn.execute(select(DataQualityFinding.row_number, DataQualityFinding.finding)).all()
        )
    engine.dispose()
    for row, (_, _, stored, finding) in enumerate(VALUE_CASES, start=1):
        assert values[row] == stored, row
        assert findings.get(row) == finding, row
