"""shipment records carry the declared customs value and the parties' addresses

Three nullable columns on `shipment_records`: `value` (the declared customs value) in
`currency` (ISO 4217) and `value_usd` (that value at the ECB reference rate of the record's
date); the parties' addresses, as the feed gives them, are stored once each in a new
`addresses` table and referred to by `exporter_address_id` and `importer_address_id` (most
records repeat their parties' addresses: about 100 bytes a record saved). The `shipments`
view is re-created with `value`, `currency`, `value_usd`, `exporter_address` and
`importer_address` after `transit_countries`. Records loaded before have them empty.
Downgrade drops them (and the values and addresses with them) and restores the 0003 view.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = (
    ("value", sa.Float()),
    ("currency", sa.String(length=3)),
    ("value_usd", sa.Float()),
    # No foreign key: addresses are never deleted, and SQLite cannot drop a column that has
    # one (downgrade).
    ("exporter_address_id", sa.BigInteger()),
    ("importer_address_id", sa.BigInteger()),
)

# Frozen here, as in 0003: the view of this revision (later revisions replace it).
_VIEW = """
CREATE VIEW shipments AS
SELECT s.id, s.source, s.shipment_id, s.date,
       e.name AS exporter, e.name_norm AS exporter_norm, e.country AS exporter_country,
       i.name AS importer, i.name_norm AS importer_norm, i.country AS importer_country,
       s.product, s.cas, s.hs_code, s.quantity, s.unit, s.quantity_kg, s.flow,
       s.consignment_ref, s.transit_countries,
       s.value, s.currency, s.value_usd,
       ea.text AS exporter_address, ia.text AS importer_address,
       e.facility_id AS exporter_facility_id, e.link_score AS exporter_link_score,
       e.link_method AS exporter_link_method,
       i.facility_id AS importer_facility_id, i.link_score AS importer_link_score,
       i.link_method AS importer_link_method,
       s.batch_id, b.file_hash, s.row_number
FROM shipment_records s
JOIN parties e ON e.id = s.exporter_party_id
JOIN parties i ON i.id = s.importer_party_id
JOIN ingest_batches b ON b.id = s.batch_id
LEFT JOIN addresses ea ON ea.id = s.exporter_address_id
LEFT JOIN addresses ia ON ia.id = s.importer_address_id
"""

# The 0003 view, restored on downgrade.
_VIEW_0003 = """
CREATE VIEW shipments AS
SELECT s.id, s.source, s.shipment_id, s.date,
       e.name AS exporter, e.name_norm AS exporter_norm, e.country AS exporter_country,
       i.name AS importer, i.name_norm AS importer_norm, i.country AS importer_country,
       s.product, s.cas, s.hs_code, s.quantity, s.unit, s.quantity_kg, s.flow,
       s.consignment_ref, s.transit_countries,
       e.facility_id AS exporter_facility_id, e.link_score AS exporter_link_score,
       e.link_method AS exporter_link_method,
       i.facility_id AS importer_facility_id, i.link_score AS importer_link_score,
       i.link_method AS importer_link_method,
       s.batch_id, b.file_hash, s.row_number
FROM shipment_records s
JOIN parties e ON e.id = s.exporter_party_id
JOIN parties i ON i.id = s.importer_party_id
JOIN ingest_batches b ON b.id = s.batch_id
"""


def upgrade() -> None:
    op.execute("DROP VIEW shipments")
    op.create_table(
        "addresses",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Nullable columns without a default: a catalogue change on both backends (no rewrite of
    # the table, whatever its size).
    for name, type_ in _COLUMNS:
        op.add_column("shipment_records", sa.Column(name, type_, nullable=True))
    op.execute(_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW shipments")
    for name, _ in reversed(_COLUMNS):
        op.drop_column("shipment_records", name)
    op.drop_table("addresses")
    op.execute(_VIEW_0003)
