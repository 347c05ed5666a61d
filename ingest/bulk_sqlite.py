"""The SQLite bulk path of a shipments load: shaped rows are staged in scratch SQLite files
through ADBC (Arrow, bound in C) from the reader thread, and each file is copied into
shipment_records by one INSERT ... SELECT inside the load's transaction; a load bigger than
the table rebuilds the secondary indexes once at the end, with a small page cache so that
SQLite's sorter runs in parallel."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection

from ingest.bulk import ShipmentWriter
from registry.shipments import RECORD_COLUMNS

__all__ = ["SqliteWriter"]

_SQLITE_CACHE_KB = 512 * 1024
_SQLITE_SORT_CACHE_KB = 2 * 1024  # while rebuilding indexes (see SqliteWriter._before_restore)
_MAX_SEGMENTS = 8  # staging files attached per load (SQLite allows 10 attached databases)
# Staged columns: batch_id is the same on every row and inlined as a literal.
_STAGED = [c for c in RECORD_COLUMNS if c != "batch_id"]


@dataclass
class Segment:
    """A staging SQLite file holding shaped rows (table t), ready to be copied by SQL."""

    path: Path
    rows: int


class Stager:
    """Writes shaped shipment rows into scratch SQLite files through ADBC (Arrow, bound in C),
    from the reader thread. The load's own connection then ATTACHes each sealed file and
    copies it with one INSERT ... SELECT inside the load's transaction: the registry is only
    ever written by that transaction; the scratch files are outside it (no journal, deleted
    after the load; one left behind by a kill -9 holds nothing the registry depends on).

    A connection cannot see tables created after it first read an attached file, so every
    handover is a new file; SQLite allows 10 attached files, so a big load is cut into at
    most _MAX_SEGMENTS files (the last takes whatever the size estimate missed)."""

    def __init__(self, adbc: Any, chunk_size: int) -> None:
        self._adbc = adbc
        remove_orphan_staging()
        self._dir = Path(tempfile.mkdtemp(prefix=f"pwatch-stage-{os.getpid()}-"))
        self._chunk_size = chunk_size
        self._per_segment = 1  # chunks per file, set by plan()
        self._made = 0
        self._chunks_in_current = 0
        self._rows_in_current = 0
        self._conn: Any = None
        self._path: Path | None = None

    def plan(self, estimate: int) -> None:
        chunks = max(1, -(-estimate // max(self._chunk_size, 1)))
        self._per_segment = max(1, -(-chunks // (_MAX_SEGMENTS - 1)))

    def add(self, good: pl.DataFrame) -> Segment | None:
        """Stage `good`; returns the file to copy now when this chunk completes one."""
        if good.height:
            if self._conn is None:
                self._made += 1
                self._path = self._dir / f"stage{self._made}.db"
                self._conn = self._adbc.connect(str(self._path), autocommit=True)
                cur = self._conn.cursor()
                cur.execute("PRAGMA journal_mode = OFF")
                cur.execute("PRAGMA synchronous = OFF")
                cur.close()
            table = good.select(_STAGED).to_arrow(compat_level=pl.CompatLevel.oldest())
            cur = self._conn.cursor()
            cur.adbc_ingest("t", table, mode="create_append")
            cur.close()
            self._rows_in_current += good.height
        self._chunks_in_current += 1
        if self._chunks_in_current >= self._per_segment and self._made < _MAX_SEGMENTS:
            return self.seal()
        return None

    def seal(self) -> Segment | None:
        self._chunks_in_current = 0
        if self._conn is None or self._path is None:
            return None
        self._conn.close()
        self._conn = None
        seg = Segment(self._path, self._rows_in_current)
        self._rows_in_current = 0
        return seg

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def remove(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def remove_orphan_staging() -> None:
    """Scratch directories left by a load that was killed (kill -9, power loss): removed once
    the process named in the directory is gone."""
    for d in Path(tempfile.gettempdir()).glob("pwatch-stage-*-*"):
        try:
            pid = int(d.name.split("-")[2])
            os.kill(pid, 0)  # raises if there is no such process
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, OSError):
            continue  # not ours to judge, or another user's live process


class SqliteWriter(ShipmentWriter):
    def __init__(self, conn: Connection, batch_id: int, chunk_size: int) -> None:
        super().__init__(conn, batch_id)
        self._attached: list[str] = []
        # The default 2 MB page cache makes index maintenance of a big load disk-bound;
        # a larger cache for this connection's load (restored in finish) avoids that.
        cur = self.raw.cursor()
        self._cache_size = cur.execute("PRAGMA cache_size").fetchone()[0]
        self._threads = cur.execute("PRAGMA threads").fetchone()[0]
        cur.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KB}")
        cur.execute("PRAGMA threads = 2")  # index builds sort with a helper thread
        cur.close()
        self._stager: Stager | None = None
        try:
            import adbc_driver_sqlite.dbapi as adbc

            self._stager = Stager(adbc, chunk_size)
        except ImportError:  # pragma: no cover - a declared dependency; executemany then
            pass

    def plan(self, estimate: int) -> None:
        if self._stager is not None:
            self._stager.plan(estimate)

    def stage(self, rows: pl.DataFrame) -> Any:
        return rows if self._stager is None else self._stager.add(rows)

    def seal(self) -> Any:
        return None if self._stager is None else self._stager.seal()

    def close_stage(self) -> None:
        if self._stager is not None:
            self._stager.close()

    def write(self, item: Any) -> tuple[int, int]:
        """Insert one staged file, or one chunk (a frame); (rows offered, rows inserted)."""
        if isinstance(item, Segment):
            return item.rows, self._copy_segment(item)
        if not item.height:
            return 0, 0
        return item.height, self._write_rows(item)

    def _insert_sql(self, values: str) -> str:
        # batch_id is the same on every row: inlined, not bound per row.
        return (
            f"INSERT INTO shipment_records ({', '.join([*_STAGED, 'batch_id'])}) "
            f"{values.format(consts=self.batch_id)} "
            "ON CONFLICT (source, shipment_id) DO NOTHING"
        )

    def _copy_segment(self, seg: Segment) -> int:
        alias = f"pwatch_stage{len(self._attached) + 1}"
        cur = self.raw.cursor()
        # Only read by this transaction (which writes nothing but the registry).
        cur.execute(f"ATTACH DATABASE ? AS {alias}", (str(seg.path),))
        self._attached.append(alias)
        cols = ", ".join(_STAGED)
        # WHERE true: SQLite's parser needs it before an upsert clause on INSERT ... SELECT.
        cur.execute(self._insert_sql(f"SELECT {cols}, {{consts}} FROM {alias}.t WHERE true"))
        inserted = int(cur.rowcount)
        cur.close()
        return inserted

    def _write_rows(self, good: pl.DataFrame) -> int:
        sql = self._insert_sql(f"VALUES ({', '.join('?' * len(_STAGED))}, {{consts}})")
        cur = self.raw.cursor()
        step = 50_000
        inserted = 0
        for off in range(0, good.height, step):
            part = good.slice(off, step)
            rows = zip(*(part.get_column(c).to_list() for c in _STAGED), strict=True)
            cur.executemany(sql, rows)
            inserted += cur.rowcount
        cur.close()
        return inserted

    def release(self) -> None:
        """After the transaction ended (either way): detach the scratch files, delete them."""
        try:
            cur = self.raw.cursor()
            for alias in self._attached:
                cur.execute(f"DETACH DATABASE {alias}")
            cur.close()
            self._attached = []
        except Exception:  # a broken connection: never hand it back with files attached
            self.conn.invalidate()
        finally:
            if self._stager is not None:
                self._stager.remove()

    def _set_aside(self, cur: Any) -> list[tuple[str, str]]:
        # SQLite's own foreign-key checks cost little: kept.
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'shipment_records' AND sql IS NOT NULL"
        )
        return [(f'DROP INDEX "{name}"', str(sql)) for name, sql in cur.fetchall()]

    def _before_restore(self, cur: Any) -> None:
        if self._deferred:
            # SQLite's index sorter keeps one in-memory run as large as the page cache and
            # sorts it on one thread; with a small cache it cuts the keys into runs that its
            # helper threads sort in parallel, then merges them: about 3x faster here.
            cur.execute(f"PRAGMA cache_size = -{_SQLITE_SORT_CACHE_KB}")

    def _after_restore(self, cur: Any) -> None:
        cur.execute(f"PRAGMA cache_size = {int(self._cache_size)}")
        cur.execute(f"PRAGMA threads = {int(self._threads)}")
