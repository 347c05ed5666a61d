"""Planted cases about what the paperwork says the goods are (INCB: mis-declaration,
mis-valuation, substitution by designer precursors).

| pattern | blatant | moderate | subtle (still clear) |
|---|---|---|---|
| masked_name (1-3 consignments) | a vague description, the listed CAS number in the CAS field | a systematic or CAS index name, no CAS number | a CAS index name under a catch-all code, or a salt's CAS number beside a vague description |
| designer_analogue | 3-5 consignments of 50-500 kg | 1-3 of 10-100 kg | 1 of 1-25 kg |
| value_mismatch: a listed precursor declared as a benign product, priced at times that product's usual price | 60-250 | 12-40 (one case in four instead: a listed precursor declared as itself at 1/25-1/10 of its usual price) | 4.5-8 |
| hs_mismatch | the plain name under a heading outside chapter 29 | a vague description under 2933.36 (ANPP) or 2933.37 (NPP) | the plain or salt name under a wrong chapter-29 heading |

Mis-valued consignments are 25-500 kg, never a small lot whose price per kg is naturally high.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from sample_data.catalogue import ANALOGUES, BENIGN, LISTED, UNRELATED_HS, VAGUE, Listed
from sample_data.planting import Planter, sub_name
from sample_data.trade import pack_round
from sample_data.world import DAYS

__all__ = ["designer_analogue", "hs_mismatch", "masked_name", "value_mismatch"]

_CHEAP_COVERS = tuple(i for i, b in enumerate(BENIGN) if b.cover and b.price[1] < 2.0)
_DEAR_COVERS = tuple(i for i, b in enumerate(BENIGN) if b.cover and b.price[1] >= 2.0)


def _listed(cas: str) -> Listed:
    return next(s for s in LISTED if s.cas == cas)


def _days(p: Planter, k: int) -> np.ndarray:
    return np.sort(p.rng.integers(20, DAYS - 20, k))


def masked_name(p: Planter, n: int) -> None:
    """A listed substance under a name that does not say what it is."""
    for tier in p.tiers(n):
        r = p.pick_rel(pl.col("n") >= 2)
        if r is None:
            continue
        s = _listed(str(r["sub"]))
        if tier == "blatant":
            text, cas, hs = p.choice(VAGUE), s.cas, p.choice(("2933.99", "2933.39", "2933"))
        elif tier == "moderate":
            text, cas, hs = p.choice(s.systematic), "", s.hs
        elif s.salt_cas:
            text, cas, hs = p.choice(VAGUE), p.choice(s.salt_cas), "2933.99"
        else:
            index_names = [x for x in s.systematic if "," in x] or list(s.systematic)
            text, cas, hs = p.choice(index_names), "", "2933.99"
        k = int(p.rng.integers(1, 4))
        qty = p.usual_qty(r, p.rng.lognormal(0.0, 0.2, k))
        aid = p.label(
            "masked_name",
            tier,
            f"{s.key} shipped by {p.name(r['exp'])} to {p.name(r['imp'])} as '{text}'"
            + (f" with CAS {cas}" if cas else " without a CAS number")
            + f" under HS {hs}: {k} consignment(s), {qty.sum():,.0f} kg",
            p.facility(r["exp"], r["imp"]),
            s.cas,
        )
        p.add(r["exp"], r["imp"], s.cas, _days(p, k), qty, aid, rel=r["rel"], price=r["price"],
              text=text, cas_text=cas, hs=hs, protect=True)  # fmt: skip


def designer_analogue(p: Planter, n: int) -> None:
    """An unlisted close relative of a listed precursor is shipped."""
    parties = p.parties
    producers = parties.of_role("producer")
    importers = parties.of_role("processor", "consumer", "trader", "company")
    for j, tier in enumerate(p.tiers(n)):
        i = (j + int(p.rng.integers(0, len(ANALOGUES)))) % len(ANALOGUES)
        a = ANALOGUES[i]
        if p.rng.random() < 0.5:
            exp = int(p.choice(producers))
        else:
            country = p.choice(("CHN", "CHN", "IND"))
            exp = parties.add(parties.new_company(p.rng, country), country, "rogue")
        imp = int(p.choice([x for x in importers if parties.country[x] != parties.country[exp]]))
        k, lo, hi = {"blatant": (int(p.rng.integers(3, 6)), 50, 500),
                     "moderate": (int(p.rng.integers(1, 4)), 10, 100),
                     "subtle": (1, 1, 25)}[tier]  # fmt: skip
        qty = pack_round(np.exp(p.rng.uniform(np.log(lo), np.log(hi), k)), np.ones(k))
        text = p.choice((a.name, *a.synonyms))
        cas = a.cas if a.cas and p.rng.random() < 0.6 else ""
        aid = p.label(
            "designer_analogue",
            tier,
            f"designer precursor {a.name} (one step from {sub_name(a.near)}) shipped as "
            f"'{text}' by {p.name(exp)} to {p.name(imp)}: {k} consignment(s), {qty.sum():,.0f} kg",
            p.facility(exp, imp),
            a.cas or None,
        )
        p.add(exp, imp, f"D{i}", _days(p, k), qty, aid, text=text, cas_text=cas, hs=a.hs,
              protect=True)  # fmt: skip


def value_mismatch(p: Planter, n: int) -> None:
    """Declared value per kg far from what the declared goods cost."""
    for tier in p.tiers(n):
        r = p.pick_rel(pl.col("n") >= 2)
        if r is None:
            continue
        s = _listed(str(r["sub"]))
        k = int(p.rng.integers(1, 3))
        qty = pack_round(np.exp(p.rng.uniform(np.log(25), np.log(500), k)), np.full(k, 5.0))
        if tier == "moderate" and p.rng.random() < 0.25:
            usual = float(np.sqrt(s.price[0] * s.price[1]))
            ratio = p.uniform(10, 25)
            price = usual / ratio
            text = (f"{s.key} declared as itself at {price:,.2f} USD/kg, 1/{ratio:.0f} of the "
                    f"{usual:,.0f} USD/kg it usually costs")  # fmt: skip
            cols: dict[str, Any] = {}
        else:
            lo, hi = {"blatant": (60, 250), "moderate": (12, 40), "subtle": (4.5, 8)}[tier]
            cover = int(p.choice(_CHEAP_COVERS if tier == "blatant" else _DEAR_COVERS))
            b = BENIGN[cover]
            usual = float(np.sqrt(b.price[0] * b.price[1]))
            ratio = p.uniform(lo, hi)
            price = usual * ratio
            text = (f"{s.key} declared as {b.name} at {price:,.2f} USD/kg, {ratio:.0f} times "
                    f"the {usual:,.2f} USD/kg {b.name} usually costs")  # fmt: skip
            cols = {"declared_as": f"B{cover}"}
        aid = p.label(
            "value_mismatch",
            tier,
            f"{text}: {k} consignment(s), {qty.sum():,.0f} kg, from {p.name(r['exp'])} to "
            f"{p.name(r['imp'])}",
            p.facility(r["exp"], r["imp"]),
            s.cas,
        )
        p.add(r["exp"], r["imp"], s.cas, _days(p, k), qty, aid, price=price, jitter=False,
              protect=True, **cols)  # fmt: skip


def hs_mismatch(p: Planter, n: int) -> None:
    """A listed substance under an unrelated tariff heading, or a vague description under a
    listed substance's own subheading."""
    for tier in p.tiers(n):
        if tier == "moderate":
            s = _listed(p.choice(("39742-60-4", "21409-26-7")))
            r = p.pick_rel((pl.col("sub") == s.cas) & (pl.col("n") >= 2))
            own = s.hs
            hs = p.choice((own, own.replace(".", ""), f"{own}.00", own.replace(".", " ")))
            text, cas = p.choice(VAGUE), ""
            why = f"a vague description under HS {hs}, the subheading of {s.key}"
        else:
            r = p.pick_rel(pl.col("n") >= 2)
            if r is None:
                continue
            s = _listed(str(r["sub"]))
            hs = p.choice(UNRELATED_HS["far" if tier == "blatant" else "near"])
            text = p.choice(s.plain if tier == "blatant" else s.plain + s.salts)
            cas = s.cas if p.rng.random() < 0.5 else ""
            why = f"{s.key} named as '{text}' under HS {hs}, a heading unrelated to it"
        if r is None:
            continue
        k = int(p.rng.integers(1, 3))
        qty = p.usual_qty(r, p.rng.lognormal(0.0, 0.2, k))
        aid = p.label(
            "hs_mismatch",
            tier,
            f"{why}: {k} consignment(s), {qty.sum():,.0f} kg, from {p.name(r['exp'])} to "
            f"{p.name(r['imp'])}" + (f" ('{text}')" if tier == "moderate" else ""),
            p.facility(r["exp"], r["imp"]),
            s.cas,
        )
        p.add(r["exp"], r["imp"], s.cas, _days(p, k), qty, aid, rel=r["rel"], price=r["price"],
              text=text, cas_text=cas, hs=hs, protect=True)  # fmt: skip
