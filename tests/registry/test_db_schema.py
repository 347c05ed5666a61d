"""Schema management on SQLite and PostgreSQL: create, upgrade, downgrade, refuse bad databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from registry.db import (
    check_schema,
    current_revision,
    downgrade_db,
    head_revision,
    init_db,
    make_engine,
    session_scope,
)
from registry.errors import DatabaseUnavailable, SchemaTooNew
from registry.models import SubstanceRow


def test_init_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    assert init_db(engine) == head_revision()
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"alerts", "shipment_records", "parties", "triage_events", "users"} <= tables
    assert "shipments" in inspect(engine).get_view_names()
    downgrade_db(engine, "-1")
    assert current_revision(engine) != head_revision()
    init_db(engine)
    assert current_revision(engine) == head_revision()
    # init twice is harmless and keeps one row per substance
    init_db(engine)
    with session_scope(engine) as s:
        assert len(list(s.scalars(select(SubstanceRow)))) == 7
    engine.dispose()


def test_sqlite_uses_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_newer_schema_is_refused_and_nothing_written(db_url: str) -> None:
    engine = make_engine(db_url)
    init_db(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaTooNew, match="newer than this precursor-watch"):
        init_db(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_future"
        )
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("nonsense", "malformed database URL"),
        ("postgresql://postgres@127.0.0.1:1/none", "cannot reach database"),
    ],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=message):
        check_schema(make_engine(url))
