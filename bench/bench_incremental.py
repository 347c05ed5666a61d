"""Benchmark: incremental vs full detection after a small new batch (SQLite, PostgreSQL).

Two feeds, from one generated sample:

- `spread`: a seeded share of the records (spread over the whole period; the latest
  record stays in the first load, so the reference date does not move) arrives last;
- `forward`: the newest share of the records (by date) arrives last, as a feed that
  moves forward in time does, so the reference date moves.

For each feed: load the rest, run a full detection, load the held-back records as one new
batch, copy the database, then time `run_detection(full=True)` on one copy and
`run_detection` (incremental) on the other. Both must write the same numbers of new and
updated alerts, and a full run after the incremental one must find nothing new or changed:
that checks the incremental result at this scale. Each run's phases are printed (read,
checks, prepare, detect, write, early warnings).

    python bench/bench_incremental.py                      # 200,000 records, 1% new, SQLite
    python bench/bench_incremental.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/bench_incremental.py --shipments 1000000 --new-share 0.01 --feed forward
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHASES = ("read", "checks", "prepare", "detect", "write", "early_warnings")


def split(ships: pl.DataFrame, feed: str, share: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(first load, new batch) for the feed."""
    if feed == "spread":
        latest = ships["date"].max()
        cut = int(1000 * (1 - share))
        u = (pl.col("id") * 2654435761) % 1000
        old = ships.filter((u < cut) | (pl.col("date") == latest))
    else:
        by_date = ships.sort("date", "id")
        day = by_date["date"][int(by_date.height * (1 - share))]
        old = ships.filter(pl.col("date") < day)
    return old, ships.join(old.select("id"), on="id", how="anti")


@contextmanager
def sqlite_pair(tmp: Path) -> Iterator[tuple[Callable[[], Any], Callable[[], Any]]]:
    """(make the database, copy it) for SQLite files under `tmp`."""
    from registry.db import init_db, make_engine

    made: list[Any] = []

    def first() -> Any:
        eng = make_engine(f"sqlite:///{tmp / 'bench.db'}")
        init_db(eng)
        made.append(eng)
        return eng

    def copy() -> Any:
        for eng in made:
            eng.dispose()
        shutil.copy(tmp / "bench.db", tmp / "copy.db")
        other = make_engine(f"sqlite:///{tmp / 'copy.db'}")
        made.append(other)
        return other

    yield first, copy
    for eng in made:
        eng.dispose()


@contextmanager
def pg_pair(admin_url: str) -> Iterator[tuple[Callable[[], Any], Callable[[], Any]]]:
    """(make the database, copy it as a template clone) on a PostgreSQL server."""
    from sqlalchemy import create_engine, text

    from registry import db as registry_db
    from registry.db import init_db, make_engine

    base = admin_url.rsplit("/", 1)[0]
    names = [f"pwatch_bench_{uuid.uuid4().hex[:10]}", f"pwatch_bench_{uuid.uuid4().hex[:10]}"]
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    made: list[Any] = []

    def sql(stmt: str) -> None:
        with admin.connect() as c:
            c.execute(text(stmt))

    def first() -> Any:
        sql(f'CREATE DATABASE "{names[0]}"')
        eng = make_engine(f"{base}/{names[0]}")
        init_db(eng)
        made.append(eng)
        return eng

    def copy() -> Any:
        for eng in made:
            eng.dispose()
        for key in list(registry_db._engines):
            if names[0] in key:
                registry_db._engines.pop(key).dispose()
        sql(f'CREATE DATABASE "{names[1]}" TEMPLATE "{names[0]}"')
        other = make_engine(f"{base}/{names[1]}")
        made.append(other)
        return other

    try:
        yield first, copy
    finally:
        for eng in made:
            eng.dispose()
        for key in list(registry_db._engines):
            if any(n in key for n in names):
                registry_db._engines.pop(key).dispose()
        for n in names:
            sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{n}' AND pid <> pg_backend_pid()"
            )
            sql(f'DROP DATABASE IF EXISTS "{n}"')
        admin.dispose()


def bench(backend: str, pair: Any, sample: Any, feed: str, share: float) -> tuple[list[str], bool]:
    """Markdown rows for one backend and feed; False when the runs disagree."""
    from registry.db import make_engine
    from registry.detect_store import run_detection
    from sample_data.registry_load import load_facilities, load_shipments

    ships = sample.registry_shipments.sort("id")
    old, new = split(ships, feed, share)
    with pair as (first, copy):
        eng = first()
        load_facilities(eng, sample)
        load_shipments(eng, old)
        first_run = run_detection(eng)
        load_shipments(eng, new)
        url = eng.url.render_as_string(hide_password=False)
        other = copy()  # the same database twice: one detects in full, the other incrementally
        eng = make_engine(url)
        t0 = time.perf_counter()
        full = run_detection(other, full=True)
        full_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        inc = run_detection(eng)
        inc_s = time.perf_counter() - t0
        check = run_detection(eng, full=True)
        eng.dispose()
        other.dispose()
    scoped = sum(1 for v in inc.scope.values() if v.get("scope") == "affected keys")

    def phases(s: Any) -> str:
        return ", ".join(f"{p} {s.phases.get(p, 0.0):.2f}" for p in PHASES)

    rows = [
        f"| {backend} | {feed} | {old.height:,} + {new.height:,} new | first | {first_run.mode} "
        f"| {first_run.seconds:.1f} | {first_run.new} | {first_run.updated} | {phases(first_run)} |",
        f"| {backend} | {feed} | | after the batch, `--full` | {full.mode} | {full_s:.1f} "
        f"| {full.new} | {full.updated} | {phases(full)} |",
        f"| {backend} | {feed} | | after the batch | {inc.mode} | {inc_s:.1f} | {inc.new} "
        f"| {inc.updated} | {phases(inc)} |",
    ]
    print(f"{backend}/{feed}: {inc.mode} run: {inc.reason} ({scoped} detectors scoped)")
    print(
        f"{backend}/{feed}: a full run after the incremental one: {check.new} new, "
        f"{check.updated} updated"
    )
    ok = (
        inc.mode == "incremental"
        and not (check.new or check.updated)
        and (full.new, full.updated) == (inc.new, inc.updated)
    )
    return rows, ok


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shipments", type=int, default=200_000)
    ap.add_argument("--new-share", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--feed", choices=["spread", "forward", "both"], default="both")
    ap.add_argument("--pg", help="also on this PostgreSQL server (a scratch database is made)")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()

    from sample_data.generate import generate

    sample = generate(args.seed, args.shipments)
    feeds = ["spread", "forward"] if args.feed == "both" else [args.feed]
    table: list[str] = []
    ok = True
    for feed in feeds:
        if not args.no_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                rows, good = bench("SQLite", sqlite_pair(Path(tmp)), sample, feed, args.new_share)
                table += rows
                ok &= good
        if args.pg:
            rows, good = bench("PostgreSQL", pg_pair(args.pg), sample, feed, args.new_share)
            table += rows
            ok &= good
    print(
        f"\n{sample.registry_shipments.height:,} records, {args.new_share:.0%} new; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| backend | feed | records | run | mode | seconds | new | updated | phases (s) |")
    print("|---|---|---|---|---|---:|---:|---:|---|")
    print("\n".join(table))
    if not ok:
        print("\nMISMATCH: incremental and full runs disagree", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
