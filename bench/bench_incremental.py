"""Benchmark: incremental vs full detection after a small new batch (SQLite).

Loads a generated feed minus a seeded share of its records (spread over the whole period;
the latest record stays in, so the reference date does not move), runs a full detection,
loads the held-back records as one new batch, copies the database, then times
`run_detection` (incremental) on one copy and `run_detection(full=True)` on the other. Both
must write the same numbers of new and updated alerts, and a full run after the incremental
one must find nothing new or changed: that checks the incremental result at this scale.

    python bench/bench_incremental.py                      # 200,000 records, 1% new
    python bench/bench_incremental.py --shipments 1000000 --new-share 0.01
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shipments", type=int, default=200_000)
    ap.add_argument("--new-share", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    from registry.db import init_db, make_engine
    from registry.detect_store import run_detection
    from sample_data.generate import generate
    from sample_data.registry_load import load_facilities, load_shipments

    sample = generate(args.seed, args.shipments)
    ships = sample.registry_shipments.sort("id")
    latest = ships["date"].max()
    cut = int(1000 * (1 - args.new_share))
    u = (pl.col("id") * 2654435761) % 1000
    old = ships.filter((u < cut) | (pl.col("date") == latest))
    new = ships.join(old.select("id"), on="id", how="anti")
    with tempfile.TemporaryDirectory() as tmp:
        eng = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        init_db(eng)
        load_facilities(eng, sample)
        load_shipments(eng, old)
        t0 = time.perf_counter()
        first = run_detection(eng)
        first_s = time.perf_counter() - t0
        load_shipments(eng, new)
        eng.dispose()
        # The same database twice: one detects incrementally, the other in full.
        shutil.copy(Path(tmp) / "bench.db", Path(tmp) / "copy.db")
        other = make_engine(f"sqlite:///{Path(tmp) / 'copy.db'}")
        eng = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        full = run_detection(other, full=True)
        full_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        inc = run_detection(eng)
        inc_s = time.perf_counter() - t0
        check = run_detection(eng, full=True)
        eng.dispose()
        other.dispose()
    load = os.getloadavg()[0]
    print(
        f"\n{ships.height:,} records: {old.height:,} loaded first, then {new.height:,} new "
        f"({new.height / ships.height:.1%}); load average {load:.1f}\n"
    )
    print("| run | mode | seconds | new alerts | updated alerts | records reconsidered |")
    print("|---|---|---:|---:|---:|---:|")
    print(f"| first | {first.mode} | {first_s:.1f} | {first.new} | {first.updated} | all |")
    aff = inc.scope and sum(1 for v in inc.scope.values() if v["scope"] == "affected keys")
    print(
        f"| after the new batch | {inc.mode} | {inc_s:.1f} | {inc.new} | {inc.updated} | "
        f"{inc.reason} ({aff} detectors scoped) |"
    )
    print(
        f"| after the new batch, `--full` (copy of the database) | {full.mode} | {full_s:.1f} "
        f"| {full.new} | {full.updated} | all |"
    )
    print(
        f"\nA full run after the incremental one: {check.new} new, {check.updated} updated "
        "(0 and 0: the incremental run left what a full run gives)."
    )
    if check.new or check.updated or (full.new, full.updated) != (inc.new, inc.updated):
        print("\nMISMATCH: the full run changed alerts the incremental run left", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
