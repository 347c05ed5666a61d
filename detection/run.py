"""Run every registered detector over prepared frames and return one alert frame."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from detection.config import (
    DataQualityConfig,
    EntityConfig,
    OutlierConfig,
    SeverityConfig,
    with_overrides,
)
from detection.detectors import DETECTORS, Detector
from detection.prepare import Context, Progress, Screener, prepare
from detection.quality import UNJUDGED_SCHEMA, unjudged_row
from detection.schema import ALERT_SCHEMA, SEVERITIES
from detection.scoring import apply_outlier_signal, relation_outlier_scores

__all__ = ["combine_findings", "configs", "detect", "prepare_for", "run_detectors", "unjudged"]

# Settings that are not one detector's: the outlier signal, the severity bands, what counts
# as a plausible record, and how parties are joined into entities.
_SHARED: dict[str, Any] = {
    "outlier": OutlierConfig(),
    "severity": SeverityConfig(),
    "data_quality": DataQualityConfig(),
    "entities": EntityConfig(),
}


def configs(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The thresholds in force per detector (defaults with supervisor overrides applied).
    An unknown name, a wrong type or a value out of range raises ValueError (one line)."""
    overrides = overrides or {}
    known = {d.name for d in DETECTORS} | set(_SHARED)
    for name in overrides:
        if name not in known:
            raise ValueError(f"unknown detector {name!r} in the threshold settings")
    out = {d.name: with_overrides(d.config, dict(overrides.get(d.name, {}))) for d in DETECTORS}
    for name, default in _SHARED.items():
        out[name] = with_overrides(default, dict(overrides.get(name, {})))
    sev = out["severity"]
    if not sev.medium_from <= sev.high_from <= sev.critical_from:
        raise ValueError(
            "severity bands must rise: medium_from <= high_from <= critical_from "
            f"(now {sev.medium_from:g}, {sev.high_from:g}, {sev.critical_from:g})"
        )
    return out


# A detector marks a finding it reports but does not raise with `_max_severity` "note:<words>".
NOTE = "note:"


def _notes(ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
    """Per detector and reason, how many findings were reported but not raised as alerts."""
    out = []
    for (det, why), g in rows.group_by("detector", "_max_severity", maintain_order=True):
        pks = g["shipment_pks"].explode().drop_nulls().unique()
        recs = ctx.shipments.filter(pl.col("id").is_in(pks.implode()), pl.col("lead"))
        row = unjudged_row(str(det), str(why)[len(NOTE) :], recs, kind="not raised")
        out.append(row.with_columns(pl.lit(g.height, dtype=pl.Int64).alias("records")))
    return pl.concat(out) if out else pl.DataFrame(schema=UNJUDGED_SCHEMA)


def _severity(score: pl.Expr, cfg: SeverityConfig) -> pl.Expr:
    band = (
        pl.when(score >= cfg.critical_from)
        .then(pl.lit(3))
        .when(score >= cfg.high_from)
        .then(pl.lit(2))
        .when(score >= cfg.medium_from)
        .then(pl.lit(1))
        .otherwise(pl.lit(0))
    )
    cap = pl.col("_max_severity").replace_strict(
        {s: i for i, s in enumerate(SEVERITIES)}, default=3, return_dtype=pl.Int32
    )
    return pl.min_horizontal(band, cap).replace_strict(
        dict(enumerate(SEVERITIES)), return_dtype=pl.String
    )


def run_detectors(
    ctx: Context,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    detectors: tuple[Detector, ...] = DETECTORS,
    progress: Callable[[str, int, float], None] | None = None,
    notes: list[pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """All detectors over one prepared context; alerts sorted by score (ALERT_SCHEMA).
    Findings below what makes an alert (a likely unit error, an uncorroborated missing
    record) are left out; with `notes`, their counts are appended to it (UNJUDGED_SCHEMA)."""
    cfgs = configs(overrides)
    parts = []
    for d in detectors:
        t0 = time.perf_counter()
        part = d.run(ctx, cfgs[d.name])
        parts.append(part)
        if progress:
            progress(d.name, part.height, time.perf_counter() - t0)
    return combine_findings(ctx, parts, cfgs, notes=notes)


def combine_findings(
    ctx: Context,
    parts: list[pl.DataFrame],
    cfgs: Mapping[str, Any],
    *,
    notes: list[pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """The detectors' findings (one frame each, in registry order) as the alert frame: notes
    set apart, the outlier signal over the whole feed's relations, severity bands, one alert
    per (detector, key), sorted by score. Every engine ends here."""
    alerts = pl.concat(parts) if parts else pl.DataFrame()
    if alerts.height and notes is not None:
        notes.append(_notes(ctx, alerts.filter(pl.col("_max_severity").str.starts_with(NOTE))))
    if alerts.height:
        alerts = alerts.filter(~pl.col("_max_severity").fill_null("").str.starts_with(NOTE))
    if alerts.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    ranks = relation_outlier_scores(ctx, cfgs["outlier"])
    alerts = apply_outlier_signal(alerts, ranks, cfgs["outlier"])
    alerts = alerts.with_columns(_severity(pl.col("score"), cfgs["severity"]).alias("severity"))
    return (
        alerts.select([pl.col(c).cast(t) for c, t in ALERT_SCHEMA.items()])
        .unique(["detector", "key"], keep="first", maintain_order=True)
        .sort(["score", "detector", "key"], descending=[True, False, False])
    )


def unjudged(ctx: Context, detectors: tuple[Detector, ...] = DETECTORS) -> pl.DataFrame:
    """Every reason records were not judged (UNJUDGED_SCHEMA): implausible quantities and
    dates (for every detector), records whose text the screen could not read, and per
    detector the records in its scope without a field it needs. One row per reason; a
    consignment reported twice (or by both sides) counts once."""
    rows = [ctx.unjudged]
    s = ctx.shipments.filter(pl.col("lead"))
    unread = s.filter(pl.col("screen_verdict") == "unreadable")
    if unread.height:
        rows.append(
            unjudged_row(
                "every detector that reads product names",
                "product text unreadable (garbled characters, mojibake)",
                unread,
            )
        )
    for d in detectors:
        for need in d.needs:
            scope = s if need.scope == "all" else s.filter(pl.col("substance").is_not_null())
            missing = scope.filter(pl.col(need.column).is_null())
            if missing.height:
                rows.append(unjudged_row(d.name, need.reason, missing))
    return pl.concat(rows) if rows else pl.DataFrame(schema=UNJUDGED_SCHEMA)


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
    shipments: pl.DataFrame | Callable[[], pl.DataFrame],
    declarations: pl.DataFrame,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    as_of: dt.date | None = None,
    screener: Screener | None = None,
    progress: Progress | None = None,
) -> Context:
    """The prepared context with the thresholds in force (pairing window, grace, masking,
    plausibility, entity linkage); `progress` hears of each long step (`prepare`).
    `shipments` may be a function that reads them (see `prepare`)."""
    cfgs = configs(overrides)
    return prepare(
        shipments,
        declarations,
        as_of=as_of,
        mirror=cfgs["mirror_quantity_gap"],
        never=cfgs["export_never_arrived"],
        masked=cfgs["masked_listed_substance"],
        quality=cfgs["data_quality"],
        entity=cfgs["entities"],
        screener=screener,
        progress=progress,
    )
