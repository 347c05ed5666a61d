"""Console test fixtures: a small registry with users and alerts, and a logged-in AppTest."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

import console_factories as cf


@pytest.fixture
def console_db(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Engine, dict[str, int]]]:
    """An initialised SQLite registry with the demo rows; the console is pointed at it."""
    ids = cf.demo(sqlite_engine)
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    yield sqlite_engine, ids
