"""What detection can judge: plausible quantities and dates, the reference date, and one
consignment reported by two sources counted once.

No single stored row may stop detection or move it: a quantity of 1e309 (infinity) or 1e30 kg
is not judged by the detectors that need a quantity, a record dated 9999-12-31 or 0001-01-01
is not judged at all and does not move the reference date ("today" of the registry). Each is
reported, with how many records and a few of their ids, in words.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from detection.config import DataQualityConfig
from detection.frames import attach

__all__ = [
    "UNJUDGED_SCHEMA",
    "guard_implausible",
    "mark_duplicates",
    "reference_date",
    "unjudged_row",
]

# One row per reason some records were not judged (or judged but not raised as alerts): by
# whom ("every detector", a detector's name), why (plain words), how many records, and up to
# five of their source ids.
UNJUDGED_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # "not judged", or "not raised" (reported, below what makes an alert)
    "scope": pl.String(),
    "reason": pl.String(),
    "records": pl.Int64(),
    "examples": pl.List(pl.String()),
}


def unjudged_row(
    scope: str, reason: str, rows: pl.DataFrame, kind: str = "not judged"
) -> pl.DataFrame:
    """One UNJUDGED_SCHEMA row for `rows` (which carry `shipment_id` and `id`)."""
    examples = rows.sort("id").get_column("shipment_id").cast(pl.String).head(5).to_list()
    return pl.DataFrame(
        {"kind": [kind], "scope": [scope], "reason": [reason], "records": [rows.height],
         "examples": [examples]},
        schema=UNJUDGED_SCHEMA,
    )  # fmt: skip


def _date_bounds(cfg: DataQualityConfig, today: dt.date) -> tuple[dt.date, dt.date]:
    try:
        earliest = dt.date.fromisoformat(cfg.earliest_date)
    except ValueError:
        earliest = dt.date(1990, 1, 1)
    return earliest, today + dt.timedelta(days=cfg.max_future_days)


def guard_implausible(
    ship: pl.DataFrame, cfg: DataQualityConfig, today: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records with a plausible date (the rest are dropped), their implausible quantities
    emptied; and the UNJUDGED_SCHEMA rows that say so."""
    earliest, latest = _date_bounds(cfg, today)
    q = pl.col("quantity_kg")
    bad_q = q.is_not_null() & (q.is_nan() | q.is_infinite() | (q < 0) | (q > cfg.max_quantity_kg))
    bad_d = pl.col("date").is_null() | (pl.col("date") < earliest) | (pl.col("date") > latest)
    notes = []
    dated = ship.filter(bad_d)
    if dated.height:
        notes.append(
            unjudged_row(
                "every detector",
                f"no date, or dated before {earliest.isoformat()} or after {latest.isoformat()} "
                "(not judged, and not used for the reference date)",
                dated,
            )
        )
        ship = ship.filter(~bad_d)  # a copy of every column: only when some must go
    heavy = ship.filter(bad_q)
    if heavy.height:
        notes.append(
            unjudged_row(
                "detectors that need a quantity",
                f"quantity not a number, negative, or above {cfg.max_quantity_kg:g} kg, "
                "more than any consignment",
                heavy,
            )
        )
        ship = ship.with_columns(pl.when(bad_q).then(None).otherwise(q).alias("quantity_kg"))
    out = pl.concat(notes) if notes else pl.DataFrame(schema=UNJUDGED_SCHEMA)
    return ship, out


def reference_date(ship: pl.DataFrame, today: dt.date) -> tuple[dt.date, str]:
    """The registry's "today": the latest plausible record date (records were guarded
    already), or today when nothing is loaded; with a sentence saying which."""
    latest = ship["date"].max() if ship.height else None
    if isinstance(latest, dt.date):
        return latest, f"reference date {latest.isoformat()}: the latest plausibly dated record"
    return today, f"reference date {today.isoformat()}: today (no dated record)"


def mark_duplicates(ship: pl.DataFrame, cfg: DataQualityConfig) -> pl.DataFrame:
    """`ship` with `dup_of`: the id of the record this one repeats (one consignment reported
    by two sources), else null.

    Two records of one flow, the same parties and substance (`exp_key`, `imp_key`, `sub_key`:
    entities, not spellings, and the screened substance, not the product text, which each
    authority writes its own way), from different sources and dated within the window, are
    one consignment when they carry the same consignment reference, or when their quantities
    agree within the tolerance and their references do not differ (a reference on one report
    only says nothing). Different references are different consignments.

    Ties are broken by a stated key (date, then id): the earlier report, then the lower id, is
    the one that counts. One sort, then each record is compared with the one before it (no
    window functions: 1M records in well under 1 s)."""
    group = pl.struct(
        pl.col("flow").fill_null("?"),
        pl.col("exp_key").fill_null("?"),
        pl.col("imp_key").fill_null("?"),
        pl.col("sub_key").fill_null("?"),
    ).hash(seed=7)
    ref, prev_ref = pl.col("consignment_ref"), pl.col("_pr")
    q, prev_q = pl.col("quantity_kg"), pl.col("_pq")
    same_ref = ref.is_not_null() & (ref == prev_ref).fill_null(False)
    other_ref = ref.is_not_null() & prev_ref.is_not_null() & (ref != prev_ref)
    close = ((q - prev_q).abs() <= cfg.duplicate_quantity_tolerance * pl.max_horizontal(q, prev_q)).fill_null(False)  # fmt: skip
    s = (
        ship.select("id", "date", "source", "quantity_kg", "consignment_ref", group.alias("_g"))
        .sort("_g", "date", "id")
        .with_columns(
            (pl.col("_g") == pl.col("_g").shift(1)).fill_null(False).alias("_same"),
            pl.col("date").shift(1).alias("_pd"),
            pl.col("source").shift(1).alias("_ps"),
            pl.col("id").shift(1).alias("_pid"),
            pl.col("consignment_ref").shift(1).alias("_pr"),
            pl.col("quantity_kg").shift(1).alias("_pq"),
        )
        .with_columns(
            (
                pl.col("_same")
                & ((pl.col("date") - pl.col("_pd")).dt.total_days() <= cfg.duplicate_window_days)
                & (pl.col("source").fill_null("") != pl.col("_ps").fill_null(""))
                & (same_ref | (close & ~other_ref))
            ).alias("_rep")
        )
        # A report repeating one that is itself a repeat is a third report: two sources per
        # consignment is what feeds do, so it stands as a consignment of its own.
        .with_columns(
            pl.when(pl.col("_rep") & ~pl.col("_rep").shift(1).fill_null(False))
            .then(pl.col("_pid"))
            .otherwise(None)
            .alias("dup_of")
        )
        .select("id", "dup_of")
    )
    return attach(ship, s, "id")
