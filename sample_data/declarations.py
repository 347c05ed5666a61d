"""Declared annual quantities (CWC-style facility declarations), their mid-year revisions,
and the planted declared_quantity_exceeded cases.

A facility declares, for each listed substance and year, what it expects to produce, trade,
process or consume: its actual volume of that year (the current, partial year annualised)
times a planning margin of 1.15-2.5, rounded up to two significant digits. Volumes are the
consignments whose paperwork names the substance (exports counted on dispatch, imports on
arrival); a disguised consignment is not declared by the facility that disguises it.

Revisions (noise): a facility-year is declared twice, first early in the year and again
between April and September; the registry file lists both rows with the same facility,
substance, activity and year, the revision below the original with a later `declared_on`
date, and the later row is the one in force (ingest keeps the last row of a key). Three
revisions in four are upward, half of those from an original the facility's trade exceeds.

declared_quantity_exceeded, relative to the declaration in force:

| year | blatant | moderate | subtle (still clear) |
|---|---|---|---|
| 2024 (complete): shipped / declared | 1.8-3.5 | 1.3-1.8 | 1.12-1.3 |
| 2025 (to 30 September): shipped so far / whole-year declaration | 1.6-3.0 | 1.05-1.6 | 0.95-1.05 (on course for 1.27-1.4 by December) |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from sample_data.catalogue import LISTED
from sample_data.parties import ACTIVITY, Parties
from sample_data.planting import Planter, sub_name
from sample_data.world import COUNTRIES, END, START

__all__ = ["ELAPSED_2025", "declare", "facility_frames", "plant_exceeded", "volumes"]

ELAPSED_2025 = ((END - dt.date(2025, 1, 1)).days + 1) / 365.0


def _year(day: pl.Expr) -> pl.Expr:
    return (pl.lit(START) + pl.duration(days=day)).dt.year().cast(pl.Int64)


def volumes(cons: pl.DataFrame, parties: Parties) -> pl.DataFrame:
    """Per declared facility, listed substance and year: kg out and in, consignments, and
    the kg that count against its declaration (producers: out; consumers: in; the others:
    the larger)."""
    honest = cons.filter(pl.col("declared_as").is_null())
    out = honest.group_by(
        pl.col("exp").alias("party"), "sub", _year(pl.col("day")).alias("year")
    ).agg(pl.col("qty").sum().alias("out_kg"), pl.len().alias("n_out"))
    inn = honest.group_by(
        pl.col("imp").alias("party"), "sub", _year(pl.col("day") + pl.col("delay")).alias("year")
    ).agg(pl.col("qty").sum().alias("in_kg"), pl.len().alias("n_in"))
    rows = [
        (i, s, y, parties.role[i])
        for i, fid in enumerate(parties.facility_id)
        if fid is not None
        for s in parties.subs[i]
        for y in (2024, 2025)
    ]
    base = pl.DataFrame(rows, schema=["party", "sub", "year", "role"], orient="row")
    v = (
        base.join(out, on=["party", "sub", "year"], how="left")
        .join(inn, on=["party", "sub", "year"], how="left")
        .fill_null(0)
    )
    side = (
        pl.when(pl.col("role") == "producer")
        .then(pl.lit("out"))
        .when(pl.col("role") == "consumer")
        .then(pl.lit("in"))
        .when(pl.col("out_kg") >= pl.col("in_kg"))
        .then(pl.lit("out"))
        .otherwise(pl.lit("in"))
    )
    v = v.with_columns(side.alias("side"))
    return v.with_columns(
        pl.when(pl.col("side") == "out")
        .then(pl.col("out_kg"))
        .otherwise(pl.col("in_kg"))
        .alias("kg"),
        pl.when(pl.col("side") == "out").then(pl.col("n_out")).otherwise(pl.col("n_in")).alias("n"),
    ).sort("party", "sub", "year")


def nice(x: np.ndarray, *, down: bool = False) -> np.ndarray:
    """Round to two significant digits the way people write declared quantities (up, so a
    margin stays a margin, or down, so a planted excess stays at least as large)."""
    x = np.maximum(x, 1.0)
    mag = 10.0 ** (np.floor(np.log10(x)) - 1)
    return (np.floor(x / mag) if down else np.ceil(x / mag)) * mag


def plant_exceeded(p: Planter, v: pl.DataFrame, n: int) -> dict[tuple[int, str, int], float]:
    """Plant `n` facility-years shipping more than declared; returns their declarations."""
    # A facility's substance that another case touches is left to that case.
    planted = p.all_consignments().filter(pl.col("anomaly_id").is_not_null())
    touched = pl.concat(
        [planted.select(pl.col(c).alias("party"), "sub") for c in ("exp", "imp", "m_imp")]
    ).drop_nulls()
    pool = v.filter(pl.col("n") >= 3, ~pl.col("party").is_in(list(p.used_party)))
    pool = pool.join(touched.unique(), on=["party", "sub"], how="anti")
    out: dict[tuple[int, str, int], float] = {}
    for j, tier in enumerate(p.tiers(n)):
        year = 2024 if j % 2 == 0 else 2025
        cands = pool.filter(pl.col("year") == year, ~pl.col("party").is_in(list(p.used_party)))
        if cands.height == 0:
            continue
        r = cands.row(int(p.rng.integers(0, cands.height)), named=True)
        lo, hi = {
            (2024, "blatant"): (1.8, 3.5), (2024, "moderate"): (1.3, 1.8),
            (2024, "subtle"): (1.12, 1.3), (2025, "blatant"): (1.6, 3.0),
            (2025, "moderate"): (1.05, 1.6), (2025, "subtle"): (0.95, 1.05),
        }[(year, tier)]  # fmt: skip
        declared = float(nice(np.array([r["kg"] / p.uniform(lo, hi)]), down=True)[0])
        party, sub = int(r["party"]), str(r["sub"])
        p.used_party.add(party)
        fid = p.parties.facility_id[party]
        verb = "shipped" if r["side"] == "out" else "received"
        so_far = " by 30 September" if year == 2025 else ""
        aid = p.label(
            "declared_quantity_exceeded",
            tier,
            f"{p.name(party)} ({fid}) declared {declared:,.0f} kg of {sub_name(sub)} for {year} "
            f"and {verb} {r['kg']:,.0f} kg{so_far} in {r['n']} consignments, "
            f"{r['kg'] / declared:.2f} times its declaration",
            fid,
            sub,
        )
        col, day = (
            ("exp", pl.col("day"))
            if r["side"] == "out"
            else ("imp", pl.col("day") + pl.col("delay"))
        )
        mask = (pl.col(col) == party) & (pl.col("sub") == sub) & (_year(day) == year)
        mask = mask & pl.col("declared_as").is_null()
        p.mark(mask, aid, protect=True)
        out[(party, sub, year)] = declared
    return out


def declare(
    rng: np.random.Generator,
    p: Parties,
    v: pl.DataFrame,
    planted: dict[tuple[int, str, int], float],
    revision_share: float,
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The registry's declaration rows (both rows of a revision, the revision last) and the
    noise log of revisions."""
    n = v.height
    kg = v["kg"].to_numpy().astype(np.float64)
    year = v["year"].to_numpy()
    annual = np.where(year == 2025, kg / ELAPSED_2025, kg)
    unused = nice(np.array([_size(s) for s in v["sub"].to_list()]) * rng.uniform(2, 10, n))
    final = np.where(kg > 0, nice(annual * rng.uniform(1.15, 2.5, n)), unused)
    keys = list(zip(v["party"].to_list(), v["sub"].to_list(), year.tolist(), strict=True))
    is_planted = np.array([k in planted for k in keys])
    final = np.where(is_planted, [planted.get(k, 0.0) for k in keys], final)
    filed = _filing_days(rng, year, early=True)
    rows = v.select("party", "sub", "year", "role").with_columns(
        pl.Series("kg", final), pl.Series("declared_on", filed)
    )
    revised = (rng.random(n) < revision_share) & ~is_planted
    up = rng.random(n) < 0.75
    below_trade = up & (kg > 0) & (rng.random(n) < 0.5)
    original = np.where(
        up,
        np.where(
            below_trade,
            nice(kg * rng.uniform(0.7, 0.95, n)),
            nice(final / rng.uniform(1.3, 2.0, n)),
        ),
        nice(final * rng.uniform(1.2, 1.8, n)),
    )
    first = rows.filter(pl.Series(revised)).with_columns(pl.Series("kg", original[revised]))
    second = rows.filter(pl.Series(revised)).with_columns(
        pl.Series("declared_on", _filing_days(rng, year[revised], early=False))
    )
    log = [
        {"kind": "declaration_revision", "facility_id": p.facility_id[a], "year": y,
         "detail": f"{sub_name(s)}: {o:,.0f} kg declared first, revised to {f:,.0f} kg"}
        for (a, s, y), o, f in zip(
            first.select("party", "sub", "year").iter_rows(), first["kg"], second["kg"], strict=True
        )
    ]  # fmt: skip
    kept = rows.filter(~pl.Series(revised))
    ordered = pl.concat([kept, first, second]).sort("party", "sub", "year", "declared_on")
    return ordered, log


def _size(sub: str) -> float:
    return next(s.size_kg for s in LISTED if s.cas == sub)


def _filing_days(rng: np.random.Generator, year: np.ndarray, *, early: bool) -> np.ndarray:
    """Dates declarations are filed: early ones from December before to February, revisions
    from April to September of the year."""
    start = np.array([np.datetime64(f"{y}-01-01") for y in year.tolist()], dtype="datetime64[D]")
    off = rng.integers(-30, 59, len(year)) if early else rng.integers(91, 257, len(year))
    return start + off.astype("timedelta64[D]")


def facility_frames(
    rng: np.random.Generator, p: Parties, rows: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """facilities.csv as the registry writes it, and the declarations in force."""
    from sample_data.naming import normalise_company

    substance = {s.cas: f"{s.plain[0]} ({s.key})" if s.plain[0] != s.key else s.key for s in LISTED}
    party = rows["party"].to_numpy()
    countries = np.asarray(p.country)[party]
    # Registries write countries as codes mostly, sometimes by name.
    by_name = rng.random(rows.height) < 0.15
    country_text = [
        COUNTRIES[c].names[0] if b else c for c, b in zip(countries, by_name, strict=True)
    ]
    lat = np.array([COUNTRIES[c].lat for c in np.asarray(p.country)]) + rng.normal(
        0, 0.3, len(p.country)
    )
    lon = np.array([COUNTRIES[c].lon for c in np.asarray(p.country)]) + rng.normal(
        0, 0.3, len(p.country)
    )
    fac = rows.with_columns(
        pl.Series("facility_id", [p.facility_id[i] for i in party], dtype=pl.String),
        pl.Series("name", [p.companies[i].registry_name for i in party]),
        pl.Series("country_text", country_text),
        pl.Series("country", countries.astype(str)),
        pl.Series("activity", [ACTIVITY[p.role[i]] for i in party]),
        pl.col("sub").replace_strict(substance).alias("substance"),
        pl.Series("address", [p.companies[i].address for i in party]),
        pl.Series("lat", np.round(lat[party], 4)),
        pl.Series("lon", np.round(lon[party], 4)),
    )
    facilities = fac.select(
        "facility_id", "name", pl.col("country_text").alias("country"), "activity", "substance",
        pl.col("sub").alias("cas"), pl.col("kg").alias("declared_annual_kg"),
        pl.col("year").alias("declaration_year"), "address", "lat", "lon",
        pl.col("declared_on").cast(pl.Date),
    )  # fmt: skip
    in_force = fac.unique(["party", "sub", "year"], keep="last", maintain_order=True)
    declarations = in_force.select(
        "facility_id", "name", normalise_company(in_force["name"]).alias("name_norm"), "country",
        "activity", "substance", pl.col("sub").alias("substance_cas"),
        pl.col("kg").alias("declared_annual_kg"), pl.col("year").alias("declaration_year"),
    )  # fmt: skip
    return facilities, declarations
