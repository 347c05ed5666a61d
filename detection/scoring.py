"""Supporting signal: an IsolationForest over relation-level features nudges alert scores.

It never creates an alert; it raises or lowers the score of alerts that the rule detectors
raised, by at most `OutlierConfig.weight` points, and says so in the evidence.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from detection.config import OutlierConfig
from detection.prepare import Context

__all__ = ["apply_outlier_signal", "relation_outlier_scores"]


def relation_outlier_scores(ctx: Context, cfg: OutlierConfig) -> pl.DataFrame:
    """Per trade relation (exporter|importer|substance): outlier rank 0 (typical) .. 1 (most unusual)."""
    cons = ctx.consignments.filter(pl.col("substance").is_not_null(), pl.col("quantity_kg") > 0)
    if cons.height == 0:
        return pl.DataFrame(schema={"_relation": pl.String, "outlier_rank": pl.Float64})
    rel = pl.concat_str(["exp_key", "imp_key", "substance"], separator="|", ignore_nulls=True)
    feats = (
        cons.with_columns(rel.alias("_relation"), pl.col("quantity_kg").log().alias("_lq"))
        .sort("date")
        .with_columns(pl.col("date").diff().dt.total_days().over("_relation").alias("_gap"))
        .group_by("_relation")
        .agg(
            pl.len().log().alias("log_n"),
            pl.col("_lq").median().alias("log_median"),
            (pl.col("_lq").max() - pl.col("_lq").median()).alias("log_max_over_median"),
            pl.col("_lq").std().fill_null(0).alias("log_spread"),
            (pl.col("_gap").median().fill_null(365) / (pl.col("_gap").min().fill_null(365) + 1))
            .log1p()
            .alias("gap_ratio"),
            pl.col("exporter_facility_id").is_null().mean().alias("undeclared_exporter"),
            pl.col("importer_facility_id").is_null().mean().alias("undeclared_importer"),
        )
        .sort("_relation")
    )
    if feats.height < 8:
        return feats.select("_relation", pl.lit(0.5).alias("outlier_rank"))
    from sklearn.ensemble import IsolationForest

    x = feats.drop("_relation").fill_nan(0).fill_null(0).to_numpy()
    model = IsolationForest(n_estimators=cfg.n_estimators, random_state=cfg.random_state)
    model.fit(x)
    raw = -model.score_samples(x)  # higher = more anomalous
    rank = (np.argsort(np.argsort(raw)) + 0.5) / len(raw)
    return feats.select("_relation").with_columns(pl.Series("outlier_rank", rank))


def apply_outlier_signal(
    alerts: pl.DataFrame, ranks: pl.DataFrame, cfg: OutlierConfig
) -> pl.DataFrame:
    """Shift scores of relation-level alerts by up to +/- weight points; cite it in the evidence."""
    if alerts.height == 0:
        return alerts
    out = alerts.join(ranks, on="_relation", how="left")
    adj = ((pl.col("outlier_rank") - 0.5) * 2 * cfg.weight).fill_null(0.0)
    return out.with_columns(
        (pl.col("score") + adj).clip(0, 100).round(1).alias("score"),
        pl.when(pl.col("outlier_rank").is_not_null())
        .then(
            pl.col("evidence").str.strip_suffix("}")
            + pl.concat_str(
                [
                    pl.lit(',"outlier":{"relation_rank":'),
                    pl.col("outlier_rank").round(3).cast(pl.String),
                    pl.lit(',"points":'),
                    adj.round(1).cast(pl.String),
                    pl.lit("}}"),
                ]
            )
        )
        .otherwise(pl.col("evidence"))
        .alias("evidence"),
    ).drop("outlier_rank")
