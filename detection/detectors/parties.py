"""Party detectors: who trades listed substances without being declared for it, consignees
that share an address, and declared consumers that sell on.

Parties are entities (detection.entities): the spellings of one company count as one party,
so a typo is never a second company and two companies are never one spelling."""

from __future__ import annotations

import polars as pl

from detection.config import EndUserReexportConfig, SharedAddressConfig, UndeclaredPartyConfig
from detection.detectors.common import empty, finish, kg, listed, score, substance_name
from detection.prepare import Context

__all__ = ["end_user_reexport", "shared_address_network", "undeclared_party"]

# -------------------------------------------------------------------------- undeclared party


def _main_substance(rows: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per group, the substance traded most (by kg); ties broken by the CAS number, so two
    runs over the same records always name the same one."""
    return (
        rows.group_by(*keys, "substance")
        .agg(pl.col("quantity_kg").sum().alias("_kg"))
        .sort([*keys, "_kg", "substance"], descending=[False] * len(keys) + [True, False])
        .unique(keys, keep="first", maintain_order=True)
        .select(*keys, pl.col("substance").alias("substance_cas"))
    )


def undeclared_party(ctx: Context, cfg: UndeclaredPartyConfig) -> pl.DataFrame:
    """A listed substance was exported or imported by a party not linked to any declared facility."""
    cons = listed(ctx)
    if cons.height == 0:
        return empty()
    parts = []
    for role, other in (("exporter", "importer"), ("importer", "exporter")):
        parts.append(
            cons.filter(
                pl.col(f"{role}_facility_id").is_null(), pl.col(f"{role}_entity").is_not_null()
            ).select(
                pl.lit(role).alias("role"),
                pl.col(role).alias("party"),
                pl.col(f"{role}_entity").alias("party_norm"),
                pl.col(f"{role}_country").alias("country"),
                "substance",
                "quantity_kg",
                "date",
                "pks",
                "cons_id",
                pl.col(other).alias("counterpart"),
            )
        )
    rows = pl.concat(parts).sort("cons_id")
    if rows.height == 0:
        return empty()
    keys = ["role", "party_norm", "country"]
    g = (
        rows.group_by(keys)
        .agg(
            pl.col("party").first(),
            pl.col("party").unique().sort().head(5).alias("spellings"),
            pl.col("substance").unique().sort().alias("substances"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
            # Sorted: the evidence must not depend on the order rows came from the database.
            pl.col("counterpart").drop_nulls().unique().sort().head(5).alias("counterparts"),
        )
        .filter(pl.col("total_kg") >= cfg.min_total_kg)
        .join(_main_substance(rows, keys), on=keys, how="left", nulls_equal=True)
    )
    if g.height == 0:
        return empty()
    g = g.with_columns(
        pl.concat_str(keys, separator="|", ignore_nulls=True).alias("key"),
        score(cfg, (pl.col("total_kg") + 1).log10() / 3).alias("score"),
        pl.format("{} ({}), not linked to any declared facility, {} {} consignments of {} ({} kg) between {} and {}.", "party", pl.col("country").fill_null("?"), pl.when(pl.col("role") == "exporter").then(pl.lit("exported")).otherwise(pl.lit("imported")), "count", substance_name(ctx), kg("total_kg"), "first_date", "last_date").alias("summary"),
        pl.lit(None, dtype=pl.String).alias("facility_id"),
    )  # fmt: skip
    return finish(
        g,
        "undeclared_party",
        cfg,
        ["role", "party", "spellings", "substances", "count", "total_kg", "first_date",
         "last_date", "counterparts"],
    )  # fmt: skip


# -------------------------------------------------------------------- shared address network


def _site() -> pl.Expr:
    """Where a consignee is: the numbers of its address (house, suite, postcode) when it has two
    or more, since they survive the abbreviations one address is written with ("Colonia"/"Col.",
    "C.P."/"CP", a city left out); else the whole normalised address."""
    numbers = pl.col("importer_addr").str.extract_all(r"\d+")
    return (
        pl.when(numbers.list.len() >= 2)
        .then(pl.concat_str([pl.lit("no. "), numbers.list.join(" ")]))
        .otherwise(pl.col("importer_addr"))
        .alias("_site")
    )


def shared_address_network(ctx: Context, cfg: SharedAddressConfig) -> pl.DataFrame:
    """Several differently named, undeclared consignees at one address each received a little
    of the same listed substance, together more than a typical consignee takes (front companies)."""
    cons = listed(ctx)
    if cons.height == 0:
        return empty()
    small = cons.group_by("substance").agg(
        pl.col("quantity_kg").quantile(cfg.small_quantile, "linear").alias("small_kg")
    )
    typical = (
        cons.group_by("substance", "imp_key")
        .agg(pl.col("quantity_kg").sum().alias("_take"))
        .group_by("substance")
        .agg(pl.col("_take").median().alias("typical_kg"))
    )
    keys = ["importer_country", "_site", "substance"]
    at = (
        cons.filter(pl.col("importer_facility_id").is_null(), pl.col("importer_addr").is_not_null())
        .with_columns(_site())
        .sort("cons_id")
    )
    g = (
        at.group_by(keys)
        .agg(
            pl.col("importer_entity").n_unique().alias("consignees"),
            pl.col("importer").unique().sort().head(8).alias("names"),
            pl.col("importer_address").drop_nulls().first().alias("address"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("quantity_kg").max().alias("largest_kg"),
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
        )
        .join(small, on="substance")
        .join(typical, on="substance")
        .with_columns((pl.col("total_kg") / pl.col("typical_kg").clip(1e-9)).alias("times_typical"))
        .filter(
            pl.col("consignees") >= cfg.min_consignees,
            pl.col("largest_kg") <= pl.col("small_kg"),
            pl.col("times_typical") > cfg.min_total_ratio,
        )
    )
    if g.height == 0:
        return empty()
    strength = ((pl.col("consignees") - cfg.min_consignees + 1) / 4).clip(0, 1) * 0.6 + (
        (pl.col("times_typical") / cfg.min_total_ratio).log10()
    ).clip(0, 1) * 0.4
    g = g.rename({"substance": "substance_cas", "importer_country": "country"}).with_columns(
        pl.concat_str(["country", "_site", "substance_cas"], separator="|", ignore_nulls=True).alias("key"),
        score(cfg, strength).alias("score"),
        pl.format("{} differently named consignees linked to no declared facility ({}) at one address in {} (\"{}\") received {} consignments of {}, none above {} kg, {} kg together: {} times what a typical consignee takes ({} kg).", "consignees", pl.col("names").list.join(", "), pl.col("country").fill_null("?"), "address", "count", substance_name(ctx), kg("largest_kg"), kg("total_kg"), pl.col("times_typical").round(1), kg("typical_kg")).alias("summary"),
        pl.lit(None, dtype=pl.String).alias("facility_id"),
    )  # fmt: skip
    return finish(
        g,
        "shared_address_network",
        cfg,
        ["address", "consignees", "names", "count", "total_kg", "largest_kg", "small_kg",
         "typical_kg", "times_typical", "first_date", "last_date"],
    )  # fmt: skip


# -------------------------------------------------------------------------- end-user re-export


def end_user_reexport(ctx: Context, cfg: EndUserReexportConfig) -> pl.DataFrame:
    """A party declared only as a consumer of a listed substance exported it (traders and
    processors re-exporting are normal; a declared end user selling on is diversion's door)."""
    acts = (
        ctx.declarations.filter(
            pl.col("facility_id").is_not_null(), pl.col("substance_cas").is_not_null()
        )
        .group_by("facility_id", "substance_cas")
        .agg(pl.col("activity").drop_nulls().str.to_lowercase().unique().sort().alias("activities"))
        .filter(
            pl.col("activities").list.contains("consumption"),
            pl.col("activities").list.len() == 1,
        )
    )
    if acts.height == 0:
        return empty()
    cons = listed(ctx).filter(pl.col("exporter_facility_id").is_not_null()).sort("cons_id")
    hits = cons.join(
        acts,
        left_on=["exporter_facility_id", "substance"],
        right_on=["facility_id", "substance_cas"],
    )
    g = (
        hits.group_by("exporter_facility_id", "substance")
        .agg(
            pl.col("exporter").first(),
            pl.col("exporter_country").first().alias("country"),
            pl.len().alias("count"),
            pl.col("quantity_kg").sum().alias("total_kg"),
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.col("importer").unique().sort().head(5).alias("importers"),
            pl.col("importer_country").drop_nulls().unique().sort().alias("destinations"),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
        )
        .filter(pl.col("total_kg") >= cfg.min_export_kg)
    )
    if g.height == 0:
        return empty()
    g = g.rename({"substance": "substance_cas", "exporter_facility_id": "facility_id"}).with_columns(
        pl.concat_str(["facility_id", "substance_cas"], separator="|").alias("key"),
        score(cfg, (pl.col("total_kg") + 1).log10() / 3).alias("score"),
        pl.format("Facility {} ({}) is declared only as a consumer of {} but exported {} kg of it in {} consignments between {} and {} to {}.", "facility_id", "exporter", substance_name(ctx), kg("total_kg"), "count", "first_date", "last_date", pl.col("importers").list.join(", ")).alias("summary"),
    )  # fmt: skip
    return finish(
        g,
        "end_user_reexport",
        cfg,
        ["exporter", "count", "total_kg", "first_date", "last_date", "importers", "destinations"],
    )
