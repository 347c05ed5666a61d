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


_VAGUE = "a description that names no chemical (the feed uses it for other goods too)"
# Purity, grade and packaging written after a product's name.
_PACKAGING = (
    r"\s+(?:\d+(?:[.,]\d+)?\s*%|tech(?:nical)?\s+grade|\d+(?:[.,]\d+)?\s*(?:kg|g|l|t)\b).*$"
)
_BLANK = "a description that names no chemical, though the exporter usually names the substance"
_CHEMIST = "a name only a chemist reads, though the exporter usually names the substance openly"


def _generic_texts(ship: pl.DataFrame) -> pl.DataFrame:
    """Product texts the feed uses for more than one chemical (several CAS numbers, or records
    of no listed substance beside listed ones): a text that does not say what the goods are."""
    text = pl.col("product").fill_null("").str.to_lowercase().str.strip_chars()
    return (
        ship.group_by(text.alias("_pl"))
        .agg(
            pl.col("cas").drop_nulls().n_unique().alias("_cas_n"),
            pl.col("substance").is_null().any().alias("_benign_too"),
            pl.col("substance").is_not_null().any().alias("_listed_too"),
        )
        .filter((pl.col("_cas_n") >= 2) | (pl.col("_benign_too") & pl.col("_listed_too")))
        .select("_pl", pl.lit(True).alias("generic_text"))
    )


def _hidden(ctx: Context, cfg: MaskedNameConfig) -> pl.DataFrame:
    """Records of a listed substance whose name hides it, with `why` (in words)."""
    method = pl.col("screen_method").fill_null("")
    listed = ctx.shipments.filter(pl.col("substance").is_not_null()).with_columns(
        pl.col("product").fill_null("").str.to_lowercase().str.strip_chars().alias("_pl")
    )
    listed = listed.join(_generic_texts(ctx.shipments), on="_pl", how="left").with_columns(
        pl.col("generic_text").fill_null(False)
    )
    chemist = ~pl.col("plain_name").fill_null(False) | pl.col("systematic_no_cas").fill_null(False)
    # Open: a plain common name, the record's own CAS number, or a text the feed itself ties
    # to the substance (learned): the declarant said what it ships.
    opened = ~chemist | method.is_in(["cas", "learned product text"])
    habit = (
        listed.filter(pl.col("lead"))
        .group_by("exp_key", "substance")
        .agg(
            opened.sum().alias("plain_count"),
            pl.len().alias("all_count"),
            pl.col("plain_name").fill_null(False).sum().alias("_named"),
        )
    )
    listed = listed.join(habit, on=["exp_key", "substance"], how="left", nulls_equal=True)
    # How common this text is for this substance in the feed: a catalogue name is shared
    # across the trade; a name few records use stands out.
    # The name is the text without its purity, grade and packaging ("... 99% 25kg drum"),
    # which split one name into many rare-looking texts.
    listed = listed.with_columns(
        pl.col("_pl").str.replace(_PACKAGING, "").str.strip_chars().alias("_name")
    )
    users = (
        listed.group_by("_name", "substance")
        .agg(pl.col("exp_key").n_unique().alias("text_users"), pl.len().alias("_text_n"))
        .with_columns((pl.col("_text_n") / pl.col("_text_n").sum().over("substance")).alias("text_share"))
    )  # fmt: skip
    listed = listed.join(users, on=["_name", "substance"], how="left", nulls_equal=True)
    usually_open = (pl.col("plain_count").fill_null(0) >= cfg.min_plain_records) & (
        pl.col("plain_count") >= cfg.min_plain_share * pl.col("all_count")
    )
    masking = [m.strip() for m in cfg.masking_methods.split(",") if m.strip()]
    by_chemist = (
        chemist
        & pl.col("cas").is_null()
        & ~method.is_in(["cas", "learned product text", "hs subheading"])
        & (method.is_in(masking) | (pl.lit(cfg.systematic_without_cas) & pl.col("systematic_no_cas").fill_null(False)))
        & usually_open
        & (pl.col("text_share") <= cfg.max_text_share)
    )  # fmt: skip
    # A substance read only off its own tariff subheading is hs_mismatch's finding.
    not_named = ~pl.col("plain_name").fill_null(False) & (method != "hs subheading")
    vague = pl.col("generic_text") & not_named
    # A text naming nothing at all, rare in the feed for the substance (a spelling the trade
    # shares is not concealment), from an exporter whose other records name the substance by
    # a name the screen reads (not a CAS number beside its own spelling): a departure.
    usually_named = (pl.col("_named").fill_null(0) >= cfg.min_plain_records) & (
        pl.col("_named") >= cfg.min_plain_share * pl.col("all_count")
    )
    blank = (
        pl.col("names_nothing").fill_null(False)
        & not_named
        & usually_named
        & (pl.col("text_share") <= cfg.max_text_share)
    )
    s = listed.filter(vague | blank | by_chemist).with_columns(
        pl.when(vague)
        .then(pl.lit(_VAGUE))
        .when(blank)
        .then(pl.lit(_BLANK))
        .otherwise(pl.lit(_CHEMIST))
        .alias("why"),
        pl.when(method == "").then(pl.lit("screen")).otherwise(method).alias("screen_method"),
    )
    return s


def masked_listed_substance(ctx: Context, cfg: MaskedNameConfig) -> pl.DataFrame:
    """A listed substance traded under a name that hides it: a description the feed uses for
    other goods too (whatever CAS number goes with it), or, without a CAS number, a name only a
    chemist reads from an exporter that usually names the substance openly."""
    s = _hidden(ctx, cfg)
    if s.height == 0:
        return empty()
    g = (
        s.sort("id")
        .group_by("exp_key", "substance", "_pl", "why")
        .agg(
            pl.col("product").first(),
            pl.col("exporter").first(),
            pl.col("exporter_facility_id").first().alias("facility_id"),
            pl.col("exporter_country").first().alias("country"),
            pl.col("screen_method").drop_nulls().first().alias("method"),
            pl.col("cas").drop_nulls().first().alias("cas_given"),
            pl.col("plain_count").first(),
            pl.col("all_count").first(),
            pl.col("_named").first(),
            pl.col("text_users").first(),
            pl.col("text_share").first(),
            pl.col("cons_id").n_unique().alias("count"),  # a consignment's two records count once
            pl.col("quantity_kg")
            .filter(pl.col("cons_id").is_first_distinct())
            .sum()
            .alias("total_kg"),
            pl.col("id").alias("shipment_pks"),
        )
    )
    g = g.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str(["exp_key", "substance_cas", "_pl"], separator="|").alias("key"),
        score(cfg, (14 * pl.col("facility_id").is_null().cast(pl.Float64) + 8 * ((pl.col("total_kg") + 1).log10() / 3).clip(0, 1)) / 22).alias("score"),
        pl.when(pl.col("why") == _VAGUE)
        .then(pl.format("{} shipped {} kg of {} in {} consignments under \"{}\", a description the feed uses for other goods too (identified by {}).", "exporter", kg("total_kg"), substance_name(ctx), "count", "product", "method"))
        .when(pl.col("why") == _BLANK)
        .then(pl.format("{} shipped {} kg of {} in {} consignments under \"{}\", a description that names no chemical (identified by {}), though it names the substance in {} of its {} consignments of it.", "exporter", kg("total_kg"), substance_name(ctx), "count", "product", "method", "_named", "all_count"))
        .otherwise(pl.format("{} shipped {} kg of {} in {} consignments as \"{}\" with no CAS number, a name only a chemist reads (identified by {}) and rare in the feed for this substance, though it names the substance openly in {} of its {} consignments of it.", "exporter", kg("total_kg"), substance_name(ctx), "count", "product", "method", "plain_count", "all_count"))
        .alias("summary"),
        pl.lit(None, dtype=pl.String).alias("_relation"),
    )  # fmt: skip
    return finish(
        g,
        "masked_listed_substance",
        cfg,
        [
            "why",
            "product",
            "cas_given",
            "method",
            "count",
            "total_kg",
            "plain_count",
            "all_count",
            "text_users",
        ],
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
