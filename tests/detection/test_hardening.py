"""Issue #18 on the detection side: one stored row never stops or moves detection, ties are
broken by a stated key, absurd thresholds are refused. Each test failed before its fix."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from detection.config import with_overrides
from detection.detectors import DETECTORS
from detection.run import configs, detect, prepare_for, unjudged
from tests.detection.test_detectors import (
    NPP,
    _mirrored,
    decl,
    decls,
    fake_screener,
    frame,
    monthly,
    ship,
)

pytestmark = pytest.mark.reliability


def _detect(rows: list[dict[str, Any]], d: pl.DataFrame | None = None) -> pl.DataFrame:
    return detect(frame(rows), decls() if d is None else d, screener=fake_screener)


@pytest.mark.parametrize(
    "quantity", [float("inf"), float("1e309"), 1e30, 1e23, -5.0, float("nan")], ids=str
)
def test_one_absurd_quantity_does_not_stop_detection(quantity: float) -> None:
    """`conversion from f64 to i64 failed in column 'ratio_annual'` stopped every run."""
    rows = [*monthly(8, kg=30.0), ship(60, 100, quantity)]
    d = decls(decl("F1", kg=100.0, year=2024), decl("F2", kg=10_000.0))
    out = _detect(rows, d)
    # The other records are still judged: 8 x ~31 kg against 100 kg declared.
    assert "declared_quantity_exceeded" in out["detector"].to_list()
    assert out["score"].is_between(0, 100).all()
    ctx = prepare_for(frame(rows), d, screener=fake_screener)
    why = unjudged(ctx)
    if quantity >= 0 and quantity <= 1e9:  # pragma: no cover - every case here is absurd
        return
    if quantity != quantity:  # NaN reads as a missing quantity, judged by nothing that needs it
        return
    hit = why.filter(pl.col("reason").str.contains("quantity"))
    assert hit["records"].to_list() == [1] and hit["examples"].to_list() == [["S60"]]


def test_a_declaration_of_almost_nothing_is_a_number_in_words() -> None:
    d = decls(decl("F1", kg=1e-6, year=2024), decl("F2", kg=10_000.0))
    out = _detect([ship(1, 5, 9e8)], d)
    s = out.filter(pl.col("detector") == "declared_quantity_exceeded")["summary"][0]
    assert "more than 1000000% of the declaration" in s


@pytest.mark.parametrize("bad", [dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(1989, 12, 31)])
def test_an_implausible_date_does_not_move_the_reference_date(bad: dt.date) -> None:
    """A record dated 9999-12-31 made every recent export 'never arrived' (15 false alerts)."""
    recent = [ship(200 + k, 300 + k, 10.0, consignment_ref=f"N{k}") for k in range(3)]
    rows = [*_mirrored(15), *recent, ship(300, 0, 10.0, date=bad)]
    ctx = prepare_for(frame(rows), decls(), screener=fake_screener)
    assert ctx.as_of == dt.date(2024, 1, 1) + dt.timedelta(days=302)
    assert "latest plausibly dated record" in ctx.as_of_note
    dated = unjudged(ctx).filter(pl.col("scope") == "every detector")
    assert dated["records"].to_list() == [1] and dated["examples"].to_list() == [["S300"]]
    out = _detect(rows)
    assert "export_never_arrived" not in out["detector"].to_list()


def _tied_party() -> list[dict[str, Any]]:
    """An undeclared exporter with exactly as much 4-AP as NPP: a tie on every count."""
    kw = {"exporter": "Nowhere Trading Ltd", "exporter_norm": None, "exporter_facility_id": None}
    return [
        *[ship(i, 10 * i, 20.0, **kw) for i in range(1, 4)],
        *[ship(10 + i, 10 * i + 3, 20.0, cas=NPP, product="NPP", **kw) for i in range(1, 4)],
    ]


def test_two_runs_and_any_row_order_give_the_same_alerts() -> None:
    """`undeclared_party` named 4-AP or NPP at random (a mode over tied values)."""
    base = frame(_tied_party())
    runs = []
    for seed in range(8):
        rows = base if seed == 0 else base.sample(fraction=1.0, shuffle=True, seed=seed)
        for _ in range(2):
            runs.append(detect(rows, decls(), screener=fake_screener).sort("detector", "key"))
    party = runs[0].filter(pl.col("detector") == "undeclared_party")
    assert party.height == 1
    # The tie is broken by the CAS number: 23056-29-3 (4-AP) before 39742-60-4 (NPP).
    assert party["substance_cas"][0] == "23056-29-3"
    for other in runs[1:]:
        assert other.to_dicts() == runs[0].to_dicts()


ABSURD = [
    ("outlier", {"n_estimators": 0}, "n_estimators of OutlierConfig must be at least 1"),
    ("shipment_burst", {"window_days": 0}, "window_days of BurstConfig must be at least 1"),
    ("split_series", {"window_days": -3}, "must be at least 1, not -3"),
    ("mirror_quantity_gap", {"tolerance": -0.1}, "tolerance of MirrorGapConfig must be at least 0"),
    ("mirror_quantity_gap", {"match_window_days": 0}, "match_window_days"),
    ("export_never_arrived", {"grace_days": -1}, "grace_days"),
    ("export_never_arrived", {"min_reporting_coverage": 1.5}, "at most 1"),
    ("unusual_shipment_size", {"min_robust_z": float("nan")}, "a finite number"),
    ("unusual_shipment_size", {"min_ratio": "three"}, "must be a float, not 'three'"),
    ("shipment_burst", {"min_count": 2.5}, "must be a int, not 2.5"),
    ("split_series", {"max_tail_probability": 0}, "greater than 0"),
    ("export_never_arrived", {"raise_lone": "perhaps"}, "must be a bool"),
    ("severity", {"high_from": 95}, "severity bands must rise"),
    ("no_such_detector", {"x": 1}, "unknown detector 'no_such_detector'"),
    ("value_mismatch", {"no_such": 1}, "unknown threshold 'no_such'"),
]


@pytest.mark.parametrize(
    ("detector", "values", "message"), ABSURD, ids=[f"{a}-{next(iter(b))}" for a, b, _ in ABSURD]
)
def test_absurd_thresholds_are_refused_with_a_clear_message(
    detector: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=None) as err:
        configs({detector: values})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_every_threshold_has_a_range_and_its_default_lies_in_it() -> None:
    for name, cfg in configs().items():
        for f in cfg.__dataclass_fields__.values():
            with_overrides(cfg, {f.name: getattr(cfg, f.name)})  # the default is accepted
            assert f.metadata.get("description"), (name, f.name)


def test_the_shared_settings_are_listed_for_the_console() -> None:
    assert {"outlier", "severity", "data_quality", "entities"} <= set(configs())
    assert {d.name for d in DETECTORS} <= set(configs())


def test_the_console_refuses_an_absurd_threshold_and_keeps_the_old_one(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """The console saves thresholds through registry.service; it stored n_estimators=0,
    after which every `pwatch detect` failed."""
    from sqlalchemy import select

    from registry.db import session_scope
    from registry.errors import RegistryError
    from registry.models import DetectorSetting, User
    from registry.service import set_detector_setting
    from registry.users import add_user

    with session_scope(sqlite_engine) as s:
        add_user(s, "sam", "supervisor", "correct horse battery")
    with session_scope(sqlite_engine) as s:
        sup = s.scalars(select(User).where(User.username == "sam")).one()
        set_detector_setting(s, sup, "outlier", {"n_estimators": 50})
    with session_scope(sqlite_engine) as s:
        sup = s.scalars(select(User).where(User.username == "sam")).one()
        with pytest.raises(RegistryError, match="n_estimators of OutlierConfig must be at least 1"):
            set_detector_setting(s, sup, "outlier", {"n_estimators": 0})
    with session_scope(sqlite_engine) as s:
        saved = s.scalars(select(DetectorSetting.values)).all()
    assert saved == [{"n_estimators": 50}]
