"""Name detectors: what the screen found behind a product text (a listed substance under a
name that hides it, a designer precursor)."""

from __future__ import annotations

import polars as pl

from detection.config import DesignerAnalogueConfig, MaskedNameConfig
from detection.detectors.common import empty, finish, kg, score, substance_name
from detection.prepare import Context
from detection.surveillance import surveillance_parent

__all__ = ["designer_analogue", "masked_listed_substance"]

# ------------------------------------------------------------------------ screening results


def masked_listed_substance(ctx: Context, cfg: MaskedNameConfig) -> pl.DataFrame:
    """A listed substance traded under a name that hides it (systematic, obfuscated or unlisted name)."""
    listed = ctx.shipments.filter(pl.col("substance").is_not_null())
    sysname = pl.col("systematic_no_cas").fill_null(False) & pl.col("plain_name").fill_null(False)
    common = pl.col("plain_name").fill_null(False) & ~pl.col("systematic_no_cas").fill_null(False)
    habit = (
        listed.filter(pl.col("lead"))
        .group_by("exp_key", "substance")
        .agg(common.sum().alias("plain_count"), pl.len().alias("all_count"))
    )
    listed = listed.join(habit, on=["exp_key", "substance"], how="left", nulls_equal=True)
    changed = (
        pl.lit(cfg.systematic_without_cas)
        & sysname
        & (pl.col("plain_count").fill_null(0) >= cfg.min_plain_records)
        & (pl.col("plain_count") >= cfg.min_plain_share * pl.col("all_count"))
    )
    # A substance read only off its own tariff subheading is hs_mismatch's finding.
    s = listed.filter(
        (pl.col("plain_name") == False) | changed,  # noqa: E712
        pl.col("screen_method").fill_null("") != "hs subheading",
    ).with_columns(
        pl.when(changed)
        .then(pl.lit("a systematic name without CAS number"))
        .otherwise(pl.col("screen_method"))
        .alias("screen_method")
    )
    if s.height == 0:
        return empty()
    g = s.group_by("exp_key", "substance", pl.col("product").str.to_lowercase().alias("_pl")).agg(
        pl.col("product").first(),
        pl.col("exporter").first(),
        pl.col("exporter_facility_id").first().alias("facility_id"),
        pl.col("exporter_country").first().alias("country"),
        pl.col("screen_method").drop_nulls().first().alias("method"),
        pl.col("cas").drop_nulls().first().alias("cas_given"),
        pl.col("plain_count").first(),
        pl.col("all_count").first(),
        pl.col("cons_id").n_unique().alias("count"),  # a consignment's two records count once
        pl.col("quantity_kg").filter(pl.col("cons_id").is_first_distinct()).sum().alias("total_kg"),
        pl.col("id").alias("shipment_pks"),
    )
    g = g.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str(["exp_key", "substance_cas", "_pl"], separator="|").alias("key"),
        score(cfg, (14 * pl.col("facility_id").is_null().cast(pl.Float64) + 8 * ((pl.col("total_kg") + 1).log10() / 3).clip(0, 1)) / 22).alias("score"),
        pl.when(pl.col("method") == "a systematic name without CAS number")
        .then(pl.format("{} shipped {} kg of {} in {} consignments under the name \"{}\", a systematic name without CAS number, though it names the substance plainly in {} of its {} consignments of it.", "exporter", kg("total_kg"), substance_name(ctx), "count", "product", "plain_count", "all_count"))
        .otherwise(pl.format("{} shipped {} kg of {} in {} consignments under the name \"{}\", which hides the listed substance (identified by {}).", "exporter", kg("total_kg"), substance_name(ctx), "count", "product", pl.col("method").fill_null("screen")))
        .alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return finish(
        g,
        "masked_listed_substance",
        cfg,
        ["product", "cas_given", "method", "count", "total_kg", "plain_count", "all_count"],
    )


def designer_analogue(ctx: Context, cfg: DesignerAnalogueConfig) -> pl.DataFrame:
    """A designer precursor (close relative of a listed precursor) was traded: early warning."""
    s = ctx.shipments.filter(
        pl.col("designer").is_not_null(),
        pl.col("screen_score").fill_null(100.0) >= cfg.min_screen_score,
    )
    if s.height == 0:
        return empty()
    g = s.group_by("exp_key", "designer").agg(
        pl.col("product").unique().sort(nulls_last=True).head(5).alias("products"),
        pl.col("exporter").first(),
        pl.col("exporter_facility_id").first().alias("facility_id"),
        pl.col("exporter_country").first().alias("country"),
        pl.col("importer").unique().sort(nulls_last=True).head(5).alias("importers"),
        pl.col("cons_id").n_unique().alias("count"),
        pl.col("quantity_kg").filter(pl.col("cons_id").is_first_distinct()).sum().alias("total_kg"),
        pl.col("date").min().alias("first_date"),
        pl.col("id").alias("shipment_pks"),
    )
    parents = {d: surveillance_parent(d) for d in g["designer"].unique().to_list()}
    g = g.with_columns(
        pl.col("designer").alias("substance_cas"),
        pl.col("designer").replace_strict(parents, default=None, return_dtype=pl.String).alias("listed_parent"),
    ).with_columns(
        pl.concat_str(["exp_key", "designer"], separator="|").alias("key"),
        score(cfg, (pl.col("total_kg") + 1).log10() / 3).alias("score"),
        pl.format("{} shipped {} kg of {} in {} consignments from {}: a designer precursor one step from listed {}.", "exporter", kg("total_kg"), substance_name(ctx), "count", "first_date", pl.col("listed_parent").replace_strict(ctx.substance_names, default=pl.col("listed_parent")).fill_null("precursors")).alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return finish(
        g,
        "designer_analogue",
        cfg,
        ["products", "importers", "count", "total_kg", "first_date", "listed_parent"],
    )
