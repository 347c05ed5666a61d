"""`pwatch ingest` and `pwatch quarantine`: counts and reasons on stderr, one-line errors."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from tests_ingest_helpers import FACILITY_HEADER, SHIPMENT_HEADER, facility, shipment, write_csv
from typer.testing import CliRunner

from ui.cli import app
from ui.cli.common import state


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    res = CliRunner().invoke(app, ["--db", url, "init"])
    assert res.exit_code == 0, res.output
    yield url
    state.db = None
    state.debug = False


def _run(db: str, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["--db", db, *args])
    return res.exit_code, res.stdout, res.stderr


def test_ingest_then_quarantine_csv(db: str, tmp_path: Path) -> None:
    fac = write_csv(tmp_path / "fac.csv", [facility("F1")], FACILITY_HEADER)
    code, _, err = _run(db, "ingest", "facilities", str(fac))
    assert code == 0 and "1 loaded" in err
    rows = [
        shipment(1),
        shipment(2, quantity="-4"),
        shipment(3, exporter='=HYPERLINK("http://evil")', unit="furlongs"),
    ]
    path = write_csv(tmp_path / "ship.csv", rows, SHIPMENT_HEADER)
    code, out, err = _run(db, "ingest", "shipments", str(path), "--source", "CN")
    assert code == 0, err
    assert "1 loaded, 0 duplicate, 2 quarantined of 3 rows" in err
    assert "  1 row quarantined: negative quantity (row 2)\n" in err
    assert "  1 row quarantined: unknown unit (row 3)\n" in err
    assert out == ""
    code, _, err = _run(db, "ingest", "shipments", str(path))
    assert code == 0 and "already loaded" in err
    code, out, _ = _run(db, "quarantine", "--batch", "2", "--format", "csv")
    assert code == 0
    got = list(csv.DictReader(io.StringIO(out)))
    assert [r["row_number"] for r in got] == ["2", "3"]
    assert "=HYPERLINK(" in got[1]["raw"]  # raw values kept verbatim, inside the JSON cell
    code, out, _ = _run(db, "quarantine", "--format", "json")
    assert code == 0 and '"reasons"' in out


def test_quarantine_csv_neutralises_formula_cells(db: str, tmp_path: Path) -> None:
    # A file name is a cell of the export too, and a file can be called "=cmd.csv".
    path = write_csv(tmp_path / "=cmd.csv", [shipment(1, quantity="x")])
    assert _run(db, "ingest", "shipments", str(path))[0] == 0
    code, out, _ = _run(db, "quarantine", "--format", "csv")
    got = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and got[0]["file_name"] == "'=cmd.csv"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b\n1,2\n", 'missing column for "shipment_id"'),
        (bytes(range(256)) * 10, "binary"),
    ],
)
def test_file_errors_are_one_line(db: str, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, out, err = _run(db, "ingest", "shipments", str(path))
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and err.startswith("error: ")


def test_missing_file_and_uninitialised_db(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    code, _, err = _run(url, "ingest", "shipments", str(tmp_path / "nope.csv"))
    assert code != 0 and len(err.strip().splitlines()) == 1
    state.db = None


@pytest.mark.slow
def test_subprocess_truncated_gzip_one_line(tmp_path: Path) -> None:
    import gzip

    url = f"sqlite:///{tmp_path / 'p.db'}"
    exe = [str(Path(sys.executable).parent / "pwatch")]
    subprocess.run([*exe, "--db", url, "init"], check=True, capture_output=True)
    raw = write_csv(tmp_path / "s.csv", [shipment(i) for i in range(50)]).read_bytes()
    (tmp_path / "s.csv.gz").write_bytes(gzip.compress(raw)[:-20])
    res = subprocess.run(
        [*exe, "--db", url, "ingest", "shipments", str(tmp_path / "s.csv.gz")],
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "truncated or corrupt gzip" in res.stderr
