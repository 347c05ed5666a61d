"""Benchmark: every detector over a generated feed (default 1,000,000 records, ~3,000 facilities).

Measures, in one run, on the same data:
- precursor-watch detection on the frames (time, peak memory of a fresh process, quality);
- the reference script: per-exporter z-score plus an IsolationForest over the shipments;
- optionally end to end from SQLite and PostgreSQL (load is timed apart from detection).

    python bench/bench_detect.py                       # 1M records, frames + reference
    python bench/bench_detect.py --quick               # 20k records, all of it incl. SQLite
    python bench/bench_detect.py --sqlite --postgres postgresql://postgres@127.0.0.1:5432/postgres

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl
from peak import peak_mb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child_frames(folder: Path) -> None:
    """Run detection on saved frames in this (fresh) process; print JSON figures."""
    from detection.evaluate import evaluate
    from detection.run import detect

    ships = pl.read_parquet(folder / "shipments.parquet")
    decl = pl.read_parquet(folder / "declarations.parquet")
    key = pl.read_parquet(folder / "answer_key.parquet")
    t0 = time.perf_counter()
    alerts = detect(ships, decl)
    secs = time.perf_counter() - t0
    ev = evaluate(alerts, ships, key)
    print(json.dumps({"seconds": secs, "peak_mb": peak_mb(), **_figures(ev)}))


def child_reference(folder: Path) -> None:
    """The reference script: per-exporter z-score + IsolationForest, no screening, no mirrors."""
    from sklearn.ensemble import IsolationForest

    from detection.evaluate import evaluate
    from detection.schema import ALERT_SCHEMA

    ships = pl.read_parquet(folder / "shipments.parquet")
    key = pl.read_parquet(folder / "answer_key.parquet")
    t0 = time.perf_counter()
    s = ships.filter(pl.col("quantity_kg") > 0).with_columns(
        pl.col("quantity_kg").log().alias("lq"),
        pl.col("date").dt.ordinal_day().alias("doy"),
    )
    s = s.with_columns(
        ((pl.col("quantity_kg") - pl.col("quantity_kg").mean().over("exporter"))
         / pl.col("quantity_kg").std().over("exporter")).fill_null(0).fill_nan(0).alias("z"),
        pl.len().over("exporter").log().alias("log_n"),
    )  # fmt: skip
    x = s.select("lq", "doy", "log_n", "z").to_numpy()
    iso = IsolationForest(n_estimators=100, contamination=0.02, random_state=0).fit(x)
    flag = (s["z"].abs() > 3).to_numpy() | (iso.predict(x) == -1)
    hits = s.filter(pl.Series(flag)).with_columns(
        pl.lit("reference").alias("detector"),
        pl.col("id").cast(pl.String).alias("key"),
        (pl.col("z").abs() * 10).clip(0, 100).alias("score"),
        pl.concat_list(pl.col("id")).alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.lit(None, dtype=pl.String).alias("substance_cas"),
    )
    alerts = hits.select(
        [pl.col(c) if c in hits.columns else pl.lit(None).alias(c) for c in ALERT_SCHEMA]
    ).sort("score", descending=True)
    secs = time.perf_counter() - t0
    ev = evaluate(alerts, ships, key)
    print(json.dumps({"seconds": secs, "peak_mb": peak_mb(), **_figures(ev)}))


def _figures(ev) -> dict:  # type: ignore[no-untyped-def]
    return {
        "recall": {r["pattern"]: r["recall"] for r in ev.per_pattern.iter_rows(named=True)},
        "precision_at_k": ev.precision_at_k,
        "alerts": ev.alerts,
        "alerts_per_10k": ev.alerts_per_10k,
        "records": ev.records,
    }


def _child(mode: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _end_to_end(url: str, sample, label: str) -> dict:  # type: ignore[no-untyped-def]
    from registry.db import init_db, make_engine
    from registry.detect_store import run_detection
    from sample_data.registry_load import load_facilities, load_shipments

    eng = make_engine(url)
    init_db(eng)
    t0 = time.perf_counter()
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = run_detection(eng)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = run_detection(eng)
    second_s = time.perf_counter() - t0
    eng.dispose()
    return {
        "label": label,
        "load_s": load_s,
        "detect_s": first_s,
        "rerun_s": second_s,
        "alerts": first.new,
        "rerun_new": second.new,
        "phases": ", ".join(f"{k} {v:.1f}" for k, v in first.phases.items()),
    }


def _print_frames(ours: dict, ref: dict, facilities: int, gen_s: float) -> None:
    patterns = sorted(ours["recall"])
    print(
        f"\n## Detection benchmark: {ours['records']:,} shipment records, {facilities:,} declared facilities"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, polars {pl.__version__}; generation {gen_s:.1f} s\n"
    )
    print("| | precursor-watch | reference (z-score + IsolationForest) |")
    print("|---|---:|---:|")
    print(f"| time on the frames | {ours['seconds']:.1f} s | {ref['seconds']:.1f} s |")
    print(f"| peak memory (process) | {ours['peak_mb']:.0f} MB | {ref['peak_mb']:.0f} MB |")
    print(f"| alerts | {ours['alerts']:,} | {ref['alerts']:,} |")
    print(
        f"| alerts per 10,000 records | {ours['alerts_per_10k']:.1f} | {ref['alerts_per_10k']:.1f} |"
    )
    print(f"| precision among top K | {ours['precision_at_k']:.2f} | {ref['precision_at_k']:.2f} |")
    for p in patterns:
        print(f"| recall: {p} | {ours['recall'][p]:.2f} | {ref['recall'].get(p, 0.0):.2f} |")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="20,000 records and SQLite end to end")
    ap.add_argument("--shipments", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--sqlite", action="store_true", help="also end to end from SQLite")
    ap.add_argument("--postgres", metavar="ADMIN_URL", help="also end to end from PostgreSQL")
    ap.add_argument(
        "--e2e-only", action="store_true", help="only end to end (no frames, no reference)"
    )
    args = ap.parse_args()
    if args.child:
        mode, folder = args.child
        (child_frames if mode == "frames" else child_reference)(Path(folder))
        return
    n = 20_000 if args.quick else args.shipments
    sqlite = args.sqlite or args.quick

    from sample_data.generate import generate

    t0 = time.perf_counter()
    sample = generate(args.seed, n)
    gen_s = time.perf_counter() - t0
    facilities = sample.declarations["facility_id"].n_unique()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample.registry_shipments.write_parquet(folder / "shipments.parquet")
        sample.declarations.write_parquet(folder / "declarations.parquet")
        sample.answer_key.write_parquet(folder / "answer_key.parquet")
        ours: dict = {}
        if not args.e2e_only:
            ours = _child("frames", folder)
            ref = _child("reference", folder)
            _print_frames(ours, ref, facilities, gen_s)
        e2e = []
        if sqlite:
            e2e.append(_end_to_end(f"sqlite:///{folder / 'bench.db'}", sample, "SQLite"))
            print(json.dumps(e2e[-1]), file=sys.stderr, flush=True)
        if args.postgres:
            from sqlalchemy import create_engine, text

            name = f"pwatch_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = args.postgres.rsplit("/", 1)[0] + "/" + name
                e2e.append(_end_to_end(url, sample, "PostgreSQL"))
                print(json.dumps(e2e[-1]), file=sys.stderr, flush=True)
            finally:
                from registry import db as regdb

                for k in list(regdb._engines):
                    regdb._engines.pop(k).dispose()
                with admin.connect() as c:
                    c.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                        ),
                        {"n": name},
                    )
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()
    if e2e:
        print(
            "\n| end to end | load (not detection) | `run_detection` (read, detect, upsert) | its phases (s) | re-run (cached screen) | alerts |"
        )
        print("|---|---:|---:|---|---:|---:|")
        for r in e2e:
            print(
                f"| {r['label']} | {r['load_s']:.1f} s | {r['detect_s']:.1f} s | {r['phases']} | {r['rerun_s']:.1f} s | {r['alerts']:,} (re-run new: {r['rerun_new']}) |"
            )
    rows.append(ours)
    _ = np


if __name__ == "__main__":
    main()
