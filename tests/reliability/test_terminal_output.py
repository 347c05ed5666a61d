"""Escape codes and control characters in feed data never reach the terminal raw from
`pwatch alerts` and `pwatch quarantine`: the table shows them as visible escapes, CSV as
the same visible text, JSON keeps the exact data as JSON escapes."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from registry.db import session_scope
from registry.models import AlertRow, IngestBatch, QuarantinedRow

pytestmark = pytest.mark.reliability

# What a hostile feed can carry: a clipboard write (OSC 52), a screen clear, a one-byte CSI
# (0x9b), a carriage return that overwrites the line, a backspace, a bell, a bidi override.
HOSTILE = "Acme\x1b]52;c;cHduZWQ=\x07 Ltd\x1b[2J \x9b31m red\r overwritten\x08 \u202etxt.exe\x7f"
# Anything a terminal would act on: C0 controls but newline, DEL, C1 controls.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile_db(sqlite_engine: Engine) -> str:
    with session_scope(sqlite_engine) as s:
        s.add(
            AlertRow(
                fingerprint="fp-hostile",
                detector="declared_quantity_exceeded",
                severity="high",
                score=90.0,
                summary=HOSTILE,
                facility_id="F\x1b[31m1",
            )
        )
        batch = IngestBatch(kind="shipments", file_name=f"feed{HOSTILE}.csv", file_hash="h")
        s.add(batch)
        s.flush()
        s.add(
            QuarantinedRow(
                batch_id=batch.id, row_number=1, raw={"exporter": HOSTILE}, reasons=[HOSTILE]
            )
        )
    return str(sqlite_engine.url)


@pytest.mark.parametrize("command", ["alerts", "quarantine"])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_no_raw_control_character_reaches_the_terminal(
    hostile_db: str, command: str, fmt: str
) -> None:
    from ui.cli import app

    wide = {"COLUMNS": "2000"}  # one table row per line, so the escapes are not folded
    res = CliRunner().invoke(app, ["--db", hostile_db, command, "--format", fmt], env=wide)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert not RAW_CONTROL.search(out), repr(RAW_CONTROL.search(out))
    if fmt == "table":
        assert "\\x1b" in out and "\\x9b" in out
        if command == "alerts":
            assert "\\u202e" in out  # a bidi override is shown, not obeyed
    elif fmt == "csv":
        text = "".join(r for row in csv.reader(io.StringIO(out)) for r in row)
        assert "\\x1b]52;c;cHduZWQ=\\x07" in text
    else:
        rows = json.loads(out)
        values = [v for row in rows for v in row.values()]
        if command == "alerts":
            assert HOSTILE in values  # the data itself, unchanged
        else:
            assert any(HOSTILE in str(v) for v in values)


def test_error_lines_are_inert_too(hostile_db: str) -> None:
    from ui.cli import app

    res = CliRunner().invoke(app, ["--db", hostile_db, "alerts", "--status", HOSTILE])
    assert res.exit_code != 0
    assert not RAW_CONTROL.search(res.output) and res.output.count("\n") == 1
