"""The policymakers' overview compares declared quantities with listed precursors moved."""

from __future__ import annotations

from pathlib import Path

import console_factories as cf
import pytest
from sqlalchemy import Engine


@pytest.fixture
def screened_db(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    from registry.detect_store import run_detection
    from sample_data.generate import generate
    from sample_data.registry_load import load_facilities, load_shipments

    sample = generate(5, 1500)
    load_facilities(sqlite_engine, sample)
    load_shipments(sqlite_engine, sample.registry_shipments)
    run_detection(sqlite_engine)
    cf.standard_users(sqlite_engine)
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    return sqlite_engine, sample


def test_moved_counts_listed_precursors_only(screened_db) -> None:  # type: ignore[no-untyped-def]
    import polars as pl

    _, sample = screened_db
    at = cf.login("vera")
    at.switch_page("views/overview.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert "Listed precursors moved (t)" in metrics, metrics
    # The figure is each consignment once: export records, and import records whose
    # consignment reference no export record carries; the screen calls them controlled.
    from detection.prepare import default_screener
    from detection.surveillance import SURVEILLANCE_IDS

    all_ships = sample.registry_shipments
    x_refs = all_ships.filter(pl.col("flow") == "X")["consignment_ref"].drop_nulls().to_list()
    ships = all_ships.filter(
        (pl.col("flow") == "X")
        | pl.col("flow").is_null()
        | (pl.col("consignment_ref").is_not_null() & ~pl.col("consignment_ref").is_in(x_refs))
    ).with_columns(pl.col("product").fill_null(""))
    pairs = ships.select("product", "cas").unique()
    verdicts = default_screener(pairs).select(
        "product",
        "cas",
        # a designer precursor matched against the surveillance list is not a listed one
        pl.when(pl.col("substance_cas").is_in(list(SURVEILLANCE_IDS)))
        .then(pl.lit("analogue"))
        .otherwise(pl.col("verdict"))
        .alias("verdict"),
    )
    listed = ships.join(verdicts, on=["product", "cas"], how="left", nulls_equal=True)
    listed_t = listed.filter(pl.col("verdict") == "controlled")["quantity_kg"].sum() / 1000
    assert 0 < listed_t < ships["quantity_kg"].sum() / 1000
    shown = float(metrics["Listed precursors moved (t)"].replace(",", ""))
    assert shown == pytest.approx(listed_t, abs=0.06)
    assert any("listed precursors (by the screen" in c.value for c in at.caption)


def test_listed_texts_with_quotes_and_backslashes_are_counted_safely(
    console_db,  # type: ignore[no-untyped-def]
) -> None:
    """Product texts go into the overview's SQL inline: quotes, backslashes and SQL stay text."""
    from sqlalchemy import func, insert, select

    from registry.db import session_scope
    from registry.models import ScreenResult, Shipment, ShipmentRecord

    engine, _ = console_db
    nasty = 'NPP\\\'); DROP TABLE shipments;-- "x"'
    with session_scope(engine) as s:
        s.execute(ShipmentRecord.__table__.update().values(product=nasty, cas=None))
        s.execute(
            insert(ScreenResult).values(
                text_hash="h" * 64, product=nasty, cas=None, verdict="controlled",
                substance_cas="39742-60-4", substance_name="NPP", score=100.0,
                method="exact", explanation="", watchlist_version="test",
            )
        )  # fmt: skip
        total = s.scalar(
            select(func.sum(Shipment.quantity_kg)).where(
                (Shipment.flow.is_(None)) | (Shipment.flow != "M")
            )
        )
    at = cf.login("vera")
    at.switch_page("views/overview.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Listed precursors moved (t)"].replace(",", "")) == pytest.approx(
        total / 1000, abs=0.06
    )
    with session_scope(engine) as s:
        assert s.scalar(select(func.count(Shipment.id))) > 0  # the table is still there


def test_a_later_server_shows_the_kept_figures_at_once(screened_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first summary of a large registry takes seconds; it is kept on disk (0600), and a
    console server started later reads it back as it was (dates and times included) instead
    of making the first visitor wait."""
    import streamlit as st

    from registry.db import session_scope
    from registry.overview import load_snapshot, overview_summary

    engine, _ = screened_db
    at = cf.login("vera")
    at.switch_page("views/overview.py").run()
    assert not at.exception, at.exception
    kept = list((tmp_path / "data" / "cache").glob("overview-*.json"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o600
    snapshot = load_snapshot(kept[0])
    assert snapshot is not None
    with session_scope(engine) as s:
        assert snapshot[1] == overview_summary(s)
    first = {m.label: m.value for m in at.metric}
    st.cache_resource.clear()  # as a new server process starts with nothing in memory
    again = cf.login("vera")
    again.switch_page("views/overview.py").run()
    assert not again.exception, again.exception
    assert {m.label: m.value for m in again.metric} == first
    assert not any("being brought up to date" in i.value for i in again.info)
