"""Trade-flow sides of records whose feed gave none (`flow` is optional in a feed).

A feed that mixes both sides of its consignments but has no flow column would otherwise count
every such consignment twice (once per record): declared quantities look exceeded, series look
twice as long. The contract's `consignment_ref` is shared by the export and import records of
one consignment, so two flow-less records with the same reference, the same exporting and the
same importing country are that consignment's two sides: the earlier (then the lower id) is
taken as the export record and the other as the import record, and mirror pairing merges them.
A consignment reported by a third source (a pre-export notification beside the export
declaration, a statistics office beside customs) has three such records: those of the first
day are the export side, the later ones the import side, and the repeats of one side fold
into one report (detection.quality.mark_duplicates). Three or more records of one reference all
dated the same day, and everything else without a flow, stay unknown (one-sided records).
"""

from __future__ import annotations

import polars as pl

from detection.frames import attach

__all__ = ["infer_mirror_sides"]


def infer_mirror_sides(ship: pl.DataFrame) -> pl.DataFrame:
    """`ship` with `flow` filled ("X"/"M") for flow-less twin records of one consignment."""
    if ship.height == 0 or "flow" not in ship.columns or "consignment_ref" not in ship.columns:
        return ship
    flowless = ship.filter(pl.col("flow").is_null() & pl.col("consignment_ref").is_not_null())
    if flowless.height < 2:
        return ship
    ref = "consignment_ref"
    twins = (
        flowless.select("id", ref, "date", "exporter_country", "importer_country")
        .filter(
            (pl.len().over(ref) >= 2)
            & (pl.col("exporter_country").n_unique().over(ref) == 1)
            & (pl.col("importer_country").n_unique().over(ref) == 1)
            & ((pl.len().over(ref) == 2) | (pl.col("date").n_unique().over(ref) >= 2))
        )
        .sort([ref, "date", "id"])
        .select(
            "id",
            pl.when(
                pl.when(pl.len().over(ref) == 2)
                .then(pl.int_range(pl.len()).over(ref) == 0)
                .otherwise(pl.col("date") == pl.col("date").min().over(ref))
            )
            .then(pl.lit("X"))
            .otherwise(pl.lit("M"))
            .alias("_side"),
        )
    )
    if twins.height == 0:
        return ship
    return (
        attach(ship, twins, "id")
        .with_columns(pl.coalesce("flow", "_side").alias("flow"))
        .drop("_side")
    )
