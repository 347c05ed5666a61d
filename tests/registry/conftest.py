"""Registry tests keep their audit key files in their own temporary folder (a PostgreSQL
registry's key lives in PWATCH_DATA_DIR; an SQLite one's next to its file)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PWATCH_AUDIT_KEY", raising=False)
    monkeypatch.delenv("PWATCH_AUDIT_KEY_FILE", raising=False)
