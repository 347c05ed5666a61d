"""The Spark engine changes nothing: the committed sample and a fresh seed give the same alerts
(ids, scores, severities, summaries, evidence, linked records) through the local engine and
through Spark local mode; triage state is kept; one Spark session for the whole module."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from detection.detectors import DETECTORS
from detection.engines.spark import BY_SUBSTANCE, _buckets
from detection.run import prepare_for, run_detectors
from registry.db import init_db, make_engine, session_scope
from registry.detect_store import run_detection
from registry.export import export_shipments
from registry.models import AlertRow, AlertShipment
from sample_data.generate import generate
from ui.cli import app

SMALL = Path(__file__).resolve().parents[2] / "sample_data" / "small"
needs_spark = pytest.mark.skipif(
    shutil.which("java") is None, reason="the Spark engine needs Java 17"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from detection.engines.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def _registry(path: Path) -> Engine:
    """A registry with the committed sample loaded through ingest, as `make demo` loads it."""
    from ingest import load_file

    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    load_file(eng, SMALL / "facilities.csv", "facilities")
    load_file(eng, SMALL / "shipments.csv", "shipments")
    return eng


def _stored(eng: Engine) -> pl.DataFrame:
    """Every stored alert with its id, its numbers, its words and its records."""
    with session_scope(eng) as s:
        rows = s.execute(
            select(AlertRow.id, AlertRow.fingerprint, AlertRow.detector, AlertRow.score,
                   AlertRow.severity, AlertRow.summary, AlertRow.evidence, AlertRow.status)
        ).all()  # fmt: skip
        links = s.execute(select(AlertShipment.alert_id, AlertShipment.shipment_pk)).all()
    by_alert: dict[int, list[int]] = {}
    for a, pk in links:
        by_alert.setdefault(a, []).append(pk)
    return pl.DataFrame(
        [
            {"id": i, "fingerprint": f, "detector": d, "score": sc, "severity": sv,
             "summary": su, "evidence": json.dumps(ev, sort_keys=True), "status": st,
             "records": sorted(by_alert.get(i, []))}
            for i, f, d, sc, sv, su, ev, st in rows
        ]
    ).sort("id")  # fmt: skip


@needs_spark
@pytest.mark.slow
def test_committed_sample_gives_the_same_alerts_on_spark(spark: Any, tmp_path: Path) -> None:
    from detection.engines.spark import SparkDetectors

    local, on_spark = _registry(tmp_path / "local.db"), _registry(tmp_path / "spark.db")
    run_detection(local)
    run_detection(on_spark, runner=SparkDetectors(session=spark))
    a, b = _stored(local), _stored(on_spark)
    assert a.height > 20  # the sample's planted cases raise alerts
    assert set(a["detector"]) & BY_SUBSTANCE  # some of them came back from Spark
    assert b.equals(a)


@needs_spark
@pytest.mark.slow
def test_a_fresh_seed_gives_the_same_alert_frame_on_spark(spark: Any) -> None:
    from detection.engines.spark import SparkDetectors

    sample = generate(23, 3000)
    ctx = prepare_for(sample.registry_shipments, sample.declarations)
    notes_local: list[pl.DataFrame] = []
    notes_spark: list[pl.DataFrame] = []
    local = run_detectors(ctx, notes=notes_local)
    on_spark = SparkDetectors(session=spark)(ctx, notes=notes_spark)
    assert local.height > 20
    assert on_spark.equals(local)  # ids follow this order, so alert ids match too
    assert pl.concat(notes_spark).sort(pl.all()).equals(pl.concat(notes_local).sort(pl.all()))


@needs_spark
@pytest.mark.slow
def test_spark_from_an_export_keeps_triage_state(spark: Any, tmp_path: Path) -> None:
    eng = _registry(tmp_path / "pwatch.db")
    first = run_detection(eng)
    with session_scope(eng) as s:
        aid = s.execute(select(AlertRow.id).order_by(AlertRow.score.desc()).limit(1)).scalar_one()
        s.execute(update(AlertRow).where(AlertRow.id == aid).values(status="assigned", assignee="ines"))  # fmt: skip
    before = _stored(eng)
    feed = tmp_path / "feed.parquet"
    export_shipments(eng, feed)
    url = f"sqlite:///{tmp_path / 'pwatch.db'}"
    r = CliRunner().invoke(
        app, ["--db", url, "detect", "--engine", "spark", "--master", "local[2]", "--shipments", str(feed)]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "0 new and 0 updated alerts" in r.output
    assert _stored(eng).equals(before)
    with session_scope(eng) as s:
        row = s.get(AlertRow, aid)
        assert row is not None and (row.status, row.assignee) == ("assigned", "ines")
        assert s.query(AlertRow).count() == first.new


@pytest.mark.parametrize("seed", [31, 32])
def test_the_substance_tasks_find_what_the_whole_feed_finds(seed: int) -> None:
    """Without Spark: each task's function run here on its Arrow table, as Spark would run
    it, finds exactly what the same detectors find over the whole context (a detector that
    starts reading across substances fails here, in the fast tests)."""
    pytest.importorskip("pyarrow")
    from detection.engines.spark import _OUT, _arrow, _packed, _task
    from detection.run import configs

    sample = generate(seed, 1500)
    ctx = prepare_for(sample.registry_shipments, sample.declarations)
    cfgs = configs()
    spread = [(i, d) for i, d in enumerate(DETECTORS) if d.name in BY_SUBSTANCE]
    long, schemas = _packed(ctx)
    run = _task(ctx, spread, cfgs, schemas)
    tasks = [
        pl.from_arrow(run(_arrow(long.filter(pl.col("_part") == part))))
        for part in long["_part"].unique().sort()
    ]
    assert len(tasks) >= 2  # the feed is really split
    split = pl.concat(tasks).select(pl.col(c).cast(t) for c, t in _OUT.items())  # type: ignore[union-attr]
    whole = pl.concat(
        [d.run(ctx, cfgs[d.name]).with_columns(pl.lit(i, dtype=pl.Int64).alias("_detector_index")) for i, d in spread]
    ).select(pl.col(c).cast(t) for c, t in _OUT.items())  # fmt: skip
    assert whole.height > 0
    order = ["_detector_index", "key"]
    assert split.sort(order).equals(whole.sort(order))


def test_every_detector_spark_runs_by_substance_is_registered() -> None:
    # A detector renamed or removed must not leave a stale name that silently runs nowhere.
    assert {d.name for d in DETECTORS} >= BY_SUBSTANCE


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_no_substance_is_alone_in_a_task_unless_it_is_the_only_one(n: int) -> None:
    cons = pl.DataFrame({"substance": [f"S{i}" for i in range(n) for _ in range(i + 1)]})
    parts = _buckets(cons)
    assert sorted(parts["substance"]) == sorted({f"S{i}" for i in range(n)})
    sizes = parts.group_by("_part").len()["len"]
    assert sizes.min() >= (1 if n == 1 else 2)
    assert sizes.max() <= 3


def test_detect_refuses_an_unknown_engine_and_records_of_another_registry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pwatch.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    r = runner.invoke(app, ["--db", url, "detect", "--engine", "hadoop"])
    assert r.exit_code != 0 and "unknown engine 'hadoop'" in r.output
    r = runner.invoke(app, ["--db", url, "detect", "--conf", "spark.driver.memory=4g"])
    assert r.exit_code != 0 and "use it with --engine spark" in r.output
    r = runner.invoke(app, ["--db", url, "detect", "--engine", "spark", "--conf", "memory"])
    assert r.exit_code != 0 and "--conf takes KEY=VALUE" in r.output
    other = generate(3, 300).registry_shipments  # ids this empty registry never stored
    feed = tmp_path / "other.parquet"
    other.write_parquet(feed)
    r = runner.invoke(app, ["--db", url, "detect", "--shipments", str(feed)])
    assert r.exit_code != 0 and "are not records of this registry" in r.output
