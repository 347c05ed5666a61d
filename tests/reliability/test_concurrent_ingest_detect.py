"""`pwatch ingest` and `pwatch detect` running while the console reads (SQLite in WAL mode and
PostgreSQL): no errors, and no reader ever sees part of a batch or of a detection run."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import PG_URL, dispose_cached, run_pwatch, write_feed

from registry.db import init_db, make_engine, session_scope

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

CHUNKS = 3
CHUNK_ROWS = 1_000
BASE_ROWS = 2_000
DETECT_RUNS = 1  # screens every product text: runs as long as the ingests

# One statement each, so each check reads one consistent snapshot on both backends.
_TORN_BATCHES = text(
    "SELECT b.id, b.finished_at, b.rows_loaded, b.rows_quarantined, "
    "(SELECT COUNT(*) FROM shipments s WHERE s.batch_id = b.id), "
    "(SELECT COUNT(*) FROM quarantined_rows q WHERE q.batch_id = b.id) "
    "FROM ingest_batches b WHERE b.kind = 'shipments'"
)
_ORPHAN_ALERTS = text(
    "SELECT (SELECT COUNT(*) FROM detection_runs WHERE finished_at IS NULL), "
    "(SELECT COUNT(*) FROM alerts a WHERE a.detection_run_id IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM detection_runs r WHERE r.id = a.detection_run_id)), "
    "(SELECT COUNT(*) FROM alert_shipments x WHERE NOT EXISTS "
    "(SELECT 1 FROM alerts a WHERE a.id = x.alert_id))"
)


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """(facilities, base feed, CHUNKS more feeds) cut from one seeded sample."""
    out = tmp_path_factory.mktemp("concurrent_feed")
    facilities, shipments = write_feed(out, 2030, BASE_ROWS + CHUNKS * CHUNK_ROWS)
    header, *rows = shipments.read_text(encoding="utf-8").splitlines(keepends=True)
    base = out / "base.csv"
    base.write_text(header + "".join(rows[:BASE_ROWS]), encoding="utf-8")
    parts = []
    for i in range(CHUNKS):
        part = out / f"part{i}.csv"
        lo = BASE_ROWS + i * CHUNK_ROWS
        part.write_text(header + "".join(rows[lo : lo + CHUNK_ROWS]), encoding="utf-8")
        parts.append(part)
    return facilities, base, parts


def _check_once(engine: Engine) -> None:
    """One round of console reads plus the two consistency checks."""
    from ui.queries import QueueFilter, queue_counts, queue_page, recent_batches

    deadlines = {"critical": 24.0, "high": 72.0, "medium": 168.0, "low": 336.0}
    with session_scope(engine) as session:
        queue_counts(session, QueueFilter(), deadlines)
        queue_page(session, QueueFilter(), deadlines)
        recent_batches(session)
    with engine.connect() as conn:
        for bid, finished, loaded, quarantined, n_ship, n_quar in conn.execute(_TORN_BATCHES):
            assert finished is not None, f"unfinished batch {bid} visible"
            assert (n_ship, n_quar) == (loaded, quarantined), (
                f"batch {bid} read torn: {n_ship}/{loaded} shipments, "
                f"{n_quar}/{quarantined} quarantined"
            )
        unfinished, orphans, dangling = conn.execute(_ORPHAN_ALERTS).one()
        assert (unfinished, orphans, dangling) == (0, 0, 0), "part of a detection run visible"


def test_ingest_and_detect_while_the_console_reads(
    db_url: str,
    chunks: tuple[Path, Path, list[Path]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ingest import load_file

    facilities, base, parts = chunks
    engine = make_engine(db_url)
    init_db(engine)
    load_file(engine, facilities, "facilities")
    load_file(engine, base, "shipments")

    results: dict[str, list[str]] = {"ingest": [], "detect": []}
    errors: list[str] = []
    reads = [0]
    writers_done = threading.Event()

    def ingest() -> None:
        for part in parts:
            done = run_pwatch(db_url, "ingest", "shipments", str(part))
            results["ingest"].append(f"{done.returncode}: {done.stderr.strip()}")

    def detect() -> None:
        for _ in range(DETECT_RUNS):
            done = run_pwatch(db_url, "detect")
            results["detect"].append(f"{done.returncode}: {done.stderr.strip()}")

    def read() -> None:
        while not writers_done.is_set():
            try:
                _check_once(engine)
                reads[0] += 1
                time.sleep(0.02)  # the console's pace, and CPU left for the writers
            except Exception as exc:  # every failure is reported, not just the first
                errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)

    writers = [threading.Thread(target=ingest), threading.Thread(target=detect)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=600)
    writers_done.set()
    for t in readers:
        t.join(timeout=60)
    try:
        assert not errors, errors[:5]
        for kind, outcomes in results.items():
            for outcome in outcomes:
                assert outcome.startswith("0:"), f"pwatch {kind} failed: {outcome}"
        _check_once(engine)
        with engine.connect() as conn:
            total, distinct, batches = conn.execute(
                text(
                    "SELECT COUNT(*), COUNT(DISTINCT source || '|' || shipment_id), "
                    "(SELECT COUNT(*) FROM ingest_batches WHERE kind = 'shipments') FROM shipments"
                )
            ).one()
        assert total == distinct and batches == 1 + CHUNKS
        assert reads[0] > 0
        with capsys.disabled():
            print(
                f"\n{engine.dialect.name}: {CHUNKS} ingests and {DETECT_RUNS} detection run(s) alongside "
                f"{reads[0]} rounds of console reads: no error, no torn read"
            )
    finally:
        engine.dispose()
        dispose_cached(db_url)


def _bulk_feed(path: Path, rows: int, prefix: str) -> Path:
    """A shipment feed of `rows` distinct records (a few parties, one product)."""
    import polars as pl

    i = pl.int_range(rows, eager=True)
    pl.DataFrame(
        {
            "shipment_id": prefix + i.cast(pl.String),
            "date": ["2024-01-05"] * rows,
            "exporter": "Exporter " + (i % 50).cast(pl.String),
            "exporter_country": ["CN"] * rows,
            "importer": "Importer " + (i % 70).cast(pl.String),
            "importer_country": ["MX"] * rows,
            "product": ["NPP"] * rows,
            "quantity": (i % 40 + 1).cast(pl.String),
            "unit": ["kg"] * rows,
        }
    ).write_csv(path)
    return path


@pytest.mark.postgres
@pytest.mark.skipif(PG_URL is None, reason="needs PWATCH_TEST_POSTGRES_URL (PostgreSQL only)")
def test_a_first_bulk_load_alongside_another_load_queues(tmp_path: Path) -> None:
    """A first bulk load (which sets the indexes and foreign keys of shipment_records aside)
    and a small load started while it runs: both complete, one after the other. Before loads
    took one advisory lock first, the small load held shipment_records and waited for
    parties while the bulk load held parties and waited for shipment_records: PostgreSQL
    broke the deadlock by failing one of them (3 of 3 tries)."""
    from ingest import load_file
    from tests.conftest import create_pg_database, drop_pg_database

    big = _bulk_feed(tmp_path / "big.csv", 120_000, "B")
    small = _bulk_feed(tmp_path / "small.csv", 200, "S")
    url = create_pg_database()
    engine = make_engine(url)
    try:
        init_db(engine, load_watchlist=False)
        outcome: dict[str, str] = {}

        def load(name: str, path: Path) -> None:
            try:
                report = load_file(engine, path, "shipments")
                outcome[name] = f"{report.rows_loaded} loaded"
            except Exception as exc:  # reported by the assertion below
                outcome[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"

        first = threading.Thread(target=load, args=("big", big))
        first.start()
        # The small load starts once the bulk load is inside its transaction.
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            while time.monotonic() < deadline and first.is_alive():
                held = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                        "WHERE c.relname IN ('parties', 'ingest_batches') AND l.granted "
                        "AND l.pid <> pg_backend_pid() AND l.mode <> 'AccessShareLock'"
                    )
                ).scalar_one()
                conn.rollback()
                if held:
                    break
                time.sleep(0.01)
        second = threading.Thread(target=load, args=("small", small))
        second.start()
        first.join(timeout=300)
        second.join(timeout=300)
        assert outcome == {"big": "120000 loaded", "small": "200 loaded"}, outcome
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM shipments")).scalar_one() == 120_200
    finally:
        engine.dispose()
        drop_pg_database(url)
