"""states in the loop: authority accounts, TOTP, classifications, declaration submissions,
requests for clarification

Accounts gain `state` (an authority's ISO alpha-3 state; required for the new role
`authority`) and a TOTP second factor (`totp_secret`, `totp_enabled`, `totp_last_step`).
Facilities, declarations and ingest batches gain a `classification` (restricted, protected,
highly_protected; `protected` for every existing row, as data loaded from a national feed
is commercially confidential); alerts gain an explicit `classification` set by a supervisor
(NULL: derived from what the alert rests on). Batches gain `state`: the state whose
authority submitted them. New tables: declaration_submissions (each revision of a state's
declarations for a year), declaration_deadlines, clarification_requests and
clarification_attachments. The CHECK of event actions and account roles are replaced by
wider ones.

Downgrading refuses a registry that holds authority accounts (the older schema has no such
role); it keeps the wider CHECK on event actions, so the audit events of the new kinds stay
in the chain and it still verifies.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_ROLES = ("analyst", "inspector", "supervisor", "viewer")
_ROLES = (*_OLD_ROLES, "authority")
_LEVELS = ("restricted", "protected", "highly_protected")
_REQUEST_STATUSES = (
    "pending_approval",
    "rejected",
    "open",
    "answered",
    "closed",
    "followed_up",
    "challenge_proposed",
)
_EVENT_ACTIONS = (
    "claim",
    "assign",
    "start_review",
    "note",
    "escalate",
    "dismiss",
    "approve",
    "reject",
    "reopen",
    "user_added",
    "password_set",
    "password_rehashed",
    "role_changed",
    "account_disabled",
    "account_enabled",
    "tune_thresholds",
    "promote_analogue",
    "audit_anchor",
    "totp_enrolled",
    "totp_removed",
    "classification_changed",
    "declarations_submitted",
    "declaration_deadline_set",
    "clarification_drafted",
    "clarification_approved",
    "clarification_rejected",
    "clarification_answered",
    "clarification_closed",
    "clarification_followed_up",
    "clarification_challenge",
    "access",
)
_CLASSIFIED = ("facilities", "declarations", "ingest_batches")

# Frozen here: the view of this revision (0004's with the batch's classification). Later
# revisions replace it.
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
       s.batch_id, b.file_hash, s.row_number, b.classification
FROM shipment_records s
JOIN parties e ON e.id = s.exporter_party_id
JOIN parties i ON i.id = s.importer_party_id
JOIN ingest_batches b ON b.id = s.batch_id
LEFT JOIN addresses ea ON ea.id = s.exporter_address_id
LEFT JOIN addresses ia ON ia.id = s.importer_address_id
"""
# The 0004 view, restored on downgrade.
_VIEW_0004 = _VIEW.replace(", b.classification\n", "\n")


def _one_of(column: str, values: tuple[str, ...], nullable: bool = False) -> str:
    test = f"{column} IN ({', '.join(repr(v) for v in values)})"
    return f"{column} IS NULL OR {test}" if nullable else test


def _big_id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _new_tables() -> None:
    op.create_table(
        "declaration_submissions",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(3), nullable=False, index=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("file_name", sa.Text()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("batch_id", _big_id(), sa.ForeignKey("ingest_batches.id")),
        sa.UniqueConstraint("state", "year", "revision"),
        sa.CheckConstraint(
            _one_of("classification", _LEVELS), name="ck_declaration_submissions_classification"
        ),
    )
    op.create_table(
        "declaration_deadlines",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "clarification_requests",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", _big_id(), sa.ForeignKey("alerts.id"), nullable=False, index=True),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(3), nullable=False, index=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("shared", sa.JSON(), nullable=False),
        sa.Column("drafted_by", sa.String(100), nullable=False),
        sa.Column("drafted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("decision_note", sa.Text()),
        sa.Column("deadline_at", sa.DateTime()),
        sa.Column("answer", sa.Text()),
        sa.Column("answered_by", sa.String(100)),
        sa.Column("answered_at", sa.DateTime()),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("closed_at", sa.DateTime()),
        sa.Column("closing_note", sa.Text()),
        sa.Column("follows", _big_id(), sa.ForeignKey("clarification_requests.id")),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("status", _REQUEST_STATUSES), name="ck_clarification_requests_status"
        ),
    )
    op.create_table(
        "clarification_attachments",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column(
            "request_id",
            _big_id(),
            sa.ForeignKey("clarification_requests.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
    )


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("state", sa.String(3), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("totp_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", _one_of("role", _ROLES))
        batch.create_check_constraint("ck_users_state", "role <> 'authority' OR state IS NOT NULL")
    with op.batch_alter_table("triage_events") as batch:
        batch.drop_constraint("ck_triage_events_action", type_="check")
        batch.create_check_constraint("ck_triage_events_action", _one_of("action", _EVENT_ACTIONS))
    op.execute("DROP VIEW shipments")  # SQLite rebuilds ingest_batches, which it reads
    for table in _CLASSIFIED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "classification",
                    sa.String(20),
                    nullable=False,
                    server_default="protected",
                )
            )
            batch.create_check_constraint(
                f"ck_{table}_classification", _one_of("classification", _LEVELS)
            )
    with op.batch_alter_table("ingest_batches") as batch:
        batch.add_column(sa.Column("state", sa.String(3), nullable=True))
    op.execute(_VIEW)
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("classification", sa.String(20), nullable=True))
        batch.create_check_constraint(
            "ck_alerts_classification", _one_of("classification", _LEVELS, nullable=True)
        )
    _new_tables()


def downgrade() -> None:
    conn = op.get_bind()
    authorities = conn.execute(
        sa.text("SELECT COUNT(*) FROM users WHERE role = 'authority'")
    ).scalar()
    if authorities:
        raise ValueError(
            f"cannot downgrade below schema 0006: the registry holds {authorities} authority "
            "account(s), a role the older schema does not know; nothing was changed"
        )
    op.drop_table("clarification_attachments")
    op.drop_table("clarification_requests")
    op.drop_table("declaration_deadlines")
    op.drop_table("declaration_submissions")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("ck_alerts_classification", type_="check")
        batch.drop_column("classification")
    op.execute("DROP VIEW shipments")
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("state")
    for table in _CLASSIFIED:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"ck_{table}_classification", type_="check")
            batch.drop_column("classification")
    op.execute(_VIEW_0004)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_state", type_="check")
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", _one_of("role", _OLD_ROLES))
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled")
        batch.drop_column("totp_secret")
        batch.drop_column("state")
