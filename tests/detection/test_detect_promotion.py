"""A designer analogue seen in a feed becomes an early-warning record with its structure; once a
supervisor promotes it to the watchlist, detection treats its shipments as a listed substance."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

import ingest
from registry.db import session_scope
from registry.detect_store import run_detection
from registry.early_warning import promote
from registry.models import AlertRow, EarlyWarning
from registry.users import add_user

FACILITIES = """facility_id,name,country,activity,substance,cas,declared_annual_kg,declaration_year
F1,Declared Chem GmbH,DEU,trade,ANPP,21409-26-7,1000,2025
"""

ANALOGUE = "1-(4-fluorobenzyl)piperidin-4-one"


def _feed(path: Path) -> Path:
    rows = [
        "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit,flow"
    ]
    for i in range(4):
        rows.append(
            f"S{i},2025-0{i + 1}-10,Nowhere Trading Ltd,CHN,Somebody SA,MEX,{ANALOGUE},25,kg,X"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _load(engine: Engine, tmp_path: Path) -> None:
    """The declared facility and the feed of the unlisted analogue, loaded through ingest."""
    fac = tmp_path / "facilities.csv"
    fac.write_text(FACILITIES, encoding="utf-8")
    ingest.load_file(engine, fac, "facilities")
    ingest.load_file(engine, _feed(tmp_path / "feed.csv"), "shipments")


def test_promoted_analogue_screens_as_controlled_in_detection(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _load(sqlite_engine, tmp_path)

    first = run_detection(sqlite_engine)
    assert first.early_warnings == 1
    with session_scope(sqlite_engine) as s:
        ew = s.scalars(select(EarlyWarning)).one()
        assert ew.name == ANALOGUE and ew.smiles and ew.shipment_count == 4
        assert ew.nearest_cas is not None
        listed_before = s.scalars(
            select(AlertRow.substance_cas).where(AlertRow.substance_cas.like("EW-%"))
        ).all()
        assert listed_before == []
        boss = add_user(s, "boss", "supervisor", "boss-password")
        promoted = promote(s, ew.id, boss)
        assert promoted.origin == "promoted"
        promoted_id = promoted.cas

    run_detection(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        alerts = s.scalars(select(AlertRow).where(AlertRow.substance_cas == promoted_id)).all()
        assert alerts, "after promotion the analogue's shipments must count as a listed substance"
        assert any(a.detector == "undeclared_party" for a in alerts)


def test_screen_cli_knows_promoted_analogues_only_with_a_registry(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from ui.cli import app

    _load(sqlite_engine, tmp_path)
    run_detection(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        ew = s.scalars(select(EarlyWarning)).one()
        promoted_id = promote(s, ew.id, add_user(s, "boss", "supervisor", "boss-pw-1")).cas
    url = str(sqlite_engine.url)
    runner = CliRunner()

    def verdict(*db: str) -> dict:
        res = runner.invoke(
            app, [*db, "screen", ANALOGUE, "--format", "json"], env={"PWATCH_DATABASE_URL": ""}
        )
        assert res.exit_code == 0, res.stderr
        return json.loads(res.stdout)[0]

    assert verdict()["verdict"] == "analogue"  # no registry: the watchlist alone
    with_db = verdict("--db", url)
    assert with_db["verdict"] == "controlled"
    assert with_db["substance_cas"] == promoted_id

    res = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'nowhere.db'}", "screen", "ANPP"])
    assert res.exit_code != 0
    assert "Traceback" not in res.output
