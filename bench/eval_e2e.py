"""End-to-end detection quality: the sample's CSV files -> `pwatch ingest` -> `pwatch detect`.

    .venv/bin/python bench/eval_e2e.py --seeds 505,606,707,808 --shipments 20000
    .venv/bin/python bench/eval_e2e.py --seeds 505 --styles canonical,eu,latam --noise-only

`bench/eval_detect.py` scores the detectors on the generator's in-memory registry, whose
party-to-facility links are the generator's own truth. This script goes the way a user (or
any evaluator) does: the feed and the registry are written as CSV files, loaded through the
ingest pipeline (its normalisation, country and unit reading, party linking) into a fresh
SQLite registry, and `run_detection` stores the alerts; they are scored against the answer
key as in eval_detect (an alert finds an anomaly when they share a shipment record, or for
a declared quantity anomaly when it is about the same facility and substance).
Each seed can be written in several of the generator's feed styles (columns, separators,
date formats, decimal commas of national feeds; loaded with the profile the generator writes),
and with nothing planted (`--noise-only`: the alerts per 10,000 records of a noisy feed).
Facility linking is measured too: the share of shipment records whose exporter and importer
ingest linked to the facility the generator says, linked to another, or left unlinked.
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


def _links(engine, sample) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Records whose parties ingest linked as the generator says, to another facility, or not."""
    with session_scope(engine) as ses:
        rows = ses.execute(
            select(
                Shipment.shipment_id, Shipment.exporter_facility_id, Shipment.importer_facility_id
            )
        ).all()
    got = pl.DataFrame(
        rows,
        schema={"shipment_id": pl.String, "x_got": pl.String, "m_got": pl.String},
        orient="row",
    )
    truth = sample.registry_shipments.select(
        "shipment_id", pl.col("exporter_facility_id").alias("x_true"),
        pl.col("importer_facility_id").alias("m_true"),
    ).join(got, on="shipment_id")  # fmt: skip
    out: dict[str, float] = {}
    for side in ("x", "m"):
        t, g = pl.col(f"{side}_true"), pl.col(f"{side}_got")
        declared = truth.filter(t.is_not_null())
        out[f"{side}_linked"] = declared.filter(g == t).height / max(1, declared.height)
        out[f"{side}_wrong"] = truth.filter(
            g.is_not_null() & (t.is_null() | (g != t))
        ).height / max(1, truth.height)
    return out


def _run(
    seed: int, n: int, work: Path, style: str = "canonical", noise_only: bool = False
) -> tuple[pl.DataFrame, dict[str, float]]:
    sample = generate(seed, n, plant=() if noise_only else None)
    paths = write_sample(sample, work / f"s{seed}-{style}", style=style)
    fac, ship, key = paths[:3]
    profile = paths[3] if len(paths) > 3 else None
    engine = make_engine(f"sqlite:///{work / f's{seed}-{style}.db'}")
    init_db(engine)
    t0 = time.perf_counter()
    load_file(engine, fac, "facilities")
    rep = load_file(engine, ship, "shipments", profile=profile)
    from registry.detect_store import run_detection

    run_detection(engine)
    seconds = time.perf_counter() - t0
    engine.dispose()
    engine = make_engine(f"sqlite:///{work / f's{seed}-{style}.db'}")
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
    links = _links(engine, sample)
    stats = {
        **links,
        "records": float(shipments.height),
        "quarantined": float(rep.rows_quarantined),
        "alerts": float(ev.alerts),
        "per_10k": ev.alerts_per_10k,
        "p_at_k": ev.precision_at_k,
        "seconds": seconds,
    }
    engine.dispose()
    return ev.per_pattern.with_columns(pl.lit(seed).alias("seed")), stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="505,606,707,808", help="comma-separated seeds")
    ap.add_argument("--shipments", type=int, default=20_000)
    ap.add_argument("--styles", default="canonical", help="comma-separated feed styles")
    ap.add_argument("--noise-only", action="store_true", help="plant nothing: alerts per 10k")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    per, stats = [], {}
    with tempfile.TemporaryDirectory(prefix="pwatch-e2e-") as tmp:
        for seed in seeds:
            for style in styles:
                p, st = _run(seed, args.shipments, Path(tmp), style, args.noise_only)
                per.append(p.with_columns(pl.lit(style).alias("style")))
                stats[(seed, style)] = st
    what = "nothing planted" if args.noise_only else "every pattern planted"
    print(
        f"\n## End to end (CSV -> ingest -> detect), {args.shipments:,} records per seed, {what}\n"
    )
    runs = list(stats)
    if not args.noise_only:
        table = pl.concat(per)
        pooled = table.group_by("pattern").agg(pl.col("injected").sum(), pl.col("found").sum())
        print("| pattern | " + " | ".join(f"{s} {st}" for s, st in runs) + " | pooled |")
        print("|---|" + "---:|" * (len(runs) + 1))
        for pat in sorted(table["pattern"].unique().to_list()):
            cells = []
            for s, st in runs:
                r = table.filter(
                    (pl.col("pattern") == pat) & (pl.col("seed") == s) & (pl.col("style") == st)
                )
                cells.append(f"{r['found'][0]}/{r['injected'][0]}" if r.height else "-")
            pr = pooled.filter(pl.col("pattern") == pat)
            cells.append(f"{pr['found'][0]}/{pr['injected'][0]}")
            print(f"| {pat} | " + " | ".join(cells) + " |")
    print(
        "\n| seed | style | records | quarantined | alerts | per 10k | precision@K | exporters linked right / wrong | importers linked right / wrong | load + detect |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (s, style), st in stats.items():
        print(
            f"| {s} | {style} | {st['records']:,.0f} | {st['quarantined']:,.0f} | {st['alerts']:.0f} | "
            f"{st['per_10k']:.1f} | {st['p_at_k']:.2f} | {st['x_linked']:.3f} / {st['x_wrong']:.3f} | "
            f"{st['m_linked']:.3f} / {st['m_wrong']:.3f} | {st['seconds']:.1f} s |"
        )


if __name__ == "__main__":
    main()
