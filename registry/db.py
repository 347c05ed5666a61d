"""Engines, sessions and schema management (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import DatabaseUnavailable, SchemaTooNew
from registry.settings import get_settings

__all__ = [
    "check_schema",
    "current_revision",
    "downgrade_db",
    "get_engine",
    "head_revision",
    "init_db",
    "make_engine",
    "open_registry",
    "session_scope",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: settings). SQLite files get WAL, foreign keys, a busy wait."""
    url = url or get_settings().database_url
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"malformed database URL {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}: "
            "use sqlite:///path.db or postgresql://user@host/db"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict = {}
    if backend == "sqlite":
        db_path = parsed.database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(f"cannot use database URL {url!r}: {exc}") from exc
    if backend == "sqlite":
        _sqlite_pragmas(engine)
    return engine


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """A cached engine per URL (one pool per process), checked for reachability and schema."""
    url = url or get_settings().database_url
    if url not in _engines:
        engine = make_engine(url)
        check_schema(engine)
        _engines[url] = engine
    return _engines[url]


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration this version of precursor-watch knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(_MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory(str(_MIGRATIONS)).walk_revisions()}


def _connect_check(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = " ".join(str(getattr(exc, "orig", exc)).split())
        raise DatabaseUnavailable(f"cannot reach database {where}: {reason}") from exc


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: empty database)."""
    _connect_check(engine)
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return row[0] if row else None


def check_schema(engine: Engine, *, require_current: bool = False) -> None:
    """Refuse a database written by a newer precursor-watch (and, if asked, an old one)."""
    rev = current_revision(engine)
    if rev is not None and rev not in _known_revisions():
        raise SchemaTooNew(
            f"the database is at schema revision {rev}, newer than this precursor-watch knows "
            f"(head {head_revision()}); upgrade precursor-watch"
        )
    if require_current and rev != head_revision():
        raise DatabaseUnavailable(
            "the database is not initialised or is out of date: run `pwatch init` first"
        )


def init_db(engine: Engine, *, load_watchlist: bool = True) -> str:
    """Create or upgrade the schema to head, then load the watchlist. Returns the revision."""
    from alembic import command

    check_schema(engine)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    if load_watchlist:
        from registry.watchlist import sync_watchlist

        with session_scope(engine) as session:
            sync_watchlist(session)
    return head_revision()


def downgrade_db(engine: Engine, target: str = "-1") -> None:
    """Step the schema back (used by migration tests and by operators rolling back)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), target)


_sessionmakers: dict[int, sessionmaker[Session]] = {}


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    maker = _sessionmakers.get(id(engine))
    if maker is None:
        maker = _sessionmakers[id(engine)] = sessionmaker(engine, expire_on_commit=False)
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def open_registry(url: str | None = None) -> Engine:
    """The engine of an initialised registry, or a clear error telling the user to run init."""
    engine = get_engine(url)
    check_schema(engine, require_current=True)
    return engine


def _env_default() -> str:  # pragma: no cover - convenience for REPL use
    return os.environ.get("PWATCH_DATABASE_URL", get_settings().database_url)
