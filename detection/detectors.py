"""The volume and behaviour detectors: pure functions (Context, config) -> alert frame.

Each is named after what it finds; its docstring says what the alert means. All work on
whole frames with polars expressions (group_by, rolling windows, joins), never row by row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import gamma

from detection.config import (
    BurstConfig,
    DeclaredQuantityConfig,
    DesignerAnalogueConfig,
    ExportNeverArrivedConfig,
    MaskedNameConfig,
    MirrorGapConfig,
    SplitSeriesConfig,
    UndeclaredPartyConfig,
    UnusualSizeConfig,
    config_json,
)
from detection.prepare import Context
from detection.schema import ALERT_SCHEMA
from detection.surveillance import surveillance_parent

__all__ = [
    "DETECTORS",
    "Detector",
    "declared_quantity_exceeded",
    "designer_analogue",
    "export_never_arrived",
    "masked_listed_substance",
    "mirror_quantity_gap",
    "shipment_burst",
    "split_series",
    "undeclared_party",
    "unusual_shipment_size",
]

_INTERNAL = {"_relation": pl.String()}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={**ALERT_SCHEMA, **_INTERNAL})


def _finish(
    frame: pl.DataFrame,
    detector: str,
    cfg: Any,
    numbers: list[str],
) -> pl.DataFrame:
    """Turn a detector's finding frame into alert rows (ALERT_SCHEMA plus _relation)."""
    if frame.height == 0:
        return _empty()
    evidence = pl.concat_str(
        [
            pl.lit(f'{{"detector":"{detector}","thresholds":{config_json(cfg)},"numbers":'),
            pl.struct(numbers).struct.json_encode(),
            pl.lit(',"records":'),
            pl.col("shipment_pks")
            .cast(pl.List(pl.String))
            .list.join(",")
            .map_batches(lambda s: "[" + s + "]", return_dtype=pl.String),
            pl.lit("}"),
        ]
    )
    out = frame.with_columns(
        pl.lit(detector).alias("detector"),
        pl.col("score").clip(0, 100).round(1),
        evidence.alias("evidence"),
    )
    out = out.with_columns(_severity(pl.col("score")).alias("severity"))
    for c, t in {**ALERT_SCHEMA, **_INTERNAL}.items():
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=t).alias(c))
    return out.select([pl.col(c).cast(t) for c, t in {**ALERT_SCHEMA, **_INTERNAL}.items()])


def _severity(score: pl.Expr) -> pl.Expr:
    return (
        pl.when(score >= 85)
        .then(pl.lit("critical"))
        .when(score >= 70)
        .then(pl.lit("high"))
        .when(score >= 50)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def _listed(ctx: Context) -> pl.DataFrame:
    return ctx.consignments.filter(
        pl.col("substance").is_not_null(), pl.col("quantity_kg").is_not_null()
    )


def _name(ctx: Context) -> pl.Expr:
    return pl.col("substance_cas").replace_strict(
        ctx.substance_names, default=pl.col("substance_cas")
    )


def _relation() -> pl.Expr:
    return pl.concat_str(["exp_key", "imp_key", "substance"], separator="|", ignore_nulls=True)


def _kg(col: str) -> pl.Expr:
    return pl.col(col).round(1).cast(pl.String)


# ------------------------------------------------------------------ declared quantity exceeded


def declared_quantity_exceeded(ctx: Context, cfg: DeclaredQuantityConfig) -> pl.DataFrame:
    """A declared facility shipped more of a substance in a year than it declared (or is on pace to)."""
    cons = _listed(ctx).with_columns(pl.col("date").dt.year().alias("year"))
    if cons.height == 0:
        return _empty()
    roles = []
    for role, fac in (("exporter", "exporter_facility_id"), ("importer", "importer_facility_id")):
        roles.append(
            cons.filter(pl.col(fac).is_not_null()).select(
                pl.col(fac).alias("facility_id"),
                "substance",
                "year",
                "date",
                "quantity_kg",
                "cons_id",
                "pks",
                pl.lit(role).alias("role"),
                pl.col("exporter_country" if role == "exporter" else "importer_country").alias(
                    "country"
                ),
            )
        )
    vol = pl.concat(roles)
    if vol.height == 0:
        return _empty()
    # A facility that both imports and exports a substance: the larger flow is what it handled.
    tot = (
        vol.group_by("facility_id", "substance", "year", "role")
        .agg(pl.col("quantity_kg").sum().alias("shipped"), pl.len().alias("n"))
        .sort(["shipped", "role"], descending=[True, False])
        .unique(["facility_id", "substance", "year"], keep="first", maintain_order=True)
    )
    decl = ctx.declarations.filter(pl.col("facility_id").is_not_null())
    by_year = (
        decl.filter(pl.col("declaration_year").is_not_null())
        .group_by("facility_id", "substance_cas", pl.col("declaration_year").alias("year"))
        .agg(pl.col("declared_annual_kg").sum().alias("declared"))
    )
    standing = (
        decl.filter(pl.col("declaration_year").is_null())
        .group_by("facility_id", "substance_cas")
        .agg(pl.col("declared_annual_kg").sum().alias("declared_standing"))
    )
    declared_fac = decl.select("facility_id").unique().with_columns(pl.lit(True).alias("_known"))
    tot = (
        tot.join(by_year, left_on=["facility_id", "substance", "year"], right_on=["facility_id", "substance_cas", "year"], how="left")
        .join(standing, left_on=["facility_id", "substance"], right_on=["facility_id", "substance_cas"], how="left")
        .join(declared_fac, on="facility_id", how="left")
        .filter(pl.col("_known").fill_null(False))  # facility ids unknown to the registry: not judged here
        .with_columns(pl.coalesce("declared", "declared_standing").fill_null(0.0).alias("declared"))
    )  # fmt: skip
    as_of = ctx.as_of
    tot = tot.with_columns(
        pl.date(pl.col("year"), 1, 1).alias("_y0"),
        pl.date(pl.col("year"), 12, 31).alias("_y1"),
    ).with_columns(
        ((pl.min_horizontal(pl.col("_y1"), pl.lit(as_of)) - pl.col("_y0")).dt.total_days() + 1)
        .truediv((pl.col("_y1") - pl.col("_y0")).dt.total_days() + 1)
        .clip(0.0, 1.0)
        .alias("elapsed")
    )
    exceeded = (pl.col("shipped") > pl.col("declared") * cfg.excess_ratio) & (
        pl.col("shipped") - pl.col("declared") >= cfg.min_excess_kg
    )
    pace = (
        (pl.col("elapsed") >= cfg.min_elapsed_fraction)
        & (pl.col("elapsed") < 1.0)
        & (pl.col("shipped") > pl.col("declared") * pl.col("elapsed") * cfg.pace_factor)
        & (pl.col("shipped") - pl.col("declared") * pl.col("elapsed") >= cfg.min_excess_kg)
    )
    hits = tot.filter(exceeded | pace).with_columns(
        exceeded.alias("over_annual"),
        (pl.col("shipped") / pl.col("declared").clip(1e-9)).alias("ratio_annual"),
        (pl.col("shipped") / (pl.col("declared") * pl.col("elapsed")).clip(1e-9)).alias(
            "ratio_pace"
        ),
    )
    if hits.height == 0:
        return _empty()
    # The records after the running total crossed the (pro-rata) declared line.
    rows = vol.join(hits.select("facility_id", "substance", "year", "role", "declared", "_y0", "_y1"), on=["facility_id", "substance", "year", "role"]).sort("date", "cons_id")  # fmt: skip
    rows = rows.with_columns(
        pl.col("quantity_kg").cum_sum().over("facility_id", "substance", "year").alias("_run"),
        ((pl.col("date") - pl.col("_y0")).dt.total_days() + 1)
        .truediv((pl.col("_y1") - pl.col("_y0")).dt.total_days() + 1)
        .alias("_frac"),
    )
    crossed = rows.filter(
        (pl.col("_run") > pl.col("declared") * pl.col("_frac") * cfg.pace_factor)
        | (pl.col("_run") > pl.col("declared"))
    )
    links = crossed.group_by("facility_id", "substance", "year").agg(
        pl.col("pks")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .head(500)
        .alias("shipment_pks"),
        pl.col("date").min().alias("first_over"),
        pl.col("country").drop_nulls().first().alias("country"),
    )
    hits = hits.join(links, on=["facility_id", "substance", "year"], how="left").with_columns(
        pl.col("shipment_pks").fill_null(pl.lit([], dtype=pl.List(pl.Int64)))
    )
    strength = (
        pl.when(pl.col("declared") <= 0)
        .then(1.0)
        .when(pl.col("over_annual"))
        .then(((pl.col("ratio_annual") - 1.0) / 0.8).clip(0, 1))
        .otherwise(((pl.col("ratio_pace") - cfg.pace_factor) / 0.8).clip(0, 1))
    )
    hits = hits.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("facility_id"), pl.col("substance_cas"), pl.col("year").cast(pl.String)], separator="|").alias("key"),
        (62 + 33 * strength).alias("score"),
        pl.when(pl.col("declared") <= 0)
        .then(pl.format("Facility {} {} {} kg of {} in {} with no declaration for that substance.", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), _kg("shipped"), _name(ctx), "year"))
        .when(pl.col("over_annual"))
        .then(pl.format("Facility {} {} {} kg of {} in {} against {} kg declared ({}% of the declaration).", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), _kg("shipped"), _name(ctx), "year", _kg("declared"), (pl.col("ratio_annual") * 100).round(0).cast(pl.Int64)))
        .otherwise(pl.format("Facility {} {} {} kg of {} by {} against {} kg declared for {}: {}% of the pro-rata pace ({}% of the year elapsed).", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), _kg("shipped"), _name(ctx), pl.lit(as_of.isoformat()), _kg("declared"), "year", (pl.col("ratio_pace") * 100).round(0).cast(pl.Int64), (pl.col("elapsed") * 100).round(0).cast(pl.Int64)))
        .alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return _finish(
        hits,
        "declared_quantity_exceeded",
        cfg,
        [
            "year",
            "role",
            "shipped",
            "declared",
            "elapsed",
            "ratio_annual",
            "ratio_pace",
            "n",
            "first_over",
        ],
    )


# --------------------------------------------------------------------------- unusual size


def unusual_shipment_size(ctx: Context, cfg: UnusualSizeConfig) -> pl.DataFrame:
    """A shipment far larger than its trade relation (or exporter) usually ships of that substance."""
    cons = _listed(ctx).filter(pl.col("quantity_kg") > 0)
    if cons.height == 0:
        return _empty()
    cons = cons.with_columns(
        pl.col("quantity_kg").log().alias("_lq"), _relation().alias("_relation")
    )

    def stats(keys: list[str], p: str) -> list[pl.Expr]:
        med = pl.col("_lq").median().over(keys)
        mad = (pl.col("_lq") - med).abs().median().over(keys)
        return [med.alias(f"{p}_med"), mad.alias(f"{p}_mad"), pl.len().over(keys).alias(f"{p}_n")]

    cons = cons.with_columns(
        *stats(["exp_key", "imp_key", "substance"], "rel"),
        *stats(["exp_key", "substance"], "fac"),
        pl.col("quantity_kg").quantile(cfg.peer_quantile).over("substance").alias("peer_q"),
        pl.col("quantity_kg").median().over("substance").alias("peer_median"),
    )
    use_rel = pl.col("rel_n") >= cfg.min_history
    cons = cons.with_columns(
        pl.when(use_rel).then(pl.col("rel_med")).otherwise(pl.col("fac_med")).alias("_med"),
        pl.when(use_rel).then(pl.col("rel_mad")).otherwise(pl.col("fac_mad")).alias("_mad"),
        pl.when(use_rel)
        .then(pl.lit("relation"))
        .otherwise(pl.lit("exporter and substance"))
        .alias("baseline"),
        pl.when(use_rel).then(pl.col("rel_n")).otherwise(pl.col("fac_n")).alias("history"),
    ).filter(pl.col("history") >= cfg.min_history)
    cons = cons.with_columns(
        (
            (pl.col("_lq") - pl.col("_med")) / (1.4826 * pl.col("_mad")).clip(cfg.min_log_spread)
        ).alias("robust_z"),
        (pl.col("_lq") - pl.col("_med")).exp().alias("times_median"),
        pl.col("_med").exp().alias("usual_kg"),
    )
    hits = cons.filter(
        pl.col("robust_z") >= cfg.min_robust_z, pl.col("times_median") >= cfg.min_ratio
    )
    if hits.height == 0:
        return _empty()
    strength = ((pl.col("times_median").log() - math.log(cfg.min_ratio)) / math.log(5)).clip(0, 1)
    hits = hits.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("cons_key")], separator="|").alias("key"),
        (58 + 30 * strength + pl.when(pl.col("quantity_kg") > pl.col("peer_q")).then(5).otherwise(0)).alias("score"),
        pl.format("{} shipped {} kg of {} to {} on {}: {} times the usual {} kg of this {} (robust z {}).", "exporter", _kg("quantity_kg"), _name(ctx), "importer", "date", pl.col("times_median").round(1), _kg("usual_kg"), "baseline", pl.col("robust_z").round(1)).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return _finish(
        hits,
        "unusual_shipment_size",
        cfg,
        [
            "quantity_kg",
            "usual_kg",
            "times_median",
            "robust_z",
            "baseline",
            "history",
            "peer_q",
            "peer_median",
            "date",
        ],
    )


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
    )


def _episodes(flagged: pl.DataFrame, cons: pl.DataFrame, days: int) -> pl.DataFrame:
    """Merge overlapping flagged windows into episodes and collect their shipments."""
    ep = (
        flagged.sort("_relation", "date")
        .with_columns(
            (pl.col("date").diff().dt.total_days().over("_relation").fill_null(days + 1) > days)
            .cum_sum()
            .over("_relation")
            .alias("_ep")
        )
        .group_by("_relation", "_ep")
        .agg(
            (pl.col("date").min() - pl.duration(days=days - 1)).alias("_lo"),
            pl.col("date").max().alias("_hi"),
            pl.col("p").min().alias("p"),
            pl.col("cadence_days").max().alias("cadence_days"),
            pl.col("expected").min().alias("expected_in_window"),
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
    ctx: Context, window_days: int, min_history: int, max_regularity: float, min_gaps: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """Listed shipments per relation, each relation's cadence, and its rolling windows with
    the tail probability `p` of their counts given that cadence: its rate outside the window
    and its regularity (gamma renewal; Poisson when the regularity is 1 or unknown).
    None: nothing listed."""
    cons = _listed(ctx).with_columns(_relation().alias("_relation"))
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
    w = _expected(_windows(cons, window_days).join(cad, on="_relation"), window_days, ctx.as_of)
    w = w.filter(pl.col("baseline_shipments") >= 2)
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
    found = _window_tails(
        ctx, cfg.window_days, cfg.min_history, cfg.max_regularity, cfg.min_gaps_for_regularity
    )
    if found is None:
        return _empty()
    cons, cad, w = found
    flagged = w.filter(pl.col("w_count") >= cfg.min_count, pl.col("p") <= cfg.max_tail_probability)
    if flagged.height == 0:
        return _empty()
    ep = _episodes(
        flagged.select("_relation", "date", "p", "cadence_days", "expected"), cons, cfg.window_days
    ).join(cad, on="_relation")
    strength = ((-pl.col("p").log10() - (-math.log10(cfg.max_tail_probability))) / 6).clip(0, 1)
    ep = ep.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("first_date").cast(pl.String)], separator="|").alias("key"),
        (55 + 35 * strength).alias("score"),
        pl.format("{} sent {} shipments of {} ({} kg) to {} between {} and {}; its normal cadence is one every {} days.", "exporter", "count", _name(ctx), _kg("total_kg"), "importer", "first_date", "last_date", pl.col("cadence_days").round(0).cast(pl.Int64)).alias("summary"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return _finish(
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
            "p",
            "regularity",
            "history",
        ],
    )


def split_series(ctx: Context, cfg: SplitSeriesConfig) -> pl.DataFrame:
    """A series of orders in a few days that together are far above one usual shipment (DEA 'series of orders')."""
    found = _window_tails(
        ctx, cfg.window_days, cfg.min_history, cfg.max_regularity, cfg.min_gaps_for_regularity
    )
    if found is None:
        return _empty()
    cons, cad, w = found
    flagged = w.filter(
        pl.col("w_count") >= cfg.min_count,
        pl.col("w_kg") >= cfg.min_total_ratio * pl.col("usual_kg"),
        pl.col("p") <= cfg.max_tail_probability,
    )
    if flagged.height == 0:
        return _empty()
    ep = _episodes(
        flagged.select("_relation", "date", "p", "cadence_days", "expected"), cons, cfg.window_days
    ).join(cad, on="_relation")
    ep = ep.with_columns((pl.col("total_kg") / pl.col("usual_kg")).alias("times_usual"))
    strength = ((pl.col("times_usual") - cfg.min_total_ratio) / 4).clip(0, 1)
    ep = ep.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("first_date").cast(pl.String)], separator="|").alias("key"),
        (55 + 20 * strength + 15 * ((-pl.col("p").log10() - 3) / 6).clip(0, 1)).alias("score"),
        pl.format("{} split {} kg of {} to {} into {} shipments between {} and {}: {} times its usual {} kg shipment.", "exporter", _kg("total_kg"), _name(ctx), "importer", "count", "first_date", "last_date", pl.col("times_usual").round(1), _kg("usual_kg")).alias("summary"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return _finish(
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


# -------------------------------------------------------------------------- undeclared party


def undeclared_party(ctx: Context, cfg: UndeclaredPartyConfig) -> pl.DataFrame:
    """A listed substance was exported or imported by a party not linked to any declared facility."""
    cons = _listed(ctx)
    if cons.height == 0:
        return _empty()
    parts = []
    for role, fac, name, norm, country in (
        ("exporter", "exporter_facility_id", "exporter", "exporter_norm", "exporter_country"),
        ("importer", "importer_facility_id", "importer", "importer_norm", "importer_country"),
    ):
        parts.append(
            cons.filter(pl.col(fac).is_null(), pl.col(norm).is_not_null()).select(
                pl.lit(role).alias("role"),
                pl.col(name).alias("party"),
                pl.col(norm).alias("party_norm"),
                pl.col(country).alias("country"),
                "substance",
                "quantity_kg",
                "date",
                "pks",
                pl.col("exporter" if role == "importer" else "importer").alias("counterpart"),
            )
        )
    rows = pl.concat(parts)
    if rows.height == 0:
        return _empty()
    g = (
        rows.group_by("role", "party_norm", "country")
        .agg(
            pl.col("party").first(),
            pl.col("substance").unique().sort().alias("substances"),
            pl.col("substance").mode().first().alias("substance_cas"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
            # Sorted: the evidence must not depend on the order rows came from the database.
            pl.col("counterpart").drop_nulls().unique().sort().head(5).alias("counterparts"),
        )
        .filter(pl.col("total_kg") >= cfg.min_total_kg)
    )
    if g.height == 0:
        return _empty()
    g = g.with_columns(
        pl.concat_str(["role", "party_norm", "country"], separator="|", ignore_nulls=True).alias("key"),
        (68 + 22 * ((pl.col("total_kg") + 1).log10() / 3).clip(0, 1)).alias("score"),
        pl.format("{} ({}), not linked to any declared facility, {} {} consignments of {} ({} kg) between {} and {}.", "party", pl.col("country").fill_null("?"), pl.when(pl.col("role") == "exporter").then(pl.lit("exported")).otherwise(pl.lit("imported")), "count", _name(ctx), _kg("total_kg"), "first_date", "last_date").alias("summary"),
        pl.lit(None, dtype=pl.String).alias("facility_id"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return _finish(
        g,
        "undeclared_party",
        cfg,
        [
            "role",
            "party",
            "substances",
            "count",
            "total_kg",
            "first_date",
            "last_date",
            "counterparts",
        ],
    )


# ------------------------------------------------------------------------------- mirrors


def _pair_frame(ctx: Context) -> pl.DataFrame:
    return ctx.pairs.join(
        ctx.consignments.select(
            pl.col("cons_id").alias("x_id"), "cons_key", "exporter", "importer", "exp_key", "imp_key",
            "exporter_facility_id", "exporter_country", "importer_country", "substance", "designer", "pks",
        ),
        on="x_id",
    )  # fmt: skip


def mirror_quantity_gap(ctx: Context, cfg: MirrorGapConfig) -> pl.DataFrame:
    """The importer recorded a materially different quantity than the exporter for the same consignment."""
    p = _pair_frame(ctx).filter(
        pl.col("substance").is_not_null(), pl.col("x_kg") > 0, pl.col("m_kg") >= 0
    )
    p = p.with_columns(
        (pl.col("m_kg") - pl.col("x_kg")).alias("gap_kg"),
        ((pl.col("m_kg") - pl.col("x_kg")).abs() / pl.max_horizontal("x_kg", "m_kg")).alias(
            "gap_share"
        ),
    )
    hits = p.filter(pl.col("gap_share") > cfg.tolerance, pl.col("gap_kg").abs() >= cfg.min_gap_kg)
    if hits.height == 0:
        return _empty()
    strength = ((pl.col("gap_share") - cfg.tolerance) / 0.4).clip(0, 1)
    hits = hits.with_columns(_relation().alias("_relation")).rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.lit("consignment"), pl.col("cons_key")], separator="|").alias("key"),
        (55 + 35 * strength + 5 * ((pl.col("gap_kg").abs() + 1).log10() / 3).clip(0, 1)).alias("score"),
        pl.format("{} exported {} kg of {} to {} on {} but the importer recorded {} kg: a gap of {} kg ({}%).", "exporter", _kg("x_kg"), _name(ctx), "importer", "x_date", _kg("m_kg"), _kg("gap_kg"), (pl.col("gap_share") * 100).round(0).cast(pl.Int64)).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("importer_country").alias("country"),
    )  # fmt: skip
    return _finish(
        hits,
        "mirror_quantity_gap",
        cfg,
        ["x_kg", "m_kg", "gap_kg", "gap_share", "x_date", "m_date", "how"],
    )


def export_never_arrived(ctx: Context, cfg: ExportNeverArrivedConfig) -> pl.DataFrame:
    """An export to a country that reports its imports has no matching import record."""
    cov = ctx.coverage.filter(
        pl.col("exports") >= cfg.min_reporting_records,
        pl.col("coverage") >= cfg.min_reporting_coverage,
    )
    horizon = ctx.as_of - dt.timedelta(days=cfg.grace_days)
    x_ids = ctx.shipments.filter(pl.col("flow") == "X").select(pl.col("id").alias("cons_id"))
    cons = (
        _listed(ctx)
        .join(x_ids, on="cons_id")
        .join(ctx.pairs.select(pl.col("x_id").alias("cons_id")), on="cons_id", how="anti")
        .filter(pl.col("date") <= horizon)
        .join(cov, on="importer_country")
    )
    if cons.height == 0:
        return _empty()
    strength = (
        (pl.col("coverage") - cfg.min_reporting_coverage) / (1 - cfg.min_reporting_coverage + 1e-9)
    ).clip(0, 1)
    hits = cons.with_columns(_relation().alias("_relation")).rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.lit("consignment"), pl.col("cons_key")], separator="|").alias("key"),
        (50 + 30 * strength + 10 * ((pl.col("quantity_kg") + 1).log10() / 3).clip(0, 1)).alias("score"),
        ((pl.lit(ctx.as_of) - pl.col("date")).dt.total_days()).alias("days_since"),
        pl.format("{} exported {} kg of {} to {} ({}) on {} and no import record exists after {} days, though {} reports {}% of its imports.", "exporter", _kg("quantity_kg"), _name(ctx), "importer", "importer_country", "date", (pl.lit(ctx.as_of) - pl.col("date")).dt.total_days(), "importer_country", (pl.col("coverage") * 100).round(1)).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("importer_country").alias("country"),
    )  # fmt: skip
    return _finish(
        hits,
        "export_never_arrived",
        cfg,
        ["quantity_kg", "date", "days_since", "coverage", "exports"],
    )


# ------------------------------------------------------------------------ screening results


def masked_listed_substance(ctx: Context, cfg: MaskedNameConfig) -> pl.DataFrame:
    """A listed substance traded under a name that hides it (systematic, obfuscated or unlisted name)."""
    s = ctx.shipments.filter(pl.col("substance").is_not_null(), pl.col("plain_name") == False)  # noqa: E712
    if s.height == 0:
        return _empty()
    g = s.group_by("exp_key", "substance", pl.col("product").str.to_lowercase().alias("_pl")).agg(
        pl.col("product").first(),
        pl.col("exporter").first(),
        pl.col("exporter_facility_id").first().alias("facility_id"),
        pl.col("exporter_country").first().alias("country"),
        pl.col("screen_method").drop_nulls().first().alias("method"),
        pl.col("cas").drop_nulls().first().alias("cas_given"),
        pl.len().alias("count"),
        pl.col("quantity_kg").sum().alias("total_kg"),
        pl.col("id").alias("shipment_pks"),
    )
    g = g.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str(["exp_key", "substance_cas", "_pl"], separator="|").alias("key"),
        (66 + 14 * pl.col("facility_id").is_null().cast(pl.Float64) + 8 * ((pl.col("total_kg") + 1).log10() / 3).clip(0, 1)).alias("score"),
        pl.format("{} shipped {} kg of {} in {} records under the name \"{}\", which hides the listed substance (identified by {}).", "exporter", _kg("total_kg"), _name(ctx), "count", "product", pl.col("method").fill_null("screen")).alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return _finish(
        g, "masked_listed_substance", cfg, ["product", "cas_given", "method", "count", "total_kg"]
    )


def designer_analogue(ctx: Context, cfg: DesignerAnalogueConfig) -> pl.DataFrame:
    """A designer precursor (close relative of a listed precursor) was traded: early warning."""
    s = ctx.shipments.filter(pl.col("designer").is_not_null())
    if s.height == 0:
        return _empty()
    g = s.group_by("exp_key", "designer").agg(
        pl.col("product").unique().sort(nulls_last=True).head(5).alias("products"),
        pl.col("exporter").first(),
        pl.col("exporter_facility_id").first().alias("facility_id"),
        pl.col("exporter_country").first().alias("country"),
        pl.col("importer").unique().sort(nulls_last=True).head(5).alias("importers"),
        pl.len().alias("count"),
        pl.col("quantity_kg").sum().alias("total_kg"),
        pl.col("date").min().alias("first_date"),
        pl.col("id").alias("shipment_pks"),
    )
    parents = {d: surveillance_parent(d) for d in g["designer"].unique().to_list()}
    g = g.with_columns(
        pl.col("designer").alias("substance_cas"),
        pl.col("designer").replace_strict(parents, default=None, return_dtype=pl.String).alias("listed_parent"),
    ).with_columns(
        pl.concat_str(["exp_key", "designer"], separator="|").alias("key"),
        (72 + 18 * ((pl.col("total_kg") + 1).log10() / 3).clip(0, 1)).alias("score"),
        pl.format("{} shipped {} kg of {} in {} records from {}: a designer precursor one step from listed {}.", "exporter", _kg("total_kg"), _name(ctx), "count", "first_date", pl.col("listed_parent").replace_strict(ctx.substance_names, default=pl.col("listed_parent")).fill_null("precursors")).alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return _finish(
        g,
        "designer_analogue",
        cfg,
        ["products", "importers", "count", "total_kg", "first_date", "listed_parent"],
    )


# --------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Detector:
    """One registered detector: its name, function and default thresholds."""

    name: str
    run: Callable[[Context, Any], pl.DataFrame]
    config: Any

    @property
    def description(self) -> str:
        return (self.run.__doc__ or "").strip()


DETECTORS: tuple[Detector, ...] = (
    Detector("declared_quantity_exceeded", declared_quantity_exceeded, DeclaredQuantityConfig()),
    Detector("unusual_shipment_size", unusual_shipment_size, UnusualSizeConfig()),
    Detector("shipment_burst", shipment_burst, BurstConfig()),
    Detector("split_series", split_series, SplitSeriesConfig()),
    Detector("undeclared_party", undeclared_party, UndeclaredPartyConfig()),
    Detector("mirror_quantity_gap", mirror_quantity_gap, MirrorGapConfig()),
    Detector("export_never_arrived", export_never_arrived, ExportNeverArrivedConfig()),
    Detector("masked_listed_substance", masked_listed_substance, MaskedNameConfig()),
    Detector("designer_analogue", designer_analogue, DesignerAnalogueConfig()),
)
