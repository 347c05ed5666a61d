"""The registry's enumerated values: roles, alert statuses and severities, triage actions, the
kinds of audited event, dismissal reasons, classifications and request statuses. The CHECK
constraints of the migrations hold the same lists (each migration freezes its own copy)."""

from __future__ import annotations

__all__ = [
    "CLARIFICATION_STATUSES",
    "CLASSIFICATIONS",
    "DISMISS_REASON_CODES",
    "EVENT_ACTIONS",
    "EVENT_STATUSES",
    "ROLES",
    "SEVERITIES",
    "STATUSES",
    "TRIAGE_ACTIONS",
]

# `authority`: a state's national authority, bound to one state (users.state).
ROLES = ("analyst", "inspector", "supervisor", "viewer", "authority")
STATUSES = (
    "new",
    "assigned",
    "in_review",
    "pending_escalation",
    "pending_dismissal",
    "escalated",
    "dismissed",
)
SEVERITIES = ("low", "medium", "high", "critical")
# What a user can do to an alert (registry.service decides who may, and when).
TRIAGE_ACTIONS = (
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
# The Confidentiality Annex's three levels, lowest first (registry.access ranks them).
CLASSIFICATIONS = ("restricted", "protected", "highly_protected")
# A request for clarification: drafted (waiting for a supervisor), rejected, open (sent to
# the state, its deadline running), answered, then closed, followed up by a new request, or
# turned into a challenge-inspection proposal.
CLARIFICATION_STATUSES = (
    "pending_approval",
    "rejected",
    "open",
    "answered",
    "closed",
    "followed_up",
    "challenge_proposed",
)
# Every kind of event the audit chain holds: the triage actions, then account, threshold,
# watchlist, chain, state and confidentiality events. Migration 0006's CHECK holds this list.
EVENT_ACTIONS = (
    *TRIAGE_ACTIONS,
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
# An event's from/to status: an alert's, or an early warning's when one is promoted.
EVENT_STATUSES = (*STATUSES, "promoted")
DISMISS_REASON_CODES = (
    "legitimate_trade_verified",
    "declaration_updated",
    "data_error",
    "mirror_timing",
    "not_a_precursor",
    "duplicate_alert",
    "other",
)
