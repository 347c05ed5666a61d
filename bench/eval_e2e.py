"""End-to-end detection quality: the sample's CSV files -> `pwatch ingest` -> `pwatch detect`.

    .venv/bin/python bench/eval_e2e.py --seeds 505,606,707,808 --shipments 20000

`bench/eval_detect.py` scores the detectors on the generator's in-memory registry, whose
party-to-facility links are the generator's own truth. This script goes the way a user (or
any evaluator) does: the feed and the registry are written as CSV files, loaded through the
ingest pipeline (its normalisation, country and unit reading, party linking) into a fresh
SQLite registry, and `run_detection` stores the alerts; they are scored against the answer
key as in eval_detect (an alert finds an anomaly when they share a shipment record, or for
a declared quantity anomaly when it is about the same facility and substance).
Prints a Markdown table per seed and pooled.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl
from sqlalchemy import select

from detection.evaluate import evaluate
from ingest import load_file
from registry.db import init_db, make_engine, session_scope
from registry.models import AlertRow, AlertShipment, Shipment
from sample_data.generate import generate, write_sample


def _run(seed: int, n: int, work: Path) -> tuple[pl.DataFrame, dict[str, float]]:
    sample = generate(seed, n)
    fac, ship, key = write_sample(sample, work / f"s{seed}")
    engine = make_engine(f"sqlite:///{work / f's{seed}.db'}")
    init_db(engine)
    t0 = time.perf_counter()
    load_file(engine, fac, "facilities")
    rep = load_file(engine, ship, "shipments")
    from registry.detect_store import run_detection

    run_detection(engine)
    seconds = time.perf_counter() - t0
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                AlertRow.id,
                AlertRow.detector,
                AlertRow.facility_id,
                AlertRow.substance_cas,
                AlertRow.score,
            ).order_by(AlertRow.score.desc(), AlertRow.id)
        ).all()
        links = s.execute(select(AlertShipment.alert_id, AlertShipment.shipment_pk)).all()
        ships = s.execute(select(Shipment.id, Shipment.shipment_id)).all()
    engine.dispose()
    pks: dict[int, list[int]] = {}
    for a, p in links:
        pks.setdefault(a, []).append(p)
    alerts = pl.DataFrame(
        {
            "detector": [r.detector for r in rows],
            "shipment_pks": [pks.get(r.id, []) for r in rows],
            "facility_id": [r.facility_id for r in rows],
            "substance_cas": [r.substance_cas for r in rows],
            "score": [float(r.score) for r in rows],
        },
        schema={
            "detector": pl.String,
            "shipment_pks": pl.List(pl.Int64),
            "facility_id": pl.String,
            "substance_cas": pl.String,
            "score": pl.Float64,
        },
    )
    shipments = pl.DataFrame(
        {"id": [r[0] for r in ships], "shipment_id": [r[1] for r in ships]},
        schema={"id": pl.Int64, "shipment_id": pl.String},
    )
    ev = evaluate(alerts, shipments, pl.read_csv(key, infer_schema=False))
    stats = {
        "records": float(shipments.height),
        "quarantined": float(rep.rows_quarantined),
        "alerts": float(ev.alerts),
        "per_10k": ev.alerts_per_10k,
        "p_at_k": ev.precision_at_k,
        "seconds": seconds,
    }
    return ev.per_pattern.with_columns(pl.lit(seed).alias("seed")), stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="505,606,707,808", help="comma-separated seeds")
    ap.add_argument("--shipments", type=int, default=20_000)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    per, stats = [], {}
    with tempfile.TemporaryDirectory(prefix="pwatch-e2e-") as tmp:
        for seed in seeds:
            p, st = _run(seed, args.shipments, Path(tmp))
            per.append(p)
            stats[seed] = st
    table = pl.concat(per)
    pooled = table.group_by("pattern").agg(pl.col("injected").sum(), pl.col("found").sum())
    print(f"\n## End to end (CSV -> ingest -> detect), {args.shipments:,} records per seed\n")
    print("| pattern | " + " | ".join(f"seed {s}" for s in seeds) + " | pooled |")
    print("|---|" + "---:|" * (len(seeds) + 1))
    for pat in sorted(table["pattern"].unique().to_list()):
        cells = []
        for s in seeds:
            r = table.filter((pl.col("pattern") == pat) & (pl.col("seed") == s))
            cells.append(f"{r['found'][0]}/{r['injected'][0]}" if r.height else "-")
        pr = pooled.filter(pl.col("pattern") == pat)
        cells.append(f"{pr['found'][0]}/{pr['injected'][0]}")
        print(f"| {pat} | " + " | ".join(cells) + " |")
    print("\n| seed | records | quarantined | alerts | per 10k | precision@K | load + detect |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for s, st in stats.items():
        print(
            f"| {s} | {st['records']:,.0f} | {st['quarantined']:,.0f} | {st['alerts']:.0f} | "
            f"{st['per_10k']:.1f} | {st['p_at_k']:.2f} | {st['seconds']:.1f} s |"
        )


if __name__ == "__main__":
    main()
