"""Declaration detectors: what a customs declaration says about the goods that does not fit
them: a tariff code unrelated to the listed substance (or a listed substance's own subheading
under a description that names nothing), and a declared value far from the product's peers."""

from __future__ import annotations

import polars as pl

from detection.config import HsMismatchConfig, ValueMismatchConfig
from detection.detectors.common import empty, finish, kg, score, substance_name
from detection.detectors.mirrors import unit_error as _unit_error
from detection.prepare import Context

__all__ = ["hs_mismatch", "value_mismatch"]

# ------------------------------------------------------------------------------ hs mismatch


def hs_mismatch(ctx: Context, cfg: HsMismatchConfig) -> pl.DataFrame:
    """A listed substance declared under an unrelated tariff heading, or a description that names
    no listed substance under a listed substance's own subheading (HS 2022: 2933.36 ANPP,
    2933.37 NPP). Sloppy but related codes (2933.99, 2933) are not findings."""
    related = [h.strip()[:4] for h in cfg.related_headings.split(",") if h.strip()]
    s = ctx.shipments.filter(pl.col("substance").is_not_null(), pl.col("hs_code").is_not_null())
    s = s.with_columns(pl.col("hs_code").str.replace_all(r"[^0-9]", "").alias("_hs"))
    # The substance read off its own subheading while the text does not point at it (not
    # even as an ambiguous abbreviation such as "NPP").
    vague = (pl.col("screen_method") == "hs subheading") & ~pl.col("plain_name").fill_null(False)
    unrelated = (
        ~vague
        & (pl.col("_hs").str.len_chars() >= 4)
        & ~pl.col("_hs").str.slice(0, 4).is_in(related)
    )
    s = s.filter(vague | unrelated).with_columns(
        pl.when(vague).then(pl.lit("vague description")).otherwise(pl.lit("unrelated heading")).alias("finding")
    )  # fmt: skip
    if s.height == 0:
        return empty()
    g = (
        s.sort("id")
        .group_by("exp_key", "substance", "_hs", "finding")
        .agg(
            pl.col("exporter").first(),
            pl.col("hs_code").first(),
            pl.col("product").unique().sort().head(5).alias("products"),
            pl.col("exporter_facility_id").first().alias("facility_id"),
            pl.col("exporter_country").first().alias("country"),
            pl.col("cons_id").n_unique().alias("count"),
            pl.col("quantity_kg")
            .filter(pl.col("cons_id").is_first_distinct())
            .sum()
            .alias("total_kg"),
            pl.col("id").alias("shipment_pks"),
        )
    )
    g = g.rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str(["exp_key", "substance_cas", "_hs", "finding"], separator="|").alias("key"),
        score(cfg, (pl.col("total_kg") + 1).log10() / 3).alias("score"),
        pl.when(pl.col("finding") == "vague description")
        .then(pl.format("{} declared {} kg in {} consignments as \"{}\" under tariff code {}, the subheading of {} alone, with a description that names no listed substance.", "exporter", kg("total_kg"), "count", pl.col("products").list.first(), "hs_code", substance_name(ctx)))
        .otherwise(pl.format("{} declared {} kg of {} in {} consignments under tariff code {}, a heading unrelated to it (listed precursors belong under {}).", "exporter", kg("total_kg"), substance_name(ctx), "count", "hs_code", pl.lit(" or ".join(related) or "their own heading")))
        .alias("summary"),
    )  # fmt: skip
    return finish(g, "hs_mismatch", cfg, ["finding", "hs_code", "products", "count", "total_kg"])


# --------------------------------------------------------------------------- value mismatch


def _peer_stats(priced: pl.DataFrame, key: str, prefix: str) -> pl.DataFrame:
    return priced.group_by(key).agg(
        pl.col("_lp").median().alias(f"{prefix}_med"),
        (pl.col("_lp") - pl.col("_lp").median()).abs().median().alias(f"{prefix}_mad"),
        pl.len().alias(f"{prefix}_n"),
    )


def _priced(ctx: Context, cfg: ValueMismatchConfig) -> tuple[pl.DataFrame, float | None]:
    """Priced records judged against their peers (`robust_z`, `times_peers`, `peer_price`),
    and the low price of listed precursors (`listed_price_quantile`), if any are priced."""
    # One priced record per consignment: the lead record (the export) where it carries a
    # value, else the other record of the consignment that does (an import record's value is
    # CIF, a few percent above FOB: far less than what makes a price unusual).
    cols = ["id", "cons_id", "lead", "value_usd", "quantity_kg", "substance", "designer",
            "product", "hs_code", "exp_key", "exporter", "exporter_facility_id", "exporter_country"]  # fmt: skip
    s = (
        ctx.shipments.select(cols)
        .filter(pl.col("value_usd") > 0, pl.col("quantity_kg") >= max(cfg.min_kg, 1e-9))
        .sort("cons_id", pl.col("lead").not_(), "id")
        .unique("cons_id", keep="first", maintain_order=True)
        .with_columns((pl.col("value_usd") / pl.col("quantity_kg")).alias("price"))
    )
    # A consignment whose two records differ by a unit factor has a doubtful quantity, so a
    # doubtful price per kg (pounds typed as kg halve it).
    doubtful = ctx.pairs.filter(_unit_error(pl.col("m_kg") / pl.col("x_kg"), 0.02).is_not_null())
    s = s.join(doubtful.select(pl.col("x_id").alias("cons_id")), on="cons_id", how="anti")
    s = s.filter(pl.col("price").is_finite()).with_columns(
        pl.col("price").log().alias("_lp"),
        pl.when(pl.col("substance").is_not_null())
        .then(pl.lit("substance ") + pl.col("substance"))
        .otherwise(pl.lit("description ") + pl.col("product").fill_null("").str.to_lowercase().str.strip_chars())
        .alias("_own"),
        (pl.lit("tariff code ") + pl.col("hs_code").fill_null("").str.replace_all(r"[^0-9]", "").str.slice(0, 6)).alias("_hs6"),
    )  # fmt: skip
    if s.height == 0:
        return s, None
    s = s.join(_peer_stats(s, "_own", "own"), on="_own").join(
        _peer_stats(s, "_hs6", "hs"), on="_hs6"
    )
    use_own = (pl.col("own_n") >= cfg.min_peers) | pl.col("substance").is_not_null()
    s = s.with_columns(
        pl.when(use_own).then(pl.col("_own")).otherwise(pl.col("_hs6")).alias("peer_group"),
        pl.when(use_own).then(pl.col("own_med")).otherwise(pl.col("hs_med")).alias("_med"),
        pl.when(use_own).then(pl.col("own_mad")).otherwise(pl.col("hs_mad")).alias("_mad"),
        pl.when(use_own).then(pl.col("own_n")).otherwise(pl.col("hs_n")).alias("peers"),
    ).filter(pl.col("peers") >= cfg.min_peers, pl.col("peer_group") != "tariff code ")
    listed_prices = s.filter(pl.col("substance").is_not_null())["price"]
    listed_low = (
        float(listed_prices.quantile(cfg.listed_price_quantile) or 0.0)
        if listed_prices.len()
        else None
    )
    s = s.with_columns(
        ((pl.col("_lp") - pl.col("_med")) / (1.4826 * pl.col("_mad")).clip(cfg.min_log_spread)).alias("robust_z"),
        (pl.col("_lp") - pl.col("_med")).exp().alias("times_peers"),
        pl.col("_med").exp().alias("peer_price"),
    )  # fmt: skip
    return s, listed_low


def value_mismatch(ctx: Context, cfg: ValueMismatchConfig) -> pl.DataFrame:
    """A declared value per kg far from that product's peers (same screened substance, else same
    description, else same HS subheading); in particular a benign description priced like a
    listed precursor. A product whose prices naturally spread wide is judged on its own spread."""
    s, listed_low = _priced(ctx, cfg)
    if s.height == 0:
        return empty()
    far = (pl.col("robust_z").abs() >= cfg.min_robust_z) & (
        (pl.col("times_peers") >= cfg.min_ratio) | (pl.col("times_peers") <= 1 / cfg.min_ratio)
    )
    benign_like_listed = (
        pl.col("substance").is_null()
        & pl.col("designer").is_null()
        & (pl.col("robust_z") > 0)
        & (pl.col("price") >= (listed_low if listed_low is not None else float("inf")))
    )
    hits = s.filter(far & (pl.col("substance").is_not_null() | benign_like_listed))
    if hits.height == 0:
        return empty()
    hits = hits.with_columns(
        pl.when(pl.col("times_peers") >= 1).then(pl.lit("above")).otherwise(pl.lit("below")).alias("direction")
    )  # fmt: skip
    g = (
        hits.sort("id")
        .group_by("exp_key", "peer_group", "direction")
        .agg(
            pl.col("exporter").first(),
            pl.col("product").unique().sort().head(5).alias("products"),
            pl.col("substance").first().alias("substance_cas"),
            pl.col("exporter_facility_id").first().alias("facility_id"),
            pl.col("exporter_country").first().alias("country"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("price").median().alias("price_usd_per_kg"),
            pl.col("peer_price").first().alias("peer_usd_per_kg"),
            pl.col("times_peers").median().alias("times_peers"),
            pl.col("robust_z").abs().max().alias("robust_z"),
            pl.col("peers").first(),
            pl.col("id").alias("shipment_pks"),
        )
    )
    strength = ((pl.col("robust_z") - cfg.min_robust_z) / 6).clip(0, 1)
    listed_words = (
        f"listed precursors are declared from {listed_low:.2f} USD/kg" if listed_low else ""
    )
    g = g.with_columns(
        pl.lit(listed_low).alias("listed_low_usd_per_kg"),
        pl.concat_str(["exp_key", "peer_group", "direction"], separator="|").alias("key"),
        score(cfg, strength).alias("score"),
        pl.when(pl.col("substance_cas").is_not_null())
        .then(pl.format("{} declared {} consignments of {} ({} kg) at {} USD/kg, {} times the {} USD/kg that {} peer records declare (robust z {}).", "exporter", "count", substance_name(ctx), kg("total_kg"), pl.col("price_usd_per_kg").round(2), pl.col("times_peers").round(3), pl.col("peer_usd_per_kg").round(2), "peers", pl.col("robust_z").round(1)))
        .otherwise(pl.format("{} declared {} consignments of \"{}\" ({} kg) at {} USD/kg, {} times the {} USD/kg of its {} peer records: priced like a listed precursor ({}).", "exporter", "count", pl.col("products").list.first(), kg("total_kg"), pl.col("price_usd_per_kg").round(2), pl.col("times_peers").round(1), pl.col("peer_usd_per_kg").round(2), "peers", pl.lit(listed_words)))
        .alias("summary"),
    )  # fmt: skip
    return finish(
        g,
        "value_mismatch",
        cfg,
        ["peer_group", "direction", "products", "count", "total_kg", "price_usd_per_kg",
         "peer_usd_per_kg", "times_peers", "robust_z", "peers", "listed_low_usd_per_kg"],
    )  # fmt: skip
