"""Detection quality on fresh seeds: recall per pattern, precision@K, alerts per 10,000 records.

    python bench/eval_detect.py --seeds 202,303,404 --shipments 20000
    python bench/eval_detect.py --seeds 202,303,404 --noise-only

Seeds 101 and 102 were the tuning seeds of the noisy generator; report figures on seeds
never used while tuning. `--noise-only` plants nothing: the alerts per 10,000 records of a
noisy legitimate feed, by detector.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detection.evaluate import evaluate
from detection.run import detect
from sample_data.generate import generate


def _noise_only(seeds: list[int], n: int) -> None:
    print(f"\n## Alerts on noisy feeds with nothing planted ({n:,} records each)\n")
    print("| seed | records | alerts | per 10,000 | by detector |")
    print("|---:|---:|---:|---:|---|")
    for seed in seeds:
        s = generate(seed, n, plant=())
        a = detect(s.registry_shipments, s.declarations)
        by = ", ".join(f"{d} {c}" for d, c in a.group_by("detector").len().sort("detector").rows())
        per = a.height / s.registry_shipments.height * 10_000
        print(f"| {seed} | {s.registry_shipments.height:,} | {a.height} | {per:.1f} | {by} |")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="202,303,404")
    ap.add_argument("--shipments", type=int, default=20_000)
    ap.add_argument("--noise-only", action="store_true", help="plant nothing")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.noise_only:
        _noise_only(seeds, args.shipments)
        return
    per: list[pl.DataFrame] = []
    summary = []
    for seed in seeds:
        s = generate(seed, args.shipments)
        t0 = time.perf_counter()
        alerts = detect(s.registry_shipments, s.declarations)
        secs = time.perf_counter() - t0
        ev = evaluate(alerts, s.registry_shipments, s.answer_key)
        per.append(ev.per_pattern.with_columns(pl.lit(seed).alias("seed")))
        summary.append(
            (seed, ev.records, ev.injected, ev.alerts, ev.alerts_per_10k, ev.precision_at_k, secs)
        )
    allp = pl.concat(per)
    wide = allp.pivot(on="seed", index="pattern", values="recall").sort("pattern")
    pooled = allp.group_by("pattern").agg(pl.col("found").sum(), pl.col("injected").sum())
    wide = wide.join(pooled, on="pattern").with_columns(
        (pl.col("found") / pl.col("injected")).alias("pooled")
    )
    print(f"\n## Detection quality on fresh seeds ({args.shipments:,} records each)\n")
    print(
        "| pattern | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | pooled found/injected | pooled recall |"
    )
    print("|---|" + "---:|" * (len(seeds) + 2))
    for r in wide.iter_rows(named=True):
        cells = " | ".join(f"{r[str(s)]:.2f}" for s in seeds)
        print(f"| {r['pattern']} | {cells} | {r['found']}/{r['injected']} | {r['pooled']:.2f} |")
    print(
        "\n| seed | records | injected (K) | alerts | alerts per 10k | precision@K | detect time |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for seed, n, k, a, a10, p, secs in summary:
        print(f"| {seed} | {n:,} | {k} | {a} | {a10:.1f} | {p:.2f} | {secs:.1f} s |")


if __name__ == "__main__":
    main()
