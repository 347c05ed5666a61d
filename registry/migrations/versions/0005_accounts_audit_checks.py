"""accounts and a keyed audit chain: event subject, payload and scheme; session epochs; CHECKs

Audit events gain `subject` (the account, detector or assignee an event is about), `payload`
(its data as canonical JSON) and `scheme`: the events already written keep their plain
SHA-256 links (`sha256`); from now on each event is an HMAC keyed by a secret kept outside
the database (`hmac-sha256`). `pwatch init` re-anchors an existing chain after this upgrade
with one keyed `audit_anchor` event over the old head and the state it vouches for
(registry.audit.anchor_chain). Accounts gain `session_epoch`, raised by every password, role
or status change so open console sessions end.

CHECK constraints hold the enumerated columns to their values on both backends: alert status
and severity, account role, the event action, statuses, reason code and scheme, and the
single row of audit_head. Rows that break one stop the upgrade with a message naming them.
The lists are frozen here: a later revision that adds a value replaces the constraint.

Downgrading re-links every event with the unkeyed SHA-256 of older versions (which know no
key, subject or payload), so the older version's `pwatch audit verify` still passes; the
next upgrade keys the chain again with a new anchor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_STATUSES = (
    "new",
    "assigned",
    "in_review",
    "pending_escalation",
    "pending_dismissal",
    "escalated",
    "dismissed",
)
_TRIAGE = (
    "claim",
    "assign",
    "start_review",
    "note",
    "escalate",
    "dismiss",
    "approve",
    "reject",
    "reopen",
)
_EVENT_ACTIONS = (
    *_TRIAGE,
    "user_added",
    "password_set",
    "password_rehashed",
    "role_changed",
    "account_disabled",
    "account_enabled",
    "tune_thresholds",
    "promote_analogue",
    "audit_anchor",
)
_REASONS = (
    "legitimate_trade_verified",
    "declaration_updated",
    "data_error",
    "mirror_timing",
    "not_a_precursor",
    "duplicate_alert",
    "other",
)

# table -> [(constraint, column, allowed values, NULL allowed)]
_ENUMS: dict[str, list[tuple[str, str, tuple[str, ...], bool]]] = {
    "alerts": [
        ("ck_alerts_status", "status", _STATUSES, False),
        ("ck_alerts_severity", "severity", ("low", "medium", "high", "critical"), False),
    ],
    "users": [("ck_users_role", "role", ("analyst", "inspector", "supervisor", "viewer"), False)],
    "triage_events": [
        ("ck_triage_events_action", "action", _EVENT_ACTIONS, False),
        ("ck_triage_events_from_status", "from_status", (*_STATUSES, "promoted"), True),
        ("ck_triage_events_to_status", "to_status", (*_STATUSES, "promoted"), True),
        ("ck_triage_events_reason_code", "reason_code", _REASONS, True),
        ("ck_triage_events_scheme", "scheme", ("sha256", "hmac-sha256"), False),
    ],
}
_OTHER_CHECKS: dict[str, list[tuple[str, str]]] = {
    "users": [("ck_users_failed_logins", "failed_logins >= 0")],
    "audit_head": [("ck_audit_head_single_row", "id = 1")],
}


def _one_of(column: str, values: tuple[str, ...], nullable: bool) -> str:
    test = f"{column} IN ({', '.join(repr(v) for v in values)})"
    return f"{column} IS NULL OR {test}" if nullable else test


def _refuse_bad_rows() -> None:
    """Name the values no constraint would accept, before any change is made."""
    conn = op.get_bind()
    problems = []
    for table, checks in _ENUMS.items():
        for _name, column, values, nullable in checks:
            if column == "scheme":
                continue  # added by this revision
            rows = conn.execute(
                sa.text(
                    f"SELECT {column}, COUNT(*) FROM {table} "
                    f"WHERE NOT ({_one_of(column, values, nullable)}) GROUP BY {column}"
                )
            ).all()
            problems += [f"{table}.{column} = {v!r} in {n} row(s)" for v, n in rows]
    if conn.execute(sa.text("SELECT COUNT(*) FROM audit_head WHERE id <> 1")).scalar():
        problems.append("audit_head holds a row other than id 1")
    if problems:
        raise ValueError(
            "cannot upgrade to schema 0005: "
            + "; ".join(problems)
            + " (not an allowed value; correct those rows and run `pwatch init` again)"
        )


def upgrade() -> None:
    _refuse_bad_rows()
    with op.batch_alter_table("triage_events") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("scheme", sa.String(length=16), nullable=False, server_default="sha256")
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    for table in ("alerts", "users", "triage_events", "audit_head"):
        with op.batch_alter_table(table) as batch:
            for name, column, values, nullable in _ENUMS.get(table, []):
                batch.create_check_constraint(name, _one_of(column, values, nullable))
            for name, condition in _OTHER_CHECKS.get(table, []):
                batch.create_check_constraint(name, condition)


def _relink_unkeyed() -> None:
    """Rewrite every event's link as the unkeyed SHA-256 older versions verify (frozen)."""
    conn = op.get_bind()
    events = sa.table(
        "triage_events",
        sa.column("id", sa.BigInteger()),
        sa.column("alert_id", sa.BigInteger()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("from_status", sa.String()),
        sa.column("to_status", sa.String()),
        sa.column("reason_code", sa.String()),
        sa.column("note", sa.Text()),
        sa.column("created_at", sa.DateTime()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    prev, last_id, rows = "0" * 64, None, []
    for e in conn.execute(sa.select(events).order_by(events.c.id)).mappings():
        body = {
            "id": e["id"],
            "alert_id": e["alert_id"],
            "actor": e["actor"],
            "action": e["action"],
            "from": e["from_status"],
            "to": e["to_status"],
            "reason": e["reason_code"],
            "note": e["note"],
            "at": e["created_at"].isoformat(timespec="microseconds") if e["created_at"] else None,
        }
        new = hashlib.sha256(
            (prev + json.dumps(body, sort_keys=True, ensure_ascii=False)).encode("utf-8")
        ).hexdigest()
        rows.append({"eid": e["id"], "p": prev, "h": new})
        prev, last_id = new, e["id"]
    # Two passes: `hash` is unique, and a new hash could equal an old one of another row.
    update = sa.text("UPDATE triage_events SET prev_hash = :p, hash = :h WHERE id = :eid")
    if rows:
        conn.execute(
            sa.text("UPDATE triage_events SET hash = 'relink-' || CAST(id AS VARCHAR(20))")
        )
        conn.execute(update, rows)
    conn.execute(
        sa.text("UPDATE audit_head SET last_hash = :h, last_event_id = :i"),
        {"h": prev, "i": last_id},
    )


def downgrade() -> None:
    _relink_unkeyed()
    for table in ("alerts", "users", "triage_events", "audit_head"):
        names = [c[0] for c in _ENUMS.get(table, [])] + [c[0] for c in _OTHER_CHECKS.get(table, [])]
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.drop_constraint(name, type_="check")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
    with op.batch_alter_table("triage_events") as batch:
        batch.drop_column("scheme")
        batch.drop_column("payload")
        batch.drop_column("subject")
