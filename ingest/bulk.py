"""Bulk writing of shaped shipment rows inside the load's transaction: what the SQLite and
PostgreSQL paths share (the writer's steps, setting the secondary indexes aside for a load
bigger than the table) and the choice between them."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Connection

__all__ = ["ShipmentWriter", "open_writer"]

_DEFER_INDEX_MIN_ROWS = 100_000


class ShipmentWriter:
    """Bulk insert of shaped shipment rows through the raw DBAPI connection (same transaction).

    (source, shipment_id) already present (in the registry or earlier in the file) is skipped
    by ON CONFLICT DO NOTHING; write() returns (rows offered, rows actually inserted).
    plan(), stage() and seal() run in the reader thread, ahead of write(); release() runs
    after the transaction ended, either way."""

    def __init__(self, conn: Connection, batch_id: int) -> None:
        self.conn = conn
        self.batch_id = int(batch_id)
        self.raw: Any = conn.connection.driver_connection
        # (drop, restore) statements of the indexes and keys set aside for a big load
        self._deferred: list[tuple[str, str]] = []

    def plan(self, estimate: int) -> None:
        """The estimated number of rows of the load, known after its first chunk."""

    def stage(self, rows: pl.DataFrame) -> Any:
        """What write() takes for these rows (the rows themselves unless a path stages them)."""
        return rows

    def seal(self) -> Any:
        """What is left to write once every chunk is staged (None: nothing)."""
        return None

    def close_stage(self) -> None:
        """The reader thread is done (either way)."""

    def write(self, item: Any) -> tuple[int, int]:
        raise NotImplementedError

    def release(self) -> None:
        """After the transaction ended (either way)."""

    def defer_indexes(self, expected_rows: int) -> None:
        """For a load bigger than the table, drop the secondary indexes (and on PostgreSQL the
        foreign keys) now and restore them in finish(), inside the same transaction: one sort
        per index beats a million random inserts, one check per key a million lookups. (On
        PostgreSQL this holds an exclusive lock on shipment_records until commit, so it is
        only done when the table is smaller than the load, e.g. an initial bulk load.)"""
        if self._deferred or expected_rows < _DEFER_INDEX_MIN_ROWS:
            return
        cur = self.raw.cursor()
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM shipment_records")
        existing = cur.fetchone()[0]
        if existing <= expected_rows:
            found = self._set_aside(cur)
            self._deferred = found
            for drop, _ in found:
                cur.execute(drop)
        cur.close()

    def _set_aside(self, cur: Any) -> list[tuple[str, str]]:
        """(drop, restore) statements of what a big load sets aside on this backend."""
        raise NotImplementedError

    def finish(self) -> None:
        """Restore what defer_indexes set aside, and this connection's settings."""
        cur = self.raw.cursor()
        self._before_restore(cur)
        for _, restore in self._deferred:
            cur.execute(restore)
        self._deferred = []
        self._after_restore(cur)
        cur.close()

    def _before_restore(self, cur: Any) -> None:
        pass

    def _after_restore(self, cur: Any) -> None:
        pass


def open_writer(conn: Connection, batch_id: int, chunk_size: int) -> ShipmentWriter:
    """The bulk path of the connection's backend."""
    if conn.dialect.name == "postgresql":
        from ingest.bulk_postgres import PostgresWriter

        return PostgresWriter(conn, batch_id)
    from ingest.bulk_sqlite import SqliteWriter

    return SqliteWriter(conn, batch_id, chunk_size)
