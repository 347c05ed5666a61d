"""Role gating: each role tries each triage action in the console and gets the service's answer
(an action the role may not take is greyed out with the service layer's reason).

The alert is put in a state where the action is possible, so only the role (and, for
start_review/escalate/dismiss, being the assignee) decides; the console must show the
service layer's verdict, never decide by itself.
"""

from __future__ import annotations

import re

import console_factories as cf
import pytest

from registry.db import session_scope
from registry.models import AlertRow
from registry.service import ACTIONS, DISMISS_REASONS
from registry.users import change_password, change_role, get_user, set_enabled

USERS = {"vera": "viewer", "ana": "analyst", "ines": "inspector", "sara": "supervisor"}

# Who may do what in the console, written from the README's role description ("Triage
# rules": viewers read, analysts load data, inspectors triage, supervisors also assign,
# approve, reject and reopen). The oracle of this test; the console must show the service
# layer's verdict, which must match it.
_ROLE_TABLE = """
action        viewer  analyst  inspector  supervisor
claim         -       -        yes        yes
assign        -       -        -          yes
start_review  -       -        yes        yes
note          -       -        yes        yes
escalate      -       -        yes        yes
dismiss       -       -        yes        yes
approve       -       -        -          yes
reject        -       -        -          yes
reopen        -       -        -          yes
"""
_header, *_rows = (line.split() for line in _ROLE_TABLE.strip().splitlines())
EXPECTED = {
    (role, row[0]): cell == "yes"
    for row in _rows
    for role, cell in zip(_header[1:], row[1:], strict=True)
}

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
        row.classification = "restricted"  # every role sees it: only the role decides
    with session_scope(engine) as s:
        row = s.get(AlertRow, a)
        assert row is not None
        seen = row.version
    at = cf.open_detail(cf.login(username), a)
    # Fill in what the action needs, where the console lets this user type at all.
    if action in ("note", "escalate", "dismiss"):
        field = {"note": "t_note", "escalate": "t_grounds", "dismiss": "t_dnote"}[action]
        if not at.text_area(key=f"{field}_{a}").disabled:
            at.text_area(key=f"{field}_{a}").input("Grounds and notes.")
    if action == "dismiss" and not at.selectbox(key=f"t_reason_{a}").disabled:
        at.selectbox(key=f"t_reason_{a}").set_value(next(iter(DISMISS_REASONS)))
    if action == "assign" and not at.selectbox(key=f"t_assignee_{a}").disabled:
        at.selectbox(key=f"t_assignee_{a}").set_value("ivan")
    clicked, said = cf.try_action(at, f"{key}_{a}")
    role = USERS[username]
    with session_scope(engine) as s:
        after = s.get(AlertRow, a)
        assert after is not None
        changed = after.version != seen or action == "note"
    if EXPECTED[(role, action)]:
        assert clicked, f"{role} cannot {action}: {said}"
        assert "recorded" in said, said
        assert changed
    else:
        # Greyed out, with the service layer's reason on the button.
        assert not clicked, f"a {role} could click {action}"
        refused = re.compile(rf"an? {role} may not {action.replace('_', ' ')}")
        assert refused.search(said), said
        assert after.version == seen and after.status == status


def _logged_in(at) -> bool:  # type: ignore[no-untyped-def]
    return not any(t.key == "login_user" for t in at.text_input)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("password", "was changed"),
        ("role", "was changed"),
        ("disable", "no longer active"),
    ],
)
def test_an_account_change_ends_its_console_sessions(console_db, change, message) -> None:  # type: ignore[no-untyped-def]
    """A supervisor resets ines' password (or changes her role, or disables her) while she
    is logged in: her next page load is the login form, not her queue."""
    engine, _ = console_db
    at = cf.login("ines")
    at.switch_page("views/queue.py").run()
    assert _logged_in(at)
    other = cf.login("ivan")  # someone else's session is not touched
    with session_scope(engine) as s:
        sara = get_user(s, "sara")
        assert sara is not None
        if change == "password":
            change_password(s, sara, "ines", "a-brand-new-password")
        elif change == "role":
            change_role(s, sara, "ines", "viewer")
        else:
            set_enabled(s, sara, "ines", False)
    at.run()
    assert not at.exception, at.exception
    assert not _logged_in(at)
    assert any(message in m for m in cf.messages(at)), cf.messages(at)
    other.switch_page("views/queue.py").run()
    assert _logged_in(other)
    if change == "password":
        assert _logged_in(cf.login("ines", "a-brand-new-password"))
