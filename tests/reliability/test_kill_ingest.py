"""kill -9 of `pwatch ingest shipments` at seeded random points of a large load: the registry
holds the whole batch or none of it, and loading the same file again completes with no row
duplicated (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import (
    PG_URL,
    clone_sqlite,
    dispose_cached,
    pwatch,
    wait_pg_idle,
    write_feed,
)

from registry.db import init_db, make_engine

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

SEED = 2026
ROWS = int(os.environ.get("PWATCH_KILL_ROWS", "15000"))
KILL_POINTS = {"sqlite": 12, "postgres": 10}

_SHIPMENT_BATCHES = "SELECT id FROM ingest_batches WHERE kind = 'shipments'"
_COUNTS = {
    "shipments": "SELECT COUNT(*) FROM shipments",
    "parties": "SELECT COUNT(*) FROM parties",
    "ingest_batches": f"SELECT COUNT(*) FROM ({_SHIPMENT_BATCHES}) b",
    "quarantined_rows": "SELECT COUNT(*) FROM quarantined_rows "
    f"WHERE batch_id IN ({_SHIPMENT_BATCHES})",
    "data_quality_findings": "SELECT COUNT(*) FROM data_quality_findings "
    f"WHERE batch_id IN ({_SHIPMENT_BATCHES})",
}


_BACKENDS = ["sqlite"] + ([pytest.param("postgres", marks=pytest.mark.postgres)] if PG_URL else [])


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_feed(tmp_path_factory.mktemp("kill_feed"), SEED, ROWS)


@pytest.fixture(params=_BACKENDS)
def template(
    request: pytest.FixtureRequest, feed: tuple[Path, Path], tmp_path: Path
) -> Iterator[tuple[str, object]]:
    """(backend, clone()) where clone() returns the URL of a fresh copy of a registry that
    holds the declared facilities (so the shipment load links parties too)."""
    from ingest import load_file

    backend = request.param
    made: list[str] = []
    if backend == "sqlite":
        base = tmp_path / "template.db"
        url = f"sqlite:///{base}"
    else:
        from tests.conftest import create_pg_database

        url = create_pg_database()
    engine = make_engine(url)
    init_db(engine)
    load_file(engine, feed[0], "facilities")
    engine.dispose()

    def clone() -> str:
        """SQLite: a copy of the template file. PostgreSQL: the template database itself, with
        every shipment batch deleted (creating and dropping a database per point is slow)."""
        if backend == "sqlite":
            made.append("")
            return clone_sqlite(base, tmp_path / f"copy{len(made)}.db")
        wait_pg_idle(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in ("quarantined_rows", "data_quality_findings", "ambiguous_links"):
                conn.execute(text(f"DELETE FROM {table} WHERE batch_id IN ({_SHIPMENT_BATCHES})"))
            conn.execute(text("DELETE FROM shipment_records"))
            conn.execute(text("DELETE FROM parties"))
            conn.execute(text("DELETE FROM ingest_batches WHERE kind = 'shipments'"))
        engine.dispose()
        return url

    try:
        yield backend, clone
    finally:
        if backend == "postgres":
            from tests.conftest import drop_pg_database

            dispose_cached(url)
            drop_pg_database(url)


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {k: int(conn.execute(text(q)).scalar_one()) for k, q in _COUNTS.items()}
    finally:
        engine.dispose()


def _state(url: str, reference: dict[str, int]) -> str:
    """'none' or 'whole' (anything in between fails the test)."""
    counts = _counts(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            unfinished = conn.execute(
                text("SELECT COUNT(*) FROM ingest_batches WHERE finished_at IS NULL")
            ).scalar_one()
            if url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    finally:
        engine.dispose()
    assert unfinished == 0, "a batch row without finished_at survived"
    if counts == {t: 0 for t in _COUNTS}:
        return "none"
    assert counts == reference, f"partial batch after kill -9: {counts} vs whole {reference}"
    return "whole"


def _unique_check(url: str, expected: int) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            total, distinct = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT source || '|' || shipment_id) FROM shipments")
            ).one()
    finally:
        engine.dispose()
    assert total == distinct == expected


def _ingest_in_process(url: str, path: Path) -> str:
    from ui.cli import app

    result = CliRunner().invoke(app, ["--db", url, "ingest", "shipments", str(path)])
    dispose_cached(url)
    assert result.exit_code == 0, result.output
    return result.output


def _timed_load(url: str, path: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [*pwatch(), "--db", url, "ingest", "shipments", str(path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return time.perf_counter() - t0


def test_kill_9_during_ingest_leaves_all_or_nothing(
    template: tuple[str, object], feed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backend, clone = template
    shipments_csv = feed[1]
    # Reference: one uninterrupted load (its wall time spreads the kill points over a load).
    ref_url = clone()  # type: ignore[operator]
    full = _timed_load(ref_url, shipments_csv)
    reference = _counts(ref_url)
    _unique_check(ref_url, reference["shipments"])
    assert reference["shipments"] > ROWS // 2 and reference["ingest_batches"] == 1
    # Start-up (imports, connect) is about a third of the wall time of a child process; kill
    # points before the load's transaction are kept few by starting the window there.
    rng = random.Random(f"{SEED}-{backend}")
    delays = sorted(rng.uniform(0.3 * full, 0.95 * full) for _ in range(KILL_POINTS[backend]))
    outcomes: Counter[str] = Counter()
    # The machine's speed changes under other work: a load that finished before its kill
    # point says loads now run faster than the reference did, so later points come earlier.
    pace = 1.0
    for delay in delays:
        url = clone()  # type: ignore[operator]
        proc = subprocess.Popen(
            [*pwatch(), "--db", url, "ingest", "shipments", str(shipments_csv)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay * pace)
        alive = proc.poll() is None
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
        else:
            pace *= 0.75
        proc.wait(timeout=60)
        if backend == "postgres":
            wait_pg_idle(url)
        state = _state(url, reference)
        outcomes[("killed, " if alive else "finished first, ") + state] += 1
        # The same file loads to completion afterwards, with no row twice.
        out = _ingest_in_process(url, shipments_csv)
        assert ("already loaded" in out) == (state == "whole"), out
        assert _state(url, reference) == "whole"
        _unique_check(url, reference["shipments"])
    killed = sum(n for k, n in outcomes.items() if k.startswith("killed"))
    with capsys.disabled():
        print(
            f"\n{backend}: {len(delays)} kill points over a {full:.1f} s load of "
            f"{reference['shipments']} shipments ({dict(outcomes)}); every one all-or-nothing, "
            "every reload complete without duplicates"
        )
    # Most points must land while the load runs (a loaded machine may finish a few early).
    assert killed >= len(delays) * 2 // 3, outcomes
