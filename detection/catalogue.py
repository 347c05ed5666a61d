"""What every detector's evidence means, in words and units: one catalogue for the console,
the command line and the challenge-inspection request.

Data only (no polars): per detector a plain name, a one-line meaning, and for each number of
its evidence and each of its thresholds a label, a kind (which says the unit and how to round)
and a one-line meaning. Adding a detector is one `_detector(...)` block in `CATALOGUE`;
tests/detection/test_catalogue.py fails until every registered detector and every number its
evidence carries is described here. Threshold meanings default to the config's description.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATALOGUE",
    "FLOW_WORDS",
    "METHOD_WORDS",
    "OUTLIER",
    "Entry",
    "Explained",
    "detector_label",
    "explain_evidence",
    "flow_word",
    "format_value",
]

# Kinds of value: each decides the unit shown and how a number is rounded for reading.
KINDS = (
    "kg",  # kilograms: whole kg from 100 up, else one decimal
    "count",  # a whole number with thousands separators
    "share",  # 0..1 shown as a percentage
    "times",  # a multiple: one decimal, "3.2 times"
    "number",  # a plain number: one decimal
    "probability",  # a chance: "about 1 in 13 million" below 1%, else a percentage
    "days",  # a duration in whole days
    "date",  # ISO date
    "year",  # a calendar year (no thousands separator)
    "text",  # words, optionally translated by the entry's `words`
    "list",  # several words, comma-separated
    "substances",  # CAS numbers or ids of substances, shown by name
    "points",  # score points, signed
    "rank",  # 0..1 rank among trade relations
)


@dataclass(frozen=True)
class Entry:
    """One number (or word) of an alert's evidence, or one threshold."""

    label: str
    kind: str
    meaning: str = ""
    words: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} for {self.label!r}")


@dataclass(frozen=True)
class DetectorWords:
    """A detector in words: its plain name, what an alert means, its numbers and thresholds."""

    label: str
    meaning: str
    numbers: Mapping[str, Entry]
    thresholds: Mapping[str, Entry]


@dataclass(frozen=True)
class Explained:
    """One evidence line ready to show: label, value in words and units, meaning."""

    label: str
    value: str
    meaning: str


FLOW_WORDS = {"X": "export record", "M": "import record"}

METHOD_WORDS = {
    "cas": "its CAS number",
    "exact": "its name on the watchlist",
    "synonym": "a synonym on the watchlist",
    "abbreviation": "an abbreviation on the watchlist",
    "abbreviation-ambiguous": "an ambiguous abbreviation",
    "fuzzy": "a close spelling of a watchlist name",
    "structure": "its chemical structure",
    "structure-unavailable": "no structure check (Java missing)",
    "no-locant": "a name without a ring position",
    "learned product text": "the same product text as records with a listed CAS",
    "none": "nothing on the watchlist",
}

_ROLE = {"exporter": "as exporter", "importer": "as importer"}


def _detector(
    label: str, meaning: str, numbers: dict[str, Entry], thresholds: dict[str, Entry]
) -> DetectorWords:
    return DetectorWords(label, meaning, numbers, thresholds)


def _e(label: str, kind: str, meaning: str = "", **words: str) -> Entry:
    return Entry(label, kind, meaning, words)


# The two score weights every detector has (detection/config.py `_floor`, `_span`).
_SCORE = {
    "score_floor": _e("Score of a finding just at the threshold", "number"),
    "score_span": _e("Score points added as the evidence grows", "points"),
}

# Thresholds shared by the two cadence tests (bursts and split series).
_CADENCE_THRESHOLDS = {
    **_SCORE,
    "window_days": _e("Window", "days"),
    "min_count": _e("Fewest shipments in the window", "count"),
    "max_tail_probability": _e("Chance below which it fires", "probability"),
    "min_history": _e("Shipments of history needed", "count"),
    "max_regularity": _e("Most regular cadence assumed", "number"),
    "min_gaps_for_regularity": _e("Gaps needed to trust the regularity", "count"),
}

# fmt: off
CATALOGUE: dict[str, DetectorWords] = {
    "declared_quantity_exceeded": _detector(
        "Declared quantity exceeded",
        "A declared facility handled more of a substance in a year than it declared, or is on pace to.",
        {
            "year": _e("Year", "year", "The calendar year compared with its declaration."),
            "role": _e("Facility's part", "text", "Whether the facility shipped or received it.", **_ROLE),
            "shipped": _e("Shipped in the year", "kg", "Each consignment counted once."),
            "declared": _e("Declared for the year", "kg", "The facility's declared annual quantity."),
            "elapsed": _e("Share of the year elapsed", "share", "Up to the latest record loaded."),
            "ratio_annual": _e("Shipped against declared", "share", "Shipped as a share of the whole year's declaration."),
            "ratio_pace": _e("Against the pro-rata pace", "share", "Shipped as a share of the declaration due by now."),
            "n": _e("Consignments", "count", "Consignments of the substance in the year."),
            "first_over": _e("First over the line", "date", "The date the running total passed the declared line."),
        },
        {
            "excess_ratio": _e("Fires above this share of the declaration", "share"),
            "pace_factor": _e("Fires above the pro-rata pace times", "times"),
            "min_elapsed_fraction": _e("Pace judged after this share of the year", "share"),
            "min_excess_kg": _e("Smallest excess that counts", "kg"),
            **_SCORE,
        },
    ),
    "unusual_shipment_size": _detector(
        "Unusually large shipment",
        "A shipment far larger than its trade relation (or exporter) usually ships of that substance.",
        {
            "quantity_kg": _e("This shipment", "kg", "The consignment's quantity."),
            "usual_kg": _e("Usual shipment", "kg", "The median of the history it is compared with."),
            "times_median": _e("Times the usual", "times", "This shipment divided by the usual one."),
            "robust_z": _e("Distance from the usual", "number", "Robust z-score of the log quantity (median and MAD); 3.5 or more is rare."),
            "baseline": _e("Compared with", "text", "Whose history gave the usual size.", relation="this exporter's shipments to this importer", **{"exporter and substance": "this exporter's shipments of the substance"}),
            "history": _e("Shipments of history", "count", "How many shipments the usual size rests on."),
            "peer_q": _e("Peers' high mark", "kg", "The 99th percentile of every shipment of the substance."),
            "peer_median": _e("Peers' median", "kg", "The median shipment of the substance across all traders."),
            "date": _e("Date", "date", "The shipment's date."),
        },
        {
            "min_robust_z": _e("Fires from this distance from the usual", "number"),
            "min_ratio": _e("And from this many times the usual", "times"),
            "min_ratio_to_largest": _e("Or from this many times the relation's largest other shipment", "times"),
            "min_history": _e("Shipments of history needed", "count"),
            "min_log_spread": _e("Least spread assumed in a history", "number"),
            "peer_quantile": _e("Peers' high mark (quantile)", "share"),
            "own_history": _e("Own-relation shipments needed to check it too", "count"),
            **_SCORE,
        },
    ),
    "shipment_burst": _detector(
        "Burst of shipments",
        "A trade relation shipped far more often over a stretch of time than its cadence outside that stretch explains.",
        {
            "count": _e("Shipments in the burst", "count", "Consignments from the first to the last date: the least likely run of the relation's shipments there."),
            "total_kg": _e("Quantity in the burst", "kg", "Each consignment counted once."),
            "first_date": _e("From", "date"),
            "last_date": _e("To", "date"),
            "window_days": _e("Days judged", "days", "From the first to the last date, or the shortest stretch tested if longer."),
            "expected_in_window": _e("Expected in those days", "number", "Shipments the relation's cadence outside the burst predicts for the days judged."),
            "cadence_days": _e("Normal cadence", "days", "One shipment every so many days, outside the burst."),
            "baseline_shipments": _e("Shipments outside the burst", "count", "The relation's shipments the normal cadence rests on: all but the burst's own."),
            "baseline_days": _e("Days outside the burst", "days", "From the relation's first shipment to its last plus one usual gap (or the reference date), less the days judged."),
            "p": _e("Chance of so many", "probability", "Probability of at least this many shipments in the days judged at the normal cadence, times the scales tested."),
            "regularity": _e("Regularity of the cadence", "number", "1 = as irregular as chance; higher = clockwork."),
            "history": _e("Shipments of history", "count"),
        },
        {
            **_CADENCE_THRESHOLDS,
            "window_days": _e("Shortest stretch tested", "days"),
            "min_count": _e("Fewest shipments in a burst", "count"),
            "scales": _e("Doublings of the stretch tested (longest: shortest times 2^(scales-1))", "count"),
            "max_run_count": _e("Most shipments in one stretch tested", "count"),
            "min_ratio": _e("Fires from this many times the expected shipments", "times"),
            "min_outside_ratio": _e("Time outside a stretch needed, in stretch lengths", "times"),
            "min_baseline": _e("Shipments outside a stretch needed", "count"),
        },
    ),
    "split_series": _detector(
        "Order split into a series",
        "Several shipments in a few days that together are far above one usual shipment (a 'series of orders').",
        {
            "count": _e("Shipments in the series", "count", "Consignments in the window."),
            "total_kg": _e("Quantity of the series", "kg", "Each consignment counted once."),
            "largest_kg": _e("Largest single shipment", "kg"),
            "usual_kg": _e("Usual shipment", "kg", "The relation's median shipment."),
            "times_usual": _e("Series against one usual shipment", "times"),
            "first_date": _e("From", "date"),
            "last_date": _e("To", "date"),
            "cadence_days": _e("Normal cadence", "days", "One shipment every so many days, outside the window."),
            "p": _e("Chance of so many", "probability", "Probability of at least this many shipments in the window at the normal cadence."),
            "regularity": _e("Regularity of the cadence", "number", "1 = as irregular as chance; higher = clockwork."),
        },
        {
            **_CADENCE_THRESHOLDS,
            "min_total_ratio": _e("Fires from this many usual shipments", "times"),
            "max_piece_ratio": _e("Largest piece, in usual shipments", "times"),
        },
    ),
    "undeclared_party": _detector(
        "Trade by an undeclared party",
        "A listed substance was exported or imported by a party linked to no declared facility.",
        {
            "role": _e("Party's part", "text", **_ROLE),
            "party": _e("Party", "text", "The name as the feeds give it."),
            "spellings": _e("Spellings", "list", "The names under which the feeds give this one party."),
            "substances": _e("Substances", "substances"),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity", "kg", "Each consignment counted once."),
            "first_date": _e("From", "date"),
            "last_date": _e("To", "date"),
            "counterparts": _e("Trading partners", "list", "Up to five, by name."),
        },
        {"min_total_kg": _e("Smallest total that counts", "kg"), **_SCORE},
    ),
    "mirror_quantity_gap": _detector(
        "Export and import records disagree",
        "The importer recorded a materially different quantity than the exporter for the same consignment.",
        {
            "x_kg": _e("Export record", "kg", "Quantity the exporting authority reported."),
            "m_kg": _e("Import record", "kg", "Quantity the importing authority reported."),
            "gap_kg": _e("Gap (import minus export)", "kg"),
            "gap_share": _e("Gap as a share", "share", "Of the larger of the two quantities."),
            "x_date": _e("Exported on", "date"),
            "m_date": _e("Imported on", "date"),
            "how": _e("Records matched by", "text", ref="the consignment reference", **{"parties and date": "the parties and the dates"}),
            "ratio": _e("Import against export", "times", "The import record's quantity divided by the export record's."),
            "unit_error": _e("Likely unit error", "text", "The unit factor the two quantities differ by, if any."),
        },
        {
            "tolerance": _e("Gap tolerated", "share"),
            "min_gap_kg": _e("Smallest gap that counts", "kg"),
            "match_window_days": _e("Import matched up to this long after", "days"),
            "unit_factor_tolerance": _e("Closeness to a unit factor that reads as a unit error", "share"),
            "unit_error_score": _e("Score of a likely unit error", "number"),
            "unit_errors_as_alerts": _e("Likely unit errors raised as alerts", "text", **{"True": "yes", "False": "no, counted in the run's report"}),
            **_SCORE,
        },
    ),
    "export_never_arrived": _detector(
        "Export never arrived",
        "An export to a country that reports its imports has no matching import record.",
        {
            "quantity_kg": _e("Exported", "kg"),
            "date": _e("Exported on", "date"),
            "days_since": _e("Days without an import record", "days"),
            "coverage": _e("Importing country's reporting", "share", "Share of exports to it that have an import record."),
            "exports": _e("Exports to that country", "count", "Exports the reporting share rests on."),
            "corroborated_by": _e("Corroborated by", "list", "What else points the same way; a lone missing record is low severity."),
            "importer_missing": _e("The importer's missing records", "count", "Exports to this importer without an import record."),
            "importer_p": _e("Chance of so many misses for the importer", "probability", "At the importing country's reporting rate."),
            "relation_missing": _e("Missing records of the relation", "count", "Exports of this exporter to this importer without an import record."),
            "relation_n": _e("Exports of the relation", "count", "Exports of this exporter to this importer the misses are counted among."),
            "relation_how": _e("How the relation's misses stand out", "text", row="in a row", close="close together", spread="more than the country's rate explains"),
            "relation_span": _e("Consecutive exports holding two misses", "count", "The fewest consecutive exports of the relation that hold this miss and another."),
            "relation_p": _e("Chance of so many misses for the relation", "probability", "At the importing country's reporting rate, the way the misses stand out (in a row, close together, or in all)."),
            "usual_kg": _e("Usual shipment", "kg", "The relation's median shipment."),
            "consignments": _e("Consignments missing", "count", "The relation's exports without an import record, in one alert."),
            "first_date": _e("First exported on", "date"),
            "last_date": _e("Last exported on", "date"),
        },
        {
            "min_reporting_coverage": _e("Country counts as reporting from", "share"),
            "min_reporting_records": _e("Exports needed to judge reporting", "count"),
            "grace_days": _e("Time allowed to arrive", "days"),
            "unusual_quantity_ratio": _e("Unusual quantity that corroborates, in usual shipments", "times"),
            "max_repeat_probability": _e("Repeated misses corroborate below this chance", "probability"),
            "new_importer_days": _e("Importer counts as new for", "days"),
            "lone_score": _e("Score of a lone missing record", "number"),
            "corroboration_points": _e("Points per corroboration", "points"),
            "raise_lone": _e("Lone missing records raised as alerts", "text", **{"True": "yes", "False": "no, counted in the run's report"}),
        },
    ),
    "masked_listed_substance": _detector(
        "Listed substance under another name",
        "A listed substance traded under a name that hides it (systematic, obfuscated or unlisted name).",
        {
            "product": _e("Name used", "text", "The product description as declared."),
            "why": _e("Why it hides the substance", "text"),
            "cas_given": _e("CAS number given", "text"),
            "method": _e("Recognised by", "text", **METHOD_WORDS),
            "plain_count": _e("Consignments named openly", "count", "The exporter's consignments of the substance under a common name, synonym or CAS number."),
            "all_count": _e("All the exporter's consignments", "count", "Of the substance."),
            "text_users": _e("Exporters using this name", "count", "How many exporters in the feed write this text."),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity", "kg", "Each consignment counted once."),
        },
        {
            "masking_methods": _e("Methods that count as hiding the name", "list"),
            "systematic_without_cas": _e("A chemist's name without CAS counts as hiding", "text", **{"True": "yes", "False": "no"}),
            "min_plain_share": _e("Exporter names it openly at least this often", "share"),
            "max_text_share": _e("Name rare in the feed: at most this share", "share"),
            "min_plain_records": _e("Open namings needed to know the habit", "count"),
            **_SCORE,
        },
    ),
    "designer_analogue": _detector(
        "Designer precursor traded",
        "A close relative of a listed precursor, not listed itself, was traded: early warning.",
        {
            "products": _e("Names used", "list", "Up to five product descriptions."),
            "importers": _e("Buyers", "list", "Up to five, by name."),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity", "kg", "Each consignment counted once."),
            "first_date": _e("First seen", "date"),
            "listed_parent": _e("One step from", "substances", "The listed precursor it is made into."),
        },
        {"min_screen_score": _e("Lowest screening score that fires", "number"), **_SCORE},
    ),

    "end_user_reexport": _detector(
        "Declared consumer re-exports",
        "A facility declared only as a consumer of a substance exported it (end-user diversion).",
        {
            "exporter": _e("Exporter", "text", "The declared consumer, as the feeds name it."),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity exported", "kg", "Each consignment counted once."),
            "first_date": _e("From", "date"),
            "last_date": _e("To", "date"),
            "importers": _e("Buyers", "list", "Up to five, by name."),
            "destinations": _e("Destinations", "list", "Countries it went to."),
        },
        {"min_export_kg": _e("Smallest export that counts", "kg"), **_SCORE},
    ),
    "value_mismatch": _detector(
        "Price far from its peers",
        "A declared value per kg far from the same product's peers, or a benign description priced like a listed precursor (mis-valuation).",
        {
            "peer_group": _e("Compared with", "text", "The records it was priced against: same substance, description or tariff subheading."),
            "direction": _e("Price", "text", above="above its peers", below="below its peers"),
            "products": _e("Names used", "list", "Up to five product descriptions."),
            "count": _e("Records", "count"),
            "total_kg": _e("Quantity", "kg"),
            "price_usd_per_kg": _e("Declared price, USD per kg", "number", "The median over the records."),
            "peer_usd_per_kg": _e("Peers' price, USD per kg", "number", "The median of the peer records."),
            "times_peers": _e("Against the peers' price", "times"),
            "robust_z": _e("Distance from the peers", "number", "Robust z-score of the log price (median and spread of the peers)."),
            "peers": _e("Peer records", "count", "How many priced records the comparison rests on."),
            "listed_low_usd_per_kg": _e("Listed precursors priced from, USD per kg", "number", "The low end of listed precursors' declared prices."),
        },
        {
            "min_peers": _e("Peer records needed", "count"),
            "min_robust_z": _e("Fires from this distance from the peers", "number"),
            "min_ratio": _e("And from this many times (or one over) the peers' price", "times"),
            "min_log_spread": _e("Least price spread assumed", "number"),
            "listed_price_quantile": _e("Priced like a listed precursor from this quantile", "share"),
            "min_kg": _e("Smallest record judged", "kg"),
            **_SCORE,
        },
    ),
    "hs_mismatch": _detector(
        "Tariff code does not fit",
        "A listed substance declared under an unrelated tariff heading, or a description that names nothing under a listed substance's own subheading (mis-declaration).",
        {
            "finding": _e("Finding", "text", **{"vague description": "a vague description under the substance's own subheading", "unrelated heading": "a tariff heading unrelated to the substance"}),
            "hs_code": _e("Tariff code declared", "text"),
            "products": _e("Names used", "list", "Up to five product descriptions."),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity", "kg", "Each consignment counted once."),
        },
        {"related_headings": _e("Headings a listed precursor may be declared under", "list"), **_SCORE},
    ),
    "shared_address_network": _detector(
        "Several consignees at one address",
        "Differently named, undeclared consignees at one address each received a little of a listed substance, together more than a typical consignee takes (front companies).",
        {
            "address": _e("Address", "text", "As normalised for comparison."),
            "consignees": _e("Consignees at the address", "count"),
            "names": _e("Their names", "list"),
            "count": _e("Consignments", "count"),
            "total_kg": _e("Quantity together", "kg", "Each consignment counted once."),
            "largest_kg": _e("Largest consignment", "kg"),
            "small_kg": _e("Small consignment up to", "kg", "The substance's consignment size that counts as small."),
            "typical_kg": _e("A typical consignee takes", "kg", "The median total of the substance's consignees."),
            "times_typical": _e("Together against a typical consignee", "times"),
            "first_date": _e("From", "date"),
            "last_date": _e("To", "date"),
        },
        {
            "min_consignees": _e("Fewest consignees that make a network", "count"),
            "small_quantile": _e("Consignments count as small up to this quantile", "share"),
            "min_total_ratio": _e("Together more than this many typical consignees", "times"),
            **_SCORE,
        },
    ),
    "diverted_consignment": _detector(
        "Consignment diverted in transit",
        "The import record of a consignment names another consignee or another country than its export record.",
        {
            "finding": _e("Finding", "text"),
            "x_importer": _e("Consignee on the export record", "text"),
            "x_importer_country": _e("Destination on the export record", "text"),
            "x_importer_entity": _e("Consignee's entity (export record)", "text"),
            "m_importer": _e("Consignee on the import record", "text"),
            "m_importer_country": _e("Country of the import record", "text"),
            "m_importer_entity": _e("Consignee's entity (import record)", "text"),
            "x_kg": _e("Export record", "kg"),
            "m_kg": _e("Import record", "kg"),
            "x_date": _e("Exported on", "date"),
            "m_date": _e("Imported on", "date"),
        },
        {"min_kg": _e("Smallest consignment judged", "kg"), **_SCORE},
    ),
}

# The IsolationForest's nudge (detection/scoring.py), cited by any relation-level alert.
OUTLIER = _detector(
    "Unusualness of the trade relation",
    "An IsolationForest over relation-level features moves the score by a few points; it never raises an alert.",
    {
        "relation_rank": _e("Relation's unusualness", "rank", "Rank among all trade relations (0 typical, 1 most unusual)."),
        "points": _e("Score points it added", "points"),
    },
    {
        "weight": _e("Most points it may add or remove", "points"),
        "n_estimators": _e("Trees", "count"),
        "random_state": _e("Seed", "count"),
    },
)
# fmt: on


def detector_label(name: str | None) -> str:
    """The detector's plain name ("Export never arrived"), also for detectors not catalogued."""
    if not name:
        return ""
    words = CATALOGUE.get(name)
    return words.label if words else name.replace("_", " ").capitalize()


def flow_word(flow: str | None) -> str:
    """'export record', 'import record', or what a record without a side is."""
    return FLOW_WORDS.get((flow or "").upper(), "record (side not given)")


def _big(n: float) -> str:
    """Two significant digits, in words from a thousand up (never "3.7e+02")."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if n >= size:
            return f"{_two_digits(n / size)} {word}"
    return _two_digits(n)


def _two_digits(x: float) -> str:
    return f"{x:.2g}" if x < 100 else f"{float(f'{x:.2g}'):.0f}"


def format_value(entry: Entry, value: Any, names: Mapping[str, str] | None = None) -> str:
    """The value in words and units, rounded for reading; '' for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    kind = entry.kind
    if isinstance(value, list | tuple):
        items = [
            format_value(Entry(entry.label, "text", words=entry.words), v, names) for v in value
        ]
        if kind == "substances":
            items = [(names or {}).get(str(v), str(v)) for v in value]
        return ", ".join(i for i in items if i)
    if kind in ("text", "list"):
        return entry.words.get(str(value), str(value))
    if kind == "substances":
        return (names or {}).get(str(value), str(value))
    if kind in ("date",):
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "kg":
        return f"{x:,.0f} kg" if abs(x) >= 100 else f"{x:,.1f} kg"
    if kind in ("count", "year"):
        return f"{x:,.0f}" if kind == "count" else f"{x:.0f}"
    if kind == "share":
        return f"{x * 100:,.0f}%" if abs(x) >= 0.1 or x == 0 else f"{x * 100:.1f}%"
    if kind == "times":
        return f"{x:,.1f} times"
    if kind == "days":
        return f"{x:,.0f} days"
    if kind == "probability":
        if x >= 0.01:
            return f"{x * 100:.0f}%"
        return "less than 1 in a trillion" if x < 1e-12 else f"about 1 in {_big(1 / x)}"
    if kind == "points":
        return f"{x:+.1f} points"
    if kind == "rank":
        return f"more unusual than {x * 100:.0f}% of trade relations"
    return f"{x:,.1f}"


def _unlisted(key: str, value: Any) -> Entry:
    """A key the catalogue lacks, still shown in words (tests keep this from happening for
    registered detectors)."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Entry(key.replace("_", " ").capitalize(), "number" if numeric else "text")


def explain_evidence(
    detector: str,
    evidence: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    threshold_meanings: Mapping[str, str] | None = None,
) -> dict[str, list[Explained]]:
    """An alert's evidence as lines to read: 'numbers', 'thresholds' and 'outlier' sections.

    `names` turns substance ids into names; `threshold_meanings` (the configs' descriptions)
    gives a threshold its meaning when the catalogue gives none."""
    words = CATALOGUE.get(detector)
    numbers = evidence.get("numbers")
    if not isinstance(numbers, Mapping):  # older or hand-made evidence: everything flat
        numbers = {k: v for k, v in evidence.items() if k not in ("detector", "records")}
    out: dict[str, list[Explained]] = {"numbers": [], "thresholds": [], "outlier": []}
    sections: list[tuple[str, Mapping[str, Any], Mapping[str, Entry]]] = [
        ("numbers", numbers, words.numbers if words else {}),
        ("thresholds", evidence.get("thresholds") or {}, words.thresholds if words else {}),
        ("outlier", evidence.get("outlier") or {}, OUTLIER.numbers),
    ]
    for section, values, entries in sections:
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            if isinstance(value, Mapping | list) and value and isinstance(next(iter(value)), dict):
                continue  # nested records are shown as records, not as a number
            entry = entries.get(key) or _unlisted(key, value)
            text = format_value(entry, value, names)
            meaning = entry.meaning
            if not meaning and section == "thresholds":
                meaning = (threshold_meanings or {}).get(key, "")
            if text:
                out[section].append(Explained(entry.label, text, meaning))
    return out
