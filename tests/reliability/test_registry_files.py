"""The registry on disk, as the hostile review found it: a read-only command with a mistyped
--db created an empty database; `pwatch init` added its tables to another application's
SQLite file; a full temporary folder said "cannot rollback - no transaction is active";
`--to` took any name. (Files created 0600 and the key file: tests/registry/test_db_schema.py
and test_audit.py; the lockout message: test_access_policy.py and tests/registry.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import pwatch, write_feed

from registry.db import session_scope
from registry.users import add_user
from tests.registry.factories import make_alert

pytestmark = pytest.mark.reliability

# Commands that only read (or need an existing registry): none may create one.
_COMMANDS = [
    ["alerts"],
    ["alerts", "--format", "csv"],
    ["quarantine"],
    ["screen", "N-phenethyl-4-piperidone"],
    ["audit", "verify"],
    ["audit", "checkpoint", "--out", "{tmp}/cp.json"],
    ["user", "list"],
    ["user", "add", "root", "--role", "supervisor"],
    ["detect"],
    ["ingest", "shipments", "{tmp}/feed.csv"],
    ["triage", "claim", "1", "--user", "ines"],
    ["--user", "ines", "alerts"],
    ["console", "--port", "8599"],
]


@pytest.mark.parametrize("args", _COMMANDS, ids=[" ".join(a) for a in _COMMANDS])
def test_a_mistyped_db_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    from ui.cli import app

    (tmp_path / "feed.csv").write_text("shipment_id,date\n1,2025-01-01\n")
    typo = tmp_path / "vra" / "pwatch.db"
    argv = ["--db", f"sqlite:///{typo}", *[a.format(tmp=tmp_path) for a in args]]
    if argv[2] == "--user":
        argv = ["--user", "ines", "--db", f"sqlite:///{typo}", *argv[4:]]
    res = CliRunner().invoke(
        app, argv, env={"PWATCH_PASSWORD": "x" * 10, "PWATCH_NEW_PASSWORD": "y" * 10}
    )
    assert res.exit_code != 0
    assert res.output.strip() == (
        f"error: there is no registry at {typo}: check --db (or PWATCH_DATABASE_URL), "
        "or create one with `pwatch init`"
    )
    assert not typo.parent.exists()


def test_init_leaves_another_applications_database_alone(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers VALUES (1, 'Ada')")
    conn.close()
    before = path.read_bytes()
    proc = subprocess.run(
        [*pwatch(), "--db", f"sqlite:///{path}", "init"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: sqlite:///") and proc.stderr.count("\n") == 1
    assert "tables precursor-watch does not know (customers)" in proc.stderr
    assert path.read_bytes() == before
    assert not Path(f"{path}.audit-key").exists()


def test_assign_only_to_an_enabled_inspector_or_supervisor(sqlite_engine: Engine) -> None:
    from ui.cli import app

    with session_scope(sqlite_engine) as s:
        for name, role in [("sara", "supervisor"), ("ines", "inspector"), ("vera", "viewer")]:
            add_user(s, name, role, "password-123")
        alert_id = str(make_alert(s, with_shipment=False).id)
    url = str(sqlite_engine.url)
    env = {"PWATCH_PASSWORD": "password-123"}
    for to in ("vera", "nobody", "ines; DROP TABLE users"):
        res = CliRunner().invoke(
            app, ["--db", url, "--user", "sara", "triage", "assign", alert_id, "--to", to], env=env
        )
        assert res.exit_code == 1, res.output
        assert "alerts go to an enabled inspector or supervisor account" in res.output
    res = CliRunner().invoke(
        app, ["--db", url, "--user", "sara", "triage", "assign", alert_id, "--to", "ines"], env=env
    )
    assert res.exit_code == 0 and "assigned" in res.output


@pytest.fixture
def full_temp_folder(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs to point TMPDIR and SQLITE_TMPDIR at (needs root; CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs; CI runs as root")
    mnt = tmp_path / "small-tmp"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_temporary_folder_is_reported_in_plain_words(
    tmp_path: Path, full_temp_folder: Path
) -> None:
    facilities, shipments = write_feed(tmp_path / "feed", 2029, 30_000)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    for args in (["init"], ["ingest", "facilities", str(facilities)]):
        subprocess.run([*pwatch(), "--db", url, *args], check=True, capture_output=True)
    env = dict(os.environ, TMPDIR=str(full_temp_folder), SQLITE_TMPDIR=str(full_temp_folder))
    proc = subprocess.run(
        [*pwatch(), "--db", url, "ingest", "shipments", str(shipments)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1, proc.stderr
    assert "cannot rollback" not in proc.stderr and "Traceback" not in proc.stderr
    assert "the disk is full" in errors[0] and str(full_temp_folder) in errors[0], errors[0]
    with sqlite3.connect(tmp_path / "r.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM shipment_records").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM ingest_batches").fetchone() == (1,)
    conn.close()
