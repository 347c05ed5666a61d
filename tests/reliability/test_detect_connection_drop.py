"""The PostgreSQL server drops `pwatch detect`'s connection mid-run (pg_terminate_backend):
the command fails with one clear line, leaves no half-written alerts, and the next run completes."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import PG_URL, dispose_cached, pg_admin, pwatch, run_pwatch, write_feed

from registry.db import init_db, make_engine

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="needs PWATCH_TEST_POSTGRES_URL (CI sets it)"),
]

# Every table a detection run writes.
_WRITTEN = ("alerts", "alert_shipments", "detection_runs", "early_warnings", "screen_results")


@pytest.fixture
def loaded_pg(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL registry with a seeded feed loaded (detect takes several seconds on it)."""
    from ingest import load_file
    from tests.conftest import create_pg_database, drop_pg_database

    facilities, shipments = write_feed(tmp_path / "feed", 2027, 8_000)
    url = create_pg_database()
    try:
        engine = make_engine(url)
        init_db(engine)
        load_file(engine, facilities, "facilities")
        load_file(engine, shipments, "shipments")
        engine.dispose()
        yield url
    finally:
        dispose_cached(url)
        drop_pg_database(url)


def _snapshot(url: str) -> dict[str, tuple[int, str]]:
    """(row count, digest of every row) per table a detection run writes."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: tuple(
                    conn.execute(
                        text(
                            f"SELECT COUNT(*), md5(COALESCE(string_agg(x::text, '|' "
                            f"ORDER BY x::text), '')) FROM {t} x"
                        )
                    ).one()
                )
                for t in _WRITTEN
            }  # type: ignore[misc]
    finally:
        engine.dispose()


def _terminate_others(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                ).all()
            )
    finally:
        admin.dispose()


def _in_transaction(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :n "
                        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                    ),
                    {"n": name},
                ).scalar_one()
            )
    finally:
        admin.dispose()


def _detect_dropped(url: str, ready: Callable[[str, list[str]], bool]) -> tuple[int, str]:
    """Run `pwatch detect`, terminate its backend once ready(url, stderr lines so far) holds."""
    proc = subprocess.Popen(
        [*pwatch(), "--db", url, "detect"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stderr],  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    terminated = 0
    while time.monotonic() < deadline and proc.poll() is None:
        while not lines.empty():
            seen.append(lines.get())
        if ready(url, seen):
            terminated = _terminate_others(url)
            break
        time.sleep(0.05)
    code = proc.wait(timeout=120)
    reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get())
    assert terminated, f"detect finished before its connection could be dropped: {seen}"
    return code, "".join(seen)


def _assert_one_clear_line(code: int, stderr: str) -> None:
    assert code != 0
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert "terminat" in errors[0] or "connection" in errors[0], errors[0]
    # Everything before it is progress ("detecting...", indented step lines).
    assert all(line == "detecting..." or line.startswith("  ") for line in lines[:-1]), stderr


def _when_in_transaction(url: str, seen: list[str]) -> bool:
    # Only once detection itself has started: the schema check before it also opens a short
    # transaction, and killing that pooled connection lets detect reconnect and succeed.
    return any(line.strip() == "detecting..." for line in seen) and _in_transaction(url)


def _after_load_step(url: str, seen: list[str]) -> bool:
    # After the load step, detect screens new product texts and runs the detectors (seconds).
    return any(line.strip().startswith("load:") for line in seen)


def test_connection_dropped_during_detect_leaves_nothing_half_written(
    loaded_pg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingest import load_file

    url = loaded_pg
    points = 0
    # First run (no alerts yet): dropped while reading, then after the load step.
    for ready in (_when_in_transaction, _after_load_step):
        before = _snapshot(url)
        code, stderr = _detect_dropped(url, ready)
        _assert_one_clear_line(code, stderr)
        assert _snapshot(url) == before
        points += 1
    done = run_pwatch(url, "detect")
    assert done.returncode == 0, done.stderr
    first = _snapshot(url)
    assert first["alerts"][0] > 0 and first["detection_runs"][0] == 1

    # A second feed arrives; the run that would update known alerts is dropped midway.
    _, extra = write_feed(tmp_path / "feed2", 2028, 1_000)
    engine = make_engine(url)
    load_file(engine, extra, "shipments", source="second")
    engine.dispose()
    before = _snapshot(url)
    code, stderr = _detect_dropped(url, _after_load_step)
    _assert_one_clear_line(code, stderr)
    assert _snapshot(url) == before
    points += 1
    done = run_pwatch(url, "detect")
    assert done.returncode == 0, done.stderr
    after = _snapshot(url)
    assert after["detection_runs"][0] == 2 and after["alerts"][0] >= first["alerts"][0]
    with capsys.disabled():
        print(
            f"\npostgres: detect's connection dropped at {points} points; each failed with one "
            "line, wrote nothing, and the next run completed"
        )
