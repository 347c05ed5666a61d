"""Cadence detectors: bursts against a relation's normal rhythm, and series of orders that
together are far above one usual shipment (the DEA's "series of orders")."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
from scipy.stats import gamma

from detection.config import BurstConfig, SplitSeriesConfig
from detection.detectors.common import (
    empty,
    finish,
    kg,
    listed,
    pct,
    relation,
    score,
    substance_name,
)
from detection.prepare import Context

__all__ = ["shipment_burst", "split_series"]

# ------------------------------------------------------------------------ bursts and series


def _cadence(cons: pl.DataFrame) -> pl.DataFrame:
    """Per relation: history size, median gap between shipments (robust to bursts), usual size,
    and the quartiles of its gaps (how regular the cadence is)."""
    gaps = cons.with_columns(pl.col("date").diff().dt.total_days().over("_relation").alias("_gap"))
    return gaps.group_by("_relation").agg(
        pl.len().alias("history"),
        pl.col("_gap").filter(pl.col("_gap") > 0).median().alias("median_gap_days"),
        pl.col("_gap").quantile(0.25, "linear").alias("_gap_q1"),
        pl.col("_gap").quantile(0.5, "linear").alias("_gap_q2"),
        pl.col("_gap").quantile(0.75, "linear").alias("_gap_q3"),
        pl.col("_gap").count().alias("_gaps"),
        pl.col("quantity_kg").median().alias("usual_kg"),
        pl.col("date").min().alias("first_seen"),
    )


# Interquartile range over median of a gamma(shape) variable, to read a relation's cadence
# regularity (the gamma shape of its gaps) off robust quartiles; decreasing in the shape.
_SHAPES = np.exp(np.linspace(math.log(0.2), math.log(50.0), 400))
_IQR_OVER_MEDIAN = (gamma.ppf(0.75, _SHAPES) - gamma.ppf(0.25, _SHAPES)) / gamma.ppf(0.5, _SHAPES)
_NODES = (np.arange(64) + 0.5) / 64


def _regularity(
    q1: pl.Series, q2: pl.Series, q3: pl.Series, gaps: pl.Series, cap: float, min_gaps: int
) -> np.ndarray:
    """Gamma shape of each relation's gaps between shipments, from their quartiles.

    1 is a Poisson cadence (gaps as irregular as chance), above 1 more regular. Read from
    quartiles so a burst's own short gaps barely move it; capped at `cap`, 1 (Poisson) when
    fewer than `min_gaps` gaps are known, and never below 1: the gaps include the window under
    test, so a short relation's own burst would read as "clustered" and excuse itself."""
    med = q2.fill_null(0).to_numpy().astype(float)
    iqr = (q3 - q1).fill_null(0).to_numpy().astype(float)
    ratio = np.divide(iqr, med, out=np.full(med.shape, np.inf), where=med > 0)
    # The table decreases with the shape: negate both to interpolate.
    shape = np.interp(-ratio, -_IQR_OVER_MEDIAN, _SHAPES)
    known = (gaps.fill_null(0).to_numpy() >= min_gaps) & (med > 0)
    return np.where(known, np.clip(shape, 1.0, max(cap, 1.0)), 1.0)


def _renewal_tail(count: np.ndarray, expected: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """P(at least `count` shipments in a window expected to hold `expected`) when gaps between
    shipments are gamma(`shape`) (a stationary renewal process); shape 1 is the Poisson tail.

    Sum over where the first shipment falls: the forward recurrence time has density
    (1 - G(x)) / mean gap, and the remaining count - 1 gaps must fit in what is left."""
    k = count.astype(float)
    lam = np.clip(expected.astype(float), 1e-9, None)
    a = shape.astype(float)[:, None]
    scale = (1.0 / lam / shape)[:, None]  # the window is one unit long
    x = _NODES[None, :]
    first = gamma.sf(x, a, scale=scale) * lam[:, None]
    rest_shape = (np.maximum(k - 1, 1.0))[:, None] * a
    rest = np.where(k[:, None] > 1, gamma.cdf(1.0 - x, rest_shape, scale=scale), 1.0)
    p = (first * rest).mean(axis=1)
    return np.where(k <= 0, 1.0, np.clip(p, 0.0, 1.0))


def _expected(cad_window: pl.DataFrame, days: int, as_of: dt.date) -> pl.DataFrame:
    """Shipments expected in the window from the relation's cadence outside the window.

    Leaving the window out keeps a burst from inflating its own baseline."""
    span = ((pl.lit(as_of) - pl.col("first_seen")).dt.total_days() + 1 - days).clip(days)
    others = pl.col("history") - pl.col("w_count")
    return cad_window.with_columns(
        (others / span * days).clip(0.02).alias("expected"),
        (span / others.clip(1)).alias("cadence_days"),
        others.alias("baseline_shipments"),
    )


def _windows(cons: pl.DataFrame, days: int) -> pl.DataFrame:
    """For each shipment: count and total of its relation's shipments in the `days` ending there."""
    return cons.sort("_relation", "date").with_columns(
        pl.len().rolling(index_column="date", period=f"{days}d").over("_relation").alias("w_count"),
        pl.col("quantity_kg")
        .sum()
        .rolling(index_column="date", period=f"{days}d")
        .over("_relation")
        .alias("w_kg"),
        pl.col("quantity_kg")
        .max()
        .rolling(index_column="date", period=f"{days}d")
        .over("_relation")
        .alias("w_max"),
    )


def _episodes(flagged: pl.DataFrame, cons: pl.DataFrame) -> pl.DataFrame:
    """Merge overlapping flagged windows (each `_w` days long, ending at `date`) into
    episodes and collect their shipments."""
    ep = (
        flagged.with_columns((pl.col("date") - pl.duration(days=pl.col("_w") - 1)).alias("_lo"))
        .sort("_relation", "_lo", "date")
        .with_columns(pl.col("date").cum_max().shift(1).over("_relation").alias("_prev_hi"))
        .with_columns(
            (pl.col("_prev_hi").is_null() | (pl.col("_lo") > pl.col("_prev_hi")))
            .cum_sum()
            .over("_relation")
            .alias("_ep")
        )
        .group_by("_relation", "_ep")
        .agg(
            pl.col("_lo").min(),
            pl.col("date").max().alias("_hi"),
            pl.col("p").min().alias("p"),
            pl.col("cadence_days").max().alias("cadence_days"),
            pl.col("expected").min().alias("expected_in_window"),
            pl.col("_w").max().alias("window_days"),
        )
    )
    members = (
        ep.join(cons, on="_relation")
        .filter(pl.col("date") >= pl.col("_lo"), pl.col("date") <= pl.col("_hi"))
        .group_by("_relation", "_ep")
        .agg(
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("quantity_kg").max().alias("largest_kg"),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
            pl.col(
                "exporter", "importer", "exporter_facility_id", "exporter_country", "substance"
            ).first(),
        )
    )
    return ep.join(members, on=["_relation", "_ep"])


def _window_tails(
    ctx: Context,
    windows: list[int],
    min_history: int,
    max_regularity: float,
    min_gaps: int,
    candidate: pl.Expr,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """Listed shipments per relation, each relation's cadence, and its rolling windows of
    each length in `windows` (`_w` days) that meet `candidate`, with the tail probability `p`
    of their counts given that cadence: its rate outside the window and its regularity (gamma
    renewal; Poisson when the regularity is 1 or unknown). None: nothing listed."""
    cons = listed(ctx).with_columns(relation().alias("_relation"))
    if cons.height == 0:
        return None
    cad = _cadence(cons).filter(pl.col("history") >= min_history)
    cad = cad.with_columns(
        pl.Series(
            "regularity",
            _regularity(
                cad["_gap_q1"],
                cad["_gap_q2"],
                cad["_gap_q3"],
                cad["_gaps"],
                max_regularity,
                min_gaps,
            ),
            dtype=pl.Float64,
        )
    ).drop("_gap_q1", "_gap_q2", "_gap_q3", "_gaps")
    parts = []
    for days in windows:
        w = _expected(_windows(cons, days).join(cad, on="_relation"), days, ctx.as_of)
        parts.append(
            w.filter(pl.col("baseline_shipments") >= 2)
            .filter(candidate)
            .with_columns(pl.lit(days, dtype=pl.Int64).alias("_w"))
        )
    w = pl.concat(parts)
    # The tail only where the counts could matter: it is the costly step.
    w = w.with_columns(
        pl.Series(
            "p",
            _renewal_tail(
                w["w_count"].to_numpy(), w["expected"].to_numpy(), w["regularity"].to_numpy()
            ),
            dtype=pl.Float64,
        )
    )
    return cons, cad, w


def shipment_burst(ctx: Context, cfg: BurstConfig) -> pl.DataFrame:
    """A relation shipped far more often in a short window than its normal cadence explains."""
    windows = [cfg.window_days * 2**k for k in range(cfg.scales)]
    found = _window_tails(
        ctx, windows, cfg.min_history, cfg.max_regularity, cfg.min_gaps_for_regularity,
        pl.col("w_count") >= cfg.min_count,
    )  # fmt: skip
    if found is None:
        return empty()
    cons, cad, w = found
    # Several window lengths tested: each p counts that many times (Bonferroni).
    w = w.with_columns((pl.col("p") * len(windows)).clip(0, 1).alias("p"))
    flagged = w.filter(pl.col("p") <= cfg.max_tail_probability)
    if flagged.height == 0:
        return empty()
    ep = _episodes(
        flagged.select("_relation", "date", "p", "cadence_days", "expected", "_w"), cons
    ).join(cad, on="_relation")
    strength = ((-pl.col("p").log10() - (-math.log10(cfg.max_tail_probability))) / 6).clip(0, 1)
    ep = ep.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("first_date").cast(pl.String)], separator="|").alias("key"),
        score(cfg, strength).alias("score"),
        pl.format("{} sent {} shipments of {} ({} kg) to {} between {} and {}; its normal cadence is one every {} days.", "exporter", "count", substance_name(ctx), kg("total_kg"), "importer", "first_date", "last_date", pct(pl.col("cadence_days") / 100)).alias("summary"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return finish(
        ep,
        "shipment_burst",
        cfg,
        [
            "count",
            "total_kg",
            "first_date",
            "last_date",
            "cadence_days",
            "expected_in_window",
            "window_days",
            "p",
            "regularity",
            "history",
        ],
    )


def split_series(ctx: Context, cfg: SplitSeriesConfig) -> pl.DataFrame:
    """A series of orders in a few days that together are far above one usual shipment (DEA 'series of orders')."""
    found = _window_tails(
        ctx, [cfg.window_days], cfg.min_history, cfg.max_regularity, cfg.min_gaps_for_regularity,
        (pl.col("w_count") >= cfg.min_count)
        & (pl.col("w_kg") >= cfg.min_total_ratio * pl.col("usual_kg"))
        # Structuring splits one order into pieces no larger than an ordinary shipment.
        & (pl.col("w_max") <= cfg.max_piece_ratio * pl.col("usual_kg")),
    )  # fmt: skip
    if found is None:
        return empty()
    cons, cad, w = found
    flagged = w.filter(pl.col("p") <= cfg.max_tail_probability)
    if flagged.height == 0:
        return empty()
    ep = _episodes(
        flagged.select("_relation", "date", "p", "cadence_days", "expected", "_w"), cons
    ).join(cad, on="_relation")
    ep = ep.with_columns((pl.col("total_kg") / pl.col("usual_kg")).alias("times_usual")).filter(
        pl.col("largest_kg") <= cfg.max_piece_ratio * pl.col("usual_kg")
    )
    if ep.height == 0:
        return empty()
    strength = ((pl.col("times_usual") - cfg.min_total_ratio) / 4).clip(0, 1)
    ep = ep.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("first_date").cast(pl.String)], separator="|").alias("key"),
        score(cfg, (20 * strength + 15 * ((-pl.col("p").log10() - 3) / 6).clip(0, 1)) / 35).alias("score"),
        pl.format("{} split {} kg of {} to {} into {} shipments between {} and {}, none above {} kg: together {} times its usual {} kg shipment.", "exporter", kg("total_kg"), substance_name(ctx), "importer", "count", "first_date", "last_date", kg("largest_kg"), pl.col("times_usual").round(1), kg("usual_kg")).alias("summary"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return finish(
        ep,
        "split_series",
        cfg,
        [
            "count",
            "total_kg",
            "largest_kg",
            "usual_kg",
            "times_usual",
            "first_date",
            "last_date",
            "cadence_days",
            "p",
            "regularity",
        ],
    )
