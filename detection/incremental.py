"""Incremental detection: what a batch of new shipment records can change, per detector.

The registry decides whether a run may be incremental (registry/detect_store.py: same
thresholds, declarations, earlier records, screen and pairing assumptions as the last run;
the reference date may move, see below). The context is still prepared over every record (pairing, learned product texts,
coverage and the outlier model are global); what is scoped is the detectors' input.

Which records can the new ones change? A new record joins a consignment (pairing by
consignment reference, or by parties and date within one exporter-importer pair), gives
its substance to the other records of its consignment reference, and can settle which side
(export, import) flow-less records of its reference are (detection/flows.py). So every record whose
prepared values (substance, consignment, partner) can differ from the last run lies in the
exporter-importer pairs of the new records and of the records sharing a reference with
them: the *affected records*. An alert can change only if one of its records is affected,
whether under the old or the new pairing; keys are therefore widened to a granularity that
an affected record fixes by its own values (a consignment takes its values from its
members), then each detector reads every record of the keys in scope, so its groups are
complete:

| detector | scope |
|---|---|
| declared_quantity_exceeded | facilities of affected records (either role); when as_of moved, also every facility with listed consignments in a year from the old to the new as_of's |
| undeclared_party | exporter / importer parties of affected records |
| masked_listed_substance, designer_analogue | exporters (exp_key) of affected records |
| everything else | all: relation-level alerts carry the IsolationForest nudge, whose ranks are refit over every relation, and unusual_shipment_size cites per-substance peers |

A detector not named here (a new one) runs on everything.

The reference date (`as_of`, the latest record's date unless given) moves whenever new
records are later than every earlier one: the normal case for a feed that moves forward.
What it changes, per detector:

- declared_quantity_exceeded: the elapsed share of a year, min(as_of, 31 Dec) against the
  year's length, clipped to 0..1; it differs between two dates only for the years from
  the earlier date's to the later date's (before them the year is over under both, after
  them it has not begun), and the pace summary cites as_of only for a year not yet over.
  So the facilities with listed consignments in those years join the scope.
- shipment_burst, split_series: every relation's expected count in a window is its history
  spread from its first shipment to as_of, so every relation's rate moves: everything
  (they run on everything anyway).
- export_never_arrived: the grace horizon, the coverage of every importing country and
  each alert's "after N days" move: everything (it runs on everything anyway).
- the others (and pairing, the learned texts, the outlier features) do not read as_of.

So a moved as_of needs no full run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from detection.prepare import Context

__all__ = [
    "RECORD_LEVEL",
    "SCOPED_DETECTORS",
    "WIDE_REASON",
    "Affected",
    "affected",
    "as_of_years",
    "scoped",
]

SCOPED_DETECTORS = (
    "declared_quantity_exceeded",
    "undeclared_party",
    "masked_listed_substance",
    "designer_analogue",
)

# Detectors that read records (ctx.shipments) rather than consignments.
RECORD_LEVEL = ("masked_listed_substance", "designer_analogue")

# Why the others are evaluated over everything (printed and recorded with each run).
WIDE_REASON = "global statistic (outlier ranks over all relations, peers per substance)"


@dataclass
class Affected:
    """Records that new records can change, and the keys they fix."""

    new_records: int
    records: pl.DataFrame  # ctx.shipments rows that are affected
    cons_ids: pl.Series  # consignments holding an affected record
    facilities: set[str]
    exporter_norms: set[str]
    importer_norms: set[str]
    exp_keys: set[str]
    # Years whose elapsed share moved with as_of (empty when as_of stayed), and the
    # facilities that joined the declared-quantity scope for them.
    as_of_years: tuple[int, ...] = ()
    as_of_facilities: int = 0


def as_of_years(old: dt.date, new: dt.date) -> tuple[int, ...]:
    """Years whose elapsed share (declared_quantity_exceeded's pace) differs between the
    reference dates `old` and `new`: none when they are equal."""
    if old == new:
        return ()
    lo, hi = sorted((old, new))
    return tuple(range(lo.year, hi.year + 1))


def affected(ctx: Context, new_ids: pl.Series, prev_as_of: dt.date | None = None) -> Affected:
    """The affected records of `ctx` given the ids of the new shipment records, and the
    reference date of the last run (None: the same as ctx.as_of)."""
    ship = ctx.shipments
    seed = ship.filter(pl.col("id").is_in(new_ids.implode()))
    refs = seed["consignment_ref"].drop_nulls().unique()
    neighbours = ship.filter(pl.col("consignment_ref").is_in(refs.implode()))
    pairs = pl.concat([seed, neighbours]).select("exp_key", "imp_key").unique()
    records = ship.join(pairs, on=["exp_key", "imp_key"], how="semi", nulls_equal=True)
    cons_ids = records["cons_id"].unique()
    cons = ctx.consignments.filter(pl.col("cons_id").is_in(cons_ids.implode()))

    def values(*cols: str) -> set[str]:
        out: set[str] = set()
        for frame in (records, cons):
            for c in cols:
                out |= set(frame[c].drop_nulls().to_list())
        return out

    facilities = values("exporter_facility_id", "importer_facility_id")
    years = as_of_years(prev_as_of or ctx.as_of, ctx.as_of)
    widened = 0
    if years:
        # Every facility whose year totals are judged against a pace that moved.
        listed = ctx.consignments.filter(
            pl.col("substance").is_not_null(), pl.col("date").dt.year().is_in(years)
        )
        extra = {
            f
            for c in ("exporter_facility_id", "importer_facility_id")
            for f in listed[c].drop_nulls().to_list()
        }
        widened = len(extra - facilities)
        facilities |= extra
    return Affected(
        new_records=seed.height,
        records=records,
        cons_ids=cons_ids,
        facilities=facilities,
        exporter_norms=values("exporter_norm"),
        importer_norms=values("importer_norm"),
        exp_keys=values("exp_key"),
        as_of_years=years,
        as_of_facilities=widened,
    )


Keep = Callable[[pl.DataFrame], pl.DataFrame]


def _in(col: str, values: set[str]) -> pl.Expr:
    return pl.col(col).is_in(pl.Series(sorted(values), dtype=pl.String).implode())


def scoped(ctx: Context, aff: Affected, detector: str) -> tuple[Context, Keep, int] | None:
    """The context `detector` needs for the keys in scope, a filter keeping only alerts of
    those keys, and the number of input rows; None: the detector runs on everything."""
    if detector == "declared_quantity_exceeded":
        fac = aff.facilities
        cons = ctx.consignments.filter(
            _in("exporter_facility_id", fac) | _in("importer_facility_id", fac)
        )
        return (
            dataclasses.replace(ctx, consignments=cons),
            lambda a: a.filter(_in("facility_id", fac)),
            cons.height,
        )
    if detector == "undeclared_party":
        nx, nm = aff.exporter_norms, aff.importer_norms
        cons = ctx.consignments.filter(_in("exporter_norm", nx) | _in("importer_norm", nm))
        # The detector's own key, over the parties in scope (their groups are complete).
        keys = pl.concat(
            [
                cons.filter(_in(f"{role}_norm", norms)).select(
                    pl.concat_str(
                        [pl.lit(role), pl.col(f"{role}_norm"), pl.col(f"{role}_country")],
                        separator="|",
                        ignore_nulls=True,
                    ).alias("key")
                )
                for role, norms in (("exporter", nx), ("importer", nm))
            ]
        )["key"]
        return (
            dataclasses.replace(ctx, consignments=cons),
            lambda a: a.filter(pl.col("key").is_in(keys.implode())),
            cons.height,
        )
    if detector in RECORD_LEVEL:
        ship = ctx.shipments.filter(_in("exp_key", aff.exp_keys))
        # Groups are by exporter first: every group in this input is complete.
        return dataclasses.replace(ctx, shipments=ship), lambda a: a, ship.height
    return None
