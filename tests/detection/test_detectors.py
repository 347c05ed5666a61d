"""Each detector fires where it should and stays silent where it should (tiny factory frames)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from detection.config import describe, with_overrides
from detection.detectors import DETECTORS
from detection.prepare import prepare
from detection.run import detect, run_detectors
from detection.schema import ALERT_SCHEMA, DECLARATION_SCHEMA, SHIPMENT_SCHEMA

FOUR_AP = "23056-29-3"
NPP = "39742-60-4"
D0 = dt.date(2024, 1, 1)


def fake_screener(pairs: pl.DataFrame) -> pl.DataFrame:
    """Listed by CAS or by the plain names below; 'N-Cbz' names are analogues."""
    names = {"4-anilinopiperidine": FOUR_AP, "npp": NPP}

    def one(product: str, cas: str | None) -> tuple[str, str | None, str]:
        if cas in (FOUR_AP, NPP):
            return "controlled", cas, "cas"
        p = (product or "").casefold()
        if p in names:
            return "controlled", names[p], "exact"
        if p == "n-phenylpiperidin-4-amine":  # a systematic name only the structure layer reads
            return "controlled", FOUR_AP, "structure"
        if p.startswith("n-cbz"):
            return "analogue", "41661-47-6", "scaffold"
        return "clear", None, "none"

    rows = [one(p, c) for p, c in zip(pairs["product"], pairs["cas"], strict=True)]
    return pairs.with_columns(
        pl.Series("verdict", [r[0] for r in rows], dtype=pl.String),
        pl.Series("substance_cas", [r[1] for r in rows], dtype=pl.String),
        pl.lit(None, dtype=pl.String).alias("substance_name"),
        pl.lit(100.0).alias("score"),
        pl.Series("method", [r[2] for r in rows], dtype=pl.String),
        pl.lit("").alias("explanation"),
    )


def ship(i: int, day: int, kg: float, **kw: Any) -> dict[str, Any]:
    """One shipment record; defaults: export of 4-AP from declared F1 (CHN) to declared F2 (USA)."""
    row: dict[str, Any] = {
        "id": i,
        "source": "test",
        "shipment_id": f"S{i}",
        "date": D0 + dt.timedelta(days=day),
        "exporter": "Alpha Chem Co., Ltd.",
        "exporter_norm": "ALPHA CHEM",
        "exporter_country": "CHN",
        "importer": "Beta Pharma Inc.",
        "importer_norm": "BETA PHARMA",
        "importer_country": "USA",
        "product": "4-Anilinopiperidine",
        "cas": FOUR_AP,
        "hs_code": "2933.39",
        "quantity_kg": kg,
        "flow": "X",
        "consignment_ref": None,
        "transit_countries": None,
        "exporter_facility_id": "F1",
        "importer_facility_id": "F2",
        "batch_id": 1,
    }
    row.update(kw)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=SHIPMENT_SCHEMA) if rows else pl.DataFrame(schema=SHIPMENT_SCHEMA)
    )


def decl(
    fac: str = "F1", cas: str = FOUR_AP, kg: float = 10_000.0, year: int | None = None
) -> dict[str, Any]:
    return {
        "facility_id": fac, "name": fac, "name_norm": fac, "country": "CHN", "activity": "trade",
        "substance": "4-AP", "substance_cas": cas, "declared_annual_kg": kg, "declaration_year": year,
    }  # fmt: skip


def decls(*rows: dict[str, Any]) -> pl.DataFrame:
    base = [decl("F1"), decl("F2")] if not rows else list(rows)
    return pl.DataFrame(base, schema=DECLARATION_SCHEMA)


def run(
    name: str,
    rows: list[dict[str, Any]],
    declarations: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    ctx = prepare(
        frame(rows),
        decls() if declarations is None else declarations,
        as_of=as_of,
        screener=fake_screener,
    )
    det = tuple(d for d in DETECTORS if d.name == name)
    return run_detectors(ctx, detectors=det)


def monthly(
    n: int = 20, kg: float = 10.0, start: int = 0, gap: int = 30, first_id: int = 1
) -> list[dict[str, Any]]:
    return [ship(first_id + k, start + gap * k, kg * (1 + 0.05 * (k % 3))) for k in range(n)]


# ----------------------------------------------------------------- table of cases


def _mirrored(n: int, kg: float = 10.0) -> list[dict[str, Any]]:
    """`n` consignments every 10 days, each with its export and its import record."""
    return [
        r
        for k in range(n)
        for r in (
            ship(2 * k + 1, 10 * k, kg, consignment_ref=f"R{k}"),
            ship(2 * k + 2, 10 * k + 5, kg, flow="M", consignment_ref=f"R{k}"),
        )
    ]


ACETONE = ship(100, 400, 1.0, product="Acetone", cas="67-64-1")

Case = tuple[str, Callable[[], list[dict[str, Any]]], Callable[[], pl.DataFrame] | None, bool]

CASES: dict[str, Case] = {
    "declared exceeded in a year": (
        "declared_quantity_exceeded",
        lambda: [ship(i, 30 * i, 50.0) for i in range(1, 4)],
        lambda: decls(decl("F1", kg=100.0, year=2024), decl("F2", kg=1000.0)),
        True,
    ),
    "within the declaration": (
        "declared_quantity_exceeded",
        lambda: [ship(i, 30 * i, 50.0) for i in range(1, 4)],
        lambda: decls(decl("F1", kg=200.0, year=2024), decl("F2", kg=1000.0)),
        False,
    ),
    "substance with no declaration": (
        "declared_quantity_exceeded",
        lambda: [ship(1, 10, 50.0)],
        lambda: decls(decl("F1", cas=NPP, kg=100.0), decl("F2", kg=1000.0)),
        True,
    ),
    "one shipment far above the relation": (
        "unusual_shipment_size",
        lambda: [*monthly(10), ship(99, 400, 120.0)],
        None,
        True,
    ),
    "a larger order within normal spread": (
        "unusual_shipment_size",
        lambda: [*monthly(10), ship(99, 400, 18.0)],
        None,
        False,
    ),
    "burst against a monthly cadence": (
        "shipment_burst",
        lambda: [*monthly(20), *[ship(100 + k, 200 + 2 * k, 10.0) for k in range(7)]],
        None,
        True,
    ),
    "steady monthly cadence": ("shipment_burst", lambda: monthly(24), None, False),
    "series of small orders in a week": (
        "split_series",
        lambda: [*monthly(20, kg=100.0), *[ship(100 + k, 200 + k, 70.0) for k in range(5)]],
        None,
        True,
    ),
    "no series": ("split_series", lambda: monthly(20, kg=100.0), None, False),
    "listed substance exported by an undeclared party": (
        "undeclared_party",
        lambda: [ship(1, 5, 20.0, exporter_facility_id=None, exporter_norm="GAMMA TRADING")],
        None,
        True,
    ),
    "declared parties only": ("undeclared_party", lambda: [ship(1, 5, 20.0)], None, False),
    "benign chemical by an undeclared party": (
        "undeclared_party",
        lambda: [ship(1, 5, 20.0, exporter_facility_id=None, product="Acetone", cas="67-64-1")],
        None,
        False,
    ),
    "importer recorded much less": (
        "mirror_quantity_gap",
        lambda: [
            ship(1, 5, 100.0, consignment_ref="R1"),
            ship(2, 12, 60.0, flow="M", consignment_ref="R1"),
        ],
        None,
        True,
    ),
    "mirror within tolerance": (
        "mirror_quantity_gap",
        lambda: [
            ship(1, 5, 100.0, consignment_ref="R1"),
            ship(2, 12, 98.0, flow="M", consignment_ref="R1"),
        ],
        None,
        False,
    ),
    "mirror paired without a reference": (
        "mirror_quantity_gap",
        lambda: [ship(1, 5, 100.0), ship(2, 12, 50.0, flow="M", importer="BETA PHARMA INC")],
        None,
        True,
    ),
    "export to a reporting country never arrived, ten times the usual size": (
        "export_never_arrived",
        lambda: [*_mirrored(15), ship(99, 100, 100.0, consignment_ref="LOST"), ACETONE],
        None,
        True,
    ),
    "export never arrived at an undeclared importer": (
        "export_never_arrived",
        lambda: [
            *_mirrored(15),
            ship(
                99,
                100,
                10.0,
                consignment_ref="LOST",
                importer="Nowhere SA",
                importer_norm="NOWHERE",
                importer_facility_id=None,
            ),
            ACETONE,
        ],
        None,
        True,
    ),
    "a lone missing import record, nothing corroborating (counted, not raised)": (
        "export_never_arrived",
        lambda: [*_mirrored(15), ship(99, 100, 10.0, consignment_ref="LOST"), ACETONE],
        None,
        False,
    ),
    "exports to a country that never reports imports": (
        "export_never_arrived",
        lambda: [ship(k, 10 * k, 10.0, importer_country="GTM") for k in range(1, 20)],
        None,
        False,
    ),
    "listed CAS under an obfuscated name: the CAS discloses it": (
        "masked_listed_substance",
        lambda: [ship(1, 5, 20.0, product="Pharmaceutical intermediate")],
        None,
        False,
    ),
    "a description the feed uses for other goods too, with a listed CAS": (
        "masked_listed_substance",
        lambda: [
            ship(1, 5, 20.0, product="Pharmaceutical intermediate"),
            ship(2, 9, 20.0, product="Pharmaceutical intermediate", cas="67-64-1"),
        ],
        None,
        True,
    ),
    "a text the feed ties to one listed substance (its CAS every time)": (
        "masked_listed_substance",
        lambda: [
            *[ship(k, 5 * k, 20.0, product="Norphentanyl") for k in range(1, 4)],
            ship(9, 50, 20.0, product="Norphentanyl", cas=None),
        ],
        None,
        False,
    ),
    "a rare chemist's name without CAS from an exporter that names it openly": (
        "masked_listed_substance",
        lambda: [
            *monthly(60, gap=7),
            ship(99, 300, 10.0, product="N-phenylpiperidin-4-amine", cas=None),
        ],
        None,
        True,
    ),
    "a chemist's name common in the feed (a catalogue name)": (
        "masked_listed_substance",
        lambda: [
            *monthly(60, gap=7),
            ship(99, 300, 10.0, product="N-phenylpiperidin-4-amine", cas=None),
            *[
                ship(
                    90 + k,
                    300 + k,
                    10.0,
                    product="N-phenylpiperidin-4-amine",
                    cas=None,
                    exporter=f"Exporter {k}",
                    exporter_norm=None,
                    exporter_facility_id=f"E{k}",
                )
                for k in range(4)
            ],
        ],
        None,
        False,
    ),
    "listed substance under its own name": (
        "masked_listed_substance",
        lambda: [ship(1, 5, 20.0)],
        None,
        False,
    ),
    "designer precursor": (
        "designer_analogue",
        lambda: [ship(1, 5, 20.0, product="N-Cbz-4-piperidone", cas=None)],
        None,
        True,
    ),
    "benign chemical": (
        "designer_analogue",
        lambda: [ship(1, 5, 20.0, product="Acetone", cas=None)],
        None,
        False,
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_detector_table(case: str) -> None:
    name, rows, declarations, fires = CASES[case]
    alerts = run(name, rows(), declarations() if declarations else None)
    assert (alerts.height > 0) == fires, alerts.select("detector", "summary").to_dicts()
    for a in alerts.iter_rows(named=True):
        assert a["detector"] == name
        assert 0 <= a["score"] <= 100 and a["severity"] in ("low", "medium", "high", "critical")
        ev = json.loads(a["evidence"])
        assert ev["thresholds"] and ev["numbers"] is not None
        assert any(ch.isdigit() for ch in a["summary"])


def test_pace_within_the_year() -> None:
    rows = [ship(i, 366 + 20 * i, 15.0) for i in range(1, 7)]  # 90 kg by mid-2025
    d = decls(decl("F1", kg=100.0, year=2025), decl("F2", kg=1000.0))
    fired = run("declared_quantity_exceeded", rows, d, as_of=dt.date(2025, 6, 30))
    assert fired.height == 1 and "pro-rata" in fired["summary"][0]
    calm = run("declared_quantity_exceeded", rows[:2], d, as_of=dt.date(2025, 6, 30))
    assert calm.height == 0


def test_keys_do_not_depend_on_quantities() -> None:
    base = [*monthly(10), ship(99, 400, 120.0)]
    a = run("unusual_shipment_size", base)
    b = run("unusual_shipment_size", [*base[:-1], ship(99, 400, 150.0)])
    assert a["key"].to_list() == b["key"].to_list()


# ----------------------------------------------------------------- bad input


def _all(rows: list[dict[str, Any]], declarations: pl.DataFrame | None = None) -> pl.DataFrame:
    return detect(
        frame(rows), decls() if declarations is None else declarations, screener=fake_screener
    )


def test_empty_everything() -> None:
    out = _all([], pl.DataFrame(schema=DECLARATION_SCHEMA))
    assert out.height == 0 and out.schema == pl.Schema(ALERT_SCHEMA)


def test_facilities_but_no_shipments() -> None:
    assert _all([]).height == 0


def test_future_dates_zero_huge_and_missing_quantities() -> None:
    rows = [
        *monthly(8),
        ship(50, 3000, 10.0),  # years in the future
        ship(51, 100, 0.0),
        ship(52, 110, 1e12),
        ship(53, 120, float("nan")),
        ship(54, 130, None),  # type: ignore[arg-type]
    ]
    out = _all(rows)
    assert out.schema == pl.Schema(ALERT_SCHEMA)
    assert out["score"].is_between(0, 100).all()
    assert not out["summary"].str.contains("NaN").any()


def test_missing_columns_are_tolerated() -> None:
    out = detect(
        frame(monthly(5)).drop("consignment_ref", "exporter_norm"), decls(), screener=fake_screener
    )
    assert out.schema == pl.Schema(ALERT_SCHEMA)


# ----------------------------------------------------------------- configuration


def test_every_threshold_is_described_and_overridable() -> None:
    for d in DETECTORS:
        assert d.description, d.name
        for t in describe(d.config):
            assert t["description"], (d.name, t["name"])
    cfg = with_overrides(DETECTORS[1].config, {"min_ratio": "5"})
    assert cfg.min_ratio == 5.0
    with pytest.raises(ValueError):
        with_overrides(DETECTORS[1].config, {"no_such": 1})


def test_override_silences_a_detector() -> None:
    rows = [*monthly(10), ship(99, 400, 120.0)]
    ctx = prepare(frame(rows), decls(), screener=fake_screener)
    det = tuple(d for d in DETECTORS if d.name == "unusual_shipment_size")
    assert run_detectors(ctx, detectors=det).height == 1
    quiet = run_detectors(ctx, {"unusual_shipment_size": {"min_ratio": 50}}, detectors=det)
    assert quiet.height == 0


# ----------------------------------------------------------------- cadence regularity


def _cadence(gaps: list[int], n: int = 50) -> list[dict[str, Any]]:
    """`n` shipments of 100 kg, the gaps between them cycling through `gaps` (days)."""
    rows, day = [], 0
    for k in range(n):
        rows.append(ship(k + 1, day, 100.0))
        day += gaps[k % len(gaps)]
    return rows


# Four orders of 80 kg on four days: 3.2 times one usual shipment. Against a 12-day cadence
# a 7-day window expects 0.58 shipments; Poisson puts four at p = 0.003 (above 1e-3).
SERIES = [ship(500 + k, 304 + k, 80.0) for k in range(4)]


def _split(rows: list[dict[str, Any]], **overrides: Any) -> pl.DataFrame:
    ctx = prepare(frame(rows), decls(), screener=fake_screener)
    det = tuple(d for d in DETECTORS if d.name == "split_series")
    return run_detectors(ctx, {"split_series": overrides}, detectors=det)


def test_series_against_a_clockwork_cadence_fires() -> None:
    fired = _split([*_cadence([12]), *SERIES])
    assert fired.height == 1
    ev = json.loads(fired["evidence"][0])
    assert ev["numbers"]["regularity"] == 1.5 and ev["numbers"]["p"] <= 1e-3
    assert {500, 501, 502, 503} <= set(fired["shipment_pks"][0])
    # The same series under the Poisson assumption (regularity 1) is not evidence enough.
    assert _split([*_cadence([12]), *SERIES], max_regularity=1.0).height == 0


def test_series_against_an_irregular_cadence_stays_silent() -> None:
    # Gaps of 1, 3, 20 and 24 days (same 12-day mean): as irregular as chance, so Poisson.
    assert _split([*_cadence([1, 3, 20, 24]), *SERIES]).height == 0


def test_clockwork_cadence_without_a_series_stays_silent() -> None:
    assert _split(_cadence([12])).height == 0
    assert run("shipment_burst", _cadence([12])).height == 0


def test_renewal_tail_is_poisson_at_regularity_one() -> None:
    from scipy.stats import poisson

    from detection.detectors.cadence import _regularity, _renewal_tail

    k = np.array([1, 3, 4, 7])
    lam = np.array([0.5, 0.3, 0.58, 0.5])
    got = _renewal_tail(k, lam, np.ones(4))
    assert np.allclose(got, poisson.sf(k - 1, lam), rtol=1e-3)
    # More regular gaps make a cluster rarer, never commoner.
    assert (_renewal_tail(k[1:], lam[1:], np.full(3, 1.5)) < got[1:]).all()
    # Regularity: constant gaps hit the cap, chance-like gaps stay at 1, too few gaps -> 1.
    q = pl.Series
    reg = _regularity(q([12.0, 2.5, 12.0]), q([12.0, 11.5, 12.0]), q([12.0, 21.0, 12.0]), q([40, 40, 3]), 1.5, 8)  # fmt: skip
    assert reg.tolist() == [1.5, 1.0, 1.0]


def _shuffled_runs(rows: list[dict[str, Any]], seeds: range) -> list[pl.DataFrame]:
    """Every detector's alerts for the same records read in several row orders."""
    base = frame(rows)
    out = []
    for seed in seeds:
        order = base if seed == 0 else base.sample(fraction=1.0, shuffle=True, seed=seed)
        out.append(detect(order, decls(), screener=fake_screener).sort("detector", "key"))
    return out


def test_evidence_does_not_depend_on_row_order() -> None:
    """The database may return rows in any order (PostgreSQL does not keep insertion order):
    lists in the evidence (a designer analogue's products and importers, an undeclared
    party's counterparts) and every "first" value are the same whatever the order."""
    rows = []
    for i in range(12):  # one exporter, an analogue under 12 names to 12 importers
        rows.append(
            ship(i + 1, 10 * i, 5.0, product=f"N-Cbz variant {i:02d}", cas=None,
                 importer=f"Importer {i:02d} SA", importer_norm=f"IMPORTER {i:02d}",
                 importer_facility_id=None)
        )  # fmt: skip
    for i in range(12):  # an undeclared exporter with 12 counterparts
        rows.append(
            ship(100 + i, 5 * i, 20.0 + i, exporter="Nowhere Trading Ltd",
                 exporter_norm="NOWHERE TRADING", exporter_facility_id=None,
                 importer=f"Buyer {i:02d} Inc.", importer_norm=f"BUYER {i:02d}",
                 importer_facility_id=None)
        )  # fmt: skip
    runs = _shuffled_runs(rows, range(6))
    first = runs[0]
    ev = {
        d: json.loads(e)["numbers"]
        for d, e in first.select("detector", "evidence").iter_rows()
        if d in ("designer_analogue",)
    }
    assert ev["designer_analogue"]["products"] == [f"N-Cbz variant {i:02d}" for i in range(5)]
    assert ev["designer_analogue"]["importers"] == [f"Importer {i:02d} SA" for i in range(5)]
    party = first.filter(
        pl.col("detector") == "undeclared_party", pl.col("key").str.contains("(?i)nowhere")
    )
    cps = [json.loads(e)["numbers"]["counterparts"] for e in party["evidence"]]
    assert cps and all(c == sorted(c) and len(c) == 5 for c in cps)
    for other in runs[1:]:
        assert other.to_dicts() == first.to_dicts()


# ----------------------------------------------------------------- mirror pairing window


@pytest.mark.parametrize("lag", [0, 1, 59, 60, 61, 119])
def test_an_import_pairs_with_its_export_up_to_the_window_and_not_after(lag: int) -> None:
    """Pairing by parties and date looks only at imports 0..match_window_days (60) after the
    export, wherever the two dates fall in the calendar (the candidates are found by date
    buckets; a lag across a bucket boundary must pair exactly as one within a bucket)."""
    for start in (0, 17, 59, 60, 299):
        rows = [ship(1, start, 10.0), ship(2, start + lag, 10.0, flow="M")]
        ctx = prepare(
            frame(rows), decls(), as_of=D0 + dt.timedelta(days=900), screener=fake_screener
        )
        paired = ctx.pairs.select("x_id", "m_id").rows()
        assert paired == ([(1, 2)] if lag <= 60 else []), (start, lag)
