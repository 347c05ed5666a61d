"""Engines, sessions and schema management (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import DatabaseUnavailable, ForeignDatabase, SchemaTooNew
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
    "sqlite_path",
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


def sqlite_path(engine: Engine) -> Path | None:
    """The file of an SQLite registry (None: PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


_PRIVATE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _create_private(path: Path) -> None:
    """Create the registry file readable by its owner only (it holds password hashes).

    SQLite gives its -wal, -shm and -journal files the mode of the database file, so they
    are private too. A missing folder is created for the owner only."""
    if path.exists():
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # created meanwhile by another process
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _tighten(path: Path) -> None:
    """Make an existing registry's files owner-only (older versions left them 0644)."""
    for suffix in _PRIVATE_SUFFIXES:
        f = Path(str(path) + suffix)
        if f.exists() and f.stat().st_mode & 0o077:
            f.chmod(0o600)


def _sqlite_pragmas(engine: Engine) -> None:
    path = sqlite_path(engine)

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        if path is not None:
            _create_private(path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            # WAL itself is switched on once, by init_db (it is stored in the file): a
            # connection must not rewrite a database before it is known to be a registry.
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """A cached engine per URL (one pool per process), checked for reachability and schema.

    Never creates a database: a mistyped SQLite path is refused before anything is written
    (only `pwatch init`, through make_engine and init_db, creates one)."""
    url = url or get_settings().database_url
    if url not in _engines:
        engine = make_engine(url)
        path = sqlite_path(engine)
        if path is not None and not path.is_file():
            engine.dispose()
            raise DatabaseUnavailable(
                f"there is no registry at {path}: check --db (or PWATCH_DATABASE_URL), "
                "or create one with `pwatch init`"
            )
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
            f"(head {head_revision()}): upgrade precursor-watch, or check that --db names a "
            "precursor-watch registry and not another application's database"
        )
    if require_current and rev != head_revision():
        raise DatabaseUnavailable(
            "the database is not initialised or is out of date: run `pwatch init` first"
        )


def _refuse_foreign_database(engine: Engine) -> None:
    """A database with tables but no precursor-watch schema belongs to someone else."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        if inspector.has_table("alembic_version"):
            return
        foreign = sorted(inspector.get_table_names() + inspector.get_view_names())
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        where = engine.url.render_as_string(hide_password=True)
        raise ForeignDatabase(
            f"{where} already holds tables precursor-watch does not know ({shown}): it looks "
            "like another application's database, so nothing was added; give `pwatch init` "
            "a new file or an empty database"
        )


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Any]:
    """A connection for Alembic. On SQLite, foreign keys are off while migrations rebuild
    tables (a rebuilt table is dropped and renamed, and with foreign keys on the drop would
    cascade to the rows that refer to it); they are checked once at the end instead."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise DatabaseUnavailable(
                            f"the migration left a broken reference in table {broken[0]}; "
                            "nothing was changed"
                        )
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def init_db(engine: Engine, *, load_watchlist: bool = True) -> str:
    """Create or upgrade the schema to head, anchor the audit chain under its key, then load
    the watchlist. Returns the revision.

    Refuses a database written by a newer precursor-watch or holding another application's
    tables. An SQLite registry's files are made readable by their owner only."""
    from alembic import command

    check_schema(engine)
    _refuse_foreign_database(engine)
    path = sqlite_path(engine)
    if path is not None:
        _tighten(path)
        with engine.connect() as conn:  # readers never wait for the writer (kept in the file)
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with _migration_connection(engine) as conn:
        command.upgrade(_alembic_config(conn), "head")
    from registry.audit import anchor_chain

    with session_scope(engine) as session:
        anchor_chain(session)
    if load_watchlist:
        from registry.watchlist import sync_watchlist

        with session_scope(engine) as session:
            sync_watchlist(session)
    return head_revision()


def downgrade_db(engine: Engine, target: str = "-1") -> None:
    """Step the schema back (used by migration tests and by operators rolling back)."""
    from alembic import command

    with _migration_connection(engine) as conn:
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
