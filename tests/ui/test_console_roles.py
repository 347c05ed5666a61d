"""Role gating: each role tries each triage action in the console and gets the service's answer.

The alert is put in a state where the action is possible, so only the role (and, for
start_review/escalate/dismiss, being the assignee) decides; the console must show the
service layer's verdict, never decide by itself.
"""

from __future__ import annotations

import console_factories as cf
import pytest

from registry.db import session_scope
from registry.models import AlertRow
from registry.service import ACTIONS, DISMISS_REASONS, allowed

USERS = {"vera": "viewer", "ana": "analyst", "ines": "inspector", "sara": "supervisor"}

# action -> (status to start from, assign to the actor?, button key prefix)
SETUP = {
    "claim": ("new", False, "t_claim"),
    "assign": ("new", False, "t_assign"),
    "start_review": ("assigned", True, "t_start_review"),
    "note": ("new", False, "t_note_btn"),
    "escalate": ("in_review", True, "t_escalate"),
    "dismiss": ("in_review", True, "t_dismiss"),
    "approve": ("pending_dismissal", False, "t_approve"),
    "reject": ("pending_dismissal", False, "t_reject"),
    "reopen": ("dismissed", False, "t_reopen"),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("username", list(USERS))
def test_role_tries_action(console_db, username, action) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    status, assign_self, key = SETUP[action]
    a = cf.make_alert(engine, severity="high", status=status)
    with session_scope(engine) as s:
        row = s.get(AlertRow, a)
        assert row is not None
        row.assignee = username if assign_self else None
        row.proposed_by = "ivan" if status.startswith("pending") else None
    with session_scope(engine) as s:
        row = s.get(AlertRow, a)
        assert row is not None
        seen = row.version
    at = cf.open_detail(cf.login(username), a)
    if action in ("note", "escalate", "dismiss"):
        field = {"note": "t_note", "escalate": "t_grounds", "dismiss": "t_dnote"}[action]
        at.text_area(key=f"{field}_{a}").input("Grounds and notes.")
    if action == "dismiss":
        at.selectbox(key=f"t_reason_{a}").set_value(next(iter(DISMISS_REASONS)))
    if action == "assign":
        at.selectbox(key=f"t_assignee_{a}").set_value("ivan")
    at.button(key=f"{key}_{a}").click().run()
    assert not at.exception, at.exception
    msgs = cf.messages(at)
    role = USERS[username]
    with session_scope(engine) as s:
        after = s.get(AlertRow, a)
        assert after is not None
        changed = after.version != seen or action == "note"
    if allowed(role, action):
        assert any("recorded" in m for m in msgs), msgs
        assert changed
    else:
        verb = action.replace("_", " ")
        assert any(f"Not allowed: a {role} may not {verb}" in m for m in msgs), msgs
        assert after.version == seen and after.status == status
