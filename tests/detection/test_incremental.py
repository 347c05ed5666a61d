"""Incremental detection: after new shipment batches it gives the alerts of a full run, and
it falls back to a full run whenever it cannot prove that safe."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

import ingest
from registry.db import init_db, make_engine, session_scope
from registry.detect_store import RunSummary, run_detection
from registry.models import AlertRow, AlertShipment, DetectionRun, DetectorSetting
from sample_data.generate import generate
from sample_data.registry_load import load_facilities, load_shipments


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return generate(5, 2500)


def _fresh(path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    return eng


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """More empty registries on the backend of `engine` (the test that both backends give
    the same alerts is test_sqlite_and_postgresql_give_the_same_alerts)."""
    from registry import db as registry_db
    from tests.conftest import create_pg_database, drop_pg_database

    made: list[tuple[str, Engine]] = []

    def make() -> Engine:
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'twin{len(made)}.db'}"
        else:
            url = create_pg_database()
        eng = make_engine(url)
        init_db(eng)
        made.append((url, eng))
        return eng

    yield make
    for url, eng in made:
        eng.dispose()
        if not url.startswith("sqlite"):
            for key in [k for k in registry_db._engines if k == url]:
                registry_db._engines.pop(key).dispose()
            drop_pg_database(url)


def _steps(ships: pl.DataFrame, cuts: tuple[int, ...] = (850, 930)) -> list[pl.DataFrame]:
    """Disjoint loads spread over the whole period (a seeded shuffle by id); the latest record
    is in the first, so later loads fill in the period and the reference date stays put."""
    latest = ships["date"].max()
    u = ships.with_columns(((pl.col("id") * 2654435761) % 1000).alias("_u"))
    first = (pl.col("_u") < cuts[0]) | (pl.col("date") == latest)
    out = [u.filter(first)]
    lo = cuts[0]
    for hi in (*cuts[1:], 1000):
        out.append(u.filter(~first, pl.col("_u") >= lo, pl.col("_u") < hi))
        lo = hi
    return [f.drop("_u") for f in out]


def _forward_steps(
    ships: pl.DataFrame,
    cuts: tuple[str, ...] = ("2024-12-20", "2025-01-10", "2025-09-10"),
    late: int = 990,
) -> list[pl.DataFrame]:
    """Loads as a feed that moves forward in time: each batch dated after the one before
    (so the reference date moves each time, across a year end once), and the last one also
    brings a few late records from anywhere in the period (a seeded 1%)."""
    u = ships.with_columns(((pl.col("id") * 2654435761) % 1000).alias("_u"))
    bounds = [dt.date.fromisoformat(c) for c in cuts]
    stragglers = pl.col("_u") >= late
    out = []
    lo: dt.date | None = None
    for hi in (*bounds, None):
        since = pl.lit(True) if lo is None else pl.col("date") >= lo
        last = hi is None  # the last batch also brings the stragglers
        out.append(
            u.filter(since | stragglers if last else since & (pl.col("date") < hi) & ~stragglers)
        )
        lo = hi
    return [f.drop("_u") for f in out]


def _state(eng: Engine) -> pl.DataFrame:
    """Every stored alert with what detection owns plus its triage status and version."""
    with session_scope(eng) as s:
        rows = s.execute(
            select(
                AlertRow.fingerprint,
                AlertRow.detector,
                AlertRow.score,
                AlertRow.severity,
                AlertRow.summary,
                AlertRow.evidence,
                AlertRow.status,
                AlertRow.version,
                AlertRow.id,
            )
        ).all()
        links = s.execute(select(AlertShipment.alert_id, AlertShipment.shipment_pk)).all()
    lk: dict[int, list[int]] = {}
    for a, p in links:
        lk.setdefault(a, []).append(p)
    return pl.DataFrame(
        [
            {
                "fingerprint": f,
                "detector": d,
                "score": sc,
                "severity": sv,
                "summary": su,
                "evidence": json.dumps(ev, sort_keys=True),
                "status": st,
                "version": v,
                "links": sorted(lk.get(i, [])),
            }
            for f, d, sc, sv, su, ev, st, v, i in rows
        ]
    ).sort("fingerprint")


def _run_row(eng: Engine, run_id: int) -> DetectionRun:
    with session_scope(eng) as s:
        run = s.get(DetectionRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


@pytest.mark.parametrize("feed", ["spread", "forward"])
def test_incremental_steps_give_the_alerts_of_full_runs(
    engine: Engine, twins: Callable[[], Engine], sample, feed: str
) -> None:
    ships = sample.registry_shipments.sort("id")
    steps = _steps(ships) if feed == "spread" else _forward_steps(ships)
    assert all(s.height for s in steps)
    assert pl.concat(steps)["id"].sort().to_list() == ships["id"].to_list()
    full = twins()  # the same loads, detected in full each time
    load_facilities(engine, sample)
    load_facilities(full, sample)
    runs: list[RunSummary] = []
    for i, part in enumerate(steps):
        load_shipments(engine, part)
        load_shipments(full, part)
        runs.append(run_detection(engine))
        assert run_detection(full, full=True).mode == "full"
        if i == 0:
            # Triage state survives incremental runs.
            with session_scope(engine) as s:
                aid = s.execute(select(AlertRow.id).order_by(AlertRow.id).limit(1)).scalar_one()
                s.execute(
                    update(AlertRow)
                    .where(AlertRow.id == aid)
                    .values(status="escalated", assignee="omar")
                )
            with session_scope(full) as s:
                s.execute(
                    update(AlertRow)
                    .where(AlertRow.id == aid)
                    .values(status="escalated", assignee="omar")
                )
        # The same alerts as full runs after the same loads: content, links, triage, versions.
        a, b = _state(engine), _state(full)
        assert a.height == b.height
        assert a.to_dicts() == b.to_dicts(), f"step {i}"
    assert runs[0].mode == "full" and "no earlier" in runs[0].reason
    as_ofs = [_run_row(engine, r.run_id).config["_incremental"]["as_of"] for r in runs]
    if feed == "spread":
        assert len(set(as_ofs)) == 1
    else:  # the reference date moved with every batch, once across a year end
        assert as_ofs == sorted(set(as_ofs)) and as_ofs[1][:4] == "2025" > as_ofs[0][:4]
    for i, r in enumerate(runs[1:], start=1):
        assert r.mode == "incremental", r.reason
        row = _run_row(engine, r.run_id)
        assert row.mode == "incremental"
        scope = row.config["_scope"]
        moved = scope["as_of_moved"]
        if feed == "spread":
            assert moved is None
        else:
            assert "reference date moved" in r.reason, r.reason
            assert moved["from"] == as_ofs[i - 1] and moved["to"] == as_ofs[i]
            assert moved["years"] == list(range(int(as_ofs[i - 1][:4]), int(as_ofs[i][:4]) + 1))
        assert scope["records"] == sum(s.height for s in steps[: i + 1])
        assert scope["new_records"] == steps[i].height
        assert 0 < scope["new_records"] <= scope["affected_records"] == row.shipments_seen
        assert row.shipments_seen < scope["records"]  # fewer records reconsidered than loaded
        for name in ("declared_quantity_exceeded", "undeclared_party", "masked_listed_substance"):
            d = scope["detectors"][name]
            assert d["scope"] == "affected keys"
        assert scope["detectors"]["masked_listed_substance"]["input_rows"] < scope["records"]
    # And the same alerts as one full run over everything on a fresh database.
    once = twins()
    load_facilities(once, sample)
    load_shipments(once, pl.concat(steps))
    run_detection(once)
    a, c = _state(engine), _state(once)
    joined = c.join(a, on="fingerprint", how="left", suffix="_inc")
    assert joined["score_inc"].null_count() == 0
    for col in ("detector", "score", "severity", "summary", "evidence", "links"):
        assert joined[col].to_list() == joined[f"{col}_inc"].to_list(), col
    with session_scope(engine) as s:
        row = s.get(AlertRow, aid)
        assert row is not None and (row.status, row.assignee) == ("escalated", "omar")


def test_rerun_without_new_records_is_incremental_and_changes_nothing(
    sample, tmp_path: Path
) -> None:
    eng = _fresh(tmp_path / "a.db")
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    first = run_detection(eng)
    before = _state(eng)
    again = run_detection(eng)
    assert again.mode == "incremental" and again.new == 0 and again.updated == 0
    assert _run_row(eng, again.run_id).shipments_seen == 0
    assert _state(eng).to_dicts() == before.to_dicts()
    assert first.mode == "full"
    # A threshold change makes the next run full, and it applies the new threshold.
    with session_scope(eng) as s:
        s.add(
            DetectorSetting(
                detector="undeclared_party", values={"min_total_kg": 50.0}, updated_by="boss"
            )
        )
    changed = run_detection(eng)
    assert changed.mode == "full" and "thresholds" in changed.reason
    assert run_detection(eng).mode == "incremental"
    forced = run_detection(eng, full=True)
    assert forced.mode == "full" and forced.reason == "full run requested"
    assert _run_row(eng, forced.run_id).mode == "full"


FACILITIES = """facility_id,name,country,activity,substance,cas,declared_annual_kg,declaration_year
F1,Declared Chem GmbH,DEU,trade,ANPP,21409-26-7,1000,2025
F2,Other Chem BV,NLD,trade,NPP,40064-34-4,500,2025
"""

MORE_FACILITIES = """facility_id,name,country,activity,substance,cas,declared_annual_kg,declaration_year
F3,Third Chem AG,CHE,trade,ANPP,21409-26-7,200,2025
"""


def _feed(path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    lines = [
        "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit,flow"
    ]
    for sid, date, exporter, kg in rows:
        lines.append(f"{sid},{date},{exporter},DEU,Somebody SA,MEX,ANPP,{kg},kg,X")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_facility_batch_forces_a_full_run_and_later_records_do_not(
    engine: Engine, tmp_path: Path
) -> None:
    fac = tmp_path / "facilities.csv"
    fac.write_text(FACILITIES, encoding="utf-8")
    ingest.load_file(engine, fac, "facilities")
    first = [(f"S{i}", f"2025-0{i + 1}-10", "Declared Chem GmbH", 300) for i in range(6)]
    ingest.load_file(engine, _feed(tmp_path / "a.csv", first), "shipments")
    assert run_detection(engine).mode == "full"
    # Records inside the known period: incremental.
    ingest.load_file(
        engine,
        _feed(tmp_path / "b.csv", [("T1", "2025-02-11", "Nowhere Trading Ltd", 40)]),
        "shipments",
    )
    inc = run_detection(engine)
    assert inc.mode == "incremental", inc.reason
    assert inc.per_detector["undeclared_party"]["new"] == 1
    # A facilities batch (it may relink old records): full.
    more = tmp_path / "more.csv"
    more.write_text(MORE_FACILITIES, encoding="utf-8")
    ingest.load_file(engine, more, "facilities")
    after = run_detection(engine)
    assert after.mode == "full" and "facilities batch" in after.reason, after.reason
    # Records later than the latest one move the reference date: still incremental, and
    # the facilities whose pro-rata pace moved are reconsidered with it.
    ingest.load_file(
        engine,
        _feed(tmp_path / "c.csv", [("U1", "2025-08-01", "Nowhere Trading Ltd", 10)]),
        "shipments",
    )
    later = run_detection(engine)
    assert later.mode == "incremental", later.reason
    assert "reference date moved from 2025-06-10 to 2025-08-01" in later.reason, later.reason
    assert "(1 more facilities" in later.reason, later.reason  # F1, whose pace moved
    # F1's alert (its share of 2025 elapsed) was refreshed: a full run changes nothing.
    assert later.per_detector["declared_quantity_exceeded"]["updated"] == 1
    check = run_detection(engine, full=True)
    assert (check.new, check.updated) == (0, 0), check.per_detector
    assert run_detection(engine).mode == "incremental"


def test_cli_reports_the_mode_and_full_forces_it(sample, tmp_path: Path) -> None:
    from ui.cli import app

    path = tmp_path / "cli.db"
    eng = _fresh(path)
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    url = f"sqlite:///{path}"
    runner = CliRunner()
    r = runner.invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0 and "full run: no earlier finished detection run" in r.stderr
    assert "  time: read " in r.stderr and " prepare " in r.stderr, r.stderr
    r = runner.invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0 and "incremental run: 0 new records" in r.stderr, r.stderr
    r = runner.invoke(app, ["--db", url, "detect", "--full"])
    assert r.exit_code == 0 and "full run: full run requested" in r.stderr, r.stderr


class _MemoScreener:
    """The default screen, each (product, cas) screened once across calls."""

    def __init__(self) -> None:
        self.seen: pl.DataFrame | None = None

    def __call__(self, pairs: pl.DataFrame) -> pl.DataFrame:
        from detection.prepare import default_screener

        todo = (
            pairs
            if self.seen is None
            else pairs.join(
                self.seen.select("product", "cas"),
                on=["product", "cas"],
                how="anti",
                nulls_equal=True,
            )
        )
        if todo.height:
            fresh = default_screener(todo)
            self.seen = (
                fresh
                if self.seen is None
                else pl.concat([self.seen, fresh], how="vertical_relaxed")
            )
        assert self.seen is not None
        return pairs.join(self.seen, on=["product", "cas"], how="left", nulls_equal=True)


@pytest.fixture(scope="module")
def bigger():  # type: ignore[no-untyped-def]
    return generate(7, 12_000)


@pytest.mark.parametrize("cut", [950, 980, 995, "2025-09-20", "2024-12-20..2025-01-10"])
def test_scope_holds_every_alert_that_the_new_records_change(bigger, cut: int | str) -> None:
    """On the frames, without a database: each scoped detector, fed only its scope, gives
    exactly the full run's alerts of the keys in scope, and every other alert of the full run
    over everything is the same as over the earlier records alone. A date cut loads the
    records from that date on as the new ones: the reference date moves (across a year end
    for the second, where the records end at the second date), as in a feed that moves
    forward."""
    from detection.detectors import DETECTORS
    from detection.incremental import RECORD_LEVEL, SCOPED_DETECTORS, affected, scoped
    from detection.run import configs, prepare_for
    from registry.detect_store import _resolution_digest

    ships = bigger.registry_shipments.sort("id")
    latest = ships["date"].max()
    u = (pl.col("id") * 2654435761) % 1000
    if isinstance(cut, int):
        old = ships.filter((u < cut) | (pl.col("date") == latest))
    else:
        lo, _, hi = cut.partition("..")
        if hi:
            ships = ships.filter(pl.col("date") < dt.date.fromisoformat(hi))
            latest = ships["date"].max()
        old = ships.filter(pl.col("date") < dt.date.fromisoformat(lo))
    old_as_of = old["date"].max()
    screener = _MemoScreener()
    ctx_old = prepare_for(old, bigger.declarations, screener=screener)
    ctx_new = prepare_for(ships, bigger.declarations, screener=screener)
    assert (ctx_old.as_of, ctx_new.as_of) == (old_as_of, latest)
    # What the registry checks before it runs incrementally.
    assert ctx_old.typical_lag == ctx_new.typical_lag
    assert _resolution_digest(ctx_old) == _resolution_digest(ctx_new, old)
    new_ids = ships.join(old.select("id"), on="id", how="anti")["id"]
    aff = affected(ctx_new, new_ids, old_as_of)
    assert bool(aff.as_of_years) == isinstance(cut, str)
    assert aff.new_records == new_ids.len()
    cfgs = configs()
    cols = ["detector", "key", "score", "severity", "summary", "evidence", "shipment_pks"]
    for d in DETECTORS:
        if d.name not in SCOPED_DETECTORS:
            continue
        narrowed = scoped(ctx_new, aff, d.name)
        assert narrowed is not None
        sub, keep, rows = narrowed
        got = keep(d.run(sub, cfgs[d.name])).select(cols).sort("key")
        full_new = d.run(ctx_new, cfgs[d.name]).select(cols).sort("key")
        full_old = d.run(ctx_old, cfgs[d.name]).select(cols).sort("key")
        in_scope = full_new.filter(pl.col("key").is_in(got["key"].implode()))
        assert got.to_dicts() == in_scope.to_dicts(), d.name
        outside = full_new.filter(~pl.col("key").is_in(got["key"].implode()))
        # Keys the scoped run did not produce must be out of scope, hence unchanged.
        assert outside.join(full_old, on=cols, how="anti", nulls_equal=True).height == 0, d.name
        if isinstance(cut, int):  # a small batch reaches only part of the data
            total = (ctx_new.shipments if d.name in RECORD_LEVEL else ctx_new.consignments).height
            assert rows < total, d.name


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_alerts(sample, tmp_path: Path) -> None:
    """PostgreSQL returns rows in its own order: a full run there and on SQLite, after the
    same loads, store the same alerts (evidence lists and "first" values included), and so
    do incremental runs after a batch that moves the reference date."""
    from tests.conftest import PG_URL, create_pg_database, drop_pg_database

    if not PG_URL:
        pytest.skip("PWATCH_TEST_POSTGRES_URL is not set")
    from registry import db as registry_db

    url = create_pg_database()
    try:
        pg = make_engine(url)
        init_db(pg)
        lite = _fresh(tmp_path / "lite.db")
        # Loaded in a shuffled order: PostgreSQL returns them in that (heap) order, SQLite
        # in id order.
        first, *rest = (
            f.sample(fraction=1.0, shuffle=True, seed=3)
            for f in _forward_steps(sample.registry_shipments.sort("id"))
        )
        later = pl.concat(rest)
        for eng in (lite, pg):
            load_facilities(eng, sample)
            load_shipments(eng, first)
            assert run_detection(eng).mode == "full"
        assert _state(lite).to_dicts() == _state(pg).to_dicts()
        for eng in (lite, pg):
            load_shipments(eng, later)
            assert run_detection(eng).mode == "incremental"
        assert _state(lite).to_dicts() == _state(pg).to_dicts()
        pg.dispose()
        lite.dispose()
    finally:
        for key in [k for k in registry_db._engines if k == url]:
            registry_db._engines.pop(key).dispose()
        drop_pg_database(url)
