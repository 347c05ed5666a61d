"""Planted cases against a relation's own history: DEA 21 CFR 1301.74(b) suspicious orders
of unusual size, unusual frequency, and a series of orders (one order split to stay small).

Strength tiers, each relative to the relation's own usual consignment and cadence (gap =
365 / consignments a year):

| pattern | blatant | moderate | subtle (still clear) |
|---|---|---|---|
| unusual_size: one consignment, times usual | 10-25 | 4-10 | 2.8-4, on a steady relation (size spread <= 0.25, >= 8 consignments) |
| frequency_burst: consignments of usual size, in a window where E were expected | 9-14, E 1-2 | 6-8, E 1-1.8 | 5, E 0.8-1.2, on a regular relation (gap shape >= 2.5) |
| series_splitting: parts each below usual, within a window of days, together times usual | 4-8 | 2.5-4 | 1.8-2.5 |

A series is cut into equal parts (structuring) two times in three, otherwise into parts of
50-95% of usual; its window is 0 to 14 days and at most half the relation's usual gap.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from sample_data.planting import Planter, sub_name
from sample_data.trade import pack_round
from sample_data.world import DAYS

__all__ = ["frequency_burst", "series_splitting", "unusual_size"]


def unusual_size(p: Planter, n: int) -> None:
    """One consignment far above what the relation usually ships."""
    for tier in p.tiers(n):
        lo, hi = {"blatant": (10, 25), "moderate": (4, 10), "subtle": (2.8, 4)}[tier]
        cond = pl.col("n") >= 6
        if tier == "subtle":
            cond = (pl.col("n") >= 8) & (pl.col("sigma") <= 0.25)
        r = p.pick_rel(cond)
        if r is None:
            continue
        f = p.uniform(lo, hi)
        qty = p.usual_qty(r, f)
        day = int(p.rng.integers(int(r["first"]) + 60, max(int(r["first"]) + 61, int(r["last"]))))
        aid = p.label(
            "unusual_size",
            tier,
            f"one consignment of {qty[0]:,.0f} kg of {sub_name(r['sub'])} from "
            f"{p.name(r['exp'])} to {p.name(r['imp'])}, {qty[0] / r['usual']:.1f} times the "
            f"{r['usual']:,.0f} kg this relation usually ships",
            p.facility(r["exp"], r["imp"]),
            r["sub"],
        )
        p.add(
            r["exp"], r["imp"], r["sub"], np.array([day]), qty, aid, rel=r["rel"], price=r["price"]
        )


def frequency_burst(p: Planter, n: int) -> None:
    """Many consignments of ordinary size in a short time on a relation that ships seldom."""
    for tier in p.tiers(n):
        if tier == "blatant":
            k, expected, cond = int(p.rng.integers(9, 15)), p.uniform(1, 2), pl.lit(True)
        elif tier == "moderate":
            k, expected, cond = int(p.rng.integers(6, 9)), p.uniform(1, 1.8), pl.lit(True)
        else:
            k, expected, cond = 5, p.uniform(0.8, 1.2), pl.col("shape") >= 2.5
        r = p.pick_rel(cond & (pl.col("n") >= 6) & (pl.col("gap") >= 10))
        if r is None:
            continue
        width = max(5.0, expected * float(r["gap"]))
        d0 = p.uniform(float(r["first"]) + 30, max(float(r["first"]) + 31, DAYS - width - 1))
        days = np.sort(d0 + p.rng.uniform(0, width, k)).astype(np.int64)
        qty = pack_round(
            float(r["usual"]) * p.rng.lognormal(0.0, float(r["sigma"]), k), np.full(k, r["pack"])
        )
        aid = p.label(
            "frequency_burst",
            tier,
            f"{k} consignments of {sub_name(r['sub'])} from {p.name(r['exp'])} to "
            f"{p.name(r['imp'])} within {width:.0f} days, on a relation that ships about every "
            f"{r['gap']:.0f} days ({expected:.1f} expected in that time)",
            p.facility(r["exp"], r["imp"]),
            r["sub"],
        )
        p.add(r["exp"], r["imp"], r["sub"], days, qty, aid, rel=r["rel"], price=r["price"])


def series_splitting(p: Planter, n: int) -> None:
    """One large order sent as several smaller consignments within days (a series of orders)."""
    for tier in p.tiers(n):
        lo, hi = {"blatant": (4, 8), "moderate": (2.5, 4), "subtle": (1.8, 2.5)}[tier]
        r = p.pick_rel((pl.col("n") >= 6) & (pl.col("gap") >= 10) & (pl.col("usual") >= 4))
        if r is None:
            continue
        usual = float(r["usual"])
        total = p.uniform(lo, hi) * usual
        if p.rng.random() < 2 / 3:  # equal parts just under the usual size
            part = pack_round(np.array([usual * p.uniform(0.6, 0.95)]), np.array([1.0]))[0]
            k = max(3, math.ceil(total / part))
            parts = np.full(k, part)
        else:
            k = max(3, math.ceil(total / (0.72 * usual)))
            parts = pack_round(usual * p.rng.uniform(0.5, 0.95, k), np.ones(k))
        window = int(p.rng.integers(0, int(min(14, 0.5 * float(r["gap"]))) + 1))
        d0 = int(p.rng.integers(int(r["first"]) + 30, max(int(r["first"]) + 31, DAYS - window - 1)))
        days = np.sort(d0 + p.rng.integers(0, window + 1, k))
        aid = p.label(
            "series_splitting",
            tier,
            f"{k} consignments of {sub_name(r['sub'])} from {p.name(r['exp'])} to "
            f"{p.name(r['imp'])} within {window + 1} days, each at most "
            f"{parts.max():,.0f} kg against a usual {usual:,.0f} kg, together "
            f"{parts.sum():,.0f} kg = {parts.sum() / usual:.1f} times one usual consignment",
            p.facility(r["exp"], r["imp"]),
            r["sub"],
        )
        p.add(r["exp"], r["imp"], r["sub"], days, parts, aid, rel=r["rel"], price=r["price"])
