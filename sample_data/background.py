"""How far the legitimate background goes, measured on the generator's own consignments, so
the planted strengths can be shown to stand clear of it (the figures in plant_volume.py).

Run: `.venv/bin/python -m sample_data.background --seed 505 --shipments 20000`
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl

from sample_data.generate import PATTERNS
from sample_data.noise import NoiseConfig
from sample_data.parties import build_parties
from sample_data.trade import build_relations, consignments, scale_rates

__all__ = ["background_extremes"]


def _most_within(days: np.ndarray, width: float) -> int:
    """The most consignments any window of `width` days holds."""
    ends = np.searchsorted(days, days + width, side="right")
    return int((ends - np.arange(len(days))).max())


def _series_total(days: np.ndarray, qty: np.ndarray, width: float, small: bool) -> float:
    """The largest total, in usual consignments, of 3 or more consignments within `width`
    (with `small`, only of consignments each below the usual size, as a split order is)."""
    usual = float(np.median(qty))
    ends = np.searchsorted(days, days + width, side="right")
    totals = [
        qty[i:e].sum() / usual
        for i, e in enumerate(ends)
        if e - i >= 3 and (not small or qty[i:e].max() < usual)
    ]
    return max(totals, default=0.0)


def background_extremes(seed: int, n_shipments: int) -> dict[str, float]:
    """Extremes of the listed relations with at least six consignments (nothing planted)."""
    rng = np.random.default_rng(seed)
    noise = NoiseConfig()
    parties = build_parties(rng, max(40, round(n_shipments / 150)), noise.head_offices)
    rel = build_relations(rng, parties, trader_reexports=True, price_spread=noise.price_spread)
    k = max(2, round(n_shipments * 8 / 20_000))  # as generate() sizes the background
    rel = scale_rates(rel, parties, max(n_shipments // 2, n_shipments - 8 * k * len(PATTERNS)))
    cons = consignments(rng, rel, parties, price_spread=noise.price_spread, late_share=0.5)
    listed = (
        cons.join(rel.select("rel", "listed", "sigma", "shape", "rate"), on="rel")
        .filter(pl.col("listed"))
        .sort("rel", "day")
        .group_by("rel", maintain_order=True)
        .agg("day", "qty", pl.col("sigma", "shape", "rate").first(), pl.len())
        .filter(pl.col("len") >= 6)
    )
    out: dict[str, float] = {"relations": float(listed.height)}
    size = {True: 0.0, False: 0.0}
    burst = {(w, reg): 0 for w in (1.0, 1.5, 2.0) for reg in (True, False)}
    series = {(reg, small): 0.0 for reg in (True, False) for small in (True, False)}
    for r in listed.iter_rows(named=True):
        days, qty, gap = np.asarray(r["day"]), np.asarray(r["qty"]), 365.0 / r["rate"]
        steady = r["sigma"] <= 0.25
        size[steady] = max(size[steady], float(qty.max() / np.median(qty)))
        for w, reg in burst:
            if reg == (r["shape"] >= 2.5):
                burst[w, reg] = max(burst[w, reg], _most_within(days, w * gap))
        if gap >= 10:
            for reg, small in series:
                if reg == (r["shape"] >= 2):
                    total = _series_total(days, qty, min(14, gap / 2), small)
                    series[reg, small] = max(series[reg, small], total)
    # Price per kg against the product's median, consignments of 25 kg or more (no small lot).
    lots = cons.filter(pl.col("qty") >= 25).with_columns(
        (pl.col("price") / pl.col("price").median().over("sub")).alias("ratio")
    )
    out |= {
        "price / product median, highest": float(lots["ratio"].max() or 0.0),  # type: ignore[arg-type]
        "price / product median, lowest": float(lots["ratio"].min() or 0.0),  # type: ignore[arg-type]
        "largest / median, steady relations": size[True],
        "largest / median, other relations": size[False],
        **{
            f"most consignments within {w} gaps, {'regular' if reg else 'other'} relations": float(
                v
            )
            for (w, reg), v in burst.items()
        },
        **{
            f"3+ within half a gap (<= 14 days){', each below usual' if small else ''}: "
            f"total / usual, {'regular' if reg else 'other'} relations": v
            for (reg, small), v in series.items()
        },
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=505)
    ap.add_argument("--shipments", type=int, default=20_000)
    args = ap.parse_args()
    for name, value in background_extremes(args.seed, args.shipments).items():
        print(f"{name}: {value:.2f}")


if __name__ == "__main__":
    main()
