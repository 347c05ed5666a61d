# mypy: disable-error-code="call-overload,assignment,arg-type,index,operator"
"""Seeded sample data: a declared-facility registry, a mirrored shipment feed and an answer key.

`generate(seed, n_shipments)` builds, with numpy's seeded Generator and polars:
- declared facilities (one row per facility, substance and declaration year),
- shipment records as national authorities send them: export (X) and import (M) records of
  the same consignments, messy country spellings, units, product texts and party names,
- an answer key of injected anomalies of every pattern the detectors look for,
- and the same shipments as the registry would hand them to detection (SHIPMENT_SCHEMA),
  so detection can be evaluated without the ingest step.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from detection.parties import normalise_party
from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from detection.surveillance import SURVEILLANCE

__all__ = ["PATTERNS", "Sample", "generate", "write_sample"]

PATTERNS = (
    "declared_quantity_exceeded",
    "unusual_size",
    "frequency_burst",
    "series_splitting",
    "undeclared_party",
    "mirror_quantity_gap",
    "export_never_arrived",
    "masked_name",
    "designer_analogue",
)

START = dt.date(2024, 1, 1)
END = dt.date(2025, 9, 30)  # the current year is partial: declarations are checked pro rata
_DAYS = (END - START).days + 1

# alpha-3: (spellings as feeds write them, reports imports, lat, lon, legal forms)
_COUNTRIES: dict[str, tuple[tuple[str, ...], bool, float, float, tuple[str, ...]]] = {
    "CHN": (
        ("China", "CN", "CHN", "People's Republic of China", "P.R. China"),
        True,
        31.2,
        121.5,
        ("Co., Ltd.",),
    ),
    "IND": (("India", "IN", "IND", "Republic of India"), True, 19.1, 72.9, ("Pvt. Ltd.",)),
    "DEU": (("Germany", "DE", "DEU", "Deutschland"), True, 50.1, 8.7, ("GmbH", "AG")),
    "NLD": (("Netherlands", "NL", "NLD", "Holland", "The Netherlands"), True, 51.9, 4.5, ("B.V.",)),
    "KOR": (
        ("Republic of Korea", "KR", "KOR", "South Korea", "Korea, Rep."),
        True,
        37.5,
        127.0,
        ("Co., Ltd.",),
    ),
    "USA": (
        ("United States", "US", "USA", "United States of America", "U.S.A."),
        True,
        40.7,
        -74.0,
        ("Inc.", "LLC"),
    ),
    "BEL": (("Belgium", "BE", "BEL", "Belgique"), True, 51.2, 4.4, ("S.A.", "N.V.")),
    "CHE": (("Switzerland", "CH", "CHE", "Schweiz"), True, 47.4, 8.5, ("AG", "S.A.")),
    "MEX": (("Mexico", "MX", "MEX", "México"), True, 19.4, -99.1, ("S.A. de C.V.",)),
    "CAN": (("Canada", "CA", "CAN"), True, 43.7, -79.4, ("Inc.", "Ltd.")),
    "GBR": (("United Kingdom", "GB", "GBR", "UK"), True, 51.5, -0.1, ("Ltd.", "PLC")),
    "VNM": (("Viet Nam", "VN", "VNM", "Vietnam"), True, 10.8, 106.7, ("Co., Ltd.",)),
    "BRA": (("Brazil", "BR", "BRA", "Brasil"), True, -23.5, -46.6, ("Ltda.", "S.A.")),
    "COL": (("Colombia", "CO", "COL"), True, 4.7, -74.1, ("S.A.S.",)),
    # Countries that never report their imports: a missing mirror there is not evidence.
    "GTM": (("Guatemala", "GT", "GTM"), False, 14.6, -90.5, ("S.A.",)),
    "NGA": (("Nigeria", "NG", "NGA"), False, 6.5, 3.4, ("Ltd.",)),
    "MMR": (("Myanmar", "MM", "MMR", "Burma"), False, 16.8, 96.2, ("Co., Ltd.",)),
    "HND": (("Honduras", "HN", "HND"), False, 14.1, -87.2, ("S.A.",)),
}
_EXPORTERS = ("CHN", "IND", "DEU", "NLD", "KOR", "USA", "BEL", "CHE")
_EXPORTER_W = (0.34, 0.22, 0.1, 0.07, 0.08, 0.08, 0.06, 0.05)
_IMPORTERS = (
    "USA", "MEX", "CAN", "GBR", "DEU", "NLD", "VNM", "BRA", "COL", "IND", "KOR", "GTM", "NGA", "MMR", "HND",
)  # fmt: skip
_IMPORTER_W = (
    0.2,
    0.12,
    0.07,
    0.06,
    0.07,
    0.05,
    0.06,
    0.07,
    0.05,
    0.06,
    0.05,
    0.04,
    0.04,
    0.03,
    0.03,
)

_LEGAL_VARIANT = {
    "Co., Ltd.": "Company Limited",
    "Pvt. Ltd.": "Private Limited",
    "GmbH": "G.m.b.H.",
    "AG": "A.G.",
    "B.V.": "BV",
    "Inc.": "Incorporated",
    "LLC": "L.L.C.",
    "S.A.": "SA",
    "N.V.": "NV",
    "S.A. de C.V.": "SA de CV",
    "Ltd.": "Limited",
    "PLC": "plc",
    "Ltda.": "Limitada",
    "S.A.S.": "SAS",
}

# Listed substances: how feeds write them. plain/typo/salt/trade are ordinary spellings;
# systematic and obfuscated names are the masking pattern.
_LISTED: tuple[dict[str, object], ...] = (
    {
        "cas": "39742-60-4",
        "name": "NPP",
        "hs": "2933.37",
        "plain": ("N-Phenethyl-4-piperidone", "1-Phenethyl-4-piperidone", "NPP"),
        "typo": ("N-Phenethyl-4-piperidon", "N-Phenethyl 4-piperidone"),
        "salt": ("N-Phenethyl-4-piperidone hydrochloride",),
        "systematic": ("1-(2-phenylethyl)-4-oxopiperidine", "4-oxo-1-(2-phenylethyl)piperidine"),
        "size": 180.0,
    },
    {
        "cas": "21409-26-7",
        "name": "ANPP",
        "hs": "2933.36",
        "plain": ("4-ANPP", "ANPP", "4-Anilino-N-phenethylpiperidine", "Despropionyl fentanyl"),
        "typo": ("4-Anilino-N-phenethylpiperidin", "4-Anilino N-phenethyl piperidine"),
        "salt": ("ANPP dihydrochloride", "4-ANPP hydrochloride"),
        "systematic": ("1-(2-phenylethyl)-4-(phenylamino)piperidine",),
        "size": 40.0,
    },
    {
        "cas": "23056-29-3",
        "name": "4-AP",
        "hs": "2933.39",
        "plain": ("4-Anilinopiperidine",),
        "typo": ("4-Anilinopiperdine", "4-Anilino-piperidine"),
        "salt": ("4-Anilinopiperidine dihydrochloride", "4-Anilinopiperidine HCl"),
        "systematic": ("N-(piperidin-4-yl)aniline",),
        "size": 60.0,
    },
    {
        "cas": "125541-22-2",
        "name": "1-boc-4-AP",
        "hs": "2933.39",
        "plain": ("1-Boc-4-AP", "Boc-4-AP", "1-Boc-4-anilinopiperidine"),
        "typo": ("1-Boc-4-anilinopiperidin", "1 Boc 4 AP"),
        "salt": ("1-Boc-4-anilinopiperidine hydrochloride",),
        "systematic": (
            "2-methylpropan-2-yl 4-anilinopiperidine-1-carboxylate",
            "1,1-dimethylethyl 4-(phenylamino)-1-piperidinecarboxylate",
        ),
        "size": 50.0,
    },
    {
        "cas": "1609-66-1",
        "name": "norfentanyl",
        "hs": "2933.39",
        "plain": ("Norfentanyl",),
        "typo": ("Nor-fentanyl", "Norfentanil"),
        "salt": ("Norfentanyl oxalate", "Norfentanyl hydrochloride"),
        "systematic": (
            "N-(piperidin-4-yl)-N-phenylpropanamide",
            "N-(4-piperidinyl)-N-phenylpropionamide",
        ),
        "size": 10.0,
    },
    {
        "cas": "41661-47-6",
        "name": "4-piperidone",
        "hs": "2933.39",
        "plain": ("4-Piperidone", "4-Piperidone monohydrate hydrochloride"),
        "typo": ("4-Piperidon", "4 Piperidone"),
        "salt": ("4-Piperidone hydrochloride",),
        "systematic": ("azinan-4-one",),
        "size": 300.0,
    },
    {
        "cas": "79099-07-3",
        "name": "1-boc-4-piperidone",
        "hs": "2933.39",
        "plain": ("1-Boc-4-piperidone", "N-Boc-4-piperidone"),
        "typo": ("1-Boc-4-piperidon", "N-Boc 4-piperidone"),
        "salt": ("1-Boc-4-piperidone 98%",),
        "systematic": (
            "2-methylpropan-2-yl 4-oxopiperidine-1-carboxylate",
            "1,1-dimethylethyl 4-oxo-1-piperidinecarboxylate",
        ),
        "size": 220.0,
    },
)
_OBFUSCATED = (
    "Pharmaceutical intermediate",
    "Piperidine intermediate PI-7",
    "Organic intermediate for R&D",
    "Fine chemical n.o.s.",
    "Heterocyclic compound, nitrogen",
    "Custom synthesis product",
)
# Benign chemicals traded by the same parties, including name hazards (4-aminopyridine,
# 1-methyl-4-piperidone, 2-piperidone, NPK fertiliser).
_BENIGN: tuple[tuple[str, str, str, float], ...] = (
    ("Acetone", "67-64-1", "2914.11", 8000.0),
    ("Toluene", "108-88-3", "2902.30", 12000.0),
    ("Piperidine", "110-89-4", "2933.32", 600.0),
    ("4-Aminopyridine", "504-24-5", "2933.39", 150.0),
    ("2-Piperidone", "675-20-7", "2933.79", 2000.0),
    ("Aniline", "62-53-3", "2921.41", 5000.0),
    ("Benzyl chloride", "100-44-7", "2903.99", 1500.0),
    ("Ethyl acetate", "141-78-6", "2915.31", 9000.0),
    ("Methanol", "67-56-1", "2905.11", 15000.0),
    ("Sodium hydroxide", "1310-73-2", "2815.11", 10000.0),
    ("Citric acid anhydrous", "77-92-9", "2918.14", 5000.0),
    ("Paracetamol", "103-90-2", "2924.29", 2500.0),
    ("Caffeine", "58-08-2", "2939.30", 800.0),
    ("1-Methyl-4-piperidone", "1445-73-4", "2933.39", 200.0),
    ("4-Hydroxypiperidine", "5382-16-1", "2933.39", 150.0),
    ("N-Methyl-2-pyrrolidone", "872-50-4", "2933.79", 6000.0),
    ("Isopropyl alcohol", "67-63-0", "2905.12", 9000.0),
    ("Propionyl chloride", "79-03-8", "2915.90", 700.0),
    ("2-Phenylethylamine", "64-04-0", "2921.49", 300.0),
    ("Dichloromethane", "75-09-2", "2903.12", 7000.0),
    ("NPK 15-15-15 fertiliser", "", "3105.20", 20000.0),
)
_PACKS = ("25kg drum", "25 kg fibre drum", "1kg bag", "50kg HDPE drum", "200L drum")
_SYL = (
    "an", "bei", "cheng", "da", "fu", "hua", "jin", "kang", "long", "ming", "nan", "ping",
    "qi", "rui", "sheng", "tai", "wei", "xin", "yuan", "zhong", "ara", "bel", "cor", "del",
    "evo", "fin", "gal", "hel", "ion", "jul", "kor", "lum", "mar", "nov", "orb", "pra",
    "quin", "ros", "sol", "ter", "ul", "ver", "wen", "xen", "yor", "zen",
)  # fmt: skip
_DESCRIPTORS = (
    "Chemical", "Pharma", "Fine Chemicals", "Biotech", "Industrial", "Trading", "Lab Supplies",
    "Chem Industry", "Pharmaceuticals", "Materials", "Scientific", "Import Export",
)  # fmt: skip
_UNIT_KG = {"kg": 1.0, "KGS": 1.0, "Kilogram": 1.0, "g": 0.001, "t": 1000.0, "tonnes": 1000.0}
_UNIT_KG |= {"lb": 0.45359237, "LBS": 0.45359237}


@dataclass
class Sample:
    """A generated sample: what gets written, plus the registry-shaped frames for evaluation."""

    facilities: pl.DataFrame  # canonical facility columns
    shipments: pl.DataFrame  # canonical shipment columns, raw as a feed sends them
    answer_key: pl.DataFrame
    registry_shipments: pl.DataFrame  # SHIPMENT_SCHEMA, as ingest would store the feed
    declarations: pl.DataFrame  # DECLARATION_SCHEMA


# --------------------------------------------------------------------------------- parties


def _parties(rng: np.random.Generator, n_fac: int) -> pl.DataFrame:
    """Declared exporting and importing facilities plus undeclared traders."""
    n_exp = max(8, int(n_fac * 0.45))
    n_imp = max(8, n_fac - n_exp)
    n_trd = max(10, n_fac)
    total = n_exp + n_imp + n_trd
    roots: set[str] = set()
    names: list[str] = []
    while len(names) < total:
        k = 2 if rng.random() < 0.7 else 3
        root = "".join(_SYL[i] for i in rng.integers(0, len(_SYL), k)).capitalize()
        if root in roots:
            continue
        roots.add(root)
        names.append(root)
    kind = ["exp_fac"] * n_exp + ["imp_fac"] * n_imp + ["trader"] * n_trd
    country = np.concatenate(
        [
            rng.choice(_EXPORTERS, n_exp, p=_EXPORTER_W),
            rng.choice(_IMPORTERS, n_imp, p=_IMPORTER_W),
            rng.choice(
                _EXPORTERS + _IMPORTERS,
                n_trd,
                p=np.array(_EXPORTER_W + _IMPORTER_W) / sum(_EXPORTER_W + _IMPORTER_W),
            ),
        ]
    )
    desc = rng.choice(_DESCRIPTORS, total)
    full: list[str] = []
    variants: list[list[str]] = []
    for root, d, c in zip(names, desc, country, strict=True):
        forms = _COUNTRIES[str(c)][4]
        lf = forms[int(rng.integers(0, len(forms)))]
        name = f"{root} {d} {lf}"
        full.append(name)
        alt = f"{root} {d} {_LEGAL_VARIANT.get(lf, lf)}"
        i = int(rng.integers(1, len(root) - 1))
        typo = root[:i] + root[i + 1] + root[i] + root[i + 2 :] if i + 1 < len(root) else root
        variants.append([name, alt, name.upper(), f"{typo} {d} {lf}"])
    fac_ids = [f"F{i + 1:05d}" if k != "trader" else None for i, k in enumerate(kind)]
    return pl.DataFrame(
        {
            "party": np.arange(total),
            "name": full,
            "variants": variants,
            "country": country.astype(str),
            "kind": kind,
            "facility_id": fac_ids,
        }
    )


# ---------------------------------------------------------------------------- consignments


def _events(
    rng: np.random.Generator,
    rel: pl.DataFrame,
) -> pl.DataFrame:
    """Semi-regular consignment dates (gamma inter-arrival times) for every relation."""
    rate = rel["rate"].to_numpy()
    start = rel["start"].to_numpy()
    gap = 365.0 / rate
    active = _DAYS - start
    n_max = np.ceil(active / gap * 1.6).astype(np.int64) + 3
    idx = np.repeat(np.arange(len(rel)), n_max)
    g = rng.gamma(4.0, 1.0, idx.size) * np.repeat(gap / 4.0, n_max)
    first = np.cumsum(n_max) - n_max
    g[first] = rng.uniform(0, 1, len(rel)) * gap
    cum = np.cumsum(g)
    offset = np.repeat(cum[first] - g[first], n_max)
    t = cum - offset + np.repeat(start, n_max)
    keep = t < _DAYS
    idx, t = idx[keep], t[keep]
    day = t.astype(np.int64)
    doy = (day % 365) / 365.0
    # Seasonality: quieter August, busier spring and autumn.
    aug = (doy > 0.58) & (doy < 0.67)
    keep = ~(aug & (rng.random(idx.size) < 0.35))
    idx, day, doy = idx[keep], day[keep], doy[keep]
    med = rel["median"].to_numpy()[idx]
    season = 1.0 + 0.15 * np.sin(2 * np.pi * (doy - 0.1) * 2)
    qty = med * season * rng.lognormal(0.0, 0.22, idx.size)
    bigger = rng.random(idx.size) < 0.03  # occasional larger orders within normal spread
    qty = np.where(bigger, qty * rng.uniform(1.4, 2.2, idx.size), qty)
    return pl.DataFrame({"rel": rel["rel"].to_numpy()[idx], "day": day, "qty": qty})


def _round_qty(q: np.ndarray) -> np.ndarray:
    return np.where(q >= 100, np.round(q / 25) * 25, np.where(q >= 5, np.round(q), np.round(q, 1)))


# ------------------------------------------------------------------------------- generate


def generate(seed: int = 7, n_shipments: int = 10_000) -> Sample:
    """Build a sample of about `n_shipments` records with labelled anomalies of every pattern."""
    if n_shipments < 200:
        raise ValueError("a sample needs at least 200 shipment records")
    rng = np.random.default_rng(seed)
    n_fac = max(60, round(n_shipments / 330))
    parties = _parties(rng, n_fac)
    kinds = parties["kind"].to_numpy()
    exp_fac = np.flatnonzero(kinds == "exp_fac")
    imp_fac = np.flatnonzero(kinds == "imp_fac")
    traders = np.flatnonzero(kinds == "trader")
    pcountry = parties["country"].to_numpy()
    reports = np.array([_COUNTRIES[c][1] for c in pcountry])

    # Listed relations: exporter facility x declared substance x 1-4 importing facilities.
    rows: list[tuple[int, int, str, float, float, float]] = []
    for f in exp_fac:
        subs = rng.choice(len(_LISTED), int(rng.integers(1, 4)), replace=False)
        for s in subs:
            base = float(_LISTED[s]["size"])
            for imp in rng.choice(imp_fac, int(rng.integers(1, 5)), replace=False):
                start = 0.0 if rng.random() < 0.85 else float(rng.uniform(30, _DAYS - 120))
                med = base * float(rng.lognormal(0, 0.8))
                rows.append(
                    (int(f), int(imp), str(_LISTED[s]["cas"]), rng.uniform(4, 20), med, start)
                )
    # Benign relations among all parties (declared and not).
    n_benign = max(40, int(len(parties) * 1.6))
    all_p = np.arange(len(parties))
    for _ in range(n_benign):
        a, b = rng.choice(all_p, 2, replace=False)
        bi = int(rng.integers(0, len(_BENIGN)))
        med = _BENIGN[bi][3] * float(rng.lognormal(0, 0.7))
        start = 0.0 if rng.random() < 0.85 else float(rng.uniform(30, _DAYS - 120))
        rows.append((int(a), int(b), f"B{bi}", rng.uniform(3, 24), med, start))
    rel = pl.DataFrame(
        rows, schema=["exp", "imp", "sub", "rate", "median", "start"], orient="row"
    ).with_row_index("rel")
    rel = rel.with_columns(pl.col("rel").cast(pl.Int64))
    # Scale rates so the feed has about n_shipments records (listed ~40%).
    listed = ~rel["sub"].str.starts_with("B").to_numpy()
    rec_per = 1.0 + reports[rel["imp"].to_numpy()] * 0.999
    years = (_DAYS - rel["start"].to_numpy()) / 365.0
    expect = rel["rate"].to_numpy() * years * rec_per
    scale = np.where(
        listed, 0.4 * n_shipments / expect[listed].sum(), 0.6 * n_shipments / expect[~listed].sum()
    )
    rel = rel.with_columns(pl.Series("rate", rel["rate"].to_numpy() * scale))
    # A relation with fewer than ~2 consignments a year is not a relation; keep cadence sane.
    rel = rel.with_columns(pl.col("rate").clip(1.5, 60.0))

    ev = _events(rng, rel).join(rel.select("rel", "exp", "imp", "sub"), on="rel")
    cons = ev.with_columns(
        pl.lit(None, dtype=pl.String).alias("anomaly_id"),
        pl.lit("normal").alias("mode"),
        pl.lit(1.0).alias("m_factor"),
        pl.lit(True).alias("m_ok"),
        pl.lit(True).alias("decl_exp"),
    )

    inj = _Injector(rng, parties, rel, cons, reports, max(2, round(n_shipments / 2500)))
    inj.unusual_size()
    inj.frequency_burst()
    inj.series_splitting()
    inj.masked_name()
    inj.undeclared_party(traders, exp_fac, imp_fac)
    inj.designer_analogue(traders, exp_fac, imp_fac)
    inj.mirror_quantity_gap()
    inj.export_never_arrived()
    decl = _declarations(rng, parties, inj.cons)
    inj.declared_quantity_exceeded(decl, imp_fac)
    decl = _importer_headroom(decl, parties, inj.cons)
    return _render(rng, parties, inj, decl, reports)


class _Injector:
    """Adds labelled anomalies to the consignment frame; each gets an anomaly id."""

    def __init__(
        self,
        rng: np.random.Generator,
        parties: pl.DataFrame,
        rel: pl.DataFrame,
        cons: pl.DataFrame,
        reports: np.ndarray,
        per_pattern: int,
    ) -> None:
        self.rng = rng
        self.parties = parties
        self.rel = rel
        self.cons = cons
        self.reports = reports
        self.k = per_pattern
        self.key: list[dict[str, object]] = []
        self.used_rel: set[int] = set()
        self.extra: list[pl.DataFrame] = []
        stats = (
            cons.group_by("rel")
            .agg(pl.len().alias("n"), pl.col("qty").median().alias("med"))
            .join(rel.select("rel", "exp", "imp", "sub", "rate"), on="rel")
            .filter(~pl.col("sub").str.starts_with("B"))
            .sort("rel")
        )
        self.rel_stats = stats

    def _aid(self, pattern: str) -> str:
        return f"A{len(self.key) + 1:04d}"

    def _pick_rel(self, cond: pl.Expr) -> dict[str, object] | None:
        pool = self.rel_stats.filter(cond & ~pl.col("rel").is_in(list(self.used_rel)))
        if pool.height == 0:
            return None
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        self.used_rel.add(int(row["rel"]))
        return row

    def _add(
        self,
        exp: int,
        imp: int,
        sub: str,
        days: np.ndarray,
        qty: np.ndarray,
        aid: str,
        mode: str = "normal",
        rel: int = -1,
        decl_exp: bool = True,
    ) -> None:
        n = len(days)
        self.cons = pl.concat(
            [
                self.cons,
                pl.DataFrame(
                    {
                        "rel": np.full(n, rel, dtype=np.int64),
                        "day": np.clip(days.astype(np.int64), 0, _DAYS - 1),
                        "qty": qty.astype(np.float64),
                        "exp": np.full(n, exp, dtype=np.int64),
                        "imp": np.full(n, imp, dtype=np.int64),
                        "sub": [sub] * n,
                        "anomaly_id": [aid] * n,
                        "mode": [mode] * n,
                        "m_factor": np.ones(n),
                        "m_ok": np.ones(n, dtype=bool),
                        "decl_exp": np.full(n, decl_exp),
                    }
                ),
            ],
            how="vertical_relaxed",
        )

    def _label(self, pattern: str, desc: str, fac: str | None, sub: str | None) -> str:
        aid = f"A{len(self.key) + 1:04d}"
        self.key.append(
            {
                "anomaly_id": aid,
                "pattern": pattern,
                "facility_id": fac,
                "substance_cas": sub,
                "description": desc,
            }
        )
        return aid

    def _fac(self, party: int) -> str | None:
        return self.parties["facility_id"][party]

    def _mark(self, mask: pl.Expr, aid: str, **updates: pl.Expr) -> None:
        self.cons = self.cons.with_columns(
            pl.when(mask).then(pl.lit(aid)).otherwise(pl.col("anomaly_id")).alias("anomaly_id"),
            *[pl.when(mask).then(v).otherwise(pl.col(k)).alias(k) for k, v in updates.items()],
        )

    def unusual_size(self) -> None:
        for _ in range(self.k):
            r = self._pick_rel(pl.col("n") >= 6)
            if r is None:
                return
            rows = self.cons.with_row_index("_i").filter(
                (pl.col("rel") == r["rel"]) & pl.col("anomaly_id").is_null()
            )
            i = int(rows["_i"][int(self.rng.integers(3, rows.height))])
            f = float(self.rng.uniform(4, 15))
            aid = self._label(
                "unusual_size",
                f"one consignment {f:.1f} times the relation's usual size",
                self._fac(int(r["exp"])),
                str(r["sub"]),
            )
            idx = pl.int_range(pl.len()) == i
            # f times the relation's usual (median) size, as labelled: scaling the chosen
            # consignment instead planted a small one at 2.5-3x usual, inside normal spread.
            self._mark(idx, aid, qty=pl.lit(float(r["med"]) * f))

    def frequency_burst(self) -> None:
        for _ in range(self.k):
            r = self._pick_rel((pl.col("n") >= 4) & (pl.col("rate") <= 14))
            if r is None:
                return
            k = int(self.rng.integers(5, 9))
            width = self.rng.uniform(10, 20)
            d0 = self.rng.uniform(0, _DAYS - 25)
            days = np.sort(d0 + self.rng.uniform(0, width, k))
            qty = float(r["med"]) * self.rng.lognormal(0, 0.2, k)
            aid = self._label(
                "frequency_burst",
                f"{k} consignments within {width:.0f} days on a relation that ships about "
                f"{float(r['rate']):.0f} times a year",
                self._fac(int(r["exp"])),
                str(r["sub"]),
            )
            self._add(
                int(r["exp"]), int(r["imp"]), str(r["sub"]), days, qty, aid, rel=int(r["rel"])
            )

    def series_splitting(self) -> None:
        for _ in range(self.k):
            r = self._pick_rel(pl.col("n") >= 4)
            if r is None:
                return
            k = int(self.rng.integers(4, 8))
            width = self.rng.uniform(2, 7)
            d0 = self.rng.uniform(0, _DAYS - 10)
            days = np.sort(d0 + self.rng.uniform(0, width, k))
            qty = float(r["med"]) * self.rng.uniform(0.5, 1.0, k)
            aid = self._label(
                "series_splitting",
                f"series of {k} orders within {width:.0f} days totalling "
                f"{qty.sum():.0f} kg, each below the usual size",
                self._fac(int(r["exp"])),
                str(r["sub"]),
            )
            self._add(
                int(r["exp"]), int(r["imp"]), str(r["sub"]), days, qty, aid, rel=int(r["rel"])
            )

    def masked_name(self) -> None:
        for _ in range(self.k):
            r = self._pick_rel(pl.col("n") >= 2)
            if r is None:
                return
            k = int(self.rng.integers(1, 4))
            days = np.sort(self.rng.uniform(0, _DAYS - 5, k))
            qty = float(r["med"]) * self.rng.lognormal(0, 0.2, k)
            aid = self._label(
                "masked_name",
                "listed substance declared under a systematic or obfuscated product name",
                self._fac(int(r["exp"])),
                str(r["sub"]),
            )
            self._add(
                int(r["exp"]),
                int(r["imp"]),
                str(r["sub"]),
                days,
                qty,
                aid,
                mode="masked",
                rel=int(r["rel"]),
            )

    def undeclared_party(
        self, traders: np.ndarray, exp_fac: np.ndarray, imp_fac: np.ndarray
    ) -> None:
        for j in range(self.k):
            s = _LISTED[int(self.rng.integers(0, len(_LISTED)))]
            cas = str(s["cas"])
            variant = j % 3
            if variant == 0:  # an undeclared trader exports a listed substance
                exp, imp = int(self.rng.choice(traders)), int(self.rng.choice(imp_fac))
                desc, fac = "undeclared trader exports a listed substance", None
            elif variant == 1:  # a declared exporter sells to an undeclared consignee
                exp, imp = int(self.rng.choice(exp_fac)), int(self.rng.choice(traders))
                desc, fac = "listed substance sold to an undeclared consignee", None
            else:  # a declared facility trades under a name that links to nothing
                src = int(self.rng.choice(exp_fac))
                exp = self._alias(src)
                imp = int(self.rng.choice(imp_fac))
                desc, fac = "declared facility trades under an alias name", self._fac(src)
            k = int(self.rng.integers(1, 4))
            days = np.sort(self.rng.uniform(0, _DAYS - 5, k))
            qty = _round_qty(float(s["size"]) * self.rng.lognormal(0, 0.5, k))
            aid = self._label("undeclared_party", desc, fac, cas)
            self._add(exp, imp, cas, days, qty, aid)

    def _alias(self, src: int) -> int:
        row = self.parties.row(src, named=True)
        alias = f"{row['name'].split()[0][::-1].capitalize()} Handels {_COUNTRIES[row['country']][4][0]}"
        new = pl.DataFrame(
            {
                "party": [self.parties.height],
                "name": [alias],
                "variants": [[alias, alias, alias.upper(), alias]],
                "country": [row["country"]],
                "kind": ["alias"],
                "facility_id": [None],
            },
            schema=self.parties.schema,
        )
        self.parties = pl.concat([self.parties, new])
        self.reports = np.append(self.reports, _COUNTRIES[row["country"]][1])
        return self.parties.height - 1

    def designer_analogue(
        self, traders: np.ndarray, exp_fac: np.ndarray, imp_fac: np.ndarray
    ) -> None:
        for j in range(self.k):
            d = SURVEILLANCE[j % len(SURVEILLANCE)]
            exp = int(self.rng.choice(exp_fac if j % 2 == 0 else traders))
            imp = int(self.rng.choice(np.concatenate([imp_fac, traders])))
            k = int(self.rng.integers(1, 4))
            days = np.sort(self.rng.uniform(0, _DAYS - 5, k))
            qty = _round_qty(self.rng.lognormal(math.log(80), 0.8, k))
            aid = self._label(
                "designer_analogue", f"designer precursor {d.name} shipped", self._fac(exp), d.cas
            )
            self._add(exp, imp, f"D{SURVEILLANCE.index(d)}", days, qty, aid, mode="designer")

    def _pick_cons(self, cond: pl.Expr) -> int | None:
        pool = self.cons.with_row_index("_i").filter(
            cond & pl.col("anomaly_id").is_null() & ~pl.col("sub").str.starts_with("B")
            & ~pl.col("sub").str.starts_with("D") & ~pl.col("rel").is_in(list(self.used_rel))
        )  # fmt: skip
        if pool.height == 0:
            return None
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        self.used_rel.add(int(row["rel"]))
        return int(row["_i"])

    def _reporting(self) -> pl.Expr:
        return pl.col("imp").map_elements(lambda p: bool(self.reports[p]), return_dtype=pl.Boolean)

    def mirror_quantity_gap(self) -> None:
        rep = pl.Series(self.reports)
        for _ in range(self.k):
            i = self._pick_cons(
                pl.col("imp").map_batches(lambda s: rep.gather(s), return_dtype=pl.Boolean)
                & (pl.col("qty") >= 10)
                & (pl.col("day") < _DAYS - 40)
            )
            if i is None:
                return
            row = self.cons.row(i, named=True)
            lo = self.rng.random() < 0.7
            f = float(self.rng.uniform(0.4, 0.8) if lo else self.rng.uniform(1.25, 1.7))
            aid = self._label(
                "mirror_quantity_gap",
                f"importer recorded {f:.2f} times the exported quantity",
                self._fac(int(row["exp"])),
                str(row["sub"]),
            )
            self._mark(pl.int_range(pl.len()) == i, aid, m_factor=pl.lit(f))

    def export_never_arrived(self) -> None:
        rep = pl.Series(self.reports)
        for _ in range(self.k):
            i = self._pick_cons(
                pl.col("imp").map_batches(lambda s: rep.gather(s), return_dtype=pl.Boolean)
                & (pl.col("day") < _DAYS - 70)
            )
            if i is None:
                return
            row = self.cons.row(i, named=True)
            aid = self._label(
                "export_never_arrived",
                "export to a reporting country with no import record",
                self._fac(int(row["exp"])),
                str(row["sub"]),
            )
            self._mark(pl.int_range(pl.len()) == i, aid, m_ok=pl.lit(False))

    def declared_quantity_exceeded(self, decl: pl.DataFrame, imp_fac: np.ndarray) -> None:
        cands = decl.filter(pl.col("role") == "exp", pl.col("volume") > 0).sort(
            "facility_id", "cas"
        )
        used: set[str] = set()
        j = 0
        for _attempt in range(self.k * 60):
            if j >= self.k:
                return
            pool = cands.filter(~pl.col("facility_id").is_in(list(used)))
            if pool.height == 0:
                return
            row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
            year = 2024 if j % 2 == 0 else 2025
            declared = float(row[f"declared_{year}"])
            shipped = float(row[f"volume_{year}"])
            elapsed = 1.0 if year == 2024 else ((END - dt.date(2025, 1, 1)).days + 1) / 365.0
            target = declared * (
                self.rng.uniform(1.15, 1.6)
                if year == 2024
                else elapsed * self.rng.uniform(1.4, 2.0)
            )
            need = target - shipped
            med = float(row["median"])
            k = math.ceil(need / (1.2 * med)) if need > 0 else 0
            if not 2 <= k <= 20:
                continue
            used.add(row["facility_id"])
            j += 1
            y0 = (dt.date(year, 1, 1) - START).days
            span = 365 if year == 2024 else int(elapsed * 365)
            days = np.sort(y0 + self.rng.uniform(span * 0.2, span, k))
            qty = np.full(k, need / k) * self.rng.uniform(0.8, 1.2, k)
            exp = int(row["party"])
            aid = self._label(
                "declared_quantity_exceeded",
                f"{k} normal-sized consignments to new customers take {year} shipments past "
                f"the declared {declared:.0f} kg" + (" (pro rata)" if year == 2025 else ""),
                row["facility_id"],
                row["cas"],
            )
            customers = self.rng.choice(imp_fac, min(k, 4), replace=False)
            for c, part in zip(
                customers, np.array_split(np.arange(k), len(customers)), strict=True
            ):
                if len(part):
                    self._add(
                        exp,
                        int(c),
                        row["cas"],
                        days[part],
                        _round_qty(qty[part]),
                        aid,
                        decl_exp=False,
                    )


def _declarations(
    rng: np.random.Generator, parties: pl.DataFrame, cons: pl.DataFrame
) -> pl.DataFrame:
    """Declared annual quantity per facility, substance and year: realised pace plus headroom."""
    listed = cons.filter(~pl.col("sub").str.starts_with("B"), ~pl.col("sub").str.starts_with("D"))
    year = (pl.lit(START) + pl.duration(days=pl.col("day"))).dt.year().alias("year")
    exp = (
        listed.filter(pl.col("decl_exp"))
        .group_by(pl.col("exp").alias("party"), pl.col("sub").alias("cas"), year)
        .agg(pl.col("qty").sum().alias("volume"))
        .with_columns(pl.lit("exp").alias("role"))
    )
    fac = parties.select("party", "facility_id", "kind")
    exp = exp.join(fac, on="party").filter(pl.col("kind") == "exp_fac")
    # The size of the facility's largest regular relation: what a "normal" order can be.
    rel_med = (
        listed.group_by("rel", pl.col("exp").alias("party"), pl.col("sub").alias("cas"))
        .agg(pl.col("qty").median().alias("m"))
        .group_by("party", "cas")
        .agg(pl.col("m").max().alias("median"))
    )
    exp = exp.join(rel_med, on=["party", "cas"], how="left")
    elapsed_2025 = ((END - dt.date(2025, 1, 1)).days + 1) / 365.0
    wide = (
        exp.group_by("party", "facility_id", "cas", "role")
        .agg(
            pl.col("volume").filter(pl.col("year") == 2024).sum().alias("volume_2024"),
            pl.col("volume").filter(pl.col("year") == 2025).sum().alias("volume_2025"),
            pl.col("median").first().alias("median"),
        )
        .sort("party", "cas")
    )
    n = wide.height
    pace = np.maximum(wide["volume_2024"].to_numpy(), wide["volume_2025"].to_numpy() / elapsed_2025)
    d24 = _nice(np.maximum(wide["volume_2024"].to_numpy(), pace * 0.6) * rng.uniform(1.3, 1.9, n))
    d25 = _nice(pace * rng.uniform(1.3, 1.9, n))
    return wide.with_columns(
        pl.Series("declared_2024", d24),
        pl.Series("declared_2025", d25),
        pl.max_horizontal("volume_2024", "volume_2025").alias("volume"),
    )


def _importer_headroom(
    decl: pl.DataFrame, parties: pl.DataFrame, cons: pl.DataFrame
) -> pl.DataFrame:
    """Importing facilities declare what they receive (anomalous volumes included) with headroom."""
    year = (pl.lit(START) + pl.duration(days=pl.col("day"))).dt.year().alias("year")
    listed = cons.filter(~pl.col("sub").str.starts_with("B"), ~pl.col("sub").str.starts_with("D"))
    imp = (
        listed.group_by(pl.col("imp").alias("party"), pl.col("sub").alias("cas"), year)
        .agg(pl.col("qty").sum().alias("volume"))
        .join(parties.select("party", "facility_id", "kind"), on="party")
        .filter(pl.col("kind") == "imp_fac")
    )
    elapsed_2025 = ((END - dt.date(2025, 1, 1)).days + 1) / 365.0
    wide = (
        imp.group_by("party", "facility_id", "cas")
        .agg(
            pl.col("volume").filter(pl.col("year") == 2024).sum().alias("volume_2024"),
            pl.col("volume").filter(pl.col("year") == 2025).sum().alias("volume_2025"),
        )
        .sort("party", "cas")
    )
    v = np.maximum(wide["volume_2024"].to_numpy(), wide["volume_2025"].to_numpy() / elapsed_2025)
    v = np.maximum(v, 20.0)
    wide = wide.with_columns(
        pl.Series("declared_2024", _nice(v * 1.6)),
        pl.Series("declared_2025", _nice(v * 1.6)),
        pl.lit("imp").alias("role"),
    )
    return pl.concat(
        [decl.select("party", "facility_id", "cas", "role", "declared_2024", "declared_2025"),
         wide.select("party", "facility_id", "cas", "role", "declared_2024", "declared_2025")]
    )  # fmt: skip


def _nice(x: np.ndarray) -> np.ndarray:
    """Round declared quantities the way people write them (two significant digits)."""
    x = np.maximum(x, 1.0)
    mag = 10.0 ** (np.floor(np.log10(x)) - 1)
    return np.ceil(x / mag) * mag


# ------------------------------------------------------------------------------- render


def _str(a: np.ndarray) -> pl.Series:
    return pl.Series([None if v is None else str(v) for v in a.tolist()], dtype=pl.String)


def _pick(rng: np.random.Generator, options: list[str] | tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _render(
    rng: np.random.Generator,
    parties: pl.DataFrame,
    inj: _Injector,
    decl: pl.DataFrame,
    _reports: np.ndarray,
) -> Sample:
    parties = inj.parties
    reports = inj.reports
    cons = (
        inj.cons.sort("day", "exp", "imp")
        .with_row_index("cons")
        .with_columns(pl.col("cons").cast(pl.Int64))
    )
    nc = cons.height
    imp = cons["imp"].to_numpy()
    sub = cons["sub"].to_numpy().astype(str)
    is_listed = np.array([not (s.startswith("B") or s.startswith("D")) for s in sub])
    # Mirror: reporting importers confirm nearly every consignment; none for non-reporters.
    # A listed consignment to a reporting country without an import record is the
    # export_never_arrived pattern: it happens only where labelled.
    p_m = np.where(is_listed, 1.0, 0.99)
    delay = 2 + rng.gamma(3.0, 4.0, nc).astype(np.int64)
    m_present = (
        reports[imp]
        & (rng.random(nc) < p_m)
        & cons["m_ok"].to_numpy()
        & (cons["day"].to_numpy() + delay < _DAYS)
    )
    m_noise = np.where(rng.random(nc) < 0.05, rng.normal(1, 0.025, nc), 1.0)
    m_factor = cons["m_factor"].to_numpy() * np.where(
        cons["m_factor"].to_numpy() == 1.0, m_noise, 1.0
    )
    has_ref = rng.random(nc) < np.where(is_listed, 0.92, 0.5)
    m_ref = has_ref & (rng.random(nc) < 0.8)
    ref = np.array([f"PEN-{i:07d}" for i in range(nc)], dtype=object)

    base = cons.with_columns(
        pl.Series("qty", _round_qty(cons["qty"].to_numpy())),
        _str(np.where(has_ref, ref, None)).alias("ref"),
    )
    x = base.with_columns(
        pl.lit("X").alias("flow"), pl.col("day").alias("rday"), pl.col("qty").alias("rqty")
    )
    mrow = base.with_columns(
        pl.Series("delay", delay), pl.Series("mf", m_factor), pl.Series("mref", m_ref)
    ).filter(pl.Series(m_present))
    m = mrow.with_columns(
        pl.lit("M").alias("flow"),
        (pl.col("day") + pl.col("delay")).alias("rday"),
        (pl.col("qty") * pl.col("mf")).round(1).alias("rqty"),
        pl.when(pl.col("mref")).then(pl.col("ref")).otherwise(None).alias("ref"),
    ).drop("delay", "mf", "mref")
    rec = pl.concat([x, m], how="vertical_relaxed").sort("rday", "cons", "flow")
    n = rec.height

    pc = parties["country"].to_numpy()
    e_idx = rec["exp"].to_numpy()
    i_idx = rec["imp"].to_numpy()
    flow_x = (rec["flow"] == "X").to_numpy()
    src = np.where(flow_x, pc[e_idx], pc[i_idx])

    # Party names: mostly canonical, sometimes a legal-form variant, upper case or a typo.
    var = parties["variants"].to_list()
    vchoice = rng.choice(4, (n, 2), p=[0.55, 0.25, 0.17, 0.03])
    exporter = np.array(
        [var[p][v] for p, v in zip(e_idx, vchoice[:, 0], strict=True)], dtype=object
    )
    importer = np.array(
        [var[p][v] for p, v in zip(i_idx, vchoice[:, 1], strict=True)], dtype=object
    )

    def country_text(codes: np.ndarray) -> np.ndarray:
        out = np.empty(len(codes), dtype=object)
        for c in np.unique(codes):
            mask = codes == c
            out[mask] = _pick(rng, _COUNTRIES[c][0], int(mask.sum()))
        return out

    # Products: ordinary spellings, trade text, salts, typos; masked and designer texts.
    rsub = rec["sub"].to_numpy().astype(str)
    mode = rec["mode"].to_numpy().astype(str)
    product = np.empty(n, dtype=object)
    cas = np.empty(n, dtype=object)
    hs = np.empty(n, dtype=object)
    u = rng.random(n)
    for s in _LISTED:
        mask = rsub == s["cas"]
        for kind, lo, hi in (
            ("plain", 0, 0.45),
            ("trade", 0.45, 0.75),
            ("salt", 0.75, 0.87),
            ("typo", 0.87, 1.0),
        ):
            mk = mask & (mode == "normal") & (u >= lo) & (u < hi)
            cnt = int(mk.sum())
            if kind == "trade":
                names = _pick(rng, s["plain"] + s["salt"], cnt)
                purity = _pick(rng, ("98", "99", "99.5"), cnt)
                pack = _pick(rng, _PACKS, cnt)
                product[mk] = [f"{a} {b}% {c}" for a, b, c in zip(names, purity, pack, strict=True)]
            else:
                product[mk] = _pick(rng, s[kind], cnt)
        mk = mask & (mode == "masked")
        obf = rng.random(n) < 0.35
        product[mk & obf] = _pick(rng, _OBFUSCATED, int((mk & obf).sum()))
        product[mk & ~obf] = _pick(rng, s["systematic"], int((mk & ~obf).sum()))
        cas_p = np.where(mk, np.where(obf, 1.0, 0.6), 0.8)
        cas[mask] = np.where(rng.random(n)[mask] < cas_p[mask], s["cas"], None)
        hs[mask] = s["hs"]
    for i, d in enumerate(SURVEILLANCE):
        mask = rsub == f"D{i}"
        cnt = int(mask.sum())
        names = [d.preferred_name, d.systematic_name, *d.synonyms]
        product[mask] = _pick(rng, names, cnt)
        known = not d.cas.startswith("surveillance:")
        cas[mask] = np.where((rng.random(cnt) < 0.7) & known, d.cas, None)
        hs[mask] = d.hs_codes[0]
    for i, (bname, bcas, bhs, _size) in enumerate(_BENIGN):
        mask = rsub == f"B{i}"
        cnt = int(mask.sum())
        variants = [bname, f"{bname} 99%", f"{bname.upper()} TECH GRADE", f"{bname} {_PACKS[0]}"]
        if bname == "4-Aminopyridine":
            variants.append("4-AP (4-aminopyridine)")
        product[mask] = _pick(rng, variants, cnt)
        cas[mask] = np.where((rng.random(cnt) < 0.6) & bool(bcas), bcas, None)
        hs[mask] = bhs
    hs = np.where(rng.random(n) < 0.2, np.char.replace(hs.astype(str), ".", ""), hs)

    # Units and quantities as the feed writes them.
    qkg = rec["rqty"].to_numpy().astype(np.float64)
    uu = rng.random(n)
    unit = np.where(
        qkg < 20,
        np.where(uu < 0.6, "kg", np.where(uu < 0.85, "g", "KGS")),
        np.where(
            qkg >= 1000,
            np.where(
                uu < 0.4,
                "kg",
                np.where(
                    uu < 0.6, "t", np.where(uu < 0.7, "tonnes", np.where(uu < 0.85, "KGS", "lb"))
                ),
            ),
            np.where(
                uu < 0.5,
                "kg",
                np.where(
                    uu < 0.65,
                    "KGS",
                    np.where(uu < 0.75, "Kilogram", np.where(uu < 0.9, "lb", "LBS")),
                ),
            ),
        ),
    )
    factor = np.vectorize(_UNIT_KG.__getitem__)(unit)
    value = qkg / factor
    value = np.where(np.isin(unit, ["g"]), np.round(value), np.round(value, 3))
    value = np.where(np.isin(unit, ["lb", "LBS"]), np.round(value, 1), value)

    flow_text = np.where(
        rng.random(n) < 0.9, rec["flow"].to_numpy(), np.where(flow_x, "export", "import")
    )
    transit = np.where(
        rng.random(n) < 0.08, _pick(rng, ("SGP", "ARE", "ARE;TUR", "PAN", "NLD"), n), None
    )
    dates = np.datetime64(START) + rec["rday"].to_numpy().astype("timedelta64[D]")
    sid = np.array(
        [
            f"{s}-{'E' if fx else 'I'}-{k:07d}"
            for k, (s, fx) in enumerate(zip(src, flow_x, strict=True))
        ],
        dtype=object,
    )
    sid = _str(sid)
    exporter, importer, product, cas, hs, transit = (
        _str(a) for a in (exporter, importer, product, cas, hs, transit)
    )
    shipments = pl.DataFrame(
        {
            "shipment_id": sid,
            "date": pl.Series(dates).cast(pl.Date),
            "exporter": exporter,
            "exporter_country": _str(country_text(pc[e_idx])),
            "importer": importer,
            "importer_country": _str(country_text(pc[i_idx])),
            "product": product,
            "quantity": value,
            "unit": _str(unit),
            "cas": cas,
            "hs_code": hs,
            "flow": _str(flow_text),
            "consignment_ref": rec["ref"],
            "transit_countries": transit,
        },
        schema_overrides={
            "cas": pl.String,
            "transit_countries": pl.String,
            "consignment_ref": pl.String,
        },
    )
    fac_id = np.asarray(parties["facility_id"].to_list(), dtype=object)
    registry = pl.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "source": [f"{s} customs" for s in src],
            "shipment_id": sid,
            "date": shipments["date"],
            "exporter": exporter,
            "exporter_country": pc[e_idx],
            "importer": importer,
            "importer_country": pc[i_idx],
            "product": product,
            "cas": cas,
            "hs_code": hs,
            "quantity_kg": value * factor,
            "flow": rec["flow"],
            "consignment_ref": rec["ref"],
            "transit_countries": transit,
            "exporter_facility_id": _str(fac_id[e_idx]),
            "importer_facility_id": _str(fac_id[i_idx]),
            "batch_id": np.ones(n, dtype=np.int64),
        },
        schema_overrides={
            "cas": pl.String,
            "transit_countries": pl.String,
            "consignment_ref": pl.String,
            "exporter_facility_id": pl.String,
            "importer_facility_id": pl.String,
        },
    ).with_columns(
        normalise_party("exporter").alias("exporter_norm"),
        normalise_party("importer").alias("importer_norm"),
    )
    registry = registry.select(
        pl.col(c).cast(t) if c in registry.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in SHIPMENT_SCHEMA.items()
    )

    # Answer key: each anomaly with the source ids of every record it produced.
    key = pl.DataFrame(
        inj.key,
        schema={
            "anomaly_id": pl.String,
            "pattern": pl.String,
            "facility_id": pl.String,
            "substance_cas": pl.String,
            "description": pl.String,
        },
    )
    ids = (
        pl.DataFrame(
            {"anomaly_id": rec["anomaly_id"], "shipment_id": sid},
            schema={"anomaly_id": pl.String, "shipment_id": pl.String},
        )
        .filter(pl.col("anomaly_id").is_not_null())
        .group_by("anomaly_id", maintain_order=True)
        .agg(pl.col("shipment_id").str.join(";").alias("shipment_ids"))
    )
    answer_key = key.join(ids, on="anomaly_id", how="inner").select(
        "anomaly_id", "pattern", "shipment_ids", "facility_id", "substance_cas", "description"
    )

    facilities, declarations = _facility_frames(rng, parties, decl)
    return Sample(facilities, shipments, answer_key, registry, declarations)


def _facility_frames(
    rng: np.random.Generator, parties: pl.DataFrame, decl: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = {str(s["cas"]): str(s["name"]) for s in _LISTED}
    long = pl.concat(
        [
            decl.select(
                "facility_id",
                "cas",
                "role",
                pl.col("declared_2024").alias("kg"),
                pl.lit(2024).alias("year"),
            ),
            decl.select(
                "facility_id",
                "cas",
                "role",
                pl.col("declared_2025").alias("kg"),
                pl.lit(2025).alias("year"),
            ),
        ]
    )
    p = parties.filter(pl.col("facility_id").is_not_null()).select(
        "facility_id", "name", "country", "kind"
    )
    long = long.join(p, on="facility_id").sort("facility_id", "cas", "year")
    n = long.height
    exp_act = _pick(rng, ("production", "trade"), n)
    imp_act = _pick(rng, ("processing", "consumption", "trade"), n)
    fac = long.with_columns(
        pl.Series("activity", np.where(long["role"].to_numpy() == "exp", exp_act, imp_act)),
        pl.col("cas").replace_strict(names, default=None).alias("substance"),
    )
    # One activity per facility: the first drawn.
    fac = fac.with_columns(pl.col("activity").first().over("facility_id"))
    info = {c: (v[2], v[3]) for c, v in _COUNTRIES.items()}
    lat = np.array([info[c][0] for c in fac["country"]]) + rng.normal(0, 0.3, n)
    lon = np.array([info[c][1] for c in fac["country"]]) + rng.normal(0, 0.3, n)
    fac = fac.with_columns(
        pl.Series("lat", np.round(lat, 4)),
        pl.Series("lon", np.round(lon, 4)),
        pl.format(
            "{} Industrial Park, Building {}",
            pl.col("country"),
            pl.col("facility_id").str.slice(-3),
        ).alias("address"),
    )
    fac = fac.with_columns(pl.col("lat", "lon").first().over("facility_id"))
    facilities = fac.select(
        "facility_id", "name", "country", "activity", "substance", "cas",
        pl.col("kg").alias("declared_annual_kg"), pl.col("year").alias("declaration_year"),
        "address", "lat", "lon",
    )  # fmt: skip
    declarations = fac.select(
        "facility_id",
        "name",
        normalise_party("name").alias("name_norm"),
        "country",
        "activity",
        "substance",
        pl.col("cas").alias("substance_cas"),
        pl.col("kg").alias("declared_annual_kg"),
        pl.col("year").alias("declaration_year"),
    )
    declarations = declarations.select([pl.col(c).cast(t) for c, t in DECLARATION_SCHEMA.items()])
    return facilities, declarations


def write_sample(sample: Sample, out: Path) -> list[Path]:
    """Write facilities.csv, shipments.csv and answer_key.csv into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "facilities.csv", out / "shipments.csv", out / "answer_key.csv"]
    sample.facilities.write_csv(paths[0])
    sample.shipments.write_csv(paths[1])
    sample.answer_key.write_csv(paths[2])
    return paths
