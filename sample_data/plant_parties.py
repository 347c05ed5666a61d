"""Planted cases about who trades and where the goods end up (INCB modus operandi: front
companies and false end users, diversion from licit channels, re-consignment in transit,
and transfer discrepancies between the exporting and the importing state's records).

| pattern | blatant | moderate | subtle (still clear) |
|---|---|---|---|
| undeclared_party | an undeclared exporter ships 3-6 consignments (0.5-3 x usual) | a declared exporter sells 1-3 consignments to an undeclared consignee | a declared facility trades 1-2 consignments under a name the registry does not know |
| end_user_reexport (a consumer exports) | 3-5 consignments, 50-100% of what it imported, to an undeclared consignee | 2-3 consignments of 0.5-1 x its usual import | 1 consignment of 0.5-1 x its usual import, to a declared trader abroad |
| shared_address_network: undeclared consignees at one address, consignments 0.3-0.8 x a usual consignment | 5-7 consignees, 3-5 x a typical consignee's intake | 3-4 consignees, 1.8-3 x | 3 consignees, 1.3-1.8 x |
| diverted_consignment: the import record of the same reference names | another importer in another country | another, undeclared importer in the same country | another declared facility of the same country, never a partner of the exporter |
| export_never_arrived (reporting country, no import record after 75 days) | 3-5 consecutive exports of a relation | a first export to a new partner | 2 exports of a relation 60-150 days apart |
| mirror_quantity_gap: import record / export record | 0.15-0.42 or 2.5-4.0 | 0.5-0.75 or 1.35-1.9 | 0.78-0.86 or 1.16-1.28, consignments of at least 50 kg |

Each consignee "receives a little" (at most 0.7 of a typical consignee's intake) while the
network together receives more. Mirror ratios stay clear of unit factors (2.2046, 1000).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from sample_data.naming import make_address, with_address
from sample_data.planting import Planter, sub_name
from sample_data.trade import pack_round
from sample_data.world import COUNTRIES, DAYS, date_text

__all__ = [
    "diverted_consignment",
    "end_user_reexport",
    "export_never_arrived",
    "mirror_quantity_gap",
    "shared_address_network",
    "undeclared_party",
]

_FRONT_COUNTRIES = ("MEX", "USA", "CAN", "GTM", "HND", "COL", "NGA", "GBR", "BRA")
_REPORTING = tuple(c for c, v in COUNTRIES.items() if v.reports_imports)


def _reports(p: Planter) -> pl.Expr:
    rep = pl.Series(p.parties.reports())
    return pl.col("imp").map_batches(lambda s: rep.gather(s), return_dtype=pl.Boolean)


def undeclared_party(p: Planter, n: int) -> None:
    """A listed substance exported or imported by a party no registry declares."""
    parties = p.parties
    for tier in p.tiers(n):
        r = p.pick_rel(pl.col("n") >= 2)
        if r is None:
            continue
        sub = str(r["sub"])
        if tier == "blatant":
            country = p.choice(("CHN", "IND", "CHN", "VNM"))
            exp = parties.add(parties.new_company(p.rng, country), country, "rogue")
            imp, k = int(r["imp"]), int(p.rng.integers(3, 7))
            who = f"undeclared exporter {p.name(exp)} ({country})"
        elif tier == "moderate":
            country = parties.country[int(r["imp"])]
            exp = int(r["exp"])
            imp = parties.add(parties.new_company(p.rng, country), country, "consignee")
            k = int(p.rng.integers(1, 4))
            who = f"undeclared consignee {p.name(imp)} ({country})"
        else:
            src = int(r["exp"])
            alias = parties.new_company(p.rng, parties.country[src])
            alias = with_address(p.rng, alias, parties.companies[src].address)
            exp = parties.add(alias, parties.country[src], "alias")
            imp, k = int(r["imp"]), int(p.rng.integers(1, 3))
            who = f"{p.name(src)} ({parties.facility_id[src]}) trading as {p.name(exp)}"
        qty = p.usual_qty(r, p.rng.uniform(0.5, 3.0 if tier == "blatant" else 1.2, k))
        days = np.sort(p.rng.integers(30, DAYS - 30, k))
        aid = p.label(
            "undeclared_party",
            tier,
            f"{who}: {k} consignment(s) of {sub_name(sub)}, {qty.sum():,.0f} kg",
            p.facility(exp, imp) if tier != "subtle" else parties.facility_id[int(r["exp"])],
            sub,
        )
        p.add(exp, imp, sub, days, qty, aid, price=r["price"])


def end_user_reexport(p: Planter, n: int) -> None:
    """A facility declared as a consumer of a substance exports it."""
    parties = p.parties
    consumers = set(parties.of_role("consumer").tolist())
    for tier in p.tiers(n):
        r = p.pick_rel(pl.col("imp").is_in(list(consumers - p.used_party)) & (pl.col("n") >= 3))
        if r is None:
            continue
        c, sub = int(r["imp"]), str(r["sub"])
        p.used_party.add(c)
        abroad = [x for x in (*_FRONT_COUNTRIES, "NLD", "BEL", "DEU") if x != parties.country[c]]
        if tier == "subtle":
            traders = [
                int(t)
                for t in parties.of_role("trader")
                if parties.country[t] != parties.country[c]
            ]
            dest = p.choice(traders) if traders else None
        else:
            dest = None
        if dest is None:
            country = p.choice(abroad)
            dest = parties.add(parties.new_company(p.rng, country), country, "consignee")
        imported = float(p.cons.filter(pl.col("imp") == c, pl.col("sub") == sub)["qty"].sum())
        if tier == "blatant":
            k = int(p.rng.integers(3, 6))
            qty = pack_round(np.full(k, imported * p.uniform(0.5, 1.0) / k), np.full(k, r["pack"]))
        else:
            k = int(p.rng.integers(2, 4)) if tier == "moderate" else 1
            qty = p.usual_qty(r, p.rng.uniform(0.5, 1.0, k))
        days = np.sort(p.rng.integers(int(r["first"]) + 30, DAYS - 20, k))
        aid = p.label(
            "end_user_reexport",
            tier,
            f"{p.name(c)} ({parties.facility_id[c]}, declared consumption of {sub_name(sub)}) "
            f"exported {k} consignment(s), {qty.sum():,.0f} kg, to {p.name(dest)} "
            f"({parties.country[dest]}), having imported {imported:,.0f} kg",
            parties.facility_id[c],
            sub,
        )
        p.add(c, dest, sub, days, qty, aid, price=r["price"])


def shared_address_network(p: Planter, n: int) -> None:
    """Several differently named, undeclared consignees at one address, each receiving a
    little of the same listed substance, together more than a typical consignee takes."""
    parties = p.parties
    for tier in p.tiers(n):
        k, (lo, hi), (flo, fhi) = {
            "blatant": (int(p.rng.integers(5, 8)), (3.0, 5.0), (0.3, 0.6)),
            "moderate": (int(p.rng.integers(3, 5)), (1.8, 3.0), (0.3, 0.7)),
            "subtle": (3, (1.3, 1.8), (0.4, 0.8)),
        }[tier]
        r = p.pick_rel(pl.col("n") >= 4)
        if r is None:
            continue
        sub = str(r["sub"])
        intake, usual = _typical_intake(p, sub)
        mult = p.uniform(lo, hi)
        k = max(k, math.ceil(mult / 0.7))
        months = int(p.rng.integers(6, 13))
        total = mult * intake * months / 12.0
        size = pack_round(np.array([usual * p.uniform(flo, fhi)]), np.array([1.0]))[0]
        m = max(k, round(total / size))
        country = p.choice(_FRONT_COUNTRIES)
        address = make_address(p.rng, country, office=True)
        fronts = [
            parties.add(
                with_address(p.rng, parties.new_company(p.rng, country), address), country, "front"
            )
            for _ in range(k)
        ]
        start = int(p.rng.integers(0, DAYS - months * 30))
        days = np.sort(p.rng.integers(start, start + months * 30, m))
        who = np.array(fronts)[np.concatenate([np.arange(k), p.rng.integers(0, k, m - k)])]
        aid = p.label(
            "shared_address_network",
            tier,
            f"{k} undeclared consignees at one address in {country} ({address}) received {m} "
            f"consignments of {sub_name(sub)} of {size:,.0f} kg, {m * size:,.0f} kg in "
            f"{months} months, {m * size / (intake * months / 12):.1f} times what a typical "
            f"consignee takes ({intake:,.0f} kg a year)",
            p.facility(int(r["exp"])),
            sub,
        )
        for front in fronts:
            mine = who == front
            p.add(int(r["exp"]), front, sub, days[mine], np.full(int(mine.sum()), size), aid,
                  price=r["price"])  # fmt: skip


def _typical_intake(p: Planter, sub: str) -> tuple[float, float]:
    """(median kg a year a declared importer takes of `sub`, median consignment kg)."""
    of_sub = p.cons.filter(pl.col("sub") == sub, pl.col("anomaly_id").is_null())
    per = of_sub.group_by("imp").agg(pl.col("qty").sum() / (DAYS / 365.0))
    return _num(per["qty"].median()), _num(of_sub["qty"].median())


def _num(x: object) -> float:
    return float(x) if isinstance(x, int | float) and x > 0 else 1.0


def diverted_consignment(p: Planter, n: int) -> None:
    """The import record of a consignment names another importer or country than its export."""
    parties = p.parties
    for tier in p.tiers(n):
        row = p.pick_cons(_reports(p) & (pl.col("day") < DAYS - 60))
        if row is None:
            continue
        imp, exp = int(row["imp"]), int(row["exp"])
        home = parties.country[imp]
        if tier == "blatant":
            country = p.choice([c for c in _REPORTING if c not in (home, parties.country[exp])])
            other = parties.add(parties.new_company(p.rng, country), country, "consignee")
        elif tier == "moderate":
            country = home
            other = parties.add(parties.new_company(p.rng, country), country, "consignee")
        else:
            country = home
            partners = set(p.rel.filter(pl.col("exp") == exp)["imp"].to_list())
            peers = [int(i) for i in parties.of_role("processor", "consumer", "trader")
                     if parties.country[i] == home and i != imp and i not in partners]  # fmt: skip
            if not peers:
                other = parties.add(parties.new_company(p.rng, country), country, "consignee")
            else:
                other = p.choice(peers)
        aid = p.label(
            "diverted_consignment",
            tier,
            f"{row['qty']:,.0f} kg of {sub_name(row['sub'])} exported by {p.name(exp)} to "
            f"{p.name(imp)} ({home}) and recorded on arrival as imported by {p.name(other)} "
            f"({country})",
            p.facility(exp, imp),
            row["sub"],
        )
        p.mark(pl.int_range(pl.len()) == row["_i"], aid, m_imp=other, protect=True)


def export_never_arrived(p: Planter, n: int) -> None:
    """Exports to a country that reports imports, never recorded there."""
    for tier in p.tiers(n):
        plant_one = _first_export_lost if tier == "moderate" else _relation_exports_lost
        for _attempt in range(20):  # a relation without a fitting pair of exports: another
            if plant_one(p, tier):
                break


def _relation_exports_lost(p: Planter, tier: str) -> bool:
    """Several exports of one relation (consecutive, or two 60-150 days apart) lost."""
    parties = p.parties
    reporting = np.flatnonzero(parties.reports()).tolist()
    r = p.pick_rel(pl.col("imp").is_in(reporting) & (pl.col("n") >= 6))
    if r is None:
        return False
    mine = p.cons.with_row_index("_i").filter(pl.col("rel") == r["rel"], pl.col("day") < DAYS - 75)
    mine = mine.sort("day")
    if tier == "blatant":
        k = min(int(p.rng.integers(3, 6)), mine.height)
        s = int(p.rng.integers(0, mine.height - k + 1))
        chosen = mine["_i"].to_list()[s : s + k]
    else:
        days = mine["day"].to_numpy()
        pairs = [(i, j) for i in range(len(days)) for j in range(i + 1, len(days))
                 if 60 <= days[j] - days[i] <= 150]  # fmt: skip
        if not pairs:
            return False
        i, j = pairs[int(p.rng.integers(0, len(pairs)))]
        chosen = [mine["_i"][i], mine["_i"][j]]
    lost = p.cons[chosen]
    aid = p.label(
        "export_never_arrived",
        tier,
        f"{len(chosen)} exports of {sub_name(r['sub'])} ({lost['qty'].sum():,.0f} kg) from "
        f"{p.name(r['exp'])} to {p.name(r['imp'])} ({parties.country[r['imp']]}, which "
        f"reports its imports) sent between {date_text(lost['day'].min())} and "
        f"{date_text(lost['day'].max())} never appear in its import records",
        p.facility(r["exp"], r["imp"]),
        r["sub"],
    )
    p.mark(pl.int_range(pl.len()).is_in(chosen), aid, m_never=True, protect=True)
    return True


def _first_export_lost(p: Planter, tier: str) -> bool:
    """A first consignment to a declared importer that never dealt with the exporter."""
    parties = p.parties
    r = p.pick_rel(pl.col("n") >= 3)
    if r is None:
        return False
    exp, sub = int(r["exp"]), str(r["sub"])
    partners = set(p.rel.filter(pl.col("exp") == exp)["imp"].to_list())
    new = [int(i) for i in parties.of_role("processor", "consumer", "trader")
           if sub in parties.subs[i] and i not in partners and parties.reports()[i]
           and parties.country[i] != parties.country[exp]]  # fmt: skip
    if not new:
        return False
    imp = p.choice(new)
    qty = p.usual_qty(r, p.uniform(0.8, 2.0))
    day = int(p.rng.integers(60, DAYS - 90))
    aid = p.label(
        "export_never_arrived",
        tier,
        f"a first export of {qty[0]:,.0f} kg of {sub_name(sub)} from {p.name(exp)} to "
        f"{p.name(imp)} ({parties.country[imp]}, which reports its imports), never before its "
        "customer, never appears in the import records",
        p.facility(exp, imp),
        sub,
    )
    p.add(exp, imp, sub, np.array([day]), qty, aid, price=r["price"], m_never=True, protect=True)
    return True


def mirror_quantity_gap(p: Planter, n: int) -> None:
    """The importing state's record of a consignment shows another quantity than the export."""
    for tier in p.tiers(n):
        low = p.rng.random() < 0.7
        bounds = {
            "blatant": ((0.15, 0.42), (2.5, 4.0)),
            "moderate": ((0.5, 0.75), (1.35, 1.9)),
            "subtle": ((0.78, 0.86), (1.16, 1.28)),
        }[tier]
        lo, hi = bounds[0] if low else bounds[1]
        floor = 50.0 if tier == "subtle" else 10.0
        row = p.pick_cons(_reports(p) & (pl.col("qty") >= floor) & (pl.col("day") < DAYS - 60))
        if row is None:
            continue
        f = p.uniform(lo, hi)
        aid = p.label(
            "mirror_quantity_gap",
            tier,
            f"{p.name(row['exp'])} exported {row['qty']:,.0f} kg of {sub_name(row['sub'])}; "
            f"{p.name(row['imp'])}'s import record shows {row['qty'] * f:,.1f} kg "
            f"({f:.2f} times)",
            p.facility(row["exp"], row["imp"]),
            row["sub"],
        )
        p.mark(pl.int_range(pl.len()) == row["_i"], aid, m_factor=f, protect=True)
