"""Migration 0003 (parties table, shipments as a view) keeps every stored shipment, its
links and the alerts resting on it, both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text

from registry.db import downgrade_db, head_revision, init_db, make_engine

_WIDE = (
    "id, source, shipment_id, date, exporter, exporter_norm, exporter_country, importer, "
    "importer_norm, importer_country, product, cas, hs_code, quantity, unit, quantity_kg, "
    "flow, consignment_ref, transit_countries, exporter_facility_id, exporter_link_score, "
    "exporter_link_method, importer_facility_id, importer_link_score, importer_link_method, "
    "batch_id, file_hash, row_number"
)
_ROWS = [
    # the same exporter under two spellings, one party as exporter and importer, a long name
    (1, "nl", "A1", "2025-01-02", "Acme Co., Ltd.", "acme", "NLD", "Beta SA", "beta", "MEX",
     "NPP", "39742-60-4", "2933", 10.0, "kg", 10.0, "X", "C-1", None, "F1", 100.0, "exact",
     None, None, None, 1, "h" * 64, 2),
    (2, "nl", "A2", "2025-01-03", "ACME CO LTD", "acme", "NLD", "Beta SA", "beta", "MEX",
     "ANPP", None, None, 5.0, "kg", 5.0, "X", None, "DEU", "F1", 100.0, "exact",
     None, None, None, 1, "h" * 64, 3),
    (3, "mx", "B1", "2025-01-04", "Beta SA", "beta", "MEX", "Acme Co., Ltd.", "acme", "NLD",
     "NPP", None, None, 1.0, "t", 1000.0, "M", "C-1", None, None, None, None,
     "F1", 100.0, "exact", 1, "h" * 64, 4),
    (4, "mx", "B2", "2025-01-05", "Z" * 5000, "z" * 400, "MEX", "Beta SA", "beta", "NLD",
     "NPP", None, None, 1.0, "kg", 1.0, None, None, None, None, None, None,
     None, None, None, 1, "h" * 64, 5),
]  # fmt: skip


def _view(conn) -> list[tuple]:  # type: ignore[no-untyped-def]
    rows = conn.execute(text(f"SELECT {_WIDE} FROM shipments ORDER BY id")).all()
    return [tuple(str(v) if k == 3 else v for k, v in enumerate(r)) for r in rows]


def test_upgrade_and_downgrade_keep_shipments_links_and_alerts(db_url: str) -> None:
    engine = make_engine(db_url)
    init_db(engine, load_watchlist=False)
    downgrade_db(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ingest_batches (id, kind, source, file_name, file_hash, started_at,"
                " rows_total, rows_loaded, rows_duplicate, rows_quarantined) VALUES"
                " (1, 'shipments', 'nl', 'f.csv', :h, '2025-01-01 00:00:00', 4, 4, 0, 0)"
            ),
            {"h": "h" * 64},
        )
        marks = ", ".join(f":p{i}" for i in range(len(_ROWS[0])))
        for row in _ROWS:
            conn.execute(
                text(f"INSERT INTO shipments ({_WIDE}) VALUES ({marks})"),
                {f"p{i}": v for i, v in enumerate(row)},
            )
        conn.execute(
            text(
                "INSERT INTO alerts (id, fingerprint, detector, severity, score, status,"
                " summary, evidence, version, created_at, updated_at, last_detected_at)"
                " VALUES (1, 'fp', 'd', 'high', 1.0, 'new', 's', '{}', 1,"
                " '2025-01-01 00:00:00', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(text("INSERT INTO alert_shipments VALUES (1, 1), (1, 3)"))
        before = _view(conn)
    assert init_db(engine, load_watchlist=False) == head_revision()
    with engine.begin() as conn:
        assert _view(conn) == before
        # one party per (raw name, country): 5 of them for 8 party mentions
        assert conn.execute(text("SELECT COUNT(*) FROM parties")).scalar_one() == 5
        assert conn.execute(text("SELECT shipment_pk FROM alert_shipments ORDER BY 1")).all() == [
            (1,),
            (3,),
        ]
        # ids continue after the migrated ones; the alert link follows a deleted record
        conn.execute(
            text(
                "INSERT INTO shipment_records (source, shipment_id, date, exporter_party_id,"
                " importer_party_id, product, quantity, unit, quantity_kg, batch_id, row_number)"
                " VALUES ('nl', 'A9', '2025-02-01', 1, 2, 'NPP', 1, 'kg', 1, 1, 9)"
            )
        )
        assert conn.execute(text("SELECT MAX(id) FROM shipment_records")).scalar_one() == 5
        conn.execute(text("DELETE FROM shipment_records WHERE id = 5"))
    assert "shipments" in inspect(engine).get_view_names()
    downgrade_db(engine, "0002")
    with engine.begin() as conn:
        assert _view(conn) == before
        assert conn.execute(text("SELECT COUNT(*) FROM alert_shipments")).scalar_one() == 2
    assert "parties" not in inspect(engine).get_table_names()
    engine.dispose()
