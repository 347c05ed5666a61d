"""Parties as entities: the spellings of one company, clustered by name and address with splink.

Feeds spell one company many ways ("Hebei Chem Co., Ltd.", "HEBEI CHEMM CO"). `company_key`
already folds case, accents and legal forms; what is left (typos, word order, transliteration)
is judged here by a probabilistic linkage model (splink, Fellegi-Sunter, on DuckDB) over the
DISTINCT parties only (one row per normalised name and country), never per record.

The model's parameters are fixed, not trained on each feed, so the same parties always give
the same entities: m and u probabilities below are stated priors (how often two spellings of
one company, and two different companies, agree at each level). A pair of parties linked to
two different declared facilities is never one entity. Each entity keeps its aliases, the
match probability that joined each alias and the fields that agreed, for the evidence.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl

from detection.config import EntityConfig
from detection.parties import compact_key, name_tokens

__all__ = ["ENTITY_SCHEMA", "resolve_entities"]

# One row per distinct party (normalised name and country).
ENTITY_SCHEMA: dict[str, pl.DataType] = {
    "norm": pl.String(),
    "country": pl.String(),
    "entity": pl.String(),  # the entity key: the norm of its most frequent spelling
    "entity_facility_id": pl.String(),  # the one declared facility among its spellings
    "match_probability": pl.Float64(),  # best link that joined this spelling (1.0 for the key)
    "agreed": pl.String(),  # which fields agreed on that link, in words
    "aliases": pl.List(pl.String()),  # every spelling of the entity, sorted
}

# Fixed model parameters (m: P(level | same company), u: P(level | different companies)).
_NAME_LEVELS = (0.97, 0.90)  # Jaro-Winkler on the compact key (detection.parties), after exact
_NAME_M = [0.70, 0.22, 0.06, 0.02]
_NAME_U = [0.0005, 0.0002, 0.003, 0.9963]
_ADDR_M = [0.75, 0.15, 0.10]
_ADDR_U = [0.005, 0.01, 0.985]
_FAC_M = [0.999999, 0.000001]  # two different declared facilities: never one company
_FAC_U = [0.001, 0.999]
_PRIOR = 0.01  # P(two parties of one country are one company) before comparing


def _records(parties: pl.DataFrame) -> pl.DataFrame:
    """One row per (norm, country): its transliterated key, usual address and facility."""
    p = parties.filter(pl.col("norm").is_not_null(), pl.col("norm") != "")

    def top(c: str) -> pl.Expr:
        """The most frequent non-null value (ties: the first in sorted order)."""
        return pl.col(c).filter(pl.col(c).is_not_null()).mode().sort().first()

    recs = (
        p.group_by("norm", "country")
        .agg(
            pl.col("records").sum(),
            top("address"),
            top("facility_id"),
        )
        .sort("country", "norm", nulls_last=True)
        .with_row_index("unique_id")
    )
    # Compared as one run of Latin letters (pinyin for Chinese, business words in English),
    # without the conjunctions one authority writes and another leaves out ("Drugs and
    # Intermediates", "Drugs Intermediates").
    norms = recs["norm"].unique().to_list()
    ascii_map = {n: _name_key(n) for n in norms}
    words = {n: [t for t in name_tokens(n, business=False) if t not in _JOINERS] for n in norms}
    recs = recs.with_columns(
        pl.col("norm").replace_strict(ascii_map, return_dtype=pl.String).alias("name"),
        pl.col("country").fill_null("?"),
        pl.col("norm").replace_strict(words, return_dtype=pl.List(pl.String)).alias("_words"),
    )
    recs = recs.join(_distinctive(recs), on="unique_id", how="left").drop("_words")
    return recs.with_columns(
        _small_block(pl.col("name").str.slice(0, 3)).alias("name3"),
        # The end: a typo early in a name (which keeps its length within a letter or two).
        _small_block(pl.col("name").str.slice(-4)).alias("word1"),
        pl.col("name").str.len_chars().cast(pl.Int64).alias("name_len"),
        # The letters of the name's distinctive words: two of them swapped anywhere.
        pl.col("distinct").str.split("").list.sort().list.join("").alias("letters"),
        *_neighbourhoods(pl.col("name"), "fwd"),
        *_neighbourhoods(pl.col("name").str.reverse(), "rev"),
    ).drop("distinct")


# Blocks on a name's first three or last four letters compare every pair in them: in a
# country where hundreds of names begin with one city ("wuhan", "suzhou") or end with one
# business word ("...chemicals", "quimica"), their pairs grow with the square of its parties
# (10.3 million from the first letters alone for 61,368 spellings at 2M records). A block
# larger than this is left to the neighbourhoods instead: each name is compared with the
# names next to it in sorted order, forwards (a typo late in a name) and by the reversed name
# (a typo early in it), within a window this wide, so the comparisons grow with the parties.
_BLOCK_CAP = 256
_WINDOW = 80


def _small_block(key: pl.Expr) -> pl.Expr:
    """`key`, or null where more than _BLOCK_CAP parties of the country share it."""
    return pl.when(pl.len().over("country", key) <= _BLOCK_CAP).then(key)


def _neighbourhoods(key: pl.Expr, name: str) -> list[pl.Expr]:
    """Two bucketings of a country's parties sorted by `key`, offset by half a window: any two
    parties fewer than half a window apart in that order share a bucket in one of them."""
    rank = key.rank("ordinal").over("country").cast(pl.Int64)
    half = _WINDOW // 2
    return [(rank // _WINDOW).alias(f"{name}_a"), ((rank + half) // _WINDOW).alias(f"{name}_b")]


def _distinctive(recs: pl.DataFrame) -> pl.DataFrame:
    """Per party (`unique_id`), the words of its name that at most _BLOCK_CAP parties of its
    country use, in order and joined (`distinct`): without the city most names of a country
    begin with or the business word they end with; the rarest word when all are common."""
    words = (
        recs.select("unique_id", "country", "_words", "name")
        .explode("_words")
        .with_row_index("_pos")
        .with_columns(pl.col("unique_id").n_unique().over("country", "_words").alias("_df"))
    )
    rare = pl.col("_words").filter(pl.col("_df") <= _BLOCK_CAP)
    return (
        words.sort("_pos")
        .group_by("unique_id", maintain_order=True)
        .agg(
            rare.str.join("").alias("_rare"),
            pl.col("_words").sort_by("_df", "_pos").first().alias("_rarest"),
            pl.col("name").first(),
        )
        .select(
            "unique_id",
            pl.when(pl.col("_rare") != "")
            .then(pl.col("_rare"))
            .otherwise(pl.coalesce("_rarest", "name"))
            .alias("distinct"),
        )
    )


_JOINERS = frozenset({"and", "und", "et", "&"})


def _name_key(norm: str) -> str:
    """The name splink compares: the compact key (detection.parties) without conjunctions."""
    kept = " ".join(t for t in norm.split() if t not in _JOINERS)
    return compact_key(kept or norm, business=False) or norm


def _predict(recs: pl.DataFrame, cfg: EntityConfig) -> pl.DataFrame:
    """Scored candidate pairs (unique_id_l, unique_id_r, match_probability, gammas)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    logging.getLogger("splink").setLevel(logging.ERROR)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", list(_NAME_LEVELS)).configure(
                m_probabilities=_NAME_M, u_probabilities=_NAME_U
            ),
            cl.JaroWinklerAtThresholds("address", [0.92]).configure(
                m_probabilities=_ADDR_M, u_probabilities=_ADDR_U
            ),
            cl.ExactMatch("facility_id").configure(m_probabilities=_FAC_M, u_probabilities=_FAC_U),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("country", "name3"),
            # A typo early in a name keeps its length within a letter or two.
            CustomRule(
                "l.country = r.country and l.word1 = r.word1 and abs(l.name_len - r.name_len) <= 2"
            ),
            block_on("country", "name"),  # one name in two scripts (上海诚博化工, Shanghai Chengbo)
            block_on("country", "letters"),
            block_on("country", "fwd_a"),
            block_on("country", "fwd_b"),
            block_on("country", "rev_a"),
            block_on("country", "rev_b"),
            block_on("country", "address"),
        ],
        probability_two_random_records_match=_PRIOR,
        retain_intermediate_calculation_columns=False,
    )
    import duckdb

    # Splink's own DuckDB database, closed when the pairs are read: DuckDB keeps the memory
    # it used (several hundred MB on a million records' parties) until it is closed.
    con = duckdb.connect(":memory:")
    try:
        return _scored_pairs(DuckDBAPI(connection=con), recs, settings, cfg)
    finally:
        con.close()


# What splink reads of each party: the fields it compares, and the keys it blocks on.
_COMPARED = ("unique_id", "country", "name", "address", "facility_id")
_BLOCKED = ("name3", "word1", "name_len", "letters", "fwd_a", "fwd_b", "rev_a", "rev_b")


def _scored_pairs(db: Any, recs: pl.DataFrame, settings: Any, cfg: EntityConfig) -> pl.DataFrame:
    """Splink's predictions over `recs` in the database behind `db` (splink's DuckDBAPI), as
    polars."""
    from splink import Linker

    table = db.register(
        recs.select(*_COMPARED, *_BLOCKED)
        .with_columns(pl.col("unique_id").cast(pl.Int64))
        .to_arrow()
    )
    linker = Linker(table, settings, log_level=logging.ERROR)
    pred = linker.inference.predict(threshold_match_probability=cfg.min_match_probability)
    out = pred.as_duckdbpyrelation().pl()
    if out.height == 0:
        return _no_edges()
    return out.select(
        pl.col("unique_id_l").cast(pl.UInt32),
        pl.col("unique_id_r").cast(pl.UInt32),
        pl.col("match_probability").cast(pl.Float64),
        pl.col("gamma_name").cast(pl.Int64),
        pl.col("gamma_address").cast(pl.Int64),
    ).sort("unique_id_l", "unique_id_r")


def _no_edges() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"unique_id_l": pl.UInt32(), "unique_id_r": pl.UInt32(),
                "match_probability": pl.Float64(), "gamma_name": pl.Int64(),
                "gamma_address": pl.Int64()}
    )  # fmt: skip


def _components(n: int, edges: pl.DataFrame) -> list[int]:
    """Connected components (label = smallest member id), by union-find over the edges."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges.select("unique_id_l", "unique_id_r").iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def _agreed(gn: int, ga: int) -> str:
    name = {3: "same name", 2: "names nearly the same", 1: "similar names"}.get(gn, "names differ")
    addr = {2: "same address", 1: "similar address", 0: "different address"}.get(ga, "no address")
    return f"{name}, {addr}"


def resolve_entities(parties: pl.DataFrame, cfg: EntityConfig | None = None) -> pl.DataFrame:
    """Entities of `parties` (columns norm, country, address, facility_id, records: one row
    per party spelling as seen, any order) as ENTITY_SCHEMA rows, one per (norm, country)."""
    cfg = cfg or EntityConfig()
    recs = _records(parties)
    if recs.height == 0:
        return pl.DataFrame(schema=ENTITY_SCHEMA)
    edges = _predict(recs, cfg) if recs.height > 1 else _no_edges()
    edges = edges.head(cfg.max_blocking_candidates)
    labels = _components(recs.height, edges)
    recs = recs.with_columns(pl.Series("_cluster", labels, dtype=pl.UInt32))
    # A cluster holding two declared facilities is split back into its spellings.
    facs = recs.group_by("_cluster").agg(pl.col("facility_id").drop_nulls().n_unique().alias("_nf"))
    recs = recs.join(facs, on="_cluster").with_columns(
        pl.when(pl.col("_nf") > 1).then(pl.col("unique_id")).otherwise(pl.col("_cluster")).alias("_cluster")
    )  # fmt: skip
    # The key: the spelling with the most records (ties: the first in sorted order).
    head = (
        recs.sort(["records", "norm"], descending=[True, False])
        .group_by("_cluster", maintain_order=True)
        .agg(
            pl.col("norm").first().alias("entity"),
            pl.col("facility_id").drop_nulls().first().alias("entity_facility_id"),
            pl.col("norm").unique().sort().alias("aliases"),
        )
    )
    both = pl.concat(
        [
            edges.select(pl.col("unique_id_l").alias("unique_id"), "match_probability", "gamma_name", "gamma_address"),
            edges.select(pl.col("unique_id_r").alias("unique_id"), "match_probability", "gamma_name", "gamma_address"),
        ]
    ).sort(["unique_id", "match_probability"], descending=[False, True]).unique("unique_id", keep="first", maintain_order=True)  # fmt: skip
    out = recs.join(head, on="_cluster").join(both, on="unique_id", how="left")
    agreed: list[Any] = [
        _agreed(gn, ga) if p is not None else None
        for gn, ga, p in out.select("gamma_name", "gamma_address", "match_probability").iter_rows()
    ]
    return out.select(
        "norm",
        pl.when(pl.col("country") == "?").then(None).otherwise(pl.col("country")).alias("country"),
        "entity",
        "entity_facility_id",
        pl.when(pl.col("norm") == pl.col("entity"))
        .then(pl.lit(1.0))
        .otherwise(pl.col("match_probability"))
        .alias("match_probability"),
        pl.when(pl.col("norm") == pl.col("entity"))
        .then(None)
        .otherwise(pl.Series("agreed", agreed, dtype=pl.String))
        .alias("agreed"),
        "aliases",
    ).sort("country", "norm", nulls_last=True)
