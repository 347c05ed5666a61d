"""`pwatch alerts` as a table speaks to people (words, names, rounded numbers); CSV and JSON
keep the contract's columns for scripts."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from detection.detectors import DETECTORS
from registry.detect_store import run_detection
from sample_data.generate import generate
from sample_data.registry_load import load_facilities, load_shipments
from ui.cli import app


def test_alert_table_in_words_csv_in_contract_columns(sqlite_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sample = generate(3, 2500)
    load_facilities(sqlite_engine, sample)
    load_shipments(sqlite_engine, sample.registry_shipments)
    assert run_detection(sqlite_engine).new > 0
    url = str(sqlite_engine.url)
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    table = runner.invoke(app, ["--db", url, "alerts"])
    assert table.exit_code == 0, table.output
    out = table.stdout
    for header in ("Finding", "Severity", "Status", "Substance", "What was found", "Raised (UTC)"):
        assert header in out
    assert not any(d.name in out for d in DETECTORS), "a detector's code name in the table"
    assert "substance_cas" not in out and "None" not in out
    assert not re.search(r"\d\.\d{5,}", out)  # no long decimals; times to the minute
    csv = runner.invoke(app, ["--db", url, "alerts", "--format", "csv"])
    assert csv.stdout.splitlines()[0].startswith(
        "alert_id,detector,severity,score,status,shipment_ids,facility_id,substance_cas,summary,created_at"
    )
    assert any(d.name in csv.stdout for d in DETECTORS)


def test_screen_table_names_the_substance_in_words(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "250")
    out = CliRunner().invoke(app, ["screen", "CAS 39742604", "sodium chloride"])
    assert out.exit_code == 0, out.output
    assert "NPP (39742-60-4)" in out.stdout and "Why" in out.stdout
    assert "substance_cas" not in out.stdout and "None" not in out.stdout
