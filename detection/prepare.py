"""Shared preparation for the detectors: substance resolution, mirror pairing, consignments.

Everything here is vectorised polars over the registry's shipment frame; the screen runs on
distinct (product, cas) pairs only, never per record.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from detection.config import (
    DataQualityConfig,
    EntityConfig,
    ExportNeverArrivedConfig,
    MaskedNameConfig,
    MirrorGapConfig,
)
from detection.entities import ENTITY_SCHEMA, resolve_entities
from detection.flows import infer_mirror_sides
from detection.frames import attach
from detection.parties import normalise_address, normalise_party
from detection.quality import (
    UNJUDGED_SCHEMA,
    guard_implausible,
    mark_duplicates,
    reference_date,
)
from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from detection.screening import screen_frame
from detection.screening.watchlist import Substance, load_watchlist
from detection.surveillance import SURVEILLANCE, SURVEILLANCE_IDS

__all__ = ["Context", "Progress", "Screener", "default_screener", "prepare"]

# Since HS 2022 these subheadings hold one listed precursor each (DOMAIN.md).
_HS_SPECIFIC = {"293337": "39742-60-4", "293336": "21409-26-7"}


@dataclass
class Context:
    """Prepared frames every detector reads."""

    shipments: pl.DataFrame  # SHIPMENT_SCHEMA + substance, designer, plain_name, exp_key, imp_key
    consignments: pl.DataFrame  # one row per consignment (export and import records merged)
    pairs: pl.DataFrame  # export record paired with its import record
    coverage: pl.DataFrame  # importer_country -> share of exports with an import record
    declarations: pl.DataFrame
    as_of: dt.date
    substance_names: dict[str, str]
    typical_lag: float = 14.0  # days between an export and its import record, as paired
    # Records some or all detectors could not judge, and why (UNJUDGED_SCHEMA).
    unjudged: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=UNJUDGED_SCHEMA))
    as_of_note: str = ""  # how the reference date was chosen, in words
    entities: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ENTITY_SCHEMA))


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    cols = [
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in schema.items()
    ]
    return frame.select(cols)


def default_screener(pairs: pl.DataFrame, extra: Sequence[Substance] = ()) -> pl.DataFrame:
    """Screen distinct (product, cas) pairs with the surveillance list (and `extra`, e.g.
    analogues a supervisor promoted to the watchlist) as extra substances."""
    if pairs.height == 0:
        return pairs.with_columns(
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("verdict", "substance_cas", "substance_name", "method", "explanation")
        ).with_columns(pl.lit(None, dtype=pl.Float64).alias("score"))
    return screen_frame(pairs, name_col="product", cas_col="cas", extra=(*SURVEILLANCE, *extra))


Screener = Callable[[pl.DataFrame], pl.DataFrame]
# progress(step, count, seconds): a long step has ended (see `prepare`).
Progress = Callable[[str, int, float], None]


# A CAS index name puts the parent first and its substituents after a comma, each with its
# locant: "4-Piperidinone, 1-(2-phenylethyl)-", "Propanamide, N-phenyl-N-4-piperidinyl-".
_CAS_INDEX = r",\s*(\d[\d,]*-|[a-z]{1,2}-)"
# IUPAC substitutive names mark what a common name leaves implicit: a suffix with its own
# locant on the parent ("piperidin-4-one", "piperidin-4-amine") or an oxo prefix
# ("4-oxopiperidine"); common names say "4-piperidone", "4-anilinopiperidine".
_IUPAC_MARKS = r"[a-z]-\d+(?:,\d+)*-(?:one|amine|ol)\b|\d-oxo"


def _systematic_text(product: pl.Expr) -> pl.Expr:
    """The text is a listed substance's systematic (IUPAC) name or a CAS index name."""
    systematic = sorted({s.systematic_name.casefold().strip() for s in load_watchlist()})
    text = product.fill_null("").str.to_lowercase().str.strip_chars()
    return text.is_in(systematic) | text.str.contains(_CAS_INDEX) | text.str.contains(_IUPAC_MARKS)


def _learned_texts(d: pl.DataFrame, ship: pl.DataFrame) -> pl.DataFrame:
    """Lower-cased product texts (`_pl`) the feed itself ties to one listed substance
    (`_learned`)."""
    # Product texts seen with a listed CAS elsewhere in the feed identify the substance
    # when another record carries the same text without a CAS, provided most records of the
    # text carry that CAS: one record declaring a listed CAS under a common product's name
    # (a mis-declaration) must not turn every record of that product into the substance.
    lower = pl.col("product").str.to_lowercase().str.strip_chars()
    counts = ship.group_by("product", "cas", "hs_code").agg(pl.len().alias("_n"))
    dn = d.join(counts, on=["product", "cas", "hs_code"], how="left", nulls_equal=True)
    return (
        dn.group_by(lower.alias("_pl"))
        .agg(
            pl.col("substance").drop_nulls().unique().alias("_subs"),
            pl.col("_n").filter(pl.col("substance").is_not_null()).sum().alias("_with"),
            pl.col("_n").sum().alias("_all"),
        )
        .filter(pl.col("_subs").list.len() == 1, pl.col("_with") * 2 >= pl.col("_all"))
        .select("_pl", pl.col("_subs").list.first().alias("_learned"))
    )


def _plain_names(
    d: pl.DataFrame, screened_all: pl.DataFrame, mcfg: MaskedNameConfig
) -> pl.DataFrame:
    """`d` with `plain_name` (the text alone names its listed substance) and
    `systematic_no_cas` (a systematic or CAS index name and no CAS number) and
    `names_nothing` (the text alone names no chemical)."""
    # The name alone: does the product text itself say which listed substance this is?
    by_name = screened_all.filter(pl.col("cas").is_null()).select(
        pl.col("product").alias("_p"),
        pl.when(pl.col("verdict") == "controlled").then(pl.col("substance_cas")).alias("_nsub"),
        pl.col("method").alias("_nmethod"),
    )
    masking = [m.strip() for m in mcfg.masking_methods.split(",") if m.strip()]
    return d.join(by_name, on="_p", how="left").with_columns(
        pl.when(pl.col("substance").is_null())
        .then(None)
        .otherwise(
            # The name points at the substance (even as an ambiguous abbreviation such as
            # "NPP"), unless only the structure layer sees it or it names another one.
            ~pl.col("_nmethod").fill_null("none").is_in(["none", *masking])
            & (pl.col("_nsub").is_null() | (pl.col("_nsub") == pl.col("substance")))
        )
        .alias("plain_name"),
        # A systematic or CAS index name with no CAS number says it only to a chemist
        # (masked_listed_substance weighs it against the exporter's own habit).
        (pl.col("cas").is_null() & _systematic_text(pl.col("product"))).alias("systematic_no_cas"),
        # The text alone names no chemical the screen knows, not even by its structure (a
        # description such as "pharmaceutical intermediate"): what it is comes from elsewhere.
        (
            (pl.col("_p").str.strip_chars() != "")
            & pl.col("_nmethod").fill_null("none").is_in(["none", ""])
            & (pl.col("verdict").fill_null("") != "unreadable")
        ).alias("names_nothing"),
    )


# What substance resolution adds to each record.
_RESOLVED: dict[str, pl.DataType] = {
    "substance": pl.String(),
    "designer": pl.String(),
    "plain_name": pl.Boolean(),
    "screen_method": pl.String(),
    "screen_score": pl.Float64(),
    "screen_explanation": pl.String(),
    "screen_verdict": pl.String(),
    "systematic_no_cas": pl.Boolean(),
    "names_nothing": pl.Boolean(),
}


def _with_learned(d: pl.DataFrame, ship: pl.DataFrame) -> pl.DataFrame:
    """`d` (distinct product, cas, hs_code with the screen's substance) with the substance
    also read off a product text the feed ties to one listed substance, else off a listed
    substance's own HS subheading, and `screen_method` saying so."""
    d = d.with_columns(pl.col("product").str.to_lowercase().str.strip_chars().alias("_pl")).join(
        _learned_texts(d, ship), on="_pl", how="left"
    )
    return d.with_columns(
        pl.coalesce(
            "substance",
            pl.when(pl.col("designer").is_null()).then(pl.col("_learned")),
            pl.when(pl.col("designer").is_null()).then(
                pl.col("_hs6").replace_strict(_HS_SPECIFIC, default=None)
            ),
        ).alias("substance"),
        pl.when(pl.col("substance").is_null() & pl.col("_learned").is_not_null())
        .then(pl.lit("learned product text"))
        .when(
            pl.col("substance").is_null()
            & pl.col("designer").is_null()
            & pl.col("_hs6").is_in(list(_HS_SPECIFIC))
        )
        .then(pl.lit("hs subheading"))
        .otherwise(pl.col("screen_method"))
        .alias("screen_method"),
    )


def _resolve_substances(
    ship: pl.DataFrame, mcfg: MaskedNameConfig, screener: Screener
) -> pl.DataFrame:
    """Screen distinct (product, cas); adds substance (listed CAS), designer, plain_name, screen_*."""
    distinct = ship.select("product", "cas", "hs_code").unique()
    if distinct.height == 0:
        return ship.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in _RESOLVED.items())
    pairs = distinct.select(pl.col("product").fill_null(""), "cas").unique()
    # One screening call over (product, cas) and (product alone): the name-only verdict
    # tells whether the text itself names the substance (see masked_listed_substance).
    names_only = pairs.select("product", pl.lit(None, dtype=pl.String).alias("cas")).unique()
    screened_all = screener(pl.concat([pairs, names_only]).unique())
    screened = screened_all.select(
        "product",
        "cas",
        pl.col("verdict"),
        pl.col("substance_cas").alias("_scas"),
        pl.col("method").alias("screen_method"),
        pl.col("score").cast(pl.Float64).alias("screen_score"),
        pl.col("explanation").alias("screen_explanation"),
    )
    d = distinct.with_columns(pl.col("product").fill_null("").alias("_p")).join(
        screened.rename({"product": "_p"}), on=["_p", "cas"], how="left", nulls_equal=True
    )
    surveil = pl.col("_scas").is_in(list(SURVEILLANCE_IDS))
    d = d.with_columns(
        pl.when((pl.col("verdict") == "controlled") & ~surveil)
        .then(pl.col("_scas"))
        .alias("substance"),
        pl.when(surveil | (pl.col("verdict") == "analogue"))
        .then(pl.col("_scas"))
        .alias("designer"),
        pl.col("hs_code").str.replace_all(r"[^0-9]", "").str.slice(0, 6).alias("_hs6"),
    )
    d = _plain_names(_with_learned(d, ship), screened_all, mcfg)
    d = d.select(
        "product", "cas", "hs_code", "substance", "designer", "plain_name", "screen_method",
        "screen_score",
        # Only early warnings (designer analogues) cite the screen's sentence: one string per
        # record for a million records is memory no detector reads.
        pl.when(pl.col("designer").is_not_null()).then(pl.col("screen_explanation")).alias("screen_explanation"),
        pl.col("verdict").alias("screen_verdict"),
        "systematic_no_cas",
        "names_nothing",
    )  # fmt: skip
    out = attach(ship, d, ["product", "cas", "hs_code"], nulls_equal=True)
    # An import record of a consignment whose export record names a listed substance carries it.
    ref_sub = (
        pl.col("substance").drop_nulls().first().over("consignment_ref")
    )  # null refs form one group; guarded below
    return out.with_columns(
        pl.when(pl.col("substance").is_null() & pl.col("consignment_ref").is_not_null())
        .then(ref_sub)
        .otherwise(pl.col("substance"))
        .alias("substance")
    )


def _pair_by_ref(x: pl.DataFrame, m: pl.DataFrame) -> pl.DataFrame:
    """Export and import records sharing a consignment reference, one to one."""
    return (
        x.filter(pl.col("consignment_ref").is_not_null())
        .join(
            m.filter(pl.col("consignment_ref").is_not_null()),
            on="consignment_ref",
            suffix="_m",
            maintain_order="left_right",
        )
        .unique("id", keep="first", maintain_order=True)
        .unique("id_m", keep="first", maintain_order=True)
        .select(
            pl.col("id").alias("x_id"), pl.col("id_m").alias("m_id"), pl.lit("ref").alias("how")
        )
    )


def _typical_lag(by_ref: pl.DataFrame, x: pl.DataFrame, m: pl.DataFrame) -> float:
    """The usual transit time (days), learned from the pairs that share a reference."""
    lags = by_ref.join(x.select(pl.col("id").alias("x_id"), "date"), on="x_id").join(
        m.select(pl.col("id").alias("m_id"), pl.col("date").alias("m_date")), on="m_id"
    )
    if lags.height == 0:
        return 14.0
    return float(lags.select((pl.col("m_date") - pl.col("date")).dt.total_days().median()).item())


def _pair_by_parties(
    x: pl.DataFrame, m: pl.DataFrame, typical_lag: float, mcfg: MirrorGapConfig
) -> pl.DataFrame:
    """Records without a shared reference: same parties, import 0..window days after the
    export; the closest quantity wins, then the closest date (greedy one to one)."""
    # Each import is looked for in the export's window only: both sides fall in buckets as
    # long as the window, an export's window spans its own bucket and the next, so the join
    # meets only those (a relation's whole history squared would be ten times as many rows).
    w = max(mcfg.match_window_days, 1)
    day = pl.col("date").cast(pl.Int32)
    cand = (
        x.with_columns(pl.concat_list(day // w, day // w + 1).alias("_b"))
        .explode("_b")
        .join(
            m.with_columns((day // w).alias("_b")),
            on=["exp_key", "imp_key", "_b"],
            suffix="_m",
        )
        .drop("_b")
        .with_columns((pl.col("date_m") - pl.col("date")).dt.total_days().alias("_lag"))
        .filter(pl.col("_lag") >= 0, pl.col("_lag") <= mcfg.match_window_days)
        # Two different consignment references are two consignments, however alike.
        .filter(
            pl.col("consignment_ref").is_null()
            | pl.col("consignment_ref_m").is_null()
            | (pl.col("consignment_ref") == pl.col("consignment_ref_m"))
        )
        .filter(
            (pl.col("sub_key") == pl.col("sub_key_m"))
            | (pl.col("sub_key") == "other")
            | (pl.col("sub_key_m") == "other")
        )
        .with_columns(
            (
                (pl.col("quantity_kg") - pl.col("quantity_kg_m")).abs()
                / pl.max_horizontal("quantity_kg", "quantity_kg_m").clip(1e-9)
                + (pl.col("_lag") - typical_lag).abs() / (10.0 * mcfg.match_window_days)
                + (pl.col("sub_key") != pl.col("sub_key_m")).cast(pl.Float64)
            )
            .fill_null(9.0)
            .alias("_cost")
        )
        .sort("_cost", "id", "id_m")
    )
    # Greedy one-to-one: each import takes its cheapest export, each export keeps its
    # cheapest import; the losers try again with what is left (a few rounds).
    rounds = []
    for _ in range(4):
        if cand.height == 0:
            break
        best = cand.unique("id_m", keep="first", maintain_order=True).unique(
            "id", keep="first", maintain_order=True
        )
        rounds.append(best)
        cand = cand.join(best.select("id"), on="id", how="anti").join(
            best.select("id_m"), on="id_m", how="anti"
        )
    found = pl.concat(rounds) if rounds else cand
    return found.select(
        pl.col("id").alias("x_id"),
        pl.col("id_m").alias("m_id"),
        pl.lit("parties and date").alias("how"),
    )


def _pair_mirrors(ship: pl.DataFrame, mcfg: MirrorGapConfig) -> tuple[pl.DataFrame, float]:
    """Pair export (X) records with import (M) records: by consignment_ref, else by parties and date.

    Also returns the typical transit time (days) the pairing by parties and date assumed."""
    cols = ["id", "date", "exp_key", "imp_key", "sub_key", "consignment_ref", "quantity_kg"]
    x = ship.filter(pl.col("flow") == "X").select(cols)
    m = ship.filter(pl.col("flow") == "M").select(cols)
    by_ref = _pair_by_ref(x, m)
    typical_lag = _typical_lag(by_ref, x, m)
    x_left = x.join(by_ref, left_on="id", right_on="x_id", how="anti")
    m_left = m.join(by_ref, left_on="id", right_on="m_id", how="anti")
    pairs = pl.concat([by_ref, _pair_by_parties(x_left, m_left, typical_lag, mcfg)])
    q = ship.select("id", "quantity_kg", "date")
    return pairs.join(
        q.rename({"id": "x_id", "quantity_kg": "x_kg", "date": "x_date"}), on="x_id"
    ).join(
        q.rename({"id": "m_id", "quantity_kg": "m_kg", "date": "m_date"}), on="m_id"
    ), typical_lag


def _coverage(
    ship: pl.DataFrame, pairs: pl.DataFrame, as_of: dt.date, ecfg: ExportNeverArrivedConfig
) -> pl.DataFrame:
    """Each importing country's share of (old enough) export records of listed substances that
    have an import record: the records export_never_arrived judges. Other goods travel without
    a pre-export notification and pair less surely; their misses are not the country's
    record of listed chemicals."""
    horizon = as_of - dt.timedelta(days=ecfg.grace_days)
    return (
        ship.filter(
            pl.col("flow") == "X", pl.col("date") <= horizon, pl.col("substance").is_not_null()
        )
        .select("id", "importer_country")
        .join(
            pairs.select(pl.col("x_id").alias("id"), pl.lit(True).alias("paired")),
            on="id",
            how="left",
        )
        .group_by("importer_country")
        .agg(pl.len().alias("exports"), pl.col("paired").fill_null(False).mean().alias("coverage"))
    )


def _entity_keys(ship: pl.DataFrame, cfg: EntityConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both parties of each record as entities (detection.entities): `{role}_entity`, and
    the declared facility of the entity where one of its spellings is linked to one."""
    roles = ("exporter", "importer")
    parties = pl.concat(
        [
            ship.group_by(
                pl.col(f"{r}_norm").alias("norm"),
                pl.col(f"{r}_country").alias("country"),
                pl.col(f"{r}_addr").alias("address"),
                pl.col(f"{r}_facility_id").alias("facility_id"),
            ).agg(pl.len().cast(pl.Int64).alias("records"))
            for r in roles
        ]
    )
    ent = resolve_entities(parties, cfg)
    for r in roles:
        lookup = ent.select(
            pl.col("norm").alias(f"{r}_norm"),
            pl.col("country").alias(f"{r}_country"),
            pl.col("entity").alias(f"{r}_entity"),
            pl.col("entity_facility_id").alias("_efac"),
        )
        ship = (
            attach(ship, lookup, [f"{r}_norm", f"{r}_country"], nulls_equal=True)
            .with_columns(
                pl.coalesce(f"{r}_facility_id", "_efac").alias(f"{r}_facility_id"),
                pl.coalesce(f"{r}_entity", f"{r}_norm").alias(f"{r}_entity"),
            )
            .drop("_efac")
        )
    return ship, ent


def _consignment_ids(ship: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """`ship` with `cons_id`, one per consignment: the export record stands for a paired
    import record, and the first report for a second source's report of the same
    consignment; `lead` marks the record that stands for its consignment."""
    paired_m = pairs.select(pl.col("m_id").alias("id"), pl.col("x_id").alias("_x"))
    ship = attach(ship, paired_m, "id").with_columns(pl.coalesce("_x", "id").alias("cons_id"))
    canon = ship.select(pl.col("id").alias("dup_of"), pl.col("cons_id").alias("_c"))
    return (
        attach(ship, canon, "dup_of")
        .with_columns(pl.coalesce("_c", "cons_id").alias("cons_id"))
        .drop("_x", "_c")
        .with_columns((pl.col("id") == pl.col("cons_id")).alias("lead"))
    )


def _consignments(ship: pl.DataFrame) -> pl.DataFrame:
    """One row per consignment (`cons_id`): the export record's fields first, the arrival
    date from the import record, every record's id in `pks`."""
    fields = [
        "exp_key", "imp_key", "exporter", "importer", "exporter_norm", "importer_norm",
        "exporter_entity", "importer_entity", "exporter_country", "importer_country",
        "exporter_facility_id", "importer_facility_id", "importer_addr", "importer_address",
        "substance", "designer", "consignment_ref", "product", "value_usd",
    ]  # fmt: skip
    return (
        ship.select("cons_id", "flow", "id", "date", "quantity_kg", "batch_id", "source", *fields)
        .sort(["flow", "id"], descending=[True, False], nulls_last=True)  # X before M
        .group_by("cons_id")
        .agg(
            pl.col("date").first(),
            pl.col(fields).drop_nulls().first(),
            pl.col("quantity_kg").first(),
            # When the importer recorded it: a December export may arrive in January.
            pl.col("date").filter(pl.col("flow") == "M").min().alias("arrival_date"),
            pl.col("id").alias("pks"),
            pl.col("batch_id").max(),
            pl.col("source").n_unique().alias("sources"),
        )
        .with_columns(
            pl.coalesce("consignment_ref", pl.col("cons_id").cast(pl.String)).alias("cons_key")
        )
        .sort("date", "cons_id")
    )


def _normalised(shipments: pl.DataFrame) -> pl.DataFrame:
    """The records in the detection schema and in id order, flows as X/M, every party's name
    and address normalised by one normaliser (whatever normaliser stored the record's norm)."""
    # In id order: what "first" means in a group (a party's spelling, an evidence list's
    # order) must not depend on the order the database returned the rows in.
    ship = _conform(shipments, SHIPMENT_SCHEMA)
    if not ship["id"].is_sorted():  # the registry reads in id order; a sort copies every column
        ship = ship.sort("id", maintain_order=True)
    return ship.with_columns(
        pl.col("flow")
        .str.to_uppercase()
        .str.strip_chars()
        .replace({"EXPORT": "X", "IMPORT": "M", "E": "X", "I": "M"}),
        *(
            pl.coalesce(normalise_party(role), f"{role}_norm").alias(f"{role}_norm")
            for role in ("exporter", "importer")
        ),
        *(normalise_address(f"{r}_address").alias(f"{r}_addr") for r in ("exporter", "importer")),
    )


def prepare(
    shipments: pl.DataFrame | Callable[[], pl.DataFrame],
    declarations: pl.DataFrame,
    *,
    as_of: dt.date | None = None,
    mirror: MirrorGapConfig | None = None,
    never: ExportNeverArrivedConfig | None = None,
    masked: MaskedNameConfig | None = None,
    quality: DataQualityConfig | None = None,
    entity: EntityConfig | None = None,
    screener: Screener | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> Context:
    """Guard implausible values, resolve substances and entities, fold records reported
    twice, pair mirror records and merge them into consignments. `progress(step, count,
    seconds)` hears of each long step as it ends: "checks" (records read and checked for
    plausible values), "screen" (distinct product descriptions),
    "entities" (parties after clustering), "pairs" (export records paired with their import
    record), "consignments".

    `shipments` may be a function that reads the records: prepare then holds the only
    reference to them as read, and they are let go once its own frame has replaced them
    (a caller's frame would stay in memory to the end of the run)."""
    mark = [time.perf_counter()]

    def done(step: str, count: Callable[[], int]) -> None:
        now = time.perf_counter()
        if progress:
            progress(step, count(), now - mark[0])
        mark[0] = now

    mirror = mirror or MirrorGapConfig()
    never = never or ExportNeverArrivedConfig()
    masked = masked or MaskedNameConfig()
    quality = quality or DataQualityConfig()
    today = today or dt.date.today()
    ship = _normalised(shipments() if callable(shipments) else shipments)
    decl = _conform(declarations, DECLARATION_SCHEMA)
    ship, unjudged = guard_implausible(ship, quality, today)
    ship = infer_mirror_sides(ship)  # a feed without flow: a consignment's two records count once
    if as_of is None:
        as_of, as_of_note = reference_date(ship, today)
    else:
        as_of_note = f"reference date {as_of.isoformat()}: given"
    done("checks", lambda: ship.height)
    ship = _resolve_substances(ship, masked, screener or default_screener)
    done("screen", lambda: ship.select("product", "cas").n_unique())
    ship, entities = _entity_keys(ship, entity or EntityConfig())
    done("entities", lambda: entities.select("entity", "country").n_unique())
    # What no detector reads once entities are known: a million records' raw exporter
    # addresses, their keys and the value in its own currency (value_usd is what is judged).
    ship = ship.drop("exporter_address", "exporter_addr", "value", "currency")
    ship = ship.with_columns(
        pl.coalesce("exporter_facility_id", "exporter_entity").alias("exp_key"),
        pl.coalesce("importer_facility_id", "importer_entity").alias("imp_key"),
        pl.coalesce("substance", "designer", pl.lit("other")).alias("sub_key"),
    )
    ship = mark_duplicates(ship, quality)
    # What pairing and coverage read, of the records that are not a second report (a filter of
    # every column would copy the whole feed).
    originals = ship.select(
        "id", "flow", "date", "exp_key", "imp_key", "sub_key", "consignment_ref",
        "quantity_kg", "substance", "importer_country", "dup_of",
    ).filter(pl.col("dup_of").is_null())  # fmt: skip
    pairs, typical_lag = _pair_mirrors(originals, mirror)
    coverage = _coverage(originals, pairs, as_of, never)
    done("pairs", lambda: pairs.height)
    ship = _consignment_ids(ship, pairs)
    cons = _consignments(ship)
    done("consignments", lambda: cons.height)
    names = {s.cas: s.name for s in [*load_watchlist(), *SURVEILLANCE]}
    return Context(
        ship, cons, pairs, coverage, decl, as_of, names, typical_lag=typical_lag,
        unjudged=unjudged, as_of_note=as_of_note, entities=entities,
    )  # fmt: skip
