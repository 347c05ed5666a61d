"""The legitimate background: trade relations and their consignments.

A relation is one exporter selling one product to one importer, with its own cadence (a
renewal process: gamma gaps whose shape runs from irregular, 1.2, to clockwork, 8), its
usual consignment size and spread, its packaging and its contract price. Listed precursors
flow from producers to processors, consumers and traders, and from traders on to processors
and consumers (legitimate re-exports); some processors re-export too. Benign chemicals flow
between every kind of party. Seasons: Chinese exporters ship ahead of the New Year shutdown
and resume after it, European exporters slow down in August, everybody at Christmas.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from sample_data.catalogue import BENIGN, LISTED
from sample_data.parties import Parties
from sample_data.world import DAYS, START, day_of

__all__ = [
    "CONS_SCHEMA",
    "build_relations",
    "consignments",
    "draw_delays",
    "pack_round",
    "sub_info",
]

# One row per consignment (what physically moved), before it is written as records.
CONS_SCHEMA: dict[str, pl.DataType] = {
    "rel": pl.Int64(),  # relation, -1 for a planted consignment outside any relation
    "exp": pl.Int64(),  # exporter party
    "imp": pl.Int64(),  # importer party (the consignee the export record names)
    "sub": pl.String(),  # what the goods are: listed CAS, "B<i>" benign, "D<i>" analogue
    "day": pl.Int64(),  # dispatch day (0 = START)
    "delay": pl.Int64(),  # days until the import record
    "qty": pl.Float64(),  # kg
    "price": pl.Float64(),  # USD per kg
    "anomaly_id": pl.String(),
    "declared_as": pl.String(),  # what the paperwork says it is (sub key), null = honest
    "text": pl.String(),  # how the product text is written: null = ordinary, or a mode
    "hs": pl.String(),  # planted tariff code, null = ordinary
    "cas_text": pl.String(),  # planted CAS field ("" = left empty), null = ordinary
    "m_factor": pl.Float64(),  # import record quantity / exported quantity
    "m_never": pl.Boolean(),  # the import record never comes
    "m_imp": pl.Int64(),  # importer the import record names, null = the same
    "protect": pl.Boolean(),  # keep record-level noise off (quantities, presence, codes)
}

# Chinese New Year: 10 February 2024, 29 January 2025.
_CNY = (day_of(dt.date(2024, 2, 10)), day_of(dt.date(2025, 1, 29)))


def sub_info(sub: str) -> tuple[float, tuple[float, float]]:
    """(usual consignment kg, USD/kg range) of a product key."""
    if sub.startswith("B"):
        b = BENIGN[int(sub[1:])]
        return b.size_kg, b.price
    if sub.startswith("D"):
        return 60.0, (80.0, 400.0)
    s = next(x for x in LISTED if x.cas == sub)
    return s.size_kg, s.price


def pack_round(qty: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Quantities as whole packages (drums, bags, IBCs), at least one."""
    return np.maximum(np.round(qty / pack), 1.0) * pack


def _pack_for(median: np.ndarray) -> np.ndarray:
    idx = np.searchsorted([2.0, 10.0, 60.0, 400.0, 2000.0, 10000.0], median)
    return np.array([0.5, 1.0, 5.0, 25.0, 50.0, 200.0, 1000.0])[idx]


def _country_codes(p: Parties) -> np.ndarray:
    """Each party's country as a number (equal numbers, same country)."""
    names = {c: n for n, c in enumerate(dict.fromkeys(p.country))}
    return np.array([names[c] for c in p.country], dtype=np.int64)


def _by_substance(p: Parties, ids: np.ndarray) -> dict[str, np.ndarray]:
    """The parties of `ids` declaring each substance, in the order of `ids`."""
    found: dict[str, list[int]] = {}
    for j in ids:
        for s in dict.fromkeys(p.subs[j]):
            found.setdefault(s, []).append(int(j))
    return {s: np.array(js, dtype=np.int64) for s, js in found.items()}


def _abroad(by_sub: dict[str, np.ndarray], s: str, country: np.ndarray, i: int) -> np.ndarray:
    """The parties declaring `s` in another country than party `i`'s."""
    cand = by_sub.get(s, np.array([], dtype=np.int64))
    return cand[country[cand] != country[i]]


def build_relations(
    rng: np.random.Generator, p: Parties, *, trader_reexports: bool, price_spread: float
) -> pl.DataFrame:
    """Every relation of the background with its cadence, size, packaging and price."""
    rows: list[tuple[int, int, str]] = []
    country = _country_codes(p)
    producers = p.of_role("producer")
    traders = p.of_role("trader") if trader_reexports else np.array([], dtype=np.int64)
    # Who declares each substance, in the order of the parties: a buyer's sellers are those
    # of another country (looked up per substance, not by a pass over every producer).
    producing, trading = _by_substance(p, producers), _by_substance(p, traders)
    for i in p.of_role("processor", "consumer", "trader"):
        if p.role[i] == "trader" and not trader_reexports:
            continue
        for s in p.subs[i]:
            sellers = _abroad(producing, s, country, i)
            if p.role[i] != "trader":
                sellers = np.concatenate([sellers, _abroad(trading, s, country, i)])
            if sellers.size == 0:
                continue
            k = min(sellers.size, 1 + int(rng.random() < 0.4) + int(rng.random() < 0.1))
            for j in rng.choice(sellers, k, replace=False):
                rows.append((int(j), int(i), s))
    # Processors that sell some of what they buy on to a consumer or trader abroad.
    buying = _by_substance(p, p.of_role("consumer", "trader"))
    for i in p.of_role("processor") if trader_reexports else []:
        if rng.random() < 0.25 and p.subs[i]:
            s = p.subs[i][int(rng.integers(0, len(p.subs[i])))]
            buyers = _abroad(buying, s, country, i)
            if buyers.size:
                rows.append((int(i), int(rng.choice(buyers)), s))
    n_listed = len(rows)
    everyone = np.arange(len(p.role))
    weights = np.array([1.0 / (1 + b.size_kg / 20000) for b in BENIGN])
    for _ in range(int(len(everyone) * 1.6)):
        a, b = rng.choice(everyone, 2, replace=False)
        if p.country[int(a)] == p.country[int(b)]:
            continue
        rows.append((int(a), int(b), f"B{int(rng.choice(len(BENIGN), p=weights / weights.sum()))}"))
    rel = pl.DataFrame(rows, schema=["exp", "imp", "sub"], orient="row")
    return _relation_params(rng, rel, n_listed, price_spread)


def _relation_params(
    rng: np.random.Generator, rel: pl.DataFrame, n_listed: int, price_spread: float
) -> pl.DataFrame:
    n = rel.height
    listed = np.arange(n) < n_listed
    info = [sub_info(s) for s in rel["sub"].to_list()]
    size = np.array([i[0] for i in info])
    lo = np.array([i[1][0] for i in info])
    hi = np.array([i[1][1] for i in info])
    rate = np.where(
        listed, rng.lognormal(np.log(9), 0.6, n), rng.lognormal(np.log(10), 0.7, n)
    ).clip(2, 48)
    late = rng.random(n) < 0.2  # relations that begin during the period
    start = np.where(late, rng.uniform(30, DAYS - 150, n), 0.0)
    stops = rng.random(n) < 0.1
    end = np.where(stops, start + rng.uniform(150, DAYS, n), DAYS).clip(max=DAYS)
    median = size * rng.lognormal(0.0, 0.8, n)
    # Contract price: lo..hi spans about four standard deviations of the log price.
    sd = np.log(hi / lo) / 4.0
    price = np.sqrt(lo * hi) * np.exp(price_spread * sd * rng.standard_normal(n))
    return (
        rel.with_columns(
            pl.Series("rate", rate),
            pl.Series("shape", np.exp(rng.uniform(np.log(1.2), np.log(8.0), n))),
            pl.Series("start", start),
            pl.Series("end", end),
            pl.Series("median", median),
            pl.Series("sigma", rng.uniform(0.1, 0.4, n)),
            pl.Series("pack", _pack_for(median)),
            pl.Series("price", price),
            pl.Series("listed", listed),
        )
        .with_row_index("rel")
        .with_columns(pl.col("rel").cast(pl.Int64))
    )


def scale_rates(rel: pl.DataFrame, parties: Parties, n_shipments: int) -> pl.DataFrame:
    """Scale cadences so the feed has about `n_shipments` records, 35% of them listed."""
    reports = parties.reports()[rel["imp"].to_numpy()]
    years = (rel["end"] - rel["start"]).to_numpy() / 365.0
    per = rel["rate"].to_numpy() * years * (1.0 + 0.98 * reports)
    listed = rel["listed"].to_numpy()
    scale = np.where(
        listed, 0.35 * n_shipments / per[listed].sum(), 0.65 * n_shipments / per[~listed].sum()
    )
    return rel.with_columns((pl.col("rate") * pl.Series(scale)).clip(1.0, 60.0))


def consignments(
    rng: np.random.Generator,
    rel: pl.DataFrame,
    p: Parties,
    *,
    price_spread: float,
    late_share: float,
) -> pl.DataFrame:
    """The consignments of every relation (CONS_SCHEMA)."""
    rate = rel["rate"].to_numpy()
    shape = rel["shape"].to_numpy()
    start = rel["start"].to_numpy()
    end = rel["end"].to_numpy()
    gap = 365.0 / rate
    n_max = np.ceil((end - start) / gap * 1.6).astype(np.int64) + 4
    idx = np.repeat(np.arange(rel.height), n_max)
    g = rng.gamma(np.repeat(shape, n_max), np.repeat(gap / shape, n_max))
    first = np.cumsum(n_max) - n_max
    g[first] = rng.uniform(0, 1, rel.height) * gap  # a random phase, not a shipment at START
    cum = np.cumsum(g)
    t = cum - np.repeat(cum[first] - g[first], n_max) + np.repeat(start, n_max)
    keep = t < np.repeat(end, n_max)
    idx, day = idx[keep], t[keep].astype(np.int64)
    day, keep = _seasons(rng, day, np.asarray(p.country)[rel["exp"].to_numpy()[idx]])
    idx, day = idx[keep], day[keep]
    m = idx.size
    median = rel["median"].to_numpy()[idx]
    sigma = rel["sigma"].to_numpy()[idx]
    qty = median * rng.lognormal(0.0, 1.0, m) ** sigma
    # Now and then a customer stocks up: a bigger order, within a relation's normal life.
    bigger = rng.random(m) < 0.02
    qty = np.where(bigger, qty * rng.uniform(1.3, 2.2, m), qty)
    qty = pack_round(qty, rel["pack"].to_numpy()[idx])
    price = rel["price"].to_numpy()[idx] * _price_noise(rng, day, qty, price_spread)
    frame = pl.DataFrame(
        {
            "rel": rel["rel"].to_numpy()[idx],
            "exp": rel["exp"].to_numpy()[idx],
            "imp": rel["imp"].to_numpy()[idx],
            "sub": rel["sub"].to_numpy()[idx],
            "day": day,
            "delay": draw_delays(rng, day, late_share),
            "qty": qty,
            "price": price,
        }
    )
    return with_defaults(frame)


def with_defaults(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill the planting columns a frame lacks with their ordinary values (CONS_SCHEMA)."""
    defaults = {"m_factor": 1.0, "m_never": False, "protect": False}
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(defaults.get(c))).cast(t).alias(c)
        for c, t in CONS_SCHEMA.items()
    )


def _price_noise(
    rng: np.random.Generator, day: np.ndarray, qty: np.ndarray, spread: float
) -> np.ndarray:
    """Per-consignment price movement: a little noise, a drift of about 4% a year, and the
    premium of small lots (a 1 kg tin costs more per kg than a 200 kg drum)."""
    m = day.size
    noise = np.exp(spread * 0.1 * rng.standard_normal(m))
    drift = 1.0 + 0.04 * day / 365.0
    premium = np.clip((10.0 / np.maximum(qty, 0.1)) ** 0.35, 1.0, 3.0) if spread > 0 else 1.0
    return noise * drift * premium


def draw_delays(rng: np.random.Generator, day: np.ndarray, late_share: float) -> np.ndarray:
    """Days from dispatch (`day`) to the import record: air freight 1-8 days, or with
    probability `late_share` sea freight 3-8 weeks, so December exports arrive in the next
    year; with `late_share` 0 no import record is dated in a later year than its export."""
    n = len(day)
    air = rng.integers(1, 9, n)
    sea = rng.integers(21, 57, n)
    delay = np.where(rng.random(n) < late_share, sea, air).astype(np.int64)
    if late_share <= 0:
        dates = np.datetime64(START) + np.asarray(day).astype("timedelta64[D]")
        year_end = (dates.astype("datetime64[Y]") + 1).astype("datetime64[D]") - dates
        delay = np.minimum(delay, year_end.astype(np.int64) - 1)
    return delay


def _seasons(
    rng: np.random.Generator, day: np.ndarray, exp_country: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move Chinese exports out of the New Year shutdown (mostly ahead of it), thin European
    exports in August and everybody's at Christmas; returns the days and which to keep."""
    day = day.copy()
    chinese = exp_country == "CHN"
    for cny in _CNY:
        shut = chinese & (day >= cny - 7) & (day <= cny + 14)
        before = rng.random(day.size) < 0.6
        early = cny - rng.integers(8, 22, day.size)
        late = cny + rng.integers(15, 31, day.size)
        day = np.where(shut, np.where(before, early, late), day)
    dates = np.datetime64(START) + day.astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    european = np.isin(exp_country, ["DEU", "NLD", "BEL", "CHE", "GBR"])
    u = rng.random(day.size)
    drop = (european & (month == 8) & (u < 0.4)) | ((month == 12) & (dom >= 22) & (u < 0.6))
    keep = ~drop & (day >= 0) & (day < DAYS)
    return day, keep
