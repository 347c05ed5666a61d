"""Benchmark of the name and structure screen, with its own seeded data generator.

Run: .venv/bin/python bench/bench_screen.py [--quick] [--seed N]

Measures, on this machine:
- lexical layers (CAS, exact, abbreviation, guarded fuzzy; structure off) over distinct
  descriptions per second;
- the structure layer (OPSIN batch + RDKit) over systematic names per second, cold cache;
- a feed of 1,000,000 rows with 50,000 distinct descriptions through `screen_frame`;
- a plain `rapidfuzz.process.extractOne(name, synonyms, scorer=fuzz.WRatio)` loop over the
  same synonym list, for speed and accuracy on the labelled evaluation sets;
- Chinese product descriptions (read by their parts, structure layer on) per second, and
  the labelled Chinese sets' recall.
Prints a Markdown table of the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection.screening import ScreenConfig, screen_frame, screen_names  # noqa: E402
from detection.screening import opsin as structure_mod  # noqa: E402
from detection.screening.watchlist import load_watchlist  # noqa: E402

EVAL_DIR = ROOT / "tests" / "detection" / "screening"

BENIGN = [
    "sodium chloride",
    "acetone",
    "toluene",
    "ethanol",
    "methanol",
    "isopropanol",
    "acetic acid",
    "citric acid",
    "sodium hydroxide",
    "potassium carbonate",
    "hydrochloric acid",
    "sulfuric acid",
    "ethyl acetate",
    "dichloromethane",
    "tetrahydrofuran",
    "xylene",
    "hexane",
    "heptane",
    "glycerol",
    "propylene glycol",
    "urea",
    "ammonium nitrate",
    "calcium carbonate",
    "magnesium sulfate",
    "sodium bicarbonate",
    "benzoic acid",
    "salicylic acid",
    "paracetamol",
    "ibuprofen",
    "aspirin",
    "caffeine",
    "lactose",
    "microcrystalline cellulose",
    "titanium dioxide",
    "zinc oxide",
    "polyethylene granules",
    "polypropylene resin",
    "PVC compound",
    "nylon 6 chips",
    "caprolactam",
    "2-piperidone",
    "piperidine",
    "piperazine",
    "4-aminopyridine",
    "pyridine",
    "aniline",
    "phenol",
    "benzaldehyde",
    "cyclohexanone",
    "acetophenone",
    "styrene monomer",
    "vinyl acetate",
    "acrylic acid",
    "methyl methacrylate",
    "formaldehyde solution",
    "hydrogen peroxide",
    "sodium hypochlorite",
    "NPK fertilizer 15-15-15",
    "NPP fertilizer 20-20-20",
    "haloperidol",
    "donepezil",
    "loperamide",
    "methylphenidate",
    "paroxetine",
    "4-hydroxypiperidine",
    "1-methyl-4-piperidone",
    "N-methylpiperazine",
    "4-methylpiperidine",
    "2-phenylethanol",
    "phenethylamine",
    "diphenylamine",
    "cotton yarn",
    "steel bolts M8",
    "LED lamps",
    "printer paper A4",
    "ceramic tiles",
    "wooden pallets",
    "glass bottles",
    "vitamin C",
    "sorbitol",
    "mannitol",
    "stearic acid",
    "sodium benzoate",
    "glycine",
    "L-lysine hydrochloride",
    "monosodium glutamate",
    "sucrose",
    "dextrose monohydrate",
]
SYSTEMATIC_PARTS = (
    ["methyl", "ethyl", "propyl", "butyl", "benzyl", "phenyl", "acetyl", "2-phenylethyl"],
    [
        "piperidin-4-one",
        "piperidin-3-one",
        "piperidin-4-amine",
        "piperidin-4-ol",
        "piperazine",
        "pyrrolidin-2-one",
        "morpholine",
        "azepan-4-one",
        "cyclohexan-1-one",
        "benzene",
        "pyridin-4-amine",
        "piperidine-4-carboxamide",
    ],
)
LISTED_FORMS = [
    "N-phenethyl-4-piperidone",
    "4-ANPP",
    "ANPP",
    "norfentanyl",
    "4-piperidone HCl",
    "1-boc-4-piperidone",
    "N-Boc-4-piperidone",
    "4-anilinopiperidine",
    "1-boc-4-AP",
    "despropionyl fentanyl",
    "tert-butyl 4-oxopiperidine-1-carboxylate",
    "4-piperidinone",
    "N-phenethyl-4-piperidon",
    "norfentanil",
    "39742-60-4",
    "CAS 21409-26-7",
]
ANALOGUES = [
    "1-benzyl-4-piperidone",
    "N-Cbz-4-piperidone",
    "ethyl 4-oxopiperidine-1-carboxylate",
    "1,4-dioxa-8-azaspiro[4.5]decane",
    "benzylfentanyl",
    "4-fluoro-ANPP",
    "N-phenyl-N-(piperidin-4-yl)butanamide",
    "1-benzyl-N-phenylpiperidin-4-amine",
]
PURITY = [
    "",
    "98%",
    "99%",
    "99.5%",
    "min 99%",
    "99% min",
    "tech grade",
    "industrial grade",
    "USP",
    "pharma grade",
    "high purity",
]
PACK = [
    "",
    "25 kg drum",
    "25kg/drum",
    "1 kg bag",
    "200 L drum",
    "50 kg bag",
    "IBC 1000 L",
    "5 kg carton",
    "in bulk",
]
CASING = [str, str.upper, str.lower, str.title]


def generate_descriptions(n: int, seed: int) -> list[str]:
    """`n` distinct product descriptions: mostly benign, ~4% listed forms, ~1% analogues."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        r = rng.random()
        if r < 0.04:
            base = rng.choice(LISTED_FORMS)
        elif r < 0.05:
            base = rng.choice(ANALOGUES)
        elif r < 0.25:
            sub, core = rng.choice(SYSTEMATIC_PARTS[0]), rng.choice(SYSTEMATIC_PARTS[1])
            base = f"{rng.randint(1, 4)}-{sub}{core}"
        else:
            base = rng.choice(BENIGN)
        parts = [rng.choice(CASING)(base), rng.choice(PURITY), rng.choice(PACK)]
        if rng.random() < 0.7:
            parts.append(f"lot {rng.randint(1000, 999999)}")
        out[" ".join(p for p in parts if p)] = None
    return list(out)


def generate_systematic(n: int, seed: int) -> list[str]:
    """`n` distinct systematic names of substituted rings (OPSIN-parseable)."""
    rng = random.Random(seed)
    subs = [
        "methyl",
        "ethyl",
        "propyl",
        "butyl",
        "benzyl",
        "fluoro",
        "chloro",
        "bromo",
        "methoxy",
        "acetyl",
        "phenyl",
        "2-phenylethyl",
        "hydroxy",
        "nitro",
        "amino",
    ]
    cores = [
        "piperidin-4-one",
        "piperidine",
        "piperazine",
        "pyrrolidine",
        "morpholine",
        "cyclohexan-1-one",
        "benzene",
        "pyridine",
        "azepane",
        "piperidin-4-amine",
    ]
    out: dict[str, None] = {}
    while len(out) < n:
        k = rng.randint(1, 3)
        locs = sorted(rng.sample(range(1, 7), k))
        names = sorted(rng.sample(subs, k))
        prefix = "-".join(f"{loc}-{s}" for loc, s in zip(locs, names, strict=True))
        out[f"{prefix}{rng.choice(cores)}"] = None
    return list(out)


ZH_PREFIXES = ["", "1-苄基-", "N-苯乙基-", "1-叔丁氧羰基-", "N-甲基-", "1-乙酰基-", "4-氟-",
               "N-苄氧羰基-", "1-(2-苯乙基)-", "4-(4-氯苯胺基)-"]  # fmt: skip
ZH_CORES = ["4-哌啶酮", "哌啶-4-胺", "4-苯胺基哌啶", "哌嗪", "吡啶", "哌啶-4-醇", "2-哌啶酮",
            "4-氧代哌啶-1-甲酸乙酯", "去甲芬太尼", "丙酮", "甲苯", "乙酸乙酯"]  # fmt: skip
ZH_SUFFIXES = ["", "盐酸盐", "鹽酸鹽", "一水合物", "二盐酸盐"]
ZH_TRADE = ["", " 99%", " 25kg/桶", " 工业级", " 上海某某化工有限公司", " CAS 39742604"]


def generate_chinese(n: int, seed: int) -> list[str]:
    """`n` distinct Chinese product descriptions built from common name parts."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        parts = (ZH_PREFIXES, ZH_CORES, ZH_SUFFIXES, ZH_TRADE)
        name = "".join(rng.choice(p) for p in parts)
        out[f"{name} {rng.randint(1, 99_999)}" if rng.random() < 0.8 else name] = None
    return list(out)


def chinese_figures(n: int, seed: int) -> list[tuple[str, str, str, str]]:
    """Rows of the table for Chinese descriptions: speed, and the labelled sets' recall."""
    names = generate_chinese(n, seed)
    structure_mod._OPSIN_CACHE.clear()
    c0, t0 = _cpu(), time.perf_counter()
    screen_names(names)
    t, c = time.perf_counter() - t0, _cpu() - c0
    rows = [(f"Chinese descriptions/s ({n:,}; structure on, cold cache)", f"{n / t:,.0f}",
             f"{n / c:,.0f}", "-")]  # fmt: skip
    for f, label in (("eval_names_zh.csv", "seen"), ("eval_names_zh_heldout.csv", "held-out")):
        ev = pl.read_csv(EVAL_DIR / f, infer_schema=False)
        res = screen_names(ev["name"].to_list())
        m = _accuracy(ev, res["verdict"].to_list(), res["substance_cas"].to_list())
        rows.append((f"Chinese {label} set: listed / analogue / look-alikes flagged",
                     f"{m['listed']:.3f} / {m['analogue']:.3f} / {m['negatives_flagged']:.3f}",
                     "-", ">= 0.95 / >= 0.90 / <= 0.05"))  # fmt: skip
    return rows


def _eval_frame() -> pl.DataFrame:
    frames = [
        pl.read_csv(EVAL_DIR / f, infer_schema=False).with_columns(set=pl.lit(label))
        for f, label in (("eval_names.csv", "seen"), ("eval_names_heldout.csv", "held-out"))
    ]
    return pl.concat(frames)


def _accuracy(df: pl.DataFrame, verdict: list[str], cas: list[str | None]) -> dict[str, float]:
    d = df.with_columns(verdict=pl.Series(verdict), got=pl.Series(cas, dtype=pl.String))
    listed = d.filter(pl.col("expected_verdict") == "controlled")
    ok_listed = (listed["verdict"] == "controlled") & (listed["got"] == listed["expected_cas"])
    an = d.filter(pl.col("expected_verdict") == "analogue")
    neg = d.filter(pl.col("expected_verdict") == "clear")
    return {
        "listed": float(ok_listed.fill_null(False).mean() or 0.0),
        "analogue": float((an["verdict"] == "analogue").mean() or 0.0),
        "analogue_flagged": float((an["verdict"] != "clear").mean() or 0.0),
        "negatives_flagged": float((neg["verdict"] != "clear").mean() or 0.0),
    }


def baseline_synonyms() -> tuple[list[str], list[str]]:
    """The same synonym list the screen indexes: every name form with its substance's CAS."""
    names, cas = [], []
    for sub in load_watchlist():
        for name, _ in sub.all_names():
            names.append(name)
            cas.append(sub.cas)
    return names, cas


def baseline_screen(queries: list[str], cutoff: float = 85.0) -> tuple[list[str], list[str | None]]:
    """The plain baseline: extractOne with WRatio per name, controlled above `cutoff`."""
    names, cas = baseline_synonyms()
    verdicts: list[str] = []
    got: list[str | None] = []
    for q in queries:
        hit = process.extractOne(q, names, scorer=fuzz.WRatio, score_cutoff=cutoff)
        if hit is None:
            verdicts.append("clear")
            got.append(None)
        else:
            verdicts.append("controlled")
            got.append(cas[hit[2]])
    return verdicts, got


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the OPSIN JVMs)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    n_distinct, n_rows, n_sys = (
        (5_000, 100_000, 1_000) if args.quick else (50_000, 1_000_000, 5_000)
    )

    descriptions = generate_descriptions(n_distinct, args.seed)
    systematic = generate_systematic(n_sys, args.seed + 1)
    lexical_only = dataclasses.replace(ScreenConfig(), structure=False)
    screen_names(["warm-up", "ANPP"], config=lexical_only)  # build the indexes once

    c0, t0 = _cpu(), time.perf_counter()
    lex = screen_names(descriptions, config=lexical_only)
    t_lex, c_lex = time.perf_counter() - t0, _cpu() - c0

    structure_mod.structure_layer_status()  # Java probe outside the timing
    structure_mod._OPSIN_CACHE.clear()
    c0, t0 = _cpu(), time.perf_counter()
    st = screen_names(systematic)
    t_struct, c_struct = time.perf_counter() - t0, _cpu() - c0
    parsed = int(st["smiles"].is_not_null().sum())
    skipped = int(st["explanation"].str.contains("names no piperidine ring").sum())

    rng = random.Random(args.seed + 2)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n_distinct)]
    rows = rng.choices(descriptions, weights=weights, k=n_rows)
    # Every distinct description appears at least once.
    rows[:n_distinct] = descriptions
    feed = pl.DataFrame({"product": rows, "cas": [None] * n_rows, "hs_code": [None] * n_rows})
    structure_mod._OPSIN_CACHE.clear()
    c0, t0 = _cpu(), time.perf_counter()
    verdicts = screen_frame(feed)
    joined = feed.join(verdicts, on=["product", "cas", "hs_code"], how="left", nulls_equal=True)
    t_feed, c_feed = time.perf_counter() - t0, _cpu() - c0
    assert joined.height == n_rows

    t0 = time.perf_counter()
    baseline_screen(descriptions)
    t_base = time.perf_counter() - t0

    ev = _eval_frame()
    res = screen_names(ev["name"].to_list())
    ours = _accuracy(ev, res["verdict"].to_list(), res["substance_cas"].to_list())
    bv, bc = baseline_screen(ev["name"].to_list())
    base = _accuracy(ev, bv, bc)
    per_set = {}
    for label in ("seen", "held-out"):
        mask = (ev["set"] == label).to_list()
        sub = ev.filter(pl.Series(mask))
        r = res.filter(pl.Series(mask))
        per_set[label] = _accuracy(sub, r["verdict"].to_list(), r["substance_cas"].to_list())

    n_flag = int((lex["verdict"] != "clear").sum())
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()}; seed {args.seed}"
        f"{' (quick)' if args.quick else ''}; load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        "The wall column divides by elapsed time; the CPU column by the CPU seconds this "
        "process and its OPSIN JVMs used (steadier when other work shares the CPUs).\n"
    )
    sent = n_sys - skipped
    table = [
        ("figure", "wall", "per CPU-second", "target"),
        ("---", "---", "---", "---"),
        (
            f"lexical layers, distinct descriptions/s ({n_distinct:,}; {n_flag:,} flagged)",
            f"{n_distinct / t_lex:,.0f}",
            f"{n_distinct / c_lex:,.0f}",
            ">= 50,000",
        ),
        (
            f"structure layer, systematic names/s ({n_sys:,}: {sent:,} name a piperidine ring "
            f"and go to OPSIN, {parsed:,} parsed; cold cache)",
            f"{n_sys / t_struct:,.0f}",
            f"{n_sys / c_struct:,.0f}",
            ">= 500",
        ),
        (
            "structure layer, names sent to OPSIN/s",
            f"{sent / t_struct:,.0f}",
            f"{sent / c_struct:,.0f}",
            "-",
        ),
        (
            f"feed of {n_rows:,} rows / {n_distinct:,} distinct, screen + join back",
            f"{t_feed:.1f} s",
            f"{c_feed:.1f} CPU-s",
            "< 30 s",
        ),
        (
            "baseline extractOne(WRatio) loop, descriptions/s",
            f"{n_distinct / t_base:,.0f}",
            "-",
            "-",
        ),
        (
            "layered: listed recall, right substance (seen + held-out)",
            f"{ours['listed']:.3f}",
            "-",
            ">= 0.98",
        ),
        ("baseline: listed recall, right substance", f"{base['listed']:.3f}", "-", "-"),
        ("layered: analogue recall", f"{ours['analogue']:.3f}", "-", ">= 0.90"),
        ("baseline: analogues flagged at all", f"{base['analogue_flagged']:.3f}", "-", "-"),
        ("layered: hard negatives flagged", f"{ours['negatives_flagged']:.3f}", "-", "<= 0.05"),
        ("baseline: hard negatives flagged", f"{base['negatives_flagged']:.3f}", "-", "-"),
    ]
    for label, m in per_set.items():
        table.append(
            (
                f"layered, {label} set: listed / analogue / negatives flagged",
                f"{m['listed']:.3f} / {m['analogue']:.3f} / {m['negatives_flagged']:.3f}",
                "-",
                "-",
            )
        )
    table += chinese_figures(2_000 if args.quick else 10_000, args.seed + 3)
    for row in table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
