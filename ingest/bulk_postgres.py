"""The PostgreSQL bulk path of a shipments load: COPY into a temporary table, then one
INSERT ... ON CONFLICT DO NOTHING per chunk; a load bigger than the table also sets the
foreign keys of shipment_records aside and re-adds them, checked once, at the end."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Connection

from ingest.bulk import ShipmentWriter
from registry.shipments import RECORD_COLUMNS

__all__ = ["PostgresWriter"]


class PostgresWriter(ShipmentWriter):
    def __init__(self, conn: Connection, batch_id: int) -> None:
        super().__init__(conn, batch_id)
        cols = ", ".join(RECORD_COLUMNS)
        cur = self.raw.cursor()
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS pwatch_ingest_shipments AS "
            f"SELECT {cols} FROM shipment_records WITH NO DATA"
        )
        cur.execute("TRUNCATE pwatch_ingest_shipments")
        cur.close()

    def write(self, item: Any) -> tuple[int, int]:
        """Insert one chunk; (rows offered, rows inserted)."""
        rows: pl.DataFrame = item
        if not rows.height:
            return 0, 0
        cols = ", ".join(RECORD_COLUMNS)
        cur = self.raw.cursor()
        data = rows.select(RECORD_COLUMNS).write_csv(
            include_header=False, null_value="\\N", quote_style="non_numeric"
        )
        with cur.copy(
            f"COPY pwatch_ingest_shipments ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            copy.write(data.encode("utf-8"))
        cur.execute(
            f"INSERT INTO shipment_records ({cols}) SELECT {cols} FROM pwatch_ingest_shipments "
            "ORDER BY row_number ON CONFLICT (source, shipment_id) DO NOTHING"
        )
        inserted = cur.rowcount
        cur.execute("TRUNCATE pwatch_ingest_shipments")
        cur.close()
        return rows.height, int(inserted)

    def _set_aside(self, cur: Any) -> list[tuple[str, str]]:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'shipment_records' "
            "AND schemaname = current_schema() AND indexdef NOT LIKE 'CREATE UNIQUE%'"
        )
        found = [(f'DROP INDEX "{name}"', str(sql)) for name, sql in cur.fetchall()]
        # PostgreSQL checks a foreign key with a query per inserted row (three per record:
        # 18 of 24 s for a million); re-added in finish(), each is checked once over the
        # whole table.
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'shipment_records'::regclass AND contype = 'f' "
            "ORDER BY conname"
        )
        return found + [
            (
                f'ALTER TABLE shipment_records DROP CONSTRAINT "{name}"',
                f'ALTER TABLE shipment_records ADD CONSTRAINT "{name}" {definition}',
            )
            for name, definition in cur.fetchall()
        ]

    def _before_restore(self, cur: Any) -> None:
        cur.execute("DROP TABLE IF EXISTS pwatch_ingest_shipments")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
