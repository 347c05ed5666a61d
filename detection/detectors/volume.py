"""Volume detectors: more than a facility declared, and a shipment far above its relation's usual size."""

from __future__ import annotations

import math

import polars as pl

from detection.config import DeclaredQuantityConfig, UnusualSizeConfig
from detection.detectors.common import (
    empty,
    finish,
    kg,
    listed,
    pct,
    relation,
    score,
    substance_name,
)
from detection.prepare import Context

__all__ = ["declared_quantity_exceeded", "facility_volumes", "unusual_shipment_size"]

# ------------------------------------------------------------------ declared quantity exceeded


def facility_volumes(cons: pl.DataFrame) -> pl.DataFrame:
    """Each consignment once per declared facility on either side: its year, date and role.

    An exporter's consignment counts in the year of the export, an importer's in the year it
    arrived (its import record's date, else the export's). What declared_quantity_exceeded
    adds up, and what a page charting a facility's year against its declaration must count
    (registry.consignments.facility_year_consignments)."""
    roles = []
    for role, fac in (("exporter", "exporter_facility_id"), ("importer", "importer_facility_id")):
        # An exporter's year is the export's; an importer's the arrival's, where recorded.
        when = pl.col("date") if role == "exporter" else pl.coalesce("arrival_date", "date")
        roles.append(
            cons.filter(pl.col(fac).is_not_null()).select(
                pl.col(fac).alias("facility_id"),
                "substance",
                when.dt.year().alias("year"),
                when.alias("date"),
                "quantity_kg",
                "cons_id",
                "pks",
                pl.lit(role).alias("role"),
                pl.col("exporter_country" if role == "exporter" else "importer_country").alias(
                    "country"
                ),
            )
        )
    return pl.concat(roles)


def _with_declared(tot: pl.DataFrame, declarations: pl.DataFrame) -> pl.DataFrame:
    """Yearly totals with the quantity declared for that year (else the standing one, else 0);
    facilities unknown to the registry are left out (not judged here)."""
    decl = declarations.filter(pl.col("facility_id").is_not_null())
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
    return (
        tot.join(by_year, left_on=["facility_id", "substance", "year"], right_on=["facility_id", "substance_cas", "year"], how="left")
        .join(standing, left_on=["facility_id", "substance"], right_on=["facility_id", "substance_cas"], how="left")
        .join(declared_fac, on="facility_id", how="left")
        .filter(pl.col("_known").fill_null(False))  # facility ids unknown to the registry: not judged here
        .with_columns(pl.coalesce("declared", "declared_standing").fill_null(0.0).alias("declared"))
    )  # fmt: skip


def _crossing_records(
    vol: pl.DataFrame, hits: pl.DataFrame, cfg: DeclaredQuantityConfig
) -> pl.DataFrame:
    """Per finding, the records after the running total crossed the (pro-rata) declared line
    (at most 500), the first date over it, and the country of the facility's side."""
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
    return crossed.group_by("facility_id", "substance", "year").agg(
        pl.col("pks")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .head(500)
        .alias("shipment_pks"),
        pl.col("date").min().alias("first_over"),
        pl.col("country").drop_nulls().first().alias("country"),
    )


def _worded(ctx: Context, hits: pl.DataFrame, cfg: DeclaredQuantityConfig) -> pl.DataFrame:
    """The findings with their key, score and sentence."""
    as_of = ctx.as_of
    strength = (
        pl.when(pl.col("declared") <= 0)
        .then(1.0)
        .when(pl.col("over_annual"))
        .then(((pl.col("ratio_annual") - 1.0) / 0.8).clip(0, 1))
        .otherwise(((pl.col("ratio_pace") - cfg.pace_factor) / 0.8).clip(0, 1))
    )
    hits = hits.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("facility_id"), pl.col("substance_cas"), pl.col("year").cast(pl.String)], separator="|").alias("key"),
        score(cfg, strength).alias("score"),
        pl.when(pl.col("declared") <= 0)
        .then(pl.format("Facility {} {} {} kg of {} in {} with no declaration for that substance.", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), kg("shipped"), substance_name(ctx), "year"))
        .when(pl.col("over_annual"))
        .then(pl.format("Facility {} {} {} kg of {} in {} against {} kg declared ({}% of the declaration).", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), kg("shipped"), substance_name(ctx), "year", kg("declared"), pct(pl.col("ratio_annual"))))
        .otherwise(pl.format("Facility {} {} {} kg of {} by {} against {} kg declared for {}: {}% of the pro-rata pace ({}% of the year elapsed).", "facility_id", pl.when(pl.col("role") == "exporter").then(pl.lit("shipped")).otherwise(pl.lit("received")), kg("shipped"), substance_name(ctx), pl.lit(as_of.isoformat()), kg("declared"), "year", pct(pl.col("ratio_pace")), pct(pl.col("elapsed"))))
        .alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return hits


def declared_quantity_exceeded(ctx: Context, cfg: DeclaredQuantityConfig) -> pl.DataFrame:
    """A declared facility shipped more of a substance in a year than it declared (or is on pace to)."""
    cons = listed(ctx)
    if cons.height == 0:
        return empty()
    vol = facility_volumes(cons)
    if vol.height == 0:
        return empty()
    # A facility that both imports and exports a substance: the larger flow is what it handled.
    tot = (
        vol.group_by("facility_id", "substance", "year", "role")
        .agg(pl.col("quantity_kg").sum().alias("shipped"), pl.len().alias("n"))
        .sort(["shipped", "role"], descending=[True, False])
        .unique(["facility_id", "substance", "year"], keep="first", maintain_order=True)
    )
    tot = _with_declared(tot, ctx.declarations)
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
        return empty()
    links = _crossing_records(vol, hits, cfg)
    hits = hits.join(links, on=["facility_id", "substance", "year"], how="left").with_columns(
        pl.col("shipment_pks").fill_null(pl.lit([], dtype=pl.List(pl.Int64)))
    )
    hits = _worded(ctx, hits, cfg)
    return finish(
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


def _size_baselines(cons: pl.DataFrame, cfg: UnusualSizeConfig) -> pl.DataFrame:
    """Each consignment against its usual size: the relation's history when it has enough
    shipments, else the exporter's for the substance (median and MAD of log sizes), with the
    robust z, the multiple of the usual and the peers' marks."""
    cons = cons.with_columns(
        pl.col("quantity_kg").log().alias("_lq"), relation().alias("_relation")
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
    return cons.with_columns(
        (
            (pl.col("_lq") - pl.col("_med")) / (1.4826 * pl.col("_mad")).clip(cfg.min_log_spread)
        ).alias("robust_z"),
        (pl.col("_lq") - pl.col("_med")).exp().alias("times_median"),
        pl.col("_med").exp().alias("usual_kg"),
    )


def unusual_shipment_size(ctx: Context, cfg: UnusualSizeConfig) -> pl.DataFrame:
    """A shipment far larger than its trade relation (or exporter) usually ships of that substance."""
    cons = listed(ctx).filter(pl.col("quantity_kg") > 0)
    if cons.height == 0:
        return empty()
    cons = _size_baselines(cons, cfg)
    # Judged on the exporter's history, a shipment must still be large for its own relation
    # when that relation has a few shipments: a big customer's orders are all big.
    own = (
        (pl.col("baseline") == "relation")
        | (pl.col("rel_n") < cfg.own_history)
        | ((pl.col("_lq") - pl.col("rel_med")).exp() >= cfg.min_ratio)
    )
    # A relation alternating between package sizes (50 and 75 kg) has a wide spread, yet no
    # shipment of it near one many times its largest other one.
    q, rel_keys = pl.col("quantity_kg"), ["exp_key", "imp_key", "substance"]
    largest_other = (
        pl.when(q == q.max().over(rel_keys))
        .then(q.top_k(2).min().over(rel_keys))
        .otherwise(q.max().over(rel_keys))
    )
    beyond = (pl.col("baseline") == "relation") & (q >= cfg.min_ratio_to_largest * largest_other)
    hits = cons.filter(
        (pl.col("robust_z") >= cfg.min_robust_z) | beyond,
        pl.col("times_median") >= cfg.min_ratio,
        own,
    )
    if hits.height == 0:
        return empty()
    strength = ((pl.col("times_median").log() - math.log(cfg.min_ratio)) / math.log(5)).clip(0, 1)
    hits = hits.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.col("_relation"), pl.col("cons_key")], separator="|").alias("key"),
        score(cfg, (6 * strength + (pl.col("quantity_kg") > pl.col("peer_q")).cast(pl.Float64)) / 7).alias("score"),
        pl.format("{} shipped {} kg of {} to {} on {}: {} times the usual {} kg of this {} (robust z {}).", "exporter", kg("quantity_kg"), substance_name(ctx), "importer", "date", pl.col("times_median").round(1), kg("usual_kg"), "baseline", pl.col("robust_z").round(1)).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("exporter_country").alias("country"),
    )  # fmt: skip
    return finish(
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
