"""Run every registered detector over prepared frames and return one alert frame."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from detection.config import OutlierConfig, with_overrides
from detection.detectors import DETECTORS, Detector
from detection.prepare import Context, Screener, prepare
from detection.schema import ALERT_SCHEMA
from detection.scoring import apply_outlier_signal, relation_outlier_scores

__all__ = ["configs", "detect", "prepare_for", "run_detectors"]


def configs(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The thresholds in force per detector (defaults with supervisor overrides applied)."""
    overrides = overrides or {}
    out = {d.name: with_overrides(d.config, dict(overrides.get(d.name, {}))) for d in DETECTORS}
    out["outlier"] = with_overrides(OutlierConfig(), dict(overrides.get("outlier", {})))
    return out


def run_detectors(
    ctx: Context,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    detectors: tuple[Detector, ...] = DETECTORS,
    progress: Callable[[str, int, float], None] | None = None,
) -> pl.DataFrame:
    """All detectors over one prepared context; alerts sorted by score (ALERT_SCHEMA)."""
    cfgs = configs(overrides)
    parts = []
    for d in detectors:
        t0 = time.perf_counter()
        part = d.run(ctx, cfgs[d.name])
        parts.append(part)
        if progress:
            progress(d.name, part.height, time.perf_counter() - t0)
    alerts = pl.concat(parts) if parts else pl.DataFrame()
    if alerts.height:
        ranks = relation_outlier_scores(ctx, cfgs["outlier"])
        alerts = apply_outlier_signal(alerts, ranks, cfgs["outlier"])
        alerts = alerts.with_columns(
            pl.when(pl.col("score") >= 85).then(pl.lit("critical"))
            .when(pl.col("score") >= 70).then(pl.lit("high"))
            .when(pl.col("score") >= 50).then(pl.lit("medium"))
            .otherwise(pl.lit("low")).alias("severity")
        )  # fmt: skip
    else:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    return (
        alerts.select([pl.col(c).cast(t) for c, t in ALERT_SCHEMA.items()])
        .unique(["detector", "key"], keep="first", maintain_order=True)
        .sort(["score", "detector", "key"], descending=[True, False, False])
    )


def detect(
    shipments: pl.DataFrame,
    declarations: pl.DataFrame,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    as_of: dt.date | None = None,
    progress: Callable[[str, int, float], None] | None = None,
    screener: Screener | None = None,
) -> pl.DataFrame:
    """Prepare the frames and run every detector: the whole pipeline for one call."""
    return run_detectors(
        prepare_for(shipments, declarations, overrides, as_of=as_of, screener=screener),
        overrides,
        progress=progress,
    )


def prepare_for(
    shipments: pl.DataFrame,
    declarations: pl.DataFrame,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    as_of: dt.date | None = None,
    screener: Screener | None = None,
) -> Context:
    """The prepared context with the thresholds in force (pairing window, grace, masking)."""
    cfgs = configs(overrides)
    return prepare(
        shipments,
        declarations,
        as_of=as_of,
        mirror=cfgs["mirror_quantity_gap"],
        never=cfgs["export_never_arrived"],
        masked=cfgs["masked_listed_substance"],
        screener=screener,
    )
