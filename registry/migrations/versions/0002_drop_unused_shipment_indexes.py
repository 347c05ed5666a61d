"""drop the shipment indexes no query uses (date, batch_id)

Nothing filters or orders shipments by these through an index: the console orders by
coalesce(date, date) precisely to keep SQLite off the date index, the detectors read the
table whole, and no batch is ever deleted. Every index on shipments is rebuilt by a big
load, so these two cost about a third of that rebuild for nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_shipments_date", table_name="shipments")
    op.drop_index("ix_shipments_batch_id", table_name="shipments")


def downgrade() -> None:
    op.create_index("ix_shipments_batch_id", "shipments", ["batch_id"], unique=False)
    op.create_index("ix_shipments_date", "shipments", ["date"], unique=False)
