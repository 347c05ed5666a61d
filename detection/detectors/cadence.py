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
    chance,
    empty,
    finish,
    kg,
    listed,
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
        pl.col("date").max().alias("last_seen"),
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


_EPISODE_COLUMNS = ("_relation", "_lo", "date", "p", "cadence_days", "expected", "_w")


def _episodes(flagged: pl.DataFrame, cons: pl.DataFrame, best_only: bool = False) -> pl.DataFrame:
    """Merge overlapping flagged windows (each from `_lo` to `date`) into episodes and collect
    their shipments; an episode's numbers are those of its least likely window. `best_only`:
    the shipments of that window alone (the most likely cluster of a scan), not of them all."""
    best = pl.col("p").arg_min()
    ep = (
        flagged.sort("_relation", "_lo", "date")
        .with_columns(pl.col("date").cum_max().shift(1).over("_relation").alias("_prev_hi"))
        .with_columns(
            (pl.col("_prev_hi").is_null() | (pl.col("_lo") > pl.col("_prev_hi")))
            .cum_sum()
            .over("_relation")
            .alias("_ep")
        )
        .group_by("_relation", "_ep")
        .agg(
            pl.col("_lo").get(best) if best_only else pl.col("_lo").min(),
            pl.col("date").get(best).alias("_hi")
            if best_only
            else pl.col("date").max().alias("_hi"),
            pl.col("p").min().alias("p"),
            pl.col("cadence_days").get(best),
            pl.col("expected").get(best).alias("expected_in_window"),
            pl.col("_w").get(best).alias("window_days"),
            # Any further column (the burst's run and baseline) from the least likely window.
            *[pl.col(c).get(best) for c in flagged.columns if c not in _EPISODE_COLUMNS],
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


def _relations(
    ctx: Context, min_history: int, max_regularity: float, min_gaps: int
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """Listed shipments per relation (`_relation`) and the cadence of each relation with
    `min_history` of them, with its regularity. None: nothing listed."""
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
    return cons, cad


def _with_tail(w: pl.DataFrame, count: str) -> pl.DataFrame:
    """Add `p`: the renewal tail of `count` shipments where `expected` were expected."""
    p = _renewal_tail(w[count].to_numpy(), w["expected"].to_numpy(), w["regularity"].to_numpy())
    return w.with_columns(pl.Series("p", p, dtype=pl.Float64))


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
    found = _relations(ctx, min_history, max_regularity, min_gaps)
    if found is None:
        return None
    cons, cad = found
    parts = []
    for days in windows:
        w = _expected(_windows(cons, days).join(cad, on="_relation"), days, ctx.as_of)
        parts.append(
            w.filter(pl.col("baseline_shipments") >= 2)
            .filter(candidate)
            .with_columns(pl.lit(days, dtype=pl.Int64).alias("_w"))
        )
    # The tail only where the counts could matter: it is the costly step.
    return cons, cad, _with_tail(pl.concat(parts), "w_count")


def _runs(cons: pl.DataFrame, cad: pl.DataFrame, cfg: BurstConfig, as_of: dt.date) -> pl.DataFrame:
    """Every run of a relation's consecutive shipments i..j (min_count to max_run_count of
    them, at most window_days * 2**(scales - 1) days), with the shipments `expected` over its
    days (`_w`, at least window_days) at the relation's rate outside the run (a scan
    statistic): the whole run is left out of its baseline, so a long burst's own shipments
    never raise the rate it is judged against.

    The rate outside runs from the first shipment to the last plus one median gap (the
    reference date if sooner): a relation that stopped trading is not taken to have gone on
    shipping nothing, which would make its whole active life look like a burst. The time
    outside must last min_outside_ratio times the run and hold min_baseline shipments, so a
    rate rests on enough of it; a run must hold min_ratio times what that rate expects."""
    # Runs are enumerated by a relation's number, one length at a time: the run of `count`
    # shipments from shipment i ends at shipment i + count - 1 of the same relation, and runs
    # too long in days are dropped before the next length is looked at (all lengths at once,
    # each shipment times each length with the relation's name, were most of the memory).
    cad = cad.sort("_relation").with_row_index("_r")
    c = (
        cons.select("_relation", "date")
        .join(cad.select("_relation", "_r"), on="_relation")
        .select("_r", pl.col("date").alias("_lo"))
        .sort("_r", "_lo")
    )
    active_end = pl.min_horizontal(
        pl.lit(as_of),
        pl.col("last_seen") + pl.duration(days=pl.col("median_gap_days").fill_null(0)),
    )
    span = (active_end - pl.col("first_seen")).dt.total_days() + 1
    days = (pl.col("date") - pl.col("_lo")).dt.total_days() + 1
    others = pl.col("history") - pl.col("count")
    outside = span - pl.col("_w")
    longest = cfg.window_days * 2 ** (cfg.scales - 1)
    found = []
    for count in range(cfg.min_count, cfg.max_run_count + 1):
        ahead = count - 1
        found.append(
            c.lazy()
            .with_columns(
                pl.col("_lo").shift(-ahead).alias("date"),
                pl.lit(count, dtype=pl.Int64).alias("count"),
            )
            .filter(pl.col("_r").shift(-ahead) == pl.col("_r"))
            .with_columns(pl.max_horizontal(days, cfg.window_days).cast(pl.Int64).alias("_w"))
            .filter(pl.col("_w") <= longest)
        )
    runs = (
        pl.concat(found)
        .collect()  # one plan for every length: no fixed cost per length on a small feed
        .join(cad, on="_r")
        .filter(
            others >= cfg.min_baseline,
            outside >= cfg.min_outside_ratio * pl.col("_w"),
        )
        .with_columns(
            (others / outside * pl.col("_w")).clip(0.02).alias("expected"),
            (outside / others).alias("cadence_days"),
            others.alias("baseline_shipments"),
            outside.alias("baseline_days"),
        )
        .filter(pl.col("count") >= cfg.min_ratio * pl.col("expected"))
    )
    # The tail only for the runs left: it is the costly step.
    return _with_tail(runs.drop("_r"), "count")


def shipment_burst(ctx: Context, cfg: BurstConfig) -> pl.DataFrame:
    """A relation shipped far more often over a stretch of time than its cadence outside that stretch explains."""
    found = _relations(ctx, cfg.min_history, cfg.max_regularity, cfg.min_gaps_for_regularity)
    if found is None:
        return empty()
    cons, cad = found
    runs = _runs(cons, cad, cfg, ctx.as_of)
    # Runs of every length were tested: each p counts once per doubling of the length up to
    # the longest run (Bonferroni over scales).
    flagged = runs.with_columns((pl.col("p") * cfg.scales).clip(0, 1)).filter(
        pl.col("p") <= cfg.max_tail_probability
    )
    if flagged.height == 0:
        return empty()
    ep = _episodes(
        flagged.select(*_EPISODE_COLUMNS, "baseline_shipments", "baseline_days"), cons, best_only=True
    ).join(cad, on="_relation")  # fmt: skip
    strength = ((-pl.col("p").log10() - (-math.log10(cfg.max_tail_probability))) / 6).clip(0, 1)
    ep = ep.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("first_date").cast(pl.String)], separator="|").alias("key"),
        score(cfg, strength).alias("score"),
        pl.format("{} sent {} shipments of {} ({} kg) to {} between {} and {}. Outside that time it shipped {} times in {} days, one every {} days, so {} were expected in {} days (chance of so many: {}).", "exporter", "count", substance_name(ctx), kg("total_kg"), "importer", "first_date", "last_date", "baseline_shipments", "baseline_days", pl.col("cadence_days").round(0).cast(pl.Int64, strict=False), pl.col("expected_in_window").round(1), "window_days", chance("p")).alias("summary"),
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
            "window_days",
            "expected_in_window",
            "cadence_days",
            "baseline_shipments",
            "baseline_days",
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
    flagged = flagged.with_columns(
        (pl.col("date") - pl.duration(days=pl.col("_w") - 1)).alias("_lo")
    )
    ep = _episodes(
        flagged.select("_relation", "_lo", "date", "p", "cadence_days", "expected", "_w"), cons
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
