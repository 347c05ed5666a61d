"""SQLite on a full disk and on a read-only (immutable) database file: `pwatch` fails with one
clear line, the file passes PRAGMA integrity_check, and the data already there is intact."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import run_pwatch, write_feed

from registry.db import init_db, make_engine

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="needs root: mounting a small tmpfs and chattr +i (file modes do not stop root); "
        "CI runs as root",
    ),
]

_TABLES = ("facilities", "declarations", "ingest_batches", "shipments", "quarantined_rows")


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(facilities, small shipment feed, big shipment feed), outside any test mount."""
    out = tmp_path_factory.mktemp("storage_feed")
    facilities, big = write_feed(out, 2029, 30_000)
    small = out / "small.csv"
    with big.open(encoding="utf-8") as src:
        small.write_text("".join(line for _, line in zip(range(201), src, strict=False)))
    return facilities, small, big


def _registry(db: Path, feeds: tuple[Path, Path, Path]) -> str:
    """An initialised registry at `db` with the facilities and the small feed loaded."""
    from ingest import load_file

    url = f"sqlite:///{db}"
    engine = make_engine(url)
    init_db(engine)
    load_file(engine, feeds[0], "facilities")
    load_file(engine, feeds[1], "shipments", source="small")
    engine.dispose()
    return url


def _state(url: str) -> dict[str, object]:
    """integrity_check and the count and content digest of each table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            state: dict[str, object] = {
                "integrity": conn.execute(text("PRAGMA integrity_check")).scalar_one()
            }
            for t in _TABLES:
                rows = sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")).all()))
                state[t] = (len(rows), hash(tuple(rows)))
            return state
    finally:
        engine.dispose()


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    assert any(w in errors[0] for w in words), errors[0]
    return errors[0]


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: room for a registry with a few hundred shipments, not for 30 000."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_during_ingest(small_tmpfs: Path, feeds: tuple[Path, Path, Path]) -> None:
    url = _registry(small_tmpfs / "pwatch.db", feeds)
    before = _state(url)
    assert before["integrity"] == "ok" and before["shipments"][0] > 100  # type: ignore[index]

    proc = run_pwatch(url, "ingest", "shipments", str(feeds[2]))
    _assert_one_line_error(proc, "disk is full", "No space")
    assert _state(url) == before

    # Nothing is wedged: with the space the failed load gave back, a small load works.
    small2 = small_tmpfs.parent / "small2.csv"
    header, *rows = feeds[1].read_text().splitlines(keepends=True)
    small2.write_text(header + "".join("again-" + row for row in rows))  # new shipment ids
    proc = run_pwatch(url, "ingest", "shipments", str(small2), "--source", "again")
    assert proc.returncode == 0, proc.stderr
    after = _state(url)
    assert after["integrity"] == "ok"
    assert after["facilities"] == before["facilities"]
    assert after["ingest_batches"][0] == before["ingest_batches"][0] + 1  # type: ignore[index]


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Files to chattr +i for the test; always made mutable again afterwards."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    marked: list[Path] = []
    yield marked
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_read_only_database_file(
    tmp_path: Path, feeds: tuple[Path, Path, Path], immutable: list[Path]
) -> None:
    db = tmp_path / "pwatch.db"
    url = _registry(db, feeds)
    before = _state(url)
    done = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i does not work on this file system: {done.stderr.strip()}")
    immutable.append(db)

    for args in (("ingest", "shipments", str(feeds[2])), ("detect",)):
        _assert_one_line_error(run_pwatch(url, *args), "readonly", "read-only")
    # Reading still works.
    listed = run_pwatch(url, "quarantine", "--format", "csv")
    assert listed.returncode == 0, listed.stderr

    subprocess.run(["chattr", "-i", str(db)], check=True)
    immutable.clear()
    assert _state(url) == before
    # Writable again: a load goes through.
    small2 = tmp_path / "small2.csv"
    header, *rows = feeds[1].read_text().splitlines(keepends=True)
    small2.write_text(header + "".join("again-" + row for row in rows))  # new shipment ids
    proc = run_pwatch(url, "ingest", "shipments", str(small2), "--source", "again")
    assert proc.returncode == 0, proc.stderr
    assert _state(url)["integrity"] == "ok"
