"""Consignments written as the records national authorities send: an export record from the
exporting state, an import record from the importing state where it reports imports, now and
then a second report of the same consignment, each in its authority's id format, currency
and spelling; and the same records as the registry would store them (SHIPMENT_SCHEMA)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sample_data.catalogue import LISTED
from sample_data.naming import normalise_company
from sample_data.noise import NoiseConfig
from sample_data.parties import Parties
from sample_data.texts import Texts, frame_of
from sample_data.world import COUNTRIES, DAYS, START, shipment_ids, usd_rate

__all__ = ["FEED_COLUMNS", "Records", "write_records"]

FEED_COLUMNS = [
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "cas", "hs_code", "flow", "consignment_ref",
    "transit_countries", "value", "currency", "exporter_address", "importer_address", "source",
]  # fmt: skip
_CARRIERS = ("MAEU", "MSCU", "COSU", "HLCU", "ONEY", "EGLV")
_TRANSIT = ("SGP", "ARE", "ARE;TUR", "PAN", "NLD", "BEL")
# Currencies customs write values in besides the US dollar, and how often.
_LOCAL = {"CHN": ("CNY", 0.1), "KOR": ("KRW", 0.3), "MEX": ("MXN", 0.3), "IND": ("INR", 0.85),
          "DEU": ("EUR", 0.85), "NLD": ("EUR", 0.85), "BEL": ("EUR", 0.85), "CHE": ("CHF", 0.85),
          "GBR": ("GBP", 0.85), "CAN": ("CAD", 0.85)}  # fmt: skip


@dataclass
class Records:
    feed: pl.DataFrame  # FEED_COLUMNS, as written to shipments.csv
    registry: pl.DataFrame  # SHIPMENT_SCHEMA columns in schema order
    anomaly_ids: pl.DataFrame  # anomaly_id, shipment_ids (';'-joined)
    noise: pl.DataFrame  # kind, shipment_id


def _structure(
    rng: np.random.Generator, cons: pl.DataFrame, p: Parties, noise: NoiseConfig
) -> tuple[pl.DataFrame, list[tuple[str, np.ndarray]]]:
    """One row per record: which consignment, which side, who reports it, when, how much."""
    nc = cons.height
    reports = p.reports()
    m_party = cons["m_imp"].fill_null(cons["imp"]).to_numpy()
    planted = cons["anomaly_id"].is_not_null().to_numpy()
    guarded = planted | cons["protect"].to_numpy()
    arrival = cons["day"].to_numpy() + cons["delay"].to_numpy()
    due = reports[m_party] & ~cons["m_never"].to_numpy() & (arrival < DAYS)
    missing = due & (rng.random(nc) < noise.missing_imports) & ~guarded
    m_ok = due & ~missing
    second = (rng.random(nc) < noise.double_reported) & ~planted
    second_m = second & m_ok & (rng.random(nc) < 0.4)
    second_x = second & ~second_m
    # Import records show the exported quantity, or within a few percent (weighing, moisture).
    wobble = np.where(rng.random(nc) < 0.05, rng.normal(1.0, 0.02, nc), 1.0)
    m_qty = cons["qty"].to_numpy() * np.where(guarded, cons["m_factor"].to_numpy(), wobble)
    base = cons.with_columns(pl.Series("m_party", m_party), pl.Series("m_qty", m_qty))
    x = base.with_columns(
        pl.lit("X").alias("flow"), pl.col("day").alias("rday"), pl.col("qty").alias("rqty"),
        pl.col("imp").alias("rimp"),
    )  # fmt: skip
    m = base.filter(pl.Series(m_ok)).with_columns(
        pl.lit("M").alias("flow"), (pl.col("day") + pl.col("delay")).alias("rday"),
        pl.col("m_qty").alias("rqty"), pl.col("m_party").alias("rimp"),
    )  # fmt: skip
    dups = pl.concat([x.filter(pl.Series(second_x)), m.filter(pl.Series(second_m[m_ok]))])
    rec = pl.concat(
        [x.with_columns(dup=False), m.with_columns(dup=False), dups.with_columns(dup=True)]
    ).sort("rday", "cons", "flow", "dup")
    flow_x = (rec["flow"] == "X").to_numpy()
    exp_c = np.asarray(p.country)[rec["exp"].to_numpy()]
    imp_c = np.asarray(p.country)[rec["rimp"].to_numpy()]
    rec = rec.with_columns(
        pl.Series("src", np.where(flow_x, exp_c, imp_c)),
        pl.Series("exp_c", exp_c),
        pl.Series("imp_c", imp_c),
    )
    cons_ids = rec["cons"].to_numpy()
    log = [
        ("missing_import", np.flatnonzero(missing[cons_ids] & flow_x & ~rec["dup"].to_numpy())),
        ("double_reported", np.flatnonzero(second[cons_ids] & (flow_x == second_x[cons_ids]))),
    ]
    year = (np.datetime64(START) + rec["rday"].to_numpy().astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    )
    sent = (np.datetime64(START) + rec["day"].to_numpy().astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    )
    log.append(("late_import", np.flatnonzero(~flow_x & (year > sent))))
    traders = np.isin(np.asarray(p.role), ["trader", "processor"])[rec["exp"].to_numpy()]
    listed = rec["sub"].is_in([s.cas for s in LISTED]).to_numpy()
    log.append(("trader_reexport", np.flatnonzero(traders & listed & ~planted[cons_ids])))
    return rec, log


def write_records(
    rng: np.random.Generator, cons: pl.DataFrame, p: Parties, noise: NoiseConfig
) -> Records:
    """Every record of every consignment, as the feed and as the registry."""
    cons = (
        cons.sort("day", "exp", "imp", "sub")
        .with_row_index("cons")
        .with_columns(pl.col("cons").cast(pl.Int64))
    )
    rec, log = _structure(rng, cons, p, noise)
    t = Texts(rng, noise, p)
    t.log.extend(log)
    cols, qty_kg, value_usd = _fields(rng, t, rec)
    feed = pl.DataFrame({k: _series(k, v) for k, v in cols.items()})
    fac = np.asarray(p.facility_id, dtype=object)
    registry = feed.select(
        pl.int_range(1, rec.height + 1, dtype=pl.Int64).alias("id"), "source", "shipment_id",
        "date", "exporter", normalise_company(feed["exporter"]).alias("exporter_norm"),
        pl.Series("exporter_country", rec["exp_c"]), "importer",
        normalise_company(feed["importer"]).alias("importer_norm"),
        pl.Series("importer_country", rec["imp_c"]), "product", "cas", "hs_code",
        pl.Series("quantity_kg", qty_kg), pl.Series("flow", rec["flow"]), "consignment_ref",
        "transit_countries", "value", "currency",
        pl.Series("value_usd", value_usd, dtype=pl.Float64).fill_nan(None),
        "exporter_address", "importer_address",
        _series("exporter_facility_id", fac[rec["exp"].to_numpy()]),
        _series("importer_facility_id", fac[rec["rimp"].to_numpy()]),
        pl.lit(1, dtype=pl.Int64).alias("batch_id"),
    )  # fmt: skip
    anomaly_ids = (
        pl.DataFrame({"anomaly_id": rec["anomaly_id"], "shipment_id": feed["shipment_id"]})
        .filter(pl.col("anomaly_id").is_not_null())
        .group_by("anomaly_id", maintain_order=True)
        .agg(pl.col("shipment_id").str.join(";").alias("shipment_ids"))
    )
    return Records(feed, registry, anomaly_ids, frame_of(t.log, feed["shipment_id"]))


def _fields(
    rng: np.random.Generator, t: Texts, rec: pl.DataFrame
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """The feed's columns as written, the kg a reader of each unit stores, the USD values."""
    flow_x = (rec["flow"] == "X").to_numpy()
    src = rec["src"].to_numpy()
    dup = rec["dup"].to_numpy()
    protect = (rec["protect"] | rec["anomaly_id"].is_not_null()).to_numpy()
    key = rec["declared_as"].fill_null(rec["sub"]).to_numpy()
    chinese = (src == "CHN") & (rec["exp_c"].to_numpy() == "CHN")
    product, cas, vague = t.products(key, np.asarray(rec["text"].to_list(), dtype=object), chinese)
    cas_text = np.asarray(rec["cas_text"].to_list(), dtype=object)
    planted_cas = np.array([c is not None for c in cas_text])
    cas[planted_cas] = [c or None for c in cas_text[planted_cas]]
    hs = t.hs_codes(key, np.asarray(rec["hs"].to_list(), dtype=object), protect, vague)
    # Each authority writes its own party's address nearly always, the foreign one less often.
    half = np.where(dup, 0.5, 1.0)
    exp_addr = t.addresses(rec["exp"].to_numpy(), np.where(flow_x, 0.95, 0.7) * half)
    imp_addr = t.addresses(rec["rimp"].to_numpy(), np.where(flow_x, 0.7, 0.95) * half)
    number, unit, qty_kg = t.quantities(rec["rqty"].to_numpy(), src, protect)
    value, currency, value_usd = _values(rng, rec, src)
    nc = int(rec["cons"].to_numpy().max()) + 1
    transit = np.asarray(_TRANSIT, dtype=object)[rng.integers(0, len(_TRANSIT), nc)]
    transit[rng.random(nc) >= 0.08] = None
    n = rec.height
    u = rng.random(n)
    worded = np.where(
        flow_x, np.where(u < 0.5, "export", "Export"), np.where(u < 0.5, "import", "Import")
    )
    authority = np.where(flow_x, " PEN", " statistics")
    cols: dict[str, object] = {
        "shipment_id": _ids(rec, src, flow_x, dup),
        "date": pl.Series(np.datetime64(START) + rec["rday"].to_numpy().astype("timedelta64[D]")).cast(pl.Date),
        "exporter": t.names(rec["exp"].to_numpy(), src, dup),
        "exporter_country": t.countries(rec["exp_c"].to_numpy(), dup),
        "importer": t.names(rec["rimp"].to_numpy(), src, dup),
        "importer_country": t.countries(rec["imp_c"].to_numpy(), dup),
        "product": product, "quantity": number, "unit": unit, "cas": cas, "hs_code": hs,
        "flow": np.where(rng.random(n) < 0.85, rec["flow"].to_numpy(), worded),
        "consignment_ref": _refs(rng, rec, flow_x),
        "transit_countries": transit[rec["cons"].to_numpy()],
        "value": value, "currency": currency,
        "exporter_address": exp_addr, "importer_address": imp_addr,
        "source": np.char.add(src.astype(str), np.where(dup, authority, " customs")),
    }  # fmt: skip
    return cols, qty_kg, value_usd


def _series(name: str, values: Any) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.alias(name)
    if name in ("quantity", "value"):
        return pl.Series(name, values, dtype=pl.Float64).fill_nan(None)
    return pl.Series(name, [None if v is None else str(v) for v in np.asarray(values, dtype=object)],
                     dtype=pl.String)  # fmt: skip


def _values(
    rng: np.random.Generator, rec: pl.DataFrame, src: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customs values: the invoice (quantity consigned x price; import records CIF, 3-12%
    above), in the reporting authority's currency at the month's rate; 2% left empty."""
    n = rec.height
    cif = np.where(rec["flow"].to_numpy() == "M", rng.uniform(1.03, 1.12, n), 1.0)
    usd = rec["qty"].to_numpy() * rec["price"].to_numpy() * cif
    currency = np.full(n, "USD", dtype=object)
    u = rng.random(n)
    for code, (cur, share) in _LOCAL.items():
        currency[(src == code) & (u < share)] = cur
    rate = usd_rate(currency, rec["rday"].to_numpy())
    value = np.round(usd * rate, 2)
    empty = rng.random(n) < 0.02
    value = np.where(empty, np.nan, value)
    currency[empty] = None
    return value, currency, value / rate


def _ids(rec: pl.DataFrame, src: np.ndarray, flow_x: np.ndarray, dup: np.ndarray) -> list[str]:
    seq = np.arange(1, rec.height + 1) + 1000
    ids = shipment_ids(src, flow_x, rec["rday"].to_numpy(), seq)
    for i in np.flatnonzero(dup):
        kind = "NCA" if flow_x[i] else "STAT"
        ids[i] = f"{COUNTRIES[src[i]].alpha2}-{kind}-{seq[i]:08d}"
    return ids


def _refs(rng: np.random.Generator, rec: pl.DataFrame, flow_x: np.ndarray) -> np.ndarray:
    """Consignment references: pre-export notification numbers for listed goods (9 in 10),
    bills of lading for the rest (about half); an import record repeats it 9 times in 10,
    always where a planted case rests on the pair."""
    cons = rec["cons"].to_numpy()
    nc = int(cons.max()) + 1
    listed = rec["declared_as"].fill_null(rec["sub"]).is_in([s.cas for s in LISTED]).to_numpy()
    paired = (rec["m_imp"].is_not_null() | (rec["m_factor"] != 1.0)).to_numpy()
    has = (rng.random(nc) < 0.9)[cons] & listed | (rng.random(nc) < 0.45)[cons] & ~listed | paired
    kept = flow_x | (rng.random(len(cons)) < 0.9) | paired
    year = (np.datetime64(START) + rec["day"].to_numpy().astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    )
    yyyy = year.astype(np.int64) + 1970
    carrier = np.asarray(_CARRIERS, dtype=object)[cons % len(_CARRIERS)]
    pen = [f"PEN-{y}-{c:07d}" for y, c in zip(yyyy, cons, strict=True)]
    bl = [f"{k}{c + 100000000:09d}" for k, c in zip(carrier, cons, strict=True)]
    refs = np.where(listed, np.asarray(pen, dtype=object), np.asarray(bl, dtype=object))
    refs[~(has & kept)] = None
    return refs
