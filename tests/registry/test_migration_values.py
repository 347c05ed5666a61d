"""Migration 0004 (customs value, currency, value in USD, party addresses) keeps every stored
shipment both ways, on SQLite and PostgreSQL: loaded records lose only the new fields on
downgrade, and read them as empty after an upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ingest import load_file
from registry.db import downgrade_db, init_db, make_engine

_OLD = (
    "id, source, shipment_id, date, exporter, exporter_norm, exporter_country, importer, "
    "importer_country, product, quantity_kg, flow, consignment_ref, exporter_facility_id, "
    "batch_id, file_hash, row_number"
)
_NEW = "shipment_id, value, currency, value_usd, exporter_address, importer_address"


def _feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text(
        "shipment_id,date,exporter,exporter_country,importer,importer_country,product,"
        "quantity,unit,value,currency,exporter_address,importer_address\n"
        "S1,2024-01-05,Hebei Chem,CN,Acme GmbH,DE,NPP,25,kg,1000,USD,1 Road,2 Street\n"
        "S2,2024-01-05,Hebei Chem,CN,Acme GmbH,DE,NPP,5,kg,,,,\n",
        encoding="utf-8",
    )
    return path


def test_downgrade_and_upgrade_keep_every_shipment(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    init_db(engine, load_watchlist=False)
    load_file(engine, _feed(tmp_path), "shipments")
    with engine.connect() as conn:
        before = conn.execute(text(f"SELECT {_OLD} FROM shipments ORDER BY id")).all()
        new = conn.execute(text(f"SELECT {_NEW} FROM shipments ORDER BY id")).all()
    assert [tuple(r) for r in new] == [
        ("S1", 1000.0, "USD", 1000.0, "1 Road", "2 Street"),
        ("S2", None, None, None, None, None),
    ]
    downgrade_db(engine, "0003")
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {_OLD} FROM shipments ORDER BY id")).all() == before
        columns = conn.execute(text("SELECT * FROM shipments")).keys()
    assert not set(_NEW.split(", ")[1:]) & set(columns)
    init_db(engine, load_watchlist=False)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {_OLD} FROM shipments ORDER BY id")).all() == before
        new = conn.execute(text(f"SELECT {_NEW} FROM shipments ORDER BY id")).all()
    assert [tuple(r) for r in new] == [("S1", *[None] * 5), ("S2", *[None] * 5)]
    engine.dispose()
