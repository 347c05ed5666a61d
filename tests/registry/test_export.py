"""`pwatch export shipments`: the file holds exactly what detection reads from the registry."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from detection.schema import SHIPMENT_SCHEMA
from registry.db import session_scope
from registry.detect_store import load_shipments
from registry.export import read_exported_shipments
from sample_data.generate import generate
from sample_data.registry_load import load_facilities
from sample_data.registry_load import load_shipments as store_shipments
from ui.cli import app


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return generate(11, 600)


@pytest.fixture
def loaded(engine: Engine, sample) -> Engine:  # type: ignore[no-untyped-def]
    load_facilities(engine, sample)
    store_shipments(engine, sample.registry_shipments)
    return engine


def test_parquet_export_equals_what_detection_reads(loaded: Engine, sample, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "feed" / "shipments.parquet"
    r = CliRunner().invoke(
        app, ["--db", loaded.url.render_as_string(hide_password=False), "export", "shipments",
              "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    back = pl.read_parquet(out)
    assert back.schema == pl.Schema(SHIPMENT_SCHEMA)
    with session_scope(loaded) as session:
        expected = load_shipments(session)
    assert back.sort("id").equals(expected.sort("id"))
    # Every record the generator stored, each once, under its own source id.
    assert sorted(back["shipment_id"].to_list()) == sorted(
        sample.registry_shipments["shipment_id"].to_list()
    )
    assert read_exported_shipments(out).equals(back)


def test_csv_export_reads_back_with_the_same_records(loaded: Engine, sample, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "shipments.csv"
    url = loaded.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(
        app, ["--db", url, "export", "shipments", "--format", "csv", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    back = pl.read_csv(out, schema_overrides={"date": pl.Date, "shipment_id": pl.String})
    assert back.columns == list(SHIPMENT_SCHEMA)
    ours = sample.registry_shipments.select("shipment_id", "date").sort("shipment_id")
    assert back.select("shipment_id", "date").sort("shipment_id").equals(ours)


def test_export_refuses_an_unknown_format_and_a_non_export(loaded: Engine, tmp_path) -> None:
    url = loaded.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(
        app, ["--db", url, "export", "shipments", "--format", "xlsx", "--out", str(tmp_path / "x")]
    )
    assert r.exit_code != 0 and "unknown format" in r.output
    bogus = tmp_path / "bogus.parquet"
    pl.DataFrame({"id": [1]}).write_parquet(bogus)
    with pytest.raises(ValueError, match="missing source"):
        read_exported_shipments(bogus)
    text = tmp_path / "not.parquet"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a Parquet file"):
        read_exported_shipments(text)


def test_detect_from_an_export_finds_what_detect_from_the_database_found(
    loaded: Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from registry.detect_store import run_detection
    from registry.export import export_shipments

    first = run_detection(loaded)
    assert first.new > 0
    feed = tmp_path / "feed.parquet"
    export_shipments(loaded, feed)
    again = run_detection(loaded, shipments=read_exported_shipments(feed))
    assert (again.new, again.updated, again.shipments) == (0, 0, first.shipments)


def test_an_account_exports_only_the_records_it_may_see(
    engine: Engine, sample, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Need-to-know holds for the export: an analyst sees up to protected, so the records of a
    highly protected batch are left out of its file (and it is told); a supervisor gets all."""
    from sqlalchemy import update

    from registry.models import IngestBatch
    from registry.users import add_user

    load_facilities(engine, sample)
    ships = sample.registry_shipments
    half = ships.height // 2
    store_shipments(engine, ships.slice(0, half))
    secret = store_shipments(engine, ships.slice(half))
    with session_scope(engine) as s:
        s.execute(
            update(IngestBatch)
            .where(IngestBatch.id == secret)
            .values(classification="highly_protected")
        )
        add_user(s, "alma", "analyst", "a-long-passphrase-1")
        add_user(s, "sven", "supervisor", "a-long-passphrase-2")
    url = engine.url.render_as_string(hide_password=False)
    got = {}
    for user, password in (("alma", "a-long-passphrase-1"), ("sven", "a-long-passphrase-2")):
        monkeypatch.setenv("PWATCH_PASSWORD", password)
        out = tmp_path / f"{user}.parquet"
        r = CliRunner().invoke(
            app, ["--db", url, "--user", user, "export", "shipments", "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        got[user] = (pl.read_parquet(out), r.stderr)
    analyst, said = got["alma"]
    assert sorted(analyst["shipment_id"].to_list()) == sorted(
        ships.slice(0, half)["shipment_id"].to_list()
    )
    assert f"{ships.height - half:,} records of batches classified above" in said
    assert got["sven"][0].height == ships.height and "left out" not in got["sven"][1]
