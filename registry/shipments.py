"""Writing shipment records: parties and addresses by id (the `parties` and `addresses`
tables), records in `shipment_records`.

Loads and test fixtures hand over shipments in the wide shape of the `shipments` view (party
names, norms, countries, links and addresses on every row); `PartyBook` turns them into the
stored shape, giving each (raw name, country) its party id once and each address text its
address id once, and collects the parties and addresses that are new. Readers use the
`shipments` view (registry.models.Shipment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, text

from registry.models import Address, Party, ShipmentRecord

__all__ = [
    "PARTY_COLUMNS",
    "RECORD_COLUMNS",
    "NewEntries",
    "PartyBook",
    "write_shipments",
]

# The stored columns of a record, in table order (its id aside).
RECORD_COLUMNS = [c.name for c in ShipmentRecord.__table__.columns if c.name != "id"]
PARTY_COLUMNS = ["id", "name", "name_norm", "country", "facility_id", "link_score", "link_method"]
_PARTY_SCHEMA = {
    "id": pl.Int64(),
    "name": pl.String(),
    "name_norm": pl.String(),
    "country": pl.String(),
    "facility_id": pl.String(),
    "link_score": pl.Float64(),
    "link_method": pl.String(),
}
_ADDRESS_SCHEMA = {"id": pl.Int64(), "text": pl.String()}
_ROLES = ("exporter", "importer")


@dataclass
class NewEntries:
    """Parties and addresses a batch of rows named for the first time (to store first)."""

    parties: pl.DataFrame
    addresses: pl.DataFrame  # id, text


class PartyBook:
    """Party ids of (raw name, country) pairs and address ids of address texts: the
    registry's and the ones a load adds.

    Made inside the writing transaction; it takes the locks of parties and addresses first
    (SQLite holds the write lock from the load's first write on; PostgreSQL gets locks that
    only other writers of those tables wait for), so ids handed out here cannot collide with
    another load's. `assign` needs no connection and may run in a reader thread; the caller
    stores the new entries it returns before the rows that use them."""

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect.name
        if self.dialect == "postgresql":
            conn.execute(text("LOCK TABLE parties IN SHARE ROW EXCLUSIVE MODE"))
            conn.execute(text("LOCK TABLE addresses IN SHARE ROW EXCLUSIVE MODE"))
        rows = conn.execute(text("SELECT id, name, country FROM parties")).all()
        self._known = pl.DataFrame(
            [tuple(r) for r in rows],
            schema={"id": pl.Int64(), "name": pl.String(), "country": pl.String()},
            orient="row",
        )
        top = self._known.select(pl.col("id").max()).item() if self._known.height else 0
        self._next = int(top or 0) + 1
        self.added = 0
        rows = conn.execute(text("SELECT id, text FROM addresses")).all()
        self._addresses = pl.DataFrame(
            [tuple(r) for r in rows], schema=_ADDRESS_SCHEMA, orient="row"
        )
        top = self._addresses.select(pl.col("id").max()).item() if rows else 0
        self._next_address = int(top or 0) + 1
        self.added_addresses = 0

    def assign(self, wide: pl.DataFrame) -> tuple[pl.DataFrame, NewEntries]:
        """(the rows with exporter/importer_party_id and _address_id, the new entries)."""
        new_parts: list[pl.DataFrame] = []
        out = wide
        for role in _ROLES:
            key = [role, f"{role}_country"]
            cand = (
                wide.select(
                    pl.col(role).cast(pl.String).alias("name"),
                    pl.col(f"{role}_norm").cast(pl.String).alias("name_norm"),
                    pl.col(f"{role}_country").cast(pl.String).alias("country"),
                    pl.col(f"{role}_facility_id").cast(pl.String).alias("facility_id"),
                    pl.col(f"{role}_link_score").cast(pl.Float64).alias("link_score"),
                    pl.col(f"{role}_link_method").cast(pl.String).alias("link_method"),
                )
                .unique(["name", "country"], keep="first", maintain_order=True)
                .join(self._known, on=["name", "country"], how="anti", nulls_equal=True)
            )
            if cand.height:
                cand = cand.with_columns(
                    pl.int_range(self._next, self._next + cand.height, dtype=pl.Int64).alias("id")
                ).select(PARTY_COLUMNS)
                self._next += cand.height
                self.added += cand.height
                self._known = pl.concat([self._known, cand.select("id", "name", "country")])
                new_parts.append(cand)
            ids = self._known.rename({"id": f"{role}_party_id", "name": key[0], "country": key[1]})
            out = out.join(ids, on=key, how="left", nulls_equal=True, maintain_order="left")
        parties = pl.concat(new_parts) if new_parts else pl.DataFrame(schema=_PARTY_SCHEMA)
        out, addresses = self._assign_addresses(out)
        return out, NewEntries(parties, addresses)

    def _assign_addresses(self, wide: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """exporter/importer_address_id for the address texts (null without one)."""
        cols = [f"{role}_address" for role in _ROLES]
        texts = pl.concat([wide.get_column(c).cast(pl.String).alias("text") for c in cols])
        new = (
            texts.drop_nulls()
            .unique(maintain_order=True)
            .to_frame()
            .join(self._addresses, on="text", how="anti")
        )
        if new.height:
            start = self._next_address
            new = new.with_columns(
                pl.int_range(start, start + new.height, dtype=pl.Int64).alias("id")
            ).select("id", "text")
            self._next_address += new.height
            self.added_addresses += new.height
            self._addresses = pl.concat([self._addresses, new])
        for c in cols:
            ids = self._addresses.rename({"id": f"{c}_id", "text": c})
            wide = wide.join(ids, on=c, how="left", maintain_order="left")
        return wide, new if new.height else pl.DataFrame(schema=_ADDRESS_SCHEMA)

    def store(self, conn: Connection, new: NewEntries) -> None:
        """Insert the entries returned by assign (before the rows that refer to them)."""
        if new.parties.height:
            conn.execute(insert(Party), new.parties.select(PARTY_COLUMNS).to_dicts())
        if new.addresses.height:
            conn.execute(insert(Address), new.addresses.to_dicts())

    def finish(self, conn: Connection) -> None:
        """After explicit ids: PostgreSQL's id sequences continue after the largest."""
        if self.dialect != "postgresql":
            return
        for table, added in (("parties", self.added), ("addresses", self.added_addresses)):
            if added:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )


def write_shipments(conn: Connection, wide: pl.DataFrame | list[dict[str, Any]]) -> list[int]:
    """Store shipments given in the `shipments` view's shape (party columns on every row;
    missing optional columns are null); returns the records' ids in order. Rows that carry
    an `id` keep it and go in bulk (COPY on PostgreSQL); others are inserted one by one.
    For fixtures, samples and benchmarks: feeds go through ingest.load_file."""
    frame = wide if isinstance(wide, pl.DataFrame) else pl.DataFrame(wide)
    for role in _ROLES:
        for col, dtype in (
            ("_facility_id", pl.String()),
            ("_link_score", pl.Float64()),
            ("_link_method", pl.String()),
            ("_address", pl.String()),
        ):
            if f"{role}{col}" not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(f"{role}{col}"))
    book = PartyBook(conn)
    rows, new = book.assign(frame)
    book.store(conn, new)
    book.finish(conn)
    if "id" not in rows.columns:
        present = [c for c in RECORD_COLUMNS if c in rows.columns]
        return [
            int(
                conn.execute(
                    insert(ShipmentRecord).values(**rec).returning(ShipmentRecord.id)
                ).scalar_one()
            )
            for rec in rows.select(present).to_dicts()
        ]
    cols = [c for c in ["id", *RECORD_COLUMNS] if c in rows.columns]
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            with cur.copy(f"COPY shipment_records ({', '.join(cols)}) FROM STDIN") as cp:
                for row in rows.select(cols).iter_rows():
                    cp.write_row(row)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('shipment_records', 'id'), "
                "(SELECT MAX(id) FROM shipment_records))"
            )
    else:
        sql = (
            f"INSERT INTO shipment_records ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})"
        )
        cur = raw.cursor()
        try:
            for off in range(0, rows.height, 50_000):
                cur.executemany(sql, rows.slice(off, 50_000).select(cols).rows())
        finally:
            cur.close()
    return [int(i) for i in rows["id"].to_list()]
