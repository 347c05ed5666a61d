"""Shared fixtures: a fresh, initialised registry on SQLite always and on PostgreSQL when
PWATCH_TEST_POSTGRES_URL is set (each test database is created here and dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

PG_URL = os.environ.get("PWATCH_TEST_POSTGRES_URL")

_BACKENDS = ["sqlite"] + ([pytest.param("postgres", marks=pytest.mark.postgres)] if PG_URL else [])


def _pg_admin_url() -> str:
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + "/postgres"


def create_pg_database() -> str:
    """Create a uniquely named PostgreSQL database; return its URL."""
    name = f"pwatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database (terminating leftover connections)."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """URL of an empty database: SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pwatch.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        from registry import db as registry_db

        for key in [k for k in registry_db._engines if k == url]:
            registry_db._engines.pop(key).dispose()
        drop_pg_database(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An initialised registry (schema at head, watchlist loaded)."""
    from registry.db import init_db, make_engine

    eng = make_engine(db_url)
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An initialised SQLite registry only (for tests that need no second backend)."""
    from registry.db import init_db, make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'pwatch.db'}")
    init_db(eng)
    yield eng
    eng.dispose()
