"""Typed thresholds of every detector: a default and a description for each, overridable by name."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BurstConfig",
    "DeclaredQuantityConfig",
    "DesignerAnalogueConfig",
    "ExportNeverArrivedConfig",
    "MaskedNameConfig",
    "MirrorGapConfig",
    "OutlierConfig",
    "SplitSeriesConfig",
    "UndeclaredPartyConfig",
    "UnusualSizeConfig",
    "config_json",
    "describe",
    "with_overrides",
]


def _t(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class DeclaredQuantityConfig:
    excess_ratio: float = _t(
        1.0, "Alert when a year's shipments exceed this multiple of the declared annual quantity."
    )
    pace_factor: float = _t(
        1.3,
        "Within the year, alert when shipments exceed the pro-rata declared quantity by this factor.",
    )
    min_elapsed_fraction: float = _t(
        0.25, "Do not judge the pace before this fraction of the year has passed."
    )
    min_excess_kg: float = _t(1.0, "Ignore excesses smaller than this many kg.")


@dataclass(frozen=True)
class UnusualSizeConfig:
    min_robust_z: float = _t(
        4.0,
        "Robust z-score (log quantity against median/MAD of the history) that makes a shipment unusual.",
    )
    min_ratio: float = _t(
        3.0, "And the shipment must be at least this many times the usual (median) size."
    )
    min_history: int = _t(
        5,
        "Shipments of history needed for relation statistics; below it the exporter's statistics for the substance are used.",
    )
    min_log_spread: float = _t(
        0.25,
        "Floor on the spread of log sizes, so a constant history does not make every change unusual.",
    )
    peer_quantile: float = _t(
        0.99, "Quantile of all shipments of the substance (peers) cited as evidence."
    )


@dataclass(frozen=True)
class BurstConfig:
    window_days: int = _t(21, "Length of the sliding window in days.")
    min_count: int = _t(4, "Fewest shipments in the window that can make a burst.")
    max_tail_probability: float = _t(
        1e-4,
        "Alert when so many shipments in the window are less likely than this under the relation's normal cadence (its rate and regularity).",
    )
    min_history: int = _t(4, "Shipments of history needed to know the relation's cadence.")
    max_regularity: float = _t(
        1.0,
        "Most regular cadence assumed: the gamma shape of the gaps between a relation's shipments, read from their quartiles (1 = Poisson, gaps as irregular as chance; above 1 a clockwork relation makes a cluster less likely than Poisson says). Never below 1.",
    )
    min_gaps_for_regularity: int = _t(
        8, "Gaps between shipments needed before a relation's regularity is trusted (else Poisson)."
    )


@dataclass(frozen=True)
class SplitSeriesConfig:
    window_days: int = _t(7, "Length of the window in which a series of orders is summed.")
    min_count: int = _t(3, "Fewest shipments that make a series.")
    min_total_ratio: float = _t(
        2.5, "Alert when the series totals at least this many times the relation's usual shipment."
    )
    max_tail_probability: float = _t(
        1e-3,
        "And that many shipments in the window must be less likely than this under the normal cadence.",
    )
    min_history: int = _t(4, "Shipments of history needed to know the usual shipment.")
    max_regularity: float = _t(
        1.5,
        "Most regular cadence assumed: the gamma shape of the gaps between a relation's shipments, read from their quartiles (1 = Poisson, gaps as irregular as chance; 1.5 = gaps vary about 0.8 times their mean). A clockwork relation makes a cluster of orders less likely than Poisson says; 1 restores the Poisson test. Never below 1.",
    )
    min_gaps_for_regularity: int = _t(
        8, "Gaps between shipments needed before a relation's regularity is trusted (else Poisson)."
    )


@dataclass(frozen=True)
class UndeclaredPartyConfig:
    min_total_kg: float = _t(
        0.0, "Ignore parties whose listed-substance trade totals less than this many kg."
    )


@dataclass(frozen=True)
class MirrorGapConfig:
    tolerance: float = _t(
        0.10,
        "Relative gap between exported and imported quantity tolerated (timing, packaging, rounding).",
    )
    min_gap_kg: float = _t(
        1.0,
        "Ignore gaps smaller than this many kg (OPCW practice: only gaps above a threshold count).",
    )
    match_window_days: int = _t(
        60,
        "An import record without the consignment reference is paired with an export up to this many days earlier.",
    )


@dataclass(frozen=True)
class ExportNeverArrivedConfig:
    min_reporting_coverage: float = _t(
        0.9,
        "A country counts as reporting imports when at least this share of exports to it have an import record.",
    )
    min_reporting_records: int = _t(
        10, "Exports to a country needed before its reporting coverage is trusted."
    )
    grace_days: int = _t(
        60,
        "Exports younger than this many days (before the latest record) are not yet expected to have arrived.",
    )


@dataclass(frozen=True)
class MaskedNameConfig:
    masking_methods: str = _t(
        "structure",
        "Screening methods (comma-separated) by which a name counts as hiding the substance even when the screen recognises it (structure = a systematic name outside the watchlist).",
    )


@dataclass(frozen=True)
class DesignerAnalogueConfig:
    min_screen_score: float = _t(
        0.0, "Lowest screening score of an analogue verdict that raises an alert."
    )


@dataclass(frozen=True)
class OutlierConfig:
    weight: float = _t(
        8.0,
        "Most points the IsolationForest relation score adds to or removes from an alert's score.",
    )
    n_estimators: int = _t(100, "Trees in the IsolationForest.")
    random_state: int = _t(0, "Seed of the IsolationForest (deterministic results).")


C = TypeVar("C")


def describe(cfg: Any) -> list[dict[str, Any]]:
    """Each threshold: name, value, default, description (for the console and the docs)."""
    out = []
    for f in dataclasses.fields(cfg):
        out.append(
            {
                "name": f.name,
                "value": getattr(cfg, f.name),
                "default": f.default,
                "description": f.metadata.get("description", ""),
            }
        )
    return out


def with_overrides(cfg: C, overrides: dict[str, Any] | None) -> C:
    """A copy of `cfg` with the named thresholds changed; unknown names raise ValueError."""
    if not overrides:
        return cfg
    names = {f.name: f for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    clean: dict[str, Any] = {}
    for k, v in overrides.items():
        if k not in names:
            raise ValueError(f"unknown threshold {k!r} for {type(cfg).__name__}")
        default: Any = names[k].default
        clean[k] = type(default)(v) if default is not None else v
    return dataclasses.replace(cfg, **clean)  # type: ignore[type-var]


def config_json(cfg: Any) -> str:
    """The thresholds in force as a JSON object (cited in every alert's evidence)."""
    return json.dumps(dataclasses.asdict(cfg), sort_keys=True)
