"""parties: shipments point to their exporter and importer by integer

Every shipment row carried both parties' raw names, their normalised forms, countries and
facility links, and the file hash of its batch: 467 bytes per row on disk with indexes, most
of it repeated. The parties move to their own table (one row per raw name and country, with
the link), the stored rows move to `shipment_records`, and `shipments` becomes a view that
joins them back, column for column as before (the file hash from the batch). Relinking after
a facilities load now updates parties only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Frozen here: the view this revision creates (later revisions replace it, not edit this).
_VIEW = """
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

_COMMON = (
    "source, shipment_id, date, product, cas, hs_code, quantity, unit, quantity_kg, flow, "
    "consignment_ref, transit_countries, batch_id, row_number"
)


def _repoint_alert_shipments(target: str) -> None:
    """alert_shipments.shipment_pk references `target`.id (copy, drop, rename)."""
    op.create_table(
        "alert_shipments_new",
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("shipment_pk", _ID, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shipment_pk"], [f"{target}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alert_id", "shipment_pk"),
    )
    op.execute(
        "INSERT INTO alert_shipments_new (alert_id, shipment_pk) "
        "SELECT alert_id, shipment_pk FROM alert_shipments"
    )
    op.drop_table("alert_shipments")
    op.rename_table("alert_shipments_new", "alert_shipments")
    op.create_index("ix_alert_shipments_shipment_pk", "alert_shipments", ["shipment_pk"])


def _sync_sequence(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "parties",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_norm", sa.String(length=500), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("facility_id", sa.String(length=100), nullable=True),
        sa.Column("link_score", sa.Float(), nullable=True),
        sa.Column("link_method", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "shipment_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("shipment_id", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("exporter_party_id", _ID, nullable=False),
        sa.Column("importer_party_id", _ID, nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("cas", sa.String(length=64), nullable=True),
        sa.Column("hs_code", sa.String(length=32), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("quantity_kg", sa.Float(), nullable=False),
        sa.Column("flow", sa.String(length=1), nullable=True),
        sa.Column("consignment_ref", sa.String(length=200), nullable=True),
        sa.Column("transit_countries", sa.Text(), nullable=True),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("row_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["exporter_party_id"], ["parties.id"]),
        sa.ForeignKeyConstraint(["importer_party_id"], ["parties.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "shipment_id"),
    )
    # One party per (raw name, country); its link was the same on every row that named it.
    op.execute(
        "INSERT INTO parties (name, name_norm, country, facility_id, link_score, link_method) "
        "SELECT name, MIN(norm), country, MIN(fid), MIN(score), MIN(method) FROM ("
        " SELECT exporter AS name, exporter_norm AS norm, exporter_country AS country,"
        " exporter_facility_id AS fid, exporter_link_score AS score,"
        " exporter_link_method AS method FROM shipments"
        " UNION ALL"
        " SELECT importer, importer_norm, importer_country, importer_facility_id,"
        " importer_link_score, importer_link_method FROM shipments"
        ") p GROUP BY name, country ORDER BY MIN(norm), country, name"
    )
    if sqlite:  # (PostgreSQL hash-joins; a btree would refuse names over ~2,700 bytes)
        op.execute("CREATE INDEX tmp_parties_name ON parties (name, country)")
    op.execute(
        f"INSERT INTO shipment_records (id, {_COMMON}, exporter_party_id, importer_party_id) "
        f"SELECT s.id, {', '.join('s.' + c.strip() for c in _COMMON.split(','))}, e.id, i.id "
        "FROM shipments s "
        "JOIN parties e ON e.name = s.exporter AND e.country = s.exporter_country "
        "JOIN parties i ON i.name = s.importer AND i.country = s.importer_country "
        "ORDER BY s.id"
    )
    if sqlite:
        op.execute("DROP INDEX tmp_parties_name")
    _sync_sequence("shipment_records")
    _repoint_alert_shipments("shipment_records")
    op.drop_table("shipments")
    op.create_index("ix_parties_norm", "parties", ["name_norm", "country"])
    op.create_index("ix_parties_facility_id", "parties", ["facility_id"])
    op.create_index("ix_shipment_records_exporter", "shipment_records", ["exporter_party_id"])
    op.create_index("ix_shipment_records_importer", "shipment_records", ["importer_party_id"])
    op.create_index("ix_shipment_records_consignment", "shipment_records", ["consignment_ref"])
    op.execute(_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW shipments")
    op.create_table(
        "shipments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("shipment_id", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("exporter", sa.Text(), nullable=False),
        sa.Column("exporter_norm", sa.String(length=500), nullable=False),
        sa.Column("exporter_country", sa.String(length=3), nullable=False),
        sa.Column("importer", sa.Text(), nullable=False),
        sa.Column("importer_norm", sa.String(length=500), nullable=False),
        sa.Column("importer_country", sa.String(length=3), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("cas", sa.String(length=64), nullable=True),
        sa.Column("hs_code", sa.String(length=32), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("quantity_kg", sa.Float(), nullable=False),
        sa.Column("flow", sa.String(length=1), nullable=True),
        sa.Column("consignment_ref", sa.String(length=200), nullable=True),
        sa.Column("transit_countries", sa.Text(), nullable=True),
        sa.Column("exporter_facility_id", sa.String(length=100), nullable=True),
        sa.Column("exporter_link_score", sa.Float(), nullable=True),
        sa.Column("exporter_link_method", sa.String(length=32), nullable=True),
        sa.Column("importer_facility_id", sa.String(length=100), nullable=True),
        sa.Column("importer_link_score", sa.Float(), nullable=True),
        sa.Column("importer_link_method", sa.String(length=32), nullable=True),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("row_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "shipment_id"),
    )
    op.execute(
        f"INSERT INTO shipments (id, {_COMMON}, exporter, exporter_norm, exporter_country, "
        "exporter_facility_id, exporter_link_score, exporter_link_method, importer, "
        "importer_norm, importer_country, importer_facility_id, importer_link_score, "
        "importer_link_method, file_hash) "
        f"SELECT s.id, {', '.join('s.' + c.strip() for c in _COMMON.split(','))}, "
        "e.name, e.name_norm, e.country, e.facility_id, e.link_score, e.link_method, "
        "i.name, i.name_norm, i.country, i.facility_id, i.link_score, i.link_method, "
        "b.file_hash FROM shipment_records s "
        "JOIN parties e ON e.id = s.exporter_party_id "
        "JOIN parties i ON i.id = s.importer_party_id "
        "JOIN ingest_batches b ON b.id = s.batch_id ORDER BY s.id"
    )
    _sync_sequence("shipments")
    _repoint_alert_shipments("shipments")
    op.drop_table("shipment_records")
    op.drop_table("parties")
    op.create_index("ix_shipments_consignment", "shipments", ["consignment_ref"])
    op.create_index("ix_shipments_exporter", "shipments", ["exporter_norm", "exporter_country"])
    op.create_index("ix_shipments_importer", "shipments", ["importer_norm", "importer_country"])
    op.create_index("ix_shipments_exporter_facility_id", "shipments", ["exporter_facility_id"])
    op.create_index("ix_shipments_importer_facility_id", "shipments", ["importer_facility_id"])
