"""The load summary of `pwatch ingest` names each quarantine reason and each kind of
data-quality finding in words, with its row count and first rows (issue #18 item 16: it said
"quarantined 1: field"), on both backends; `--check` says the same without a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_ingest_helpers import SHIPMENT_HEADER, shipment, write_csv
from typer.testing import CliRunner

from ui.cli import app
from ui.cli.common import state

HEADER = [*SHIPMENT_HEADER, "value", "currency"]
ROWS = [
    shipment(1),
    *[shipment(i, unit="furlongs") for i in (2, 3, 4, 5, 6)],
    shipment(7, quantity="1e309"),
    shipment(8, quantity="-2"),
    shipment(9, quantity="-3", importer_country="Narnia"),
    shipment(10, cas="39742-60-5"),  # wrong check digit: loads, with a finding
    shipment(11, value="100", currency="Dollars"),  # loads without its value
    shipment(12, exporter="x" * 70_000),
    shipment(13, product="NPP\x00"),
]
EXPECTED = [
    "5 rows quarantined: unknown unit (rows 2, 3, 4 and 2 more)",
    "2 rows quarantined: negative quantity (rows 8 and 9)",
    "1 row quarantined: a field holds a NUL character (row 13)",
    "1 row quarantined: a field longer than 65,536 characters (row 12)",
    "1 row quarantined: quantity is not a finite number (row 7)",
    "1 row quarantined: unknown importer country (row 9)",
    "1 row with a data-quality finding: invalid CAS number (check digit or format), kept as "
    "given (row 10)",
    "1 row with a data-quality finding: unknown currency; rows loaded without their value (row 11)",
]


@pytest.fixture
def cli_db(db_url: str) -> str:
    res = CliRunner().invoke(app, ["--db", db_url, "init"])
    assert res.exit_code == 0, res.output
    yield db_url
    state.db = None
    state.debug = False


def _summary_lines(stderr: str) -> list[str]:
    return [
        line.strip()
        for line in stderr.splitlines()
        if " quarantined: " in line or "data-quality finding" in line
    ]


def test_the_summary_names_every_reason_with_its_rows(cli_db: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ship.csv", ROWS, HEADER)
    res = CliRunner().invoke(app, ["--db", cli_db, "ingest", "shipments", str(path)])
    assert res.exit_code == 0, res.output
    assert "3 loaded, 0 duplicate, 10 quarantined of 13 rows" in res.stderr
    assert _summary_lines(res.stderr) == EXPECTED


def test_check_gives_the_same_summary(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ship.csv", ROWS, HEADER)
    res = CliRunner().invoke(app, ["ingest", "shipments", str(path), "--check"])
    assert res.exit_code == 0, res.output
    assert _summary_lines(res.stderr) == EXPECTED
    # --check also shows the first bad rows with their values.
    assert "  row 7: quantity '1e309' is not a finite number\n" in res.stderr
