"""Console speed: every page with 1,000,000 shipments and 10,000 alerts in the registry
(SQLite), timed headless with streamlit's AppTest (target: every page under 2 s).

    .venv/bin/python bench/bench_console.py            # full size
    .venv/bin/python bench/bench_console.py --quick    # 100,000 shipments, 1,000 alerts

Prints a Markdown table. The database is generated with bulk inserts under bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "ui" / "app.py")
DETECTORS = [
    "declared_quantity_exceeded",
    "unusual_shipment_size",
    "shipment_burst",
    "split_series",
    "undeclared_party",
    "mirror_quantity_gap",
    "export_never_arrived",
    "masked_listed_substance",
    "designer_analogue",
]
COUNTRIES = ["CHN", "IND", "KOR", "NLD", "DEU", "MEX", "USA", "CAN", "BRA", "COL", "BEL", "MMR"]
SUBSTANCES = ["39742-60-4", "21409-26-7", "23056-29-3", "125541-22-2", "1609-66-1", "41661-47-6"]
SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["new"] * 6 + ["assigned", "in_review", "pending_dismissal", "dismissed", "escalated"]
PASSWORD = "bench-password-1"


def build(path: Path, shipments: int, alerts: int, seed: int = 7) -> None:
    """A fresh registry with `shipments` shipments and `alerts` alerts (bulk inserts)."""
    from registry.db import init_db, make_engine, session_scope
    from registry.users import add_user

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as s:
        add_user(s, "bench", "supervisor", PASSWORD)
    engine.dispose()

    rng = random.Random(seed)
    n_fac = 2000
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        "INSERT INTO ingest_batches (id, kind, source, file_name, file_hash, rows_total, "
        "rows_loaded, rows_duplicate, rows_quarantined, started_at) "
        "VALUES (1, 'shipments', 'bench', 'bench.csv', ?, ?, ?, 0, 0, ?)",
        ("b" * 64, shipments, shipments, dt.datetime(2026, 1, 1).isoformat(" ")),
    )
    con.executemany(
        "INSERT INTO facilities (facility_id, name, name_norm, country, address) VALUES (?,?,?,?,?)",
        [
            (
                f"F{i:05d}",
                f"Facility {i} Chemicals Ltd",
                f"facility {i} chemicals",
                COUNTRIES[i % 12],
                f"{i} Main Road",
            )
            for i in range(n_fac)
        ],
    )
    con.executemany(
        "INSERT INTO declarations (facility_id, activity, substance, substance_cas, "
        "declared_annual_kg, declaration_year) VALUES (?,?,?,?,?,?)",
        [(f"F{i:05d}", "trade", "NPP", SUBSTANCES[i % 6], 5000.0, 2025) for i in range(n_fac)],
    )
    start = dt.date(2024, 1, 1)
    batch = []
    t0 = time.perf_counter()
    for i in range(1, shipments + 1):
        ex = rng.randrange(n_fac)
        im = rng.randrange(n_fac)
        cas = SUBSTANCES[ex % 6]
        kg = round(rng.lognormvariate(4, 0.8), 1)
        batch.append(
            (
                i,
                "bench",
                f"S{i}",
                (start + dt.timedelta(days=rng.randrange(700))).isoformat(),
                f"Facility {ex} Chemicals Ltd",
                f"facility {ex} chemicals",
                COUNTRIES[ex % 12],
                f"Buyer {im} Trading",
                f"buyer {im} trading",
                COUNTRIES[im % 12],
                "N-phenethyl-4-piperidone 99%",
                cas,
                "2933.37",
                kg,
                "kg",
                kg,
                "X",
                f"PEN-{i}",
                f"F{ex:05d}",
                f"F{im:05d}" if im % 3 == 0 else None,  # a third of buyers are declared
                1,
                i,
            )
        )
    con.commit()
    _insert_shipments(url, batch)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    arows, links = [], []
    for a in range(1, alerts + 1):
        det = DETECTORS[a % len(DETECTORS)]
        first = rng.randrange(1, shipments + 1)
        recs = sorted(
            {min(shipments, first + k * rng.randrange(1, 50)) for k in range(rng.randrange(1, 8))}
        )
        sev = SEVERITIES[rng.randrange(4)]
        numbers = {"count": len(recs), "total_kg": 100.0 + a, "declared": 5000.0, "year": 2025}
        evidence = {
            "detector": det,
            "thresholds": {"min_ratio": 3.0},
            "numbers": numbers,
            "records": recs,
        }
        fac = f"F{rng.randrange(n_fac):05d}"
        arows.append(
            (
                a,
                hashlib.sha256(f"bench{a}".encode()).hexdigest(),
                det,
                sev,
                rng.uniform(20, 99),
                STATUSES[a % len(STATUSES)],
                f"Bench alert {a}: {det} on {fac} with {len(recs)} records.",
                json.dumps(evidence),
                fac,
                SUBSTANCES[a % 6],
                COUNTRIES[a % 12],
                1,
                (now - dt.timedelta(hours=rng.randrange(24 * 30))).isoformat(" "),
                now.isoformat(" "),
                now.isoformat(" "),
            )
        )
        links += [(a, r) for r in recs]
    con.executemany(
        "INSERT INTO alerts (id, fingerprint, detector, severity, score, status, summary, evidence, "
        "facility_id, substance_cas, country, version, created_at, updated_at, last_detected_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        arows,
    )
    con.executemany(
        "INSERT OR IGNORE INTO alert_shipments (alert_id, shipment_pk) VALUES (?,?)", links
    )
    con.commit()
    pairs = con.execute("SELECT DISTINCT product, cas FROM shipments").fetchall()
    con.execute("ANALYZE")
    con.close()
    # As after `pwatch detect`: the screen's verdict of every product text is cached (the
    # overview counts listed precursors by them).
    import polars as pl

    from registry.detect_store import _CachedScreener

    engine = make_engine(url)
    with session_scope(engine) as s:
        _CachedScreener(s)(
            pl.DataFrame(pairs, schema={"product": pl.String, "cas": pl.String}, orient="row")
        )
    engine.dispose()
    print(
        f"built {shipments:,} shipments and {alerts:,} alerts in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )


def _insert_shipments(url: str, rows: list[tuple]) -> None:
    import polars as pl

    from registry.db import make_engine
    from registry.shipments import write_shipments

    cols = [
        "id", "source", "shipment_id", "date", "exporter", "exporter_norm", "exporter_country",
        "importer", "importer_norm", "importer_country", "product", "cas", "hs_code",
        "quantity", "unit", "quantity_kg", "flow", "consignment_ref", "exporter_facility_id",
        "importer_facility_id", "batch_id", "row_number",
    ]  # fmt: skip
    engine = make_engine(url)
    with engine.begin() as conn:
        write_shipments(conn, pl.DataFrame(rows, schema=cols, orient="row"))
    engine.dispose()


def measure(url: str, repeats: int) -> list[tuple[str, float, float, float]]:
    """(page, first run s, median warm run s, worst warm run s) for queue, detail and more."""
    os.environ["PWATCH_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="login_user").input("bench")
    at.text_input(key="login_password").input(PASSWORD)
    at.button(key="FormSubmitter:login-Log in").click().run()
    assert not at.exception, at.exception
    out = []

    def timed(page: str, prepare=None) -> list[float]:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(repeats + 1):
            if prepare:
                prepare()
            t = time.perf_counter()
            at.switch_page(f"views/{page}.py").run()
            times.append(time.perf_counter() - t)
            assert not at.exception, (page, at.exception)
        return times

    ids = [97, 1234 % 10_000 or 1, 4242 % 10_000 or 2]

    def pick() -> None:
        at.session_state["alert_id"] = ids[0]
        at.session_state["case_id"] = ids[0]
        at.session_state["facility_id"] = f"F{ids[0] % 2000:05d}"  # about 500 records each
        ids.append(ids.pop(0))

    pages = ("queue", "detail", "case", "overview", "facilities", "early_warning", "approvals")
    for page in pages:
        t = timed(page, pick if page in ("detail", "case", "facilities") else None)
        out.append((page, t[0], statistics.median(t[1:]), max(t[1:])))
    # New data (here: one more early-warning record) changes the data version: the overview
    # shows the previous figures while it recomputes, so it stays quick.
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    with con:
        con.execute(
            "INSERT INTO early_warnings (name_key, name, shipment_count, total_kg, parties, "
            "countries, status) VALUES (?, 'bench analogue', 0, 0, '[]', '[]', 'new')",
            (f"bench-{time.time()}",),
        )
    con.close()
    t0 = time.perf_counter()
    at.switch_page("views/overview.py").run()
    took = time.perf_counter() - t0
    assert not at.exception, at.exception
    out.append(("overview, right after new data", took, took, took))
    # the queue as an inspector narrows it down, searches it and groups it into cases
    at.switch_page("views/queue.py").run()
    for label, action in (
        (
            "queue, filtered by severity",
            lambda: at.multiselect(key="q_severity").set_value(["high", "critical"]),
        ),
        ("queue, free-text search", lambda: at.text_input(key="q_text").set_value("Facility 12")),
        ("queue, cases (first grouping)", lambda: at.radio(key="q_mode").set_value("Cases")),
        (
            "queue, cases (grouping cached)",
            lambda: at.selectbox(key="q_sort").set_value("Oldest first"),
        ),
    ):
        action()
        t0 = time.perf_counter()
        at.run()
        took = time.perf_counter() - t0
        assert not at.exception, (label, at.exception)
        out.append((label, took, took, took))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 shipments and 1,000 alerts")
    ap.add_argument("--shipments", type=int, default=None)
    ap.add_argument("--alerts", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="reuse the database built before")
    args = ap.parse_args()
    shipments = args.shipments or (100_000 if args.quick else 1_000_000)
    alerts = args.alerts or (1_000 if args.quick else 10_000)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"console-{shipments}-{alerts}.db"
    if not (args.reuse and path.exists()):
        build(path, shipments, alerts)
    results = measure(f"sqlite:///{path}", args.repeats)
    limits: dict[str, float] = {}
    print(
        f"\nConsole page times, SQLite, {shipments:,} shipments, {alerts:,} alerts "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} warm runs; AppTest, headless)\n"
    )
    print("| page | first run (s) | median (s) | worst (s) | target |")
    print("|---|---|---|---|---|")
    for page, first, med, worst in results:
        limit = limits.get(page, 2.0)
        target = f"< {limit:g} s"
        ok = " ✓" if worst < limit else " ✗"
        print(f"| {page} | {first:.2f} | {med:.2f} | {worst:.2f} | {target}{ok} |")


if __name__ == "__main__":
    main()
