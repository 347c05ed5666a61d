"""Seeded sample data: a declared-facility registry, a mirrored shipment feed with the noise of
real trade data, and an answer key of planted diversion cases.

`generate(seed, n_shipments)` builds, with numpy's seeded Generator and polars:
- declared facilities (one row per facility, substance and declaration year, revisions too),
- shipment records as national authorities send them: export (X) and import (M) records of
  the same consignments, in each authority's id format, currency and spelling,
- an answer key of planted cases of every pattern (PATTERNS), in three strengths,
- the same shipments as the registry would store them (SHIPMENT_SCHEMA) and the
  declarations in force (DECLARATION_SCHEMA), so detection can be evaluated without ingest,
- a noise log: which records (and facility-years) carry which kind of noise.

The generator knows nothing of the detectors: its chemicals, names, normaliser, cases and
their strengths come from the domain (see the modules named in PATTERNS' comments).

Answer key columns: anomaly_id, pattern, shipment_ids (the source ids of every record of the
case, ';'-joined: export, import and second reports), facility_id, substance_cas,
description (plain words with the planted numbers), strength (blatant, moderate, subtle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sample_data import plant_goods, plant_parties, plant_volume
from sample_data.declarations import declare, facility_frames, plant_exceeded, volumes
from sample_data.feeds import STYLES, write_sample
from sample_data.noise import NoiseConfig
from sample_data.parties import Parties, build_parties
from sample_data.planting import Planter
from sample_data.records import write_records
from sample_data.trade import build_relations, consignments

__all__ = ["PATTERNS", "STYLES", "NoiseConfig", "Sample", "generate", "write_sample"]

_PLANT: dict[str, Callable[[Planter, int], None]] = {
    "unusual_size": plant_volume.unusual_size,  # plant_volume: DEA suspicious orders
    "frequency_burst": plant_volume.frequency_burst,
    "series_splitting": plant_volume.series_splitting,
    "masked_name": plant_goods.masked_name,  # plant_goods: what the paperwork says
    "designer_analogue": plant_goods.designer_analogue,
    "value_mismatch": plant_goods.value_mismatch,
    "hs_mismatch": plant_goods.hs_mismatch,
    "undeclared_party": plant_parties.undeclared_party,  # plant_parties: who and where
    "end_user_reexport": plant_parties.end_user_reexport,
    "shared_address_network": plant_parties.shared_address_network,
    "diverted_consignment": plant_parties.diverted_consignment,
    "mirror_quantity_gap": plant_parties.mirror_quantity_gap,
    "export_never_arrived": plant_parties.export_never_arrived,
}
# declared_quantity_exceeded is planted in the declarations (declarations.plant_exceeded).
PATTERNS = ("declared_quantity_exceeded", *_PLANT)

_KEY_SCHEMA = {
    "anomaly_id": pl.String, "pattern": pl.String, "facility_id": pl.String,
    "substance_cas": pl.String, "description": pl.String, "strength": pl.String,
}  # fmt: skip
_NOISE_SCHEMA = {
    "kind": pl.String, "shipment_id": pl.String, "facility_id": pl.String,
    "year": pl.Int64, "detail": pl.String,
}  # fmt: skip


@dataclass
class Sample:
    """A generated sample: what gets written, plus the registry-shaped frames for evaluation."""

    facilities: pl.DataFrame  # canonical facility columns (+ declared_on), raw as a registry
    shipments: pl.DataFrame  # canonical shipment columns, raw as a feed sends them
    answer_key: pl.DataFrame
    registry_shipments: pl.DataFrame  # SHIPMENT_SCHEMA, as ingest would store the feed
    declarations: pl.DataFrame  # DECLARATION_SCHEMA, the declarations in force
    noise: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_NOISE_SCHEMA))


def generate(
    seed: int = 7,
    n_shipments: int = 10_000,
    *,
    noise: NoiseConfig | None = None,
    plant: Iterable[str] | None = None,
    per_pattern: int | None = None,
) -> Sample:
    """About `n_shipments` records with `per_pattern` planted cases of each pattern in
    `plant` (default: all PATTERNS, 8 per 20,000 records, at least 2; `plant=()` plants
    nothing) against a background with `noise` (default NoiseConfig())."""
    if n_shipments < 200:
        raise ValueError("a sample needs at least 200 shipment records")
    wanted = PATTERNS if plant is None else tuple(plant)
    unknown = sorted(set(wanted) - set(PATTERNS))
    if unknown:
        raise ValueError(f"unknown pattern {unknown[0]!r}; patterns: {', '.join(PATTERNS)}")
    noise = noise or NoiseConfig()
    k = per_pattern if per_pattern is not None else max(2, round(n_shipments * 8 / 20_000))
    rng = np.random.default_rng(seed)
    parties = build_parties(rng, max(40, round(n_shipments / 150)), noise.head_offices)
    rel = build_relations(
        rng, parties, trader_reexports=noise.trader_reexports > 0, price_spread=noise.price_spread
    )
    # Planted cases bring about eight records each; the background makes up the rest.
    rel = _scale_rates(rel, parties, max(n_shipments // 2, n_shipments - 8 * k * len(wanted)))
    cons = consignments(
        rng, rel, parties, price_spread=noise.price_spread, late_share=noise.late_imports
    )
    planter = Planter(rng, parties, rel, cons, noise.late_imports)
    for name, plant_fn in _PLANT.items():
        if name in wanted:
            plant_fn(planter, k)
    vol = volumes(planter.all_consignments(), parties)
    exceeded = plant_exceeded(planter, vol, k) if "declared_quantity_exceeded" in wanted else {}
    rows, revisions = declare(rng, parties, vol, exceeded, noise.declaration_revisions)
    facilities, declarations = facility_frames(rng, parties, rows)
    records = write_records(rng, planter.all_consignments(), parties, noise)
    key = pl.DataFrame(planter.key, schema=_KEY_SCHEMA)
    answer_key = key.join(records.anomaly_ids, on="anomaly_id", how="inner").select(
        "anomaly_id", "pattern", "shipment_ids", "facility_id", "substance_cas", "description",
        "strength",
    )  # fmt: skip
    log = pl.concat(
        [
            records.noise.with_columns(
                pl.lit(None, pl.String).alias("facility_id"),
                pl.lit(None, pl.Int64).alias("year"),
                pl.lit(None, pl.String).alias("detail"),
            ),
            pl.DataFrame(revisions + _head_office_log(parties), schema=_NOISE_SCHEMA),
        ],
        how="diagonal",
    ).select(list(_NOISE_SCHEMA))
    return Sample(facilities, records.feed, answer_key, records.registry, declarations, log)


def _scale_rates(rel: pl.DataFrame, parties: Parties, n_shipments: int) -> pl.DataFrame:
    """Scale cadences so the feed has about `n_shipments` records, 35% of them listed."""
    reports = parties.reports()[rel["imp"].to_numpy()]
    years = (rel["end"] - rel["start"]).to_numpy() / 365.0
    per = rel["rate"].to_numpy() * years * (1.0 + 0.98 * reports)
    listed = rel["listed"].to_numpy()
    scale = np.where(
        listed, 0.35 * n_shipments / per[listed].sum(), 0.65 * n_shipments / per[~listed].sum()
    )
    return rel.with_columns((pl.col("rate") * pl.Series(scale)).clip(1.0, 60.0))


def _head_office_log(parties: Parties) -> list[dict[str, object]]:
    return [
        {"kind": "head_office", "shipment_id": None, "facility_id": fid, "year": None,
         "detail": f"group {g}: {parties.companies[i].address}"}
        for i, (fid, g) in enumerate(zip(parties.facility_id, parties.group, strict=True))
        if g >= 0 and fid is not None
    ]  # fmt: skip
