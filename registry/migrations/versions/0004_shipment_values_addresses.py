"""shipment records carry the declared customs value and the parties' addresses

Five nullable columns on `shipment_records`: `value` (the declared customs value) in
`currency` (ISO 4217), `value_usd` (that value at the ECB reference rate of the record's
date), `exporter_address` and `importer_address` (as the feed gives them). The `shipments`
view is re-created with them, after `transit_countries`. Records loaded before have them
empty. Downgrade drops them (and the values with them) and restores the 0003 view.

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

_COLUMNS = (
    ("value", sa.Float()),
    ("currency", sa.String(length=3)),
    ("value_usd", sa.Float()),
    ("exporter_address", sa.Text()),
    ("importer_address", sa.Text()),
)

# Frozen here, as in 0003: the view of this revision (later revisions replace it).
_VIEW = """
CREATE VIEW shipments AS
SELECT s.id, s.source, s.shipment_id, s.date,
       e.name AS exporter, e.name_norm AS exporter_norm, e.country AS exporter_country,
       i.name AS importer, i.name_norm AS importer_norm, i.country AS importer_country,
       s.product, s.cas, s.hs_code, s.quantity, s.unit, s.quantity_kg, s.flow,
       s.consignment_ref, s.transit_countries,
       s.value, s.currency, s.value_usd, s.exporter_address, s.importer_address,
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
    # Nullable columns without a default: a catalogue change on both backends (no rewrite of
    # the table, whatever its size).
    for name, type_ in _COLUMNS:
        op.add_column("shipment_records", sa.Column(name, type_, nullable=True))
    op.execute(_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW shipments")
    for name, _ in reversed(_COLUMNS):
        op.drop_column("shipment_records", name)
    op.execute(_VIEW_0003)
