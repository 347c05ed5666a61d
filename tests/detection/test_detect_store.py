"""Detection against the registry: fingerprints, kept triage state, loading in steps == at once, CLI."""

from __future__ import annotations

import json

import polars as pl
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from registry.db import init_db, make_engine, session_scope
from registry.detect_store import alerts_frame, run_detection
from registry.models import AlertRow, AlertShipment, EarlyWarning
from sample_data.generate import generate
from sample_data.registry_load import load_facilities, load_shipments


@pytest.fixture(scope="module")
def sample():
    return generate(5, 2500)


def _fresh(path) -> Engine:  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    return eng


def _state(eng: Engine) -> pl.DataFrame:
    with session_scope(eng) as s:
        rows = s.execute(
            select(
                AlertRow.fingerprint,
                AlertRow.score,
                AlertRow.severity,
                AlertRow.summary,
                AlertRow.evidence,
                AlertRow.id,
            )
        ).all()
        links = s.execute(select(AlertShipment.alert_id, AlertShipment.shipment_pk)).all()
    lk: dict[int, list[int]] = {}
    for a, p in links:
        lk.setdefault(a, []).append(p)
    return pl.DataFrame(
        [
            {"fingerprint": f, "score": sc, "severity": sv, "summary": su, "evidence": json.dumps(ev, sort_keys=True), "links": sorted(lk.get(i, []))}
            for f, sc, sv, su, ev, i in rows
        ]
    ).sort("fingerprint")  # fmt: skip


def test_rerun_is_idempotent_and_keeps_triage(sample, tmp_path) -> None:
    eng = _fresh(tmp_path / "a.db")
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    first = run_detection(eng)
    assert first.new > 0
    with session_scope(eng) as s:
        aid = s.execute(select(AlertRow.id).order_by(AlertRow.score.desc()).limit(1)).scalar_one()
        s.execute(
            update(AlertRow).where(AlertRow.id == aid).values(status="assigned", assignee="ines")
        )
    second = run_detection(eng)
    assert second.new == 0 and second.updated == 0
    with session_scope(eng) as s:
        row = s.get(AlertRow, aid)
        assert row is not None and (row.status, row.assignee) == ("assigned", "ines")
        assert s.query(AlertRow).count() == first.new
        # Designer analogues also become early-warning records, once per name.
        assert first.early_warnings > 0
        assert s.query(EarlyWarning).count() == first.early_warnings


def test_loading_in_two_steps_gives_the_alerts_of_one_load(sample, tmp_path) -> None:
    ships = sample.registry_shipments.sort("date", "id")
    cut = int(ships.height * 0.7)
    inc = _fresh(tmp_path / "inc.db")
    load_facilities(inc, sample)
    load_shipments(inc, ships.head(cut))
    run_detection(inc)
    with session_scope(inc) as s:
        aid = s.execute(select(AlertRow.id).limit(1)).scalar_one()
        s.execute(
            update(AlertRow).where(AlertRow.id == aid).values(status="escalated", assignee="omar")
        )
    load_shipments(inc, ships.slice(cut))
    again = run_detection(inc)
    assert again.screened_new < again.shipments  # only texts not seen before are screened
    full = _fresh(tmp_path / "full.db")
    load_facilities(full, sample)
    load_shipments(full, ships)
    run_detection(full)
    a, b = _state(inc), _state(full)
    # Every alert of the one-load run exists after the two-step runs with the same content;
    # the two-step database may also keep alerts that stopped firing (never deleted).
    joined = b.join(a, on="fingerprint", how="left", suffix="_inc")
    assert joined["score_inc"].null_count() == 0
    for col in ("score", "severity", "summary", "evidence", "links"):
        assert joined[col].to_list() == joined[f"{col}_inc"].to_list(), col
    with session_scope(inc) as s:
        row = s.get(AlertRow, aid)
        assert row is not None and row.status == "escalated" and row.assignee == "omar"


def test_empty_database_and_cli(tmp_path, monkeypatch) -> None:
    from ui.cli import app

    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    r = runner.invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", url, "alerts", "--format", "csv"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith(
        "alert_id,detector,severity,score,status,shipment_ids"
    )


def test_cli_detect_and_alerts_on_sample(sample, tmp_path) -> None:
    from ui.cli import app

    path = tmp_path / "d.db"
    eng = _fresh(path)
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    url = f"sqlite:///{path}"
    runner = CliRunner()
    r = runner.invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0 and "new" in r.stderr
    # The sample carries no customs values and no addresses: everything else ran, and the
    # detectors that needed them say how many records they could not judge, and why.
    assert "not judged by value_mismatch:" in r.stderr and "no customs value" in r.stderr
    assert (
        "not judged by shared_address_network:" in r.stderr and "no consignee address" in r.stderr
    )
    assert "reference date 2025-" in r.stderr
    r = runner.invoke(app, ["--db", url, "alerts", "--format", "json"])
    rows = json.loads(r.stdout)
    assert rows and all(row["shipment_ids"] for row in rows)
    assert {
        "alert_id",
        "detector",
        "severity",
        "score",
        "status",
        "facility_id",
        "substance_cas",
        "summary",
        "created_at",
    } <= set(rows[0])
    r = runner.invoke(app, ["--db", url, "alerts", "--status", "new", "--format", "csv"])
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == len(rows) + 1
    assert alerts_frame(eng, status="dismissed").height == 0
    r = runner.invoke(app, ["--db", url, "alerts", "--status", "bogus"])
    assert r.exit_code == 1 and "unknown status 'bogus'" in r.stderr and "in_review" in r.stderr
    # The statuses in the order of an alert's life, as the console's queue lists them.
    assert "use one of new, assigned, in_review, pending_escalation," in r.stderr


def _orm_read(session, stmt, schema):  # type: ignore[no-untyped-def]
    """The reference: SQLAlchemy rows (with its type processing) into a frame."""
    rows = session.execute(stmt).all()
    return pl.DataFrame(
        [tuple(r) for r in rows], schema=list(schema.items()), orient="row", infer_schema_length=0
    )


def test_fast_read_gives_the_orm_frame(engine: Engine, sample, monkeypatch) -> None:
    """load_shipments / load_declarations read below the ORM (COPY on PostgreSQL, raw
    tuples on SQLite): same rows, values, nulls and dtypes as SQLAlchemy rows, on both
    backends, including empty strings against NULL and text that CSV must quote. SQLite's
    rows are read 97 at a time here (a quarter of a million in use), so the frame is nine
    chunks joined."""
    import datetime as dt

    from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
    from registry import detect_store
    from registry.detect_store import load_declarations
    from registry.detect_store import load_shipments as read_shipments
    from registry.models import Declaration, Facility, Shipment

    monkeypatch.setattr(detect_store, "_READ_CHUNK", 97)

    with session_scope(engine) as s:
        assert read_shipments(s).height == 0  # nothing loaded: an empty frame, same dtypes
        assert read_shipments(s).schema == pl.Schema(SHIPMENT_SCHEMA)
    load_facilities(engine, sample)
    ships = sample.registry_shipments.head(800)
    odd = ships.head(4).with_columns(
        (pl.col("id") + 10_000_000).alias("id"),
        (pl.col("shipment_id") + "-odd").alias("shipment_id"),
        pl.Series(
            "product",
            ['Quoted "name", with comma', "line\nbreak", "", "Ünïcödé \\N tab\there"],
        ),
        pl.Series("cas", [None, "", "\\N", "NULL"], dtype=pl.String),
        pl.Series("quantity_kg", [0.1 + 0.2, 1e-300, 123456789.123456789, 0.0]),
        pl.Series(
            "date", [dt.date(1999, 12, 31), dt.date(2024, 2, 29), None, None], dtype=pl.Date
        ).fill_null(dt.date(2030, 1, 1)),
        pl.Series("flow", [None, "X", "M", None], dtype=pl.String),
    )
    load_shipments(engine, pl.concat([ships, odd]))
    with session_scope(engine) as s:
        fast = read_shipments(s).sort("id")
        stored = {c: t for c, t in SHIPMENT_SCHEMA.items() if hasattr(Shipment, c)}
        ref = _orm_read(s, select(*[getattr(Shipment, c) for c in stored]), stored)
        ref = ref.select(
            pl.col(c) if c in stored else pl.lit(None, dtype=t).alias(c)
            for c, t in SHIPMENT_SCHEMA.items()
        )
        decl_stmt = select(
            Declaration.facility_id, Facility.name, Facility.name_norm, Facility.country,
            Declaration.activity, Declaration.substance, Declaration.substance_cas,
            Declaration.declared_annual_kg, Declaration.declaration_year,
        ).join(Facility, Facility.facility_id == Declaration.facility_id)  # fmt: skip
        decl_fast = load_declarations(s)
        decl_ref = _orm_read(s, decl_stmt, DECLARATION_SCHEMA)
    assert fast.schema == ref.schema == pl.Schema(SHIPMENT_SCHEMA)
    assert fast.height == ships.height + odd.height  # 800 sample records and 4 odd ones
    assert fast.equals(ref.sort("id"))
    tail = fast.filter(pl.col("id") >= 10_000_000)
    assert tail["product"].to_list() == odd["product"].to_list()
    assert tail["cas"].to_list() == [None, "", "\\N", "NULL"]
    assert tail["quantity_kg"].to_list() == odd["quantity_kg"].to_list()
    assert decl_fast.schema == pl.Schema(DECLARATION_SCHEMA) and decl_fast.height > 0
    key = list(DECLARATION_SCHEMA)
    assert decl_fast.sort(key, nulls_last=True).equals(decl_ref.sort(key, nulls_last=True))


def test_stored_rows_with_absurd_quantities_and_dates_do_not_stop_detection(
    engine: Engine, sample
) -> None:
    """Issue #18 items 1 and 4, through the registry on both backends: a stored quantity of
    infinity or 1e30 kg made every run fail; a record dated 9999-12-31 moved the reference
    date and raised false 'never arrived' alerts."""
    import datetime as dt

    ships = sample.registry_shipments
    ids = ships["id"].to_list()[:4]
    bad = ships.with_columns(
        pl.when(pl.col("id") == ids[0]).then(float("inf"))
        .when(pl.col("id") == ids[1]).then(1e30)
        .otherwise(pl.col("quantity_kg")).alias("quantity_kg"),
        pl.when(pl.col("id") == ids[2]).then(pl.lit(dt.date(9999, 12, 31)))
        .when(pl.col("id") == ids[3]).then(pl.lit(dt.date(1, 1, 1)))
        .otherwise(pl.col("date")).alias("date"),
    )  # fmt: skip
    load_facilities(engine, sample)
    load_shipments(engine, bad)
    summary = run_detection(engine)
    assert summary.new > 0
    assert summary.as_of_note.startswith("reference date 2025-")
    by_reason = {r["scope"]: r for r in summary.unjudged}
    assert by_reason["every detector"]["records"] == 2
    assert by_reason["detectors that need a quantity"]["records"] == 2
    clean = run_detection(engine)  # and again: nothing stops the next run either
    assert clean.new == 0


def test_cli_detect_keeps_the_overview_figures_for_the_console(
    sample, tmp_path, monkeypatch
) -> None:
    """After `pwatch detect` the console's overview has its figures on disk, for this data, so
    its first page does not wait for them."""
    from registry.overview import load_snapshot, overview_summary, snapshot_path
    from registry.queries import data_version
    from ui.cli import app

    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "o.db"
    eng = _fresh(path)
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    url = f"sqlite:///{path}"
    kept_at = snapshot_path(tmp_path / "data", url)
    assert not kept_at.exists()
    r = CliRunner().invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0 and "overview figures kept" in r.stderr
    # Each long step says it is done, with its count for people ("2,936", not "2936").
    steps = [line.strip().split(":")[0] for line in r.stderr.splitlines() if line.startswith("  ")]
    assert steps[:6] == ["load", "checks", "screen", "entities", "pairs", "consignments"], r.stderr
    loaded = sample.registry_shipments.height
    assert f"load: {loaded:,} records loaded" in r.stderr and loaded >= 1000
    kept = load_snapshot(kept_at)
    assert kept is not None
    with session_scope(eng) as s:
        assert tuple(kept[0]) == tuple(data_version(s))
        fresh = overview_summary(s)
    assert kept[1]["alerts"] == fresh["alerts"] and sum(a["alerts"] for a in fresh["alerts"]) > 0
    assert kept[1]["facilities"] == fresh["facilities"] > 0


def test_cli_detect_succeeds_when_the_overview_figures_cannot_be_kept(
    sample, tmp_path, monkeypatch
) -> None:
    """The alerts are stored before the overview's figures are kept: a data folder that cannot
    be written, or a database error while computing the figures, is a one-line warning and
    the run still succeeds (the console then computes the figures when it opens)."""
    from sqlalchemy.exc import OperationalError

    import registry.overview
    from ui.cli import app

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("PWATCH_DATA_DIR", str(blocked))
    path = tmp_path / "o.db"
    eng = _fresh(path)
    load_facilities(eng, sample)
    load_shipments(eng, sample.registry_shipments)
    url = f"sqlite:///{path}"
    r = CliRunner().invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0, r.stderr
    assert "the overview's figures were not kept" in r.stderr
    stored = alerts_frame(eng).height
    assert stored > 0

    def broken(*_: object) -> None:
        raise OperationalError("SELECT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(registry.overview, "keep_snapshot", broken)
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    r = CliRunner().invoke(app, ["--db", url, "detect"])
    assert r.exit_code == 0, r.stderr
    warning = [line for line in r.stderr.splitlines() if "were not kept" in line]
    assert len(warning) == 1 and "database is locked" in warning[0]
    assert alerts_frame(eng).height == stored
