"""Shared pieces of the fault tests: a seeded feed, template registries, table counts, pwatch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

__all__ = [
    "PG_URL",
    "clone_pg",
    "clone_sqlite",
    "dispose_cached",
    "pg_admin",
    "pwatch",
    "run_pwatch",
    "table_counts",
    "wait_pg_idle",
    "write_feed",
]

PG_URL = os.environ.get("PWATCH_TEST_POSTGRES_URL")


def pwatch() -> list[str]:
    """The `pwatch` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "pwatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


def run_pwatch(url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `pwatch --db URL ARGS` to completion in a child process."""
    return subprocess.run(
        [*pwatch(), "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_feed(out: Path, seed: int, shipments: int) -> tuple[Path, Path]:
    """A seeded sample registry and shipment feed (facilities.csv, shipments.csv)."""
    from sample_data.generate import generate, write_sample

    paths = write_sample(generate(seed, shipments), out)
    return paths[0], paths[1]


def dispose_cached(url: str) -> None:
    """Close the engine registry.db caches per URL (the CLI run in-process opens one)."""
    from registry import db as registry_db

    for key in [k for k in registry_db._engines if k == url]:
        registry_db._engines.pop(key).dispose()


def table_counts(engine: Engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in tables
        }


def clone_sqlite(template: Path, target: Path) -> str:
    """Copy an SQLite registry file (closed, so its WAL is checkpointed) and return its URL."""
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(template) + suffix)
        if src.exists():
            shutil.copyfile(src, Path(str(target) + suffix))
    return f"sqlite:///{target}"


def pg_admin() -> Engine:
    assert PG_URL is not None
    return create_engine(
        PG_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    ).execution_options(isolation_level="AUTOCOMMIT")


def clone_pg(template_url: str) -> str:
    """A new PostgreSQL database copied from a template database (which has no connections)."""
    assert PG_URL is not None
    name = f"pwatch_test_{uuid.uuid4().hex[:12]}"
    template = template_url.rsplit("/", 1)[1]
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def wait_pg_idle(url: str, timeout: float = 30.0) -> None:
    """Wait until no other session is connected to the database of `url` (a killed client's
    backend lingers until the server notices the closed socket)."""
    name = url.rsplit("/", 1)[1]
    admin = pg_admin()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with admin.connect() as conn:
                n = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :n "
                        "AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                ).scalar_one()
            if n == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"database {name} still has sessions after {timeout} s")
    finally:
        admin.dispose()
