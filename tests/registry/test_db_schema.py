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
from registry.models import AlertRow, SubstanceRow


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
    init_db(engine)
    engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")  # WAL is kept in the file
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


# One bad value per enumerated column: each must be refused by the database itself.
_BAD_VALUES = [
    ("alerts", "status", "closed"),
    ("alerts", "severity", "urgent"),
    ("users", "role", "superuser"),
    ("users", "failed_logins", -1),
    ("triage_events", "action", "delete_alert"),
    ("triage_events", "to_status", "gone"),
    ("triage_events", "reason_code", "because"),
    ("triage_events", "scheme", "md5"),
]


@pytest.mark.parametrize(("table", "column", "value"), _BAD_VALUES)
def test_enumerated_columns_are_checked(engine, table: str, column: str, value: object) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    from registry.users import add_user
    from tests.registry.factories import make_alert

    with session_scope(engine) as s:
        add_user(s, "sara", "supervisor", "long-password")
        make_alert(s, with_shipment=False)
    with pytest.raises(IntegrityError, match=r"(?i)check"), engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
    with pytest.raises(IntegrityError, match=r"(?i)check"), engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_head (id, last_hash) VALUES (2, 'x')"))


def test_upgrade_to_0005_keeps_every_row(engine) -> None:  # type: ignore[no-untyped-def]
    """On SQLite the upgrade rebuilds alerts, users and triage_events to add their CHECKs;
    the rows that refer to them (shipment links, events, requests) must all stay."""
    from registry.service import Action, act
    from tests.registry.factories import make_alert, make_user

    with session_scope(engine) as s:
        insp, sup = make_user(s, "inspector"), make_user(s, "supervisor")
        alert_id = make_alert(s).id
    for who, step, kw in [
        (insp, "claim", {}), (insp, "start_review", {}), (insp, "escalate", {"note": "g"}),
        (sup, "approve", {}),
    ]:  # fmt: skip
        with session_scope(engine) as s:
            seen = s.get(AlertRow, alert_id).version  # type: ignore[union-attr]
            act(s, alert_id, who, Action(step, **kw), expected_version=seen)
    tables = ("alerts", "alert_shipments", "triage_events", "challenge_requests", "users")

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}

    before = counts()
    assert before["alert_shipments"] == 1 and before["challenge_requests"] == 1
    downgrade_db(engine, "0003")
    init_db(engine)
    after = counts()
    assert after == before | {"triage_events": before["triage_events"] + 1}  # + the anchor


def test_upgrade_names_rows_no_constraint_would_accept(engine) -> None:  # type: ignore[no-untyped-def]
    from tests.registry.factories import make_alert

    with session_scope(engine) as s:
        make_alert(s, with_shipment=False)
    downgrade_db(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alerts SET status = 'parked'"))
    with pytest.raises(ValueError, match=r"alerts.status = 'parked' in 1 row"):
        init_db(engine)
    assert current_revision(engine) == "0003"


def test_init_refuses_another_applications_database(db_url: str) -> None:
    from registry.errors import ForeignDatabase

    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)"))
        conn.execute(text("INSERT INTO invoices VALUES (1, 9.5)"))
    with pytest.raises(ForeignDatabase, match=r"tables precursor-watch does not know \(invoices\)"):
        init_db(engine)
    assert set(inspect(engine).get_table_names()) == {"invoices"}  # nothing added
    engine.dispose()


def test_sqlite_registry_files_are_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from registry.audit_key import key_location

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'p.db'}")
    init_db(engine)
    with engine.connect() as conn:  # an open connection keeps -wal and -shm in place
        conn.execute(text("SELECT COUNT(*) FROM users")).scalar()
        files = [tmp_path / "var" / n for n in ("p.db", "p.db-wal", "p.db-shm")]
        files.append(key_location(engine))
        modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files}
    assert modes == {f.name: "0o600" for f in files}
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    engine.dispose()
    # A registry an older version left world-readable is made private by `pwatch init`.
    (tmp_path / "var" / "p.db").chmod(0o644)
    init_db(make_engine(f"sqlite:///{tmp_path / 'var' / 'p.db'}"))
    assert (tmp_path / "var" / "p.db").stat().st_mode & 0o777 == 0o600


def test_opening_a_missing_registry_creates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from registry.db import open_registry

    missing = tmp_path / "typo" / "pwatch.db"
    with pytest.raises(DatabaseUnavailable, match=r"there is no registry at .*typo/pwatch.db"):
        open_registry(f"sqlite:///{missing}")
    assert not missing.exists() and not missing.parent.exists()


def test_0006_up_and_down(engine) -> None:  # type: ignore[no-untyped-def]
    """Schema 0006 (states and confidentiality) goes down and up again keeping the rows of
    older tables, and refuses to go down while an authority account exists (the older
    schema has no such role); both backends."""
    from tests.registry.factories import make_alert, make_user

    with session_scope(engine) as s:
        make_user(s, "supervisor")
        authority = make_user(s, "authority")
        make_alert(s)
        name = authority.username
    tables = ("alerts", "alert_shipments", "facilities", "triage_events", "users")

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}

    before = counts()
    with pytest.raises(ValueError, match=r"holds 1 authority account"):
        downgrade_db(engine, "0005")
    assert current_revision(engine) == "0006"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :n"), {"n": name})
    downgrade_db(engine, "0005")
    assert current_revision(engine) == "0005"
    with engine.connect() as conn:
        assert not inspect(conn).has_table("clarification_requests")
        assert "classification" not in {c["name"] for c in inspect(conn).get_columns("alerts")}
        assert "classification" not in {c["name"] for c in inspect(conn).get_columns("shipments")}
    init_db(engine)
    assert current_revision(engine) == "0006"
    assert counts() == before | {"users": before["users"] - 1}
    with engine.connect() as conn:
        levels = conn.execute(text("SELECT DISTINCT classification FROM facilities")).scalars()
        assert list(levels) == ["protected"]
        assert conn.execute(text("SELECT COUNT(*) FROM shipments")).scalar_one() == 1
