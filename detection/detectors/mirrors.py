"""Mirror detectors: the export record and the importing country's record of one consignment."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy.stats import binom

from detection.config import DivertedConsignmentConfig, ExportNeverArrivedConfig, MirrorGapConfig
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

__all__ = ["diverted_consignment", "export_never_arrived", "mirror_quantity_gap", "unit_error"]

# ------------------------------------------------------------------------------- mirrors


def _pair_frame(ctx: Context) -> pl.DataFrame:
    return ctx.pairs.join(
        ctx.consignments.select(
            pl.col("cons_id").alias("x_id"), "cons_key", "exporter", "importer", "exp_key", "imp_key",
            "exporter_facility_id", "exporter_country", "importer_country", "substance", "designer", "pks",
        ),
        on="x_id",
    )  # fmt: skip


# Findings reported in the run's report but not raised as alerts (run.NOTE marks them).
_NOTE_UNIT = "note:likely unit errors (the two quantities differ by exactly a unit factor)"
_NOTE_LONE = "note:missing import records that nothing corroborates"

# Ratios between two records of one consignment that are a unit written wrong, in words.
_UNIT_FACTORS = {
    2.20462: "pounds written as kilograms",
    1 / 2.20462: "kilograms written as pounds",
    1000.0: "grams written as kilograms, or kilograms as tonnes",
    0.001: "kilograms written as grams, or tonnes as kilograms",
}


def unit_error(ratio: pl.Expr, tolerance: float) -> pl.Expr:
    """The words of the unit factor `ratio` is within `tolerance` of, else null."""
    out = pl.lit(None, dtype=pl.String)
    for factor, words in _UNIT_FACTORS.items():
        out = pl.when((ratio / factor - 1).abs() <= tolerance).then(pl.lit(words)).otherwise(out)
    return out


def mirror_quantity_gap(ctx: Context, cfg: MirrorGapConfig) -> pl.DataFrame:
    """The importer recorded a materially different quantity than the exporter for the same
    consignment (a gap that is exactly a unit factor is reported as a likely unit error)."""
    p = _pair_frame(ctx).filter(
        pl.col("substance").is_not_null(), pl.col("x_kg") > 0, pl.col("m_kg") >= 0
    )
    p = p.with_columns(
        (pl.col("m_kg") - pl.col("x_kg")).alias("gap_kg"),
        ((pl.col("m_kg") - pl.col("x_kg")).abs() / pl.max_horizontal("x_kg", "m_kg")).alias(
            "gap_share"
        ),
        (pl.col("m_kg") / pl.col("x_kg")).alias("ratio"),
    ).with_columns(unit_error(pl.col("ratio"), cfg.unit_factor_tolerance).alias("unit_error"))
    hits = p.filter(pl.col("gap_share") > cfg.tolerance, pl.col("gap_kg").abs() >= cfg.min_gap_kg)
    if hits.height == 0:
        return empty()
    strength = ((pl.col("gap_share") - cfg.tolerance) / 0.4).clip(0, 1)
    unit = pl.col("unit_error").is_not_null()
    hits = hits.with_columns(relation().alias("_relation")).rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.lit("consignment"), pl.col("cons_key")], separator="|").alias("key"),
        pl.when(unit).then(pl.lit(cfg.unit_error_score)).otherwise(score(cfg, (35 * strength + 5 * ((pl.col("gap_kg").abs() + 1).log10() / 3).clip(0, 1)) / 40)).alias("score"),
        pl.when(unit).then(pl.lit("low" if cfg.unit_errors_as_alerts else _NOTE_UNIT)).alias("_max_severity"),
        pl.when(unit)
        .then(pl.format("Likely a unit error, not a missing quantity: {} exported {} kg of {} to {} on {} and the importer recorded {} kg, {} times as much, the factor of {}.", "exporter", kg("x_kg"), substance_name(ctx), "importer", "x_date", kg("m_kg"), pl.col("ratio").round(4), "unit_error"))
        .otherwise(pl.format("{} exported {} kg of {} to {} on {} but the importer recorded {} kg: a gap of {} kg ({}%).", "exporter", kg("x_kg"), substance_name(ctx), "importer", "x_date", kg("m_kg"), kg("gap_kg"), pct(pl.col("gap_share"))))
        .alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("importer_country").alias("country"),
    )  # fmt: skip
    return finish(
        hits,
        "mirror_quantity_gap",
        cfg,
        ["x_kg", "m_kg", "gap_kg", "gap_share", "ratio", "unit_error", "x_date", "m_date", "how"],
    )


def _repeat_tail(
    m: pl.DataFrame, x: pl.DataFrame, missing: pl.DataFrame, keys: list[str], name: str
) -> pl.DataFrame:
    """`m` with `{name}_n` exports, `{name}_missing` of them missing and `{name}_p`: the
    binomial tail of that many misses at the importing country's own miss rate."""
    n = x.group_by(keys).agg(pl.len().alias(f"{name}_n"))
    k = missing.group_by(keys).agg(pl.len().alias(f"{name}_missing"))
    m = m.join(n, on=keys, how="left", nulls_equal=True).join(
        k, on=keys, how="left", nulls_equal=True
    )
    p_miss = (1 - m["coverage"].to_numpy()).clip(0.005, 1.0)
    tail = binom.sf(m[f"{name}_missing"].to_numpy() - 1, m[f"{name}_n"].to_numpy(), p_miss)
    return m.with_columns(pl.Series(f"{name}_p", np.nan_to_num(tail, nan=1.0), dtype=pl.Float64))


def _missing_runs(x: pl.DataFrame, missing: pl.DataFrame) -> pl.DataFrame:
    """Per missing export: how its relation's misses stand against the importing country's
    own miss rate, three ways, the least likely by chance being the evidence (`relation_p`,
    `relation_how`, `relation_missing` misses of `relation_n` exports):
    - "row": a run that long anywhere in the relation (n times rate to the run's power:
      imports that stop arriving for one relation);
    - "close": two misses within `relation_span` consecutive exports (a scan over the
      relation: n times rate times the chance of another miss that close; misses that cluster
      in time are stronger evidence than as many spread over years);
    - "spread": at least that many of the relation's exports missing (binomial tail)."""
    keys = ["exp_key", "imp_key", "importer_country"]
    gone = missing.select("cons_id", "coverage").with_columns(pl.lit(True).alias("_gone"))
    r = (
        x.select(*keys, "cons_id", "date")
        .join(gone, on="cons_id", how="left")
        .with_columns(pl.col("_gone").fill_null(False))
        .sort([*keys, "date", "cons_id"], nulls_last=True)
        .with_columns(
            (pl.col("_gone") != pl.col("_gone").shift(1)).fill_null(True).cum_sum().over(keys).alias("_run"),
            pl.len().over(keys).alias("relation_n"),
            pl.col("_gone").sum().over(keys).alias("_all"),
            pl.int_range(pl.len()).over(keys).alias("_i"),
        )
        .with_columns(pl.len().over([*keys, "_run"]).alias("_in_row"))
        .filter(pl.col("_gone"))
        .with_columns(
            pl.min_horizontal(
                pl.col("_i") - pl.col("_i").shift(1).over(keys),
                pl.col("_i").shift(-1).over(keys) - pl.col("_i"),
            ).alias("_gap")
        )
    )  # fmt: skip
    rate = (1 - r["coverage"].to_numpy()).clip(0.005, 1.0)
    n = r["relation_n"].to_numpy()
    gap = r["_gap"].fill_null(0).to_numpy()
    chances = np.stack(
        [
            np.clip(n * rate ** r["_in_row"].to_numpy(), 0, 1),
            np.where(gap > 0, np.clip(n * rate * (1 - (1 - rate) ** gap), 0, 1), 1.0),
            np.nan_to_num(binom.sf(r["_all"].to_numpy() - 1, n, rate), nan=1.0),
        ]
    )
    how = chances.argmin(axis=0)
    missing_n = np.choose(how, [r["_in_row"].to_numpy(), np.full(len(n), 2), r["_all"].to_numpy()])
    return r.select(
        "cons_id",
        "relation_n",
        pl.Series("relation_missing", missing_n, dtype=pl.Int64),
        pl.Series("relation_how", np.array(["row", "close", "spread"])[how], dtype=pl.String),
        (pl.col("_gap") + 1).alias("relation_span"),
        pl.Series("relation_p", chances.min(axis=0), dtype=pl.Float64),
    )


def _corroboration(
    ctx: Context, missing: pl.DataFrame, cfg: ExportNeverArrivedConfig
) -> pl.DataFrame:
    """What else speaks for each missing import record: the same importer (or the same
    exporter-importer relation) missing more exports than its country's own miss rate
    explains, an importer linked to no declared facility, an importer or a relation new at
    the time (only where the feed reaches back far enough to have seen it before), an unusual
    quantity."""
    cons = listed(ctx)
    x = cons.join(
        ctx.shipments.filter(pl.col("flow") == "X").select(pl.col("id").alias("cons_id")),
        on="cons_id",
    )
    feed_start = cons["date"].min()
    first_imp = cons.group_by("imp_key").agg(pl.col("date").min().alias("_first_seen"))
    first_rel = cons.group_by("exp_key", "imp_key").agg(pl.col("date").min().alias("_rel_first"))
    usual = (
        cons.with_columns(relation().alias("_rel"))
        .group_by("_rel")
        .agg(pl.col("quantity_kg").median().alias("usual_kg"), pl.len().alias("_rel_n"))
    )
    m = (
        missing.with_columns(relation().alias("_rel"))
        .join(first_imp, on="imp_key", how="left", nulls_equal=True)
        .join(first_rel, on=["exp_key", "imp_key"], how="left", nulls_equal=True)
        .join(usual, on="_rel", how="left")
    )
    m = _repeat_tail(m, x, missing, ["imp_key", "importer_country"], "importer")
    m = m.join(_missing_runs(x, missing), on="cons_id", how="left")

    def known_since(c: str) -> pl.Expr:
        """The feed began long enough before `c` to have seen the party (or relation)."""
        return (pl.col(c) - pl.lit(feed_start)).dt.total_days() >= cfg.new_importer_days

    again_imp = (pl.col("importer_missing") >= 2) & (
        pl.col("importer_p") <= cfg.max_repeat_probability
    )
    again_rel = (pl.col("relation_missing") >= 2) & (
        pl.col("relation_p") <= cfg.max_repeat_probability
    )
    return m.with_columns(
        (again_imp | again_rel).alias("same_importer_again"),
        again_rel.fill_null(False).alias("relation_again"),
        pl.col("importer_facility_id").is_null().alias("undeclared_importer"),
        (((pl.col("date") - pl.col("_first_seen")).dt.total_days() < cfg.new_importer_days) & known_since("_first_seen")).alias("new_importer"),
        ((pl.col("date") == pl.col("_rel_first")) & known_since("_rel_first")).alias("new_relation"),
        ((pl.col("_rel_n") >= 3) & (pl.col("quantity_kg") >= cfg.unusual_quantity_ratio * pl.col("usual_kg"))).fill_null(False).alias("unusual_quantity"),
    ).with_columns(
        pl.concat_list(
            pl.when(again_rel & (pl.col("relation_how") == "row")).then(pl.format("{} exports of this relation in a row are missing (of {})", "relation_missing", "relation_n"))
            .when(again_rel & (pl.col("relation_how") == "close")).then(pl.format("2 of {} consecutive exports of this relation are missing (of {})", "relation_span", "relation_n"))
            .when(again_rel).then(pl.format("{} of this relation's {} exports are missing", "relation_missing", "relation_n"))
            .when(again_imp).then(pl.format("the same importer has {} of its {} exports missing", "importer_missing", "importer_n")),
            pl.when(pl.col("undeclared_importer")).then(pl.lit("an importer linked to no declared facility")),
            pl.when(pl.col("new_importer")).then(pl.lit("an importer first seen shortly before"))
            .when(pl.col("new_relation")).then(pl.lit("the exporter's first consignment to this importer")),
            pl.when(pl.col("unusual_quantity")).then(pl.format("{} times the relation's usual {} kg", (pl.col("quantity_kg") / pl.col("usual_kg")).round(1), kg("usual_kg"))),
        ).list.drop_nulls().alias("corroborated_by")
    )  # fmt: skip


def export_never_arrived(ctx: Context, cfg: ExportNeverArrivedConfig) -> pl.DataFrame:
    """An export to a country that reports its imports has no matching import record; a lone
    one is weak evidence (low severity), corroboration raises it. The misses of one relation
    that corroborate each other are one alert, not one per consignment."""
    cov = ctx.coverage.filter(
        pl.col("exports") >= cfg.min_reporting_records,
        pl.col("coverage") >= cfg.min_reporting_coverage,
    )
    horizon = ctx.as_of - dt.timedelta(days=cfg.grace_days)
    x_ids = ctx.shipments.filter(pl.col("flow") == "X").select(pl.col("id").alias("cons_id"))
    cons = (
        listed(ctx)
        .join(x_ids, on="cons_id")
        .join(ctx.pairs.select(pl.col("x_id").alias("cons_id")), on="cons_id", how="anti")
        .filter(pl.col("date") <= horizon)
        .join(cov, on="importer_country")
    )
    if cons.height == 0:
        return empty()
    cons = (
        _corroboration(ctx, cons, cfg)
        .with_columns(
            pl.col("corroborated_by").list.len().alias("corroborations"),
            (pl.lit(ctx.as_of) - pl.col("date")).dt.total_days().alias("days_since"),
            relation().alias("_relation"),
        )
        .rename({"substance": "substance_cas"})
    )
    return pl.concat(
        [
            _missing_one(ctx, cons.filter(~pl.col("relation_again")), cfg),
            _missing_of_relation(ctx, cons.filter(pl.col("relation_again")), cfg),
        ]
    )


def _missing_one(ctx: Context, cons: pl.DataFrame, cfg: ExportNeverArrivedConfig) -> pl.DataFrame:
    """One alert per missing import record (what corroborates it is not its relation's other
    misses)."""
    lone = pl.col("corroborations") == 0
    hits = cons.with_columns(
        pl.concat_str([pl.lit("consignment"), pl.col("cons_key")], separator="|").alias("key"),
        pl.when(lone).then(pl.lit("low" if cfg.raise_lone else _NOTE_LONE)).alias("_max_severity"),
        pl.format("{} exported {} kg of {} to {} ({}) on {} and no import record exists after {} days, though {} reports {}% of its imports; {}.", "exporter", kg("quantity_kg"), substance_name(ctx), "importer", "importer_country", "date", "days_since", "importer_country", (pl.col("coverage") * 100).round(1), pl.when(lone).then(pl.lit("nothing else corroborates it")).otherwise(pl.lit("corroborated by ") + pl.col("corroborated_by").list.join(", "))).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
    )  # fmt: skip
    return _never_alerts(
        hits,
        cfg,
        ["quantity_kg", "date", "days_since", "coverage", "exports", "corroborated_by",
         "importer_missing", "importer_p", "relation_missing", "relation_how", "relation_span",
         "relation_p", "usual_kg"],
    )  # fmt: skip


def _missing_of_relation(
    ctx: Context, cons: pl.DataFrame, cfg: ExportNeverArrivedConfig
) -> pl.DataFrame:
    """One alert per relation whose missing import records are more than its country's miss
    rate explains: every missing consignment in it, scored by its best-corroborated one."""
    if cons.height == 0:
        return empty()
    first = ["exporter", "importer", "importer_country", "substance_cas", "exporter_facility_id",
             "coverage", "exports", "importer_missing", "importer_p", "relation_missing",
             "relation_n", "relation_how", "relation_span", "relation_p", "usual_kg"]  # fmt: skip
    rel = (
        cons.sort("date", "cons_id")
        .group_by("_relation", maintain_order=True)
        .agg(
            pl.col(first).first(),
            pl.len().alias("consignments"),
            pl.col("quantity_kg").sum(),
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.col("days_since").min(),
            pl.col("corroborations").max(),
            pl.col("corroborated_by")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True),
            pl.col("pks").list.explode(keep_nulls=False, empty_as_null=False).alias("shipment_pks"),
        )
    )
    hits = rel.with_columns(
        pl.concat_str([pl.lit("relation"), pl.col("_relation")], separator="|").alias("key"),
        pl.lit(None, dtype=pl.String).alias("_max_severity"),
        pl.format("{} exported {} consignments of {} to {} ({}), {} kg together, between {} and {}, and none has an import record (the latest exported {} days ago), though {} reports {}% of its imports; corroborated by {}.", "exporter", "consignments", substance_name(ctx), "importer", "importer_country", kg("quantity_kg"), "first_date", "last_date", "days_since", "importer_country", (pl.col("coverage") * 100).round(1), pl.col("corroborated_by").list.join(", ")).alias("summary"),
    )  # fmt: skip
    return _never_alerts(
        hits,
        cfg,
        ["consignments", "quantity_kg", "first_date", "last_date", "days_since", "coverage",
         "exports", "corroborated_by", "importer_missing", "importer_p", "relation_missing",
         "relation_n", "relation_how", "relation_span", "relation_p", "usual_kg"],
    )  # fmt: skip


def _never_alerts(
    hits: pl.DataFrame, cfg: ExportNeverArrivedConfig, numbers: list[str]
) -> pl.DataFrame:
    """export_never_arrived's alert rows, one consignment or one relation each: the score from
    the corroborations, the exporter's facility, the importing country, the evidence `numbers`."""
    hits = hits.with_columns(
        (cfg.lone_score + cfg.corroboration_points * pl.col("corroborations")).alias("score"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("importer_country").alias("country"),
    )
    return finish(hits, "export_never_arrived", cfg, numbers)


def diverted_consignment(ctx: Context, cfg: DivertedConsignmentConfig) -> pl.DataFrame:
    """The import record sharing the export's consignment reference names another importer (as
    an entity, not a spelling) or another country: re-consigned or re-routed in transit."""
    side = ctx.shipments.select(
        "id", "importer", "importer_country", "imp_key", "importer_entity", "date"
    )
    p = (
        _pair_frame(ctx)
        .filter(pl.col("how") == "ref", pl.col("substance").is_not_null())
        .drop("importer", "importer_country", "imp_key")
        .join(side.rename({c: f"x_{c}" for c in side.columns if c != "id"}), left_on="x_id", right_on="id")
        .join(side.rename({c: f"m_{c}" for c in side.columns if c != "id"}), left_on="m_id", right_on="id")
        .filter(pl.col("x_kg").fill_null(0) >= cfg.min_kg)
    )  # fmt: skip
    other_party = pl.col("x_imp_key").fill_null("?") != pl.col("m_imp_key").fill_null("?")
    other_country = pl.col("x_importer_country").fill_null("?") != pl.col(
        "m_importer_country"
    ).fill_null("?")
    hits = p.filter(other_party | other_country)
    if hits.height == 0:
        return empty()
    what = (
        pl.when(other_party & other_country).then(pl.lit("another consignee in another country"))
        .when(other_country).then(pl.lit("another country"))
        .otherwise(pl.lit("another consignee"))
    )  # fmt: skip
    hits = hits.with_columns(pl.concat_str(["exp_key", "x_imp_key", "substance"], separator="|", ignore_nulls=True).alias("_relation")).rename({"substance": "substance_cas"}).with_columns(
        pl.concat_str([pl.lit("consignment"), pl.col("cons_key")], separator="|").alias("key"),
        score(cfg, other_country.cast(pl.Float64) * 0.5 + (pl.col("x_kg").fill_null(0) + 1).log10() / 6).alias("score"),
        what.alias("finding"),
        pl.format("Consignment {}: {} exported {} kg of {} to {} ({}) on {}, but the import record of {} names {}: {} ({}).", "cons_key", "exporter", kg("x_kg"), substance_name(ctx), "x_importer", pl.col("x_importer_country").fill_null("?"), "x_date", "m_date", what, "m_importer", pl.col("m_importer_country").fill_null("?")).alias("summary"),
        pl.col("pks").alias("shipment_pks"),
        pl.col("exporter_facility_id").alias("facility_id"),
        pl.col("m_importer_country").alias("country"),
    )  # fmt: skip
    return finish(
        hits,
        "diverted_consignment",
        cfg,
        ["finding", "x_importer", "x_importer_country", "x_importer_entity", "m_importer",
         "m_importer_country", "m_importer_entity", "x_kg", "m_kg", "x_date", "m_date"],
    )  # fmt: skip
