"""Fixtures of the ingest tests (factories live in tests_ingest_helpers)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests_ingest_helpers import write_csv


@pytest.fixture
def feed(tmp_path: Path) -> Callable[..., Path]:
    """feed(rows, name='ship.csv', **kw) -> path of a CSV written in tmp_path."""

    def make(rows: list[dict[str, Any]], name: str = "ship.csv", **kw: Any) -> Path:
        return write_csv(tmp_path / name, rows, **kw)

    return make
