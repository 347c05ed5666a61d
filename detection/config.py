"""Typed thresholds of every detector: a default, a description and an allowed range for each."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BurstConfig",
    "DataQualityConfig",
    "DeclaredQuantityConfig",
    "DesignerAnalogueConfig",
    "DivertedConsignmentConfig",
    "EndUserReexportConfig",
    "EntityConfig",
    "ExportNeverArrivedConfig",
    "HsMismatchConfig",
    "MaskedNameConfig",
    "MirrorGapConfig",
    "OutlierConfig",
    "SeverityConfig",
    "SharedAddressConfig",
    "SplitSeriesConfig",
    "UndeclaredPartyConfig",
    "UnusualSizeConfig",
    "ValueMismatchConfig",
    "config_json",
    "describe",
    "with_overrides",
]


def _t(
    default: Any,
    description: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
) -> Any:
    """A threshold: default, description and the range a value must lie in (ge/gt, le)."""
    return field(
        default=default, metadata={"description": description, "ge": ge, "gt": gt, "le": le}
    )


# The two score weights every detector has: its score at the threshold, and the points added
# as the evidence grows to full strength (the sum is capped at 100).
def _floor(default: float) -> Any:
    return _t(float(default), "Score (0-100) of a finding just at the threshold.", ge=0, le=100)


def _span(default: float) -> Any:
    return _t(
        float(default),
        "Points added to the score as the evidence grows to full strength (capped at 100).",
        ge=0,
        le=100,
    )


@dataclass(frozen=True)
class DeclaredQuantityConfig:
    excess_ratio: float = _t(
        1.0,
        "Alert when a year's shipments exceed this multiple of the declared annual quantity.",
        gt=0,
    )
    pace_factor: float = _t(
        1.2,
        "Within the year, alert when shipments exceed the pro-rata declared quantity by this factor.",
        gt=0,
    )
    min_elapsed_fraction: float = _t(
        0.25, "Do not judge the pace before this fraction of the year has passed.", ge=0, le=1
    )
    min_excess_kg: float = _t(1.0, "Ignore excesses smaller than this many kg.", ge=0)
    score_floor: float = _floor(62)
    score_span: float = _span(33)


@dataclass(frozen=True)
class UnusualSizeConfig:
    min_robust_z: float = _t(
        3.5,
        "Robust z-score (log quantity against median/MAD of the history) that makes a shipment unusual.",
        gt=0,
    )
    min_ratio: float = _t(
        4.0, "And the shipment must be at least this many times the usual (median) size.", ge=1
    )
    min_ratio_to_largest: float = _t(
        3.0,
        "Below that robust z-score, a shipment at least this many times the largest other shipment of its relation is unusual too (a relation alternating between package sizes has a wide spread, yet nothing near such a shipment).",
        ge=1,
    )
    min_history: int = _t(
        5,
        "Shipments of history needed for relation statistics; below it the exporter's statistics for the substance are used.",
        ge=2,
    )
    min_log_spread: float = _t(
        0.25,
        "Floor on the spread of log sizes, so a constant history does not make every change unusual.",
        gt=0,
    )
    peer_quantile: float = _t(
        0.99, "Quantile of all shipments of the substance (peers) cited as evidence.", ge=0, le=1
    )
    own_history: int = _t(
        3,
        "Judged on the exporter's history (a short relation), a shipment must also be min_ratio times its own relation's median once the relation has this many shipments (a big customer's orders are all big).",
        ge=2,
    )
    score_floor: float = _floor(58)
    score_span: float = _span(35)


@dataclass(frozen=True)
class BurstConfig:
    window_days: int = _t(
        21,
        "Shortest stretch tested in days: a run of shipments within fewer days is judged over this many.",
        ge=1,
    )
    scales: int = _t(
        5,
        "Longest stretch tested: window_days times 2 to the power scales - 1 (21 days and 5 scales: runs of up to 336 days), so a burst lasting weeks or months is seen; each tail probability is multiplied by this number (Bonferroni over the doublings of the length).",
        ge=1,
        le=6,
    )
    min_count: int = _t(4, "Fewest shipments in a run that can make a burst.", ge=2)
    max_run_count: int = _t(
        30, "Most shipments in one run tested (a longer burst is found as its densest part).", ge=2
    )
    min_ratio: float = _t(
        4.0,
        "A run must hold at least this many times the shipments its relation's cadence outside the run predicts (a slow drift in a relation's rate is not a burst).",
        ge=1,
    )
    min_outside_ratio: float = _t(
        2.0,
        "The relation's active time outside a run must last at least this many times the run, so the rate it is judged against rests on enough history.",
        gt=0,
    )
    min_baseline: int = _t(
        3,
        "Shipments outside a run needed to know the relation's rate against it (a rate from two shipments is a guess).",
        ge=1,
    )
    max_tail_probability: float = _t(
        3e-4,
        "Alert when so many shipments in the run are less likely than this under the relation's cadence outside the run (its rate and regularity), after multiplying by the number of scales.",
        gt=0,
        le=1,
    )
    min_history: int = _t(4, "Shipments of history needed to know the relation's cadence.", ge=2)
    max_regularity: float = _t(
        1.5,
        "Most regular cadence assumed: the gamma shape of the gaps between a relation's shipments, read from their quartiles (1 = Poisson, gaps as irregular as chance; 1.5 = gaps vary about 0.8 times their mean). A clockwork relation makes a cluster less likely than Poisson says; 1 restores the Poisson test. Never below 1.",
        ge=1,
    )
    min_gaps_for_regularity: int = _t(
        8,
        "Gaps between shipments needed before a relation's regularity is trusted (else Poisson).",
        ge=1,
    )
    score_floor: float = _floor(55)
    score_span: float = _span(35)


@dataclass(frozen=True)
class SplitSeriesConfig:
    window_days: int = _t(7, "Length of the window in which a series of orders is summed.", ge=1)
    min_count: int = _t(3, "Fewest shipments that make a series.", ge=2)
    min_total_ratio: float = _t(
        2.0,
        "Alert when the series totals at least this many times the relation's usual shipment.",
        gt=0,
    )
    max_piece_ratio: float = _t(
        1.25,
        "Each shipment of a series is at most this many times the relation's usual shipment: structuring splits one order into ordinary-sized pieces (a cluster of large orders is a burst or an unusual size, not a split).",
        gt=0,
    )
    max_tail_probability: float = _t(
        1e-3,
        "And that many shipments in the window must be less likely than this under the normal cadence.",
        gt=0,
        le=1,
    )
    min_history: int = _t(4, "Shipments of history needed to know the usual shipment.", ge=2)
    max_regularity: float = _t(
        1.5,
        "Most regular cadence assumed: the gamma shape of the gaps between a relation's shipments, read from their quartiles (1 = Poisson, gaps as irregular as chance; 1.5 = gaps vary about 0.8 times their mean). A clockwork relation makes a cluster of orders less likely than Poisson says; 1 restores the Poisson test. Never below 1.",
        ge=1,
    )
    min_gaps_for_regularity: int = _t(
        8,
        "Gaps between shipments needed before a relation's regularity is trusted (else Poisson).",
        ge=1,
    )
    score_floor: float = _floor(55)
    score_span: float = _span(35)


@dataclass(frozen=True)
class UndeclaredPartyConfig:
    min_total_kg: float = _t(
        0.0, "Ignore parties whose listed-substance trade totals less than this many kg.", ge=0
    )
    score_floor: float = _floor(68)
    score_span: float = _span(22)


@dataclass(frozen=True)
class MirrorGapConfig:
    tolerance: float = _t(
        0.10,
        "Relative gap between exported and imported quantity tolerated (timing, packaging, rounding).",
        ge=0,
        le=1,
    )
    min_gap_kg: float = _t(
        1.0,
        "Ignore gaps smaller than this many kg (OPCW practice: only gaps above a threshold count).",
        ge=0,
    )
    match_window_days: int = _t(
        60,
        "An import record without the consignment reference is paired with an export up to this many days earlier.",
        ge=1,
    )
    unit_factor_tolerance: float = _t(
        0.02,
        "A ratio between the two quantities within this relative distance of a unit factor (2.2046 lb per kg, 1000 g per kg or kg per t, and their inverses) is reported as a likely unit error, at low severity.",
        ge=0,
        le=0.2,
    )
    unit_error_score: float = _t(
        35.0, "Score of a gap that is a likely unit error (below the medium band).", ge=0, le=100
    )
    unit_errors_as_alerts: bool = _t(
        False,
        "Raise a likely unit error as a low-severity alert; otherwise it is only counted in the run's report (pounds typed into kilogram fields are ordinary noise, not diversion).",
    )
    score_floor: float = _floor(55)
    score_span: float = _span(40)


@dataclass(frozen=True)
class ExportNeverArrivedConfig:
    min_reporting_coverage: float = _t(
        0.9,
        "A country counts as reporting imports when at least this share of exports to it have an import record.",
        ge=0,
        le=1,
    )
    min_reporting_records: int = _t(
        10, "Exports to a country needed before its reporting coverage is trusted.", ge=1
    )
    grace_days: int = _t(
        60,
        "Exports younger than this many days (before the reference date) are not yet expected to have arrived.",
        ge=0,
    )
    unusual_quantity_ratio: float = _t(
        3.0,
        "An export at least this many times its relation's usual shipment corroborates a missing import record.",
        ge=1,
    )
    max_repeat_probability: float = _t(
        0.01,
        "The same importer (or exporter-importer relation) missing several exports corroborates when that many misses are less likely than this at the importing country's own miss rate (binomial tail).",
        gt=0,
        le=1,
    )
    new_importer_days: int = _t(
        60,
        "An importer first seen less than this many days before the export is new, and so is a relation whose first consignment this is, which corroborates a missing import record (only where the feed began at least this long before).",
        ge=0,
    )
    lone_score: float = _t(
        40.0,
        "Score of a lone missing import record that nothing corroborates (below the medium band: low severity).",
        ge=0,
        le=100,
    )
    corroboration_points: float = _t(
        14.0,
        "Points each corroboration adds (the same importer missing another record, an undeclared importer, a new importer, an unusual quantity).",
        ge=0,
        le=100,
    )
    raise_lone: bool = _t(
        False,
        "Raise a lone missing import record that nothing corroborates as a low-severity alert; otherwise it is only counted in the run's report (countries that report their imports still miss 0.5-2% of them).",
    )


@dataclass(frozen=True)
class MaskedNameConfig:
    masking_methods: str = _t(
        "structure",
        "Screening methods (comma-separated) by which a name counts as hiding the substance even when the screen recognises it (structure = a systematic name outside the watchlist).",
    )
    systematic_without_cas: bool = _t(
        True,
        "A listed substance named by its systematic (IUPAC) or CAS index name with no CAS number counts as hidden when its exporter usually names it plainly (it changed how it declares it; a chemist's name says what it is only to a chemist).",
    )
    min_plain_share: float = _t(
        0.5,
        "Share of the exporter's consignments of the substance named openly (a common name or synonym, its CAS number, or a text the feed ties to it) that makes a chemist's name without CAS a change of habit.",
        ge=0,
        le=1,
    )
    max_text_share: float = _t(
        0.02,
        "A chemist's name without CAS counts as hidden only when at most this share of the feed's records of the substance use that text (a catalogue name common in the trade is not concealment).",
        ge=0,
        le=1,
    )
    min_plain_records: int = _t(
        3, "Consignments named plainly the exporter needs before its habit is known.", ge=1
    )
    score_floor: float = _floor(66)
    score_span: float = _span(22)


@dataclass(frozen=True)
class DesignerAnalogueConfig:
    min_screen_score: float = _t(
        0.0,
        "Lowest screening score (0-100) of an analogue verdict that raises an alert; analogue names screened below it are only recorded as early warnings.",
        ge=0,
        le=100,
    )
    score_floor: float = _floor(72)
    score_span: float = _span(18)


@dataclass(frozen=True)
class EndUserReexportConfig:
    min_export_kg: float = _t(
        1.0, "Ignore a declared consumer's exports of the substance below this many kg.", ge=0
    )
    score_floor: float = _floor(66)
    score_span: float = _span(26)


@dataclass(frozen=True)
class ValueMismatchConfig:
    min_peers: int = _t(
        15,
        "Priced records of the same product (screened substance, else description, else HS subheading) needed before its price per kg is trusted.",
        ge=3,
    )
    min_robust_z: float = _t(
        3.5,
        "Robust z-score of the log price per kg against the peers' median and spread that makes a price unusual.",
        gt=0,
    )
    min_ratio: float = _t(
        4.0,
        "And the price must be at least this many times (or at most one over this many times) the peers' median.",
        ge=1,
    )
    min_log_spread: float = _t(
        0.35,
        "Floor on the peers' spread of log prices, so a uniform price list does not make every deviation unusual.",
        gt=0,
    )
    listed_price_quantile: float = _t(
        0.005,
        "A record described as a benign product is 'priced like a listed precursor' at or above this quantile of the listed precursors' prices per kg.",
        ge=0,
        le=1,
    )
    min_kg: float = _t(1.0, "Ignore records below this many kg (sample prices).", ge=0)
    score_floor: float = _floor(58)
    score_span: float = _span(30)


@dataclass(frozen=True)
class HsMismatchConfig:
    related_headings: str = _t(
        "2933",
        "Tariff headings (4 digits, comma-separated) under which a listed precursor may be declared; a code of another heading is unrelated. Codes of fewer than 4 digits are not judged.",
    )
    score_floor: float = _floor(62)
    score_span: float = _span(24)


@dataclass(frozen=True)
class SharedAddressConfig:
    min_consignees: int = _t(
        3,
        "Differently named, undeclared consignees at one address receiving the same listed substance that make a network (two at one address, a group head office, are normal).",
        ge=2,
    )
    small_quantile: float = _t(
        0.5,
        "Each consignment is small: at most this quantile of the substance's consignment sizes.",
        ge=0,
        le=1,
    )
    min_total_ratio: float = _t(
        1.0,
        "Together they received more than this many times what a typical consignee of the substance takes.",
        gt=0,
    )
    score_floor: float = _floor(64)
    score_span: float = _span(26)


@dataclass(frozen=True)
class DivertedConsignmentConfig:
    min_kg: float = _t(0.0, "Ignore consignments below this many kg.", ge=0)
    score_floor: float = _floor(76)
    score_span: float = _span(16)


@dataclass(frozen=True)
class OutlierConfig:
    weight: float = _t(
        8.0,
        "Most points the IsolationForest relation score adds to or removes from an alert's score.",
        ge=0,
        le=50,
    )
    n_estimators: int = _t(100, "Trees in the IsolationForest.", ge=1, le=10_000)
    random_state: int = _t(0, "Seed of the IsolationForest (deterministic results).", ge=0)


@dataclass(frozen=True)
class SeverityConfig:
    critical_from: float = _t(85.0, "Lowest score of a critical alert.", ge=0, le=100)
    high_from: float = _t(70.0, "Lowest score of a high-severity alert.", ge=0, le=100)
    medium_from: float = _t(
        50.0, "Lowest score of a medium-severity alert (below: low).", ge=0, le=100
    )


@dataclass(frozen=True)
class DataQualityConfig:
    max_quantity_kg: float = _t(
        1e9,
        "A record's quantity above this many kg (a million tonnes, more than any ship carries), negative or not a number is not judged by any detector that needs the quantity.",
        gt=0,
    )
    earliest_date: str = _t(
        "1990-01-01",
        "Records dated before this day (ISO) are not judged and do not move the reference date.",
    )
    max_future_days: int = _t(
        7,
        "Records dated more than this many days after today are not judged and do not move the reference date.",
        ge=0,
    )
    duplicate_window_days: int = _t(
        3,
        "Two records of one flow from different sources with the same parties and substance, dated within this many days, are one consignment reported twice when they carry the same consignment reference, or when their quantities agree and their references do not differ.",
        ge=0,
    )
    duplicate_quantity_tolerance: float = _t(
        0.01,
        "Two such records without a shared consignment reference are one consignment when their quantities differ by at most this share of the larger (a unit converted and rounded by one authority).",
        ge=0,
        le=0.2,
    )


@dataclass(frozen=True)
class EntityConfig:
    min_match_probability: float = _t(
        0.9,
        "Two parties of one country are one entity when the linkage model's match probability (name and address) reaches this.",
        gt=0,
        le=1,
    )
    max_blocking_candidates: int = _t(
        2_000_000,
        "Most candidate pairs compared; the blocking rules keep it far below that on real feeds.",
        ge=1,
    )


C = TypeVar("C")


def describe(cfg: Any) -> list[dict[str, Any]]:
    """Each threshold: name, value, default, description, range (for the console and the docs)."""
    out = []
    for f in dataclasses.fields(cfg):
        out.append(
            {
                "name": f.name,
                "value": getattr(cfg, f.name),
                "default": f.default,
                "description": f.metadata.get("description", ""),
                "range": _range_words(f),
            }
        )
    return out


def _range_words(f: dataclasses.Field[Any]) -> str:
    m = f.metadata
    lo = f"> {m['gt']:g}" if m.get("gt") is not None else None
    lo = lo or (f">= {m['ge']:g}" if m.get("ge") is not None else None)
    hi = f"<= {m['le']:g}" if m.get("le") is not None else None
    return " and ".join(x for x in (lo, hi) if x) or "any"


def _convert(name: str, default: Any, value: Any, owner: str) -> Any:
    """`value` as the type of `default`, or a ValueError that says what is wrong in words."""
    if default is None:
        return value
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return low in ("true", "1", "yes")
            return bool(value)
        if isinstance(default, int) and not isinstance(value, bool):
            f = float(value)
            if not f.is_integer():
                raise ValueError
            return int(f)
        return type(default)(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"threshold {name} of {owner} must be a {type(default).__name__}, not {value!r}"
        ) from None


def _check_range(f: dataclasses.Field[Any], value: Any, owner: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    m = f.metadata
    what = f"threshold {f.name} of {owner} must be"
    if not math.isfinite(value):
        raise ValueError(f"{what} a finite number, not {value}")
    if m.get("gt") is not None and not value > m["gt"]:
        raise ValueError(f"{what} greater than {m['gt']:g}, not {value:g}")
    if m.get("ge") is not None and not value >= m["ge"]:
        raise ValueError(f"{what} at least {m['ge']:g}, not {value:g}")
    if m.get("le") is not None and not value <= m["le"]:
        raise ValueError(f"{what} at most {m['le']:g}, not {value:g}")


def with_overrides(cfg: C, overrides: dict[str, Any] | None) -> C:
    """A copy of `cfg` with the named thresholds changed; an unknown name, a value of the
    wrong type or out of its range raises ValueError with a one-line message."""
    if not overrides:
        return cfg
    owner = type(cfg).__name__
    names = {f.name: f for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    clean: dict[str, Any] = {}
    for k, v in overrides.items():
        if k not in names:
            raise ValueError(f"unknown threshold {k!r} for {owner}")
        clean[k] = _convert(k, names[k].default, v, owner)
        _check_range(names[k], clean[k], owner)
    return dataclasses.replace(cfg, **clean)  # type: ignore[type-var]


def config_json(cfg: Any) -> str:
    """The thresholds in force as a JSON object (cited in every alert's evidence)."""
    return json.dumps(dataclasses.asdict(cfg), sort_keys=True)
