"""The triage service layer: state machine, roles, four eyes, optimistic locking, audit."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine, select

from registry.audit import verify_chain
from registry.db import session_scope
from registry.errors import PermissionDenied, RegistryError, StaleAlert, TransitionNotAllowed
from registry.models import ROLES, AlertRow, ChallengeRequest, TriageEvent, User
from registry.service import ACTIONS, POLICY, Action, act, allowed, available_actions
from tests.registry.factories import make_alert, make_user

# Who may do what, written from the README's role description ("Triage rules": viewers read;
# analysts load data; inspectors triage; supervisors also assign, approve, reject, reopen,
# tune detector thresholds, promote designer analogues and manage accounts). This table is
# the oracle; registry.service.POLICY is what is tested against it.
_ROLE_TABLE = """
action                   viewer  analyst  inspector  supervisor  authority
view                     yes     yes      yes        yes         -
ingest                   -       yes      -          yes         -
claim                    -       -        yes        yes         -
assign                   -       -        -          yes         -
start_review             -       -        yes        yes         -
note                     -       -        yes        yes         -
escalate                 -       -        yes        yes         -
dismiss                  -       -        yes        yes         -
approve                  -       -        -          yes         -
reject                   -       -        -          yes         -
reopen                   -       -        -          yes         -
tune_thresholds          -       -        -          yes         -
promote_analogue         -       -        -          yes         -
manage_accounts          -       -        -          yes         -
set_classification       -       -        -          yes         -
draft_clarification      -       -        yes        yes         -
decide_clarification     -       -        -          yes         -
answer_clarification     -       -        -          -           yes
follow_up_clarification  -       -        yes        yes         -
submit_declarations      -       -        -          -           yes
set_declaration_deadline -       -        -          yes         -
"""


def _expected() -> dict[tuple[str, str], bool]:
    header, *rows = (line.split() for line in _ROLE_TABLE.strip().splitlines())
    return {
        (role, row[0]): cell == "yes"
        for row in rows
        for role, cell in zip(header[1:], row[1:], strict=True)
    }


EXPECTED = _expected()


def _act(engine: Engine, alert_id: int, user, action: str, **kw):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        seen = s.get(AlertRow, alert_id).version  # type: ignore[union-attr]
        row = act(s, alert_id, user, Action(action, **kw), expected_version=seen)
        return row.status


def test_full_flow_high_severity_dismissal_needs_second_supervisor(engine: Engine) -> None:
    with session_scope(engine) as s:
        insp = make_user(s, "inspector")
        sup = make_user(s, "supervisor")
        alert_id = make_alert(s, severity="high").id
    assert _act(engine, alert_id, insp, "claim") == "assigned"
    assert _act(engine, alert_id, insp, "start_review") == "in_review"
    assert _act(engine, alert_id, insp, "note", note="checked the PEN notice") == "in_review"
    status = _act(
        engine, alert_id, insp, "dismiss", reason_code="data_error", note="unit was g, not kg"
    )
    assert status == "pending_dismissal"
    with pytest.raises(PermissionDenied):
        _act(engine, alert_id, insp, "approve")
    assert _act(engine, alert_id, sup, "approve") == "dismissed"
    with pytest.raises(PermissionDenied):
        _act(engine, alert_id, insp, "reopen")
    assert _act(engine, alert_id, sup, "reopen") == "new"
    with session_scope(engine) as s:
        events = list(s.scalars(select(TriageEvent).where(TriageEvent.alert_id == alert_id)))
        assert [e.action for e in events] == [
            "claim", "start_review", "note", "dismiss", "approve", "reopen"
        ]  # fmt: skip
        assert events[4].reason_code == "data_error"
        assert verify_chain(s).ok


def test_low_severity_dismissal_is_direct_but_escalation_always_needs_approval(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        insp = make_user(s, "inspector")
        sup = make_user(s, "supervisor")
        low = make_alert(s, severity="low").id
        other = make_alert(s, severity="low").id
    for a in (low, other):
        _act(engine, a, insp, "claim")
        _act(engine, a, insp, "start_review")
    assert _act(engine, low, insp, "dismiss", reason_code="other", note="fine") == "dismissed"
    assert _act(engine, other, insp, "escalate", note="pattern of splitting") == (
        "pending_escalation"
    )
    assert _act(engine, other, sup, "approve") == "escalated"
    with session_scope(engine) as s:
        req = s.scalars(select(ChallengeRequest).where(ChallengeRequest.alert_id == other)).one()
        assert "Challenge-inspection request" in req.markdown
        assert "pattern of splitting" in req.markdown


def test_nobody_approves_their_own_proposal(engine: Engine) -> None:
    with session_scope(engine) as s:
        sup = make_user(s, "supervisor")
        alert_id = make_alert(s).id
    _act(engine, alert_id, sup, "claim")
    _act(engine, alert_id, sup, "start_review")
    _act(engine, alert_id, sup, "escalate", note="grounds")
    with pytest.raises(PermissionDenied, match="own proposal"):
        _act(engine, alert_id, sup, "approve")


def test_stale_version_is_refused_and_nothing_is_overwritten(engine: Engine) -> None:
    with session_scope(engine) as s:
        a = make_user(s, "inspector")
        b = make_user(s, "inspector")
        alert_id = make_alert(s).id
        seen = s.get(AlertRow, alert_id).version  # type: ignore[union-attr]
    with session_scope(engine) as s:
        act(s, alert_id, a, Action("claim"), expected_version=seen)
    with pytest.raises(StaleAlert, match="changed by someone else"), session_scope(engine) as s:
        act(s, alert_id, b, Action("claim"), expected_version=seen)
    with session_scope(engine) as s:
        alert = s.get(AlertRow, alert_id)
        assert alert is not None and alert.assignee == a.username
        assert (
            s.scalars(select(TriageEvent).where(TriageEvent.alert_id == alert_id)).all()[-1].actor
            == a.username
        )


@pytest.mark.parametrize(
    ("action", "kw", "error"),
    [
        ("dismiss", {"note": "x"}, "reason code"),
        ("dismiss", {"reason_code": "data_error"}, "needs a note"),
        ("escalate", {}, "grounds"),
        ("note", {"note": "  "}, "cannot be empty"),
        ("assign", {}, "assign needs"),
    ],
)
def test_required_fields(engine: Engine, action: str, kw: dict, error: str) -> None:
    with session_scope(engine) as s:
        sup = make_user(s, "supervisor")
        alert_id = make_alert(s).id
    if action in ("dismiss", "escalate"):
        _act(engine, alert_id, sup, "claim")
        _act(engine, alert_id, sup, "start_review")
    with pytest.raises(RegistryError, match=error):
        _act(engine, alert_id, sup, action, **kw)


def test_transition_outside_state_machine(engine: Engine) -> None:
    with session_scope(engine) as s:
        sup = make_user(s, "supervisor")
        alert_id = make_alert(s).id
    with pytest.raises(TransitionNotAllowed, match="it is new"):
        _act(engine, alert_id, sup, "approve")


def test_only_the_assignee_reviews(engine: Engine) -> None:
    with session_scope(engine) as s:
        a = make_user(s, "inspector")
        b = make_user(s, "inspector")
        alert_id = make_alert(s).id
    _act(engine, alert_id, a, "claim")
    with pytest.raises(PermissionDenied, match="assigned to"):
        _act(engine, alert_id, b, "start_review")


def test_the_policy_is_the_documented_one() -> None:
    assert set(POLICY) == {a for _, a in EXPECTED}, "an action missing from the table"
    wrong = [(r, a) for (r, a), ok in EXPECTED.items() if allowed(r, a) != ok]
    assert not wrong, f"POLICY differs from the README table for {wrong}"


@pytest.mark.parametrize(("role", "action"), list(itertools.product(ROLES, ACTIONS)))
def test_role_action_matrix_matches_policy(engine: Engine, role: str, action: str) -> None:
    """Every role tries every action on an alert set up so only the role can stop it."""
    with session_scope(engine) as s:
        user = make_user(s, role)
        helper = make_user(s, "supervisor")
        alert = make_alert(s, severity="high")
        alert_id = alert.id
    # Bring the alert to a state where `action` is possible for an authorised user.
    setup = {
        "start_review": ["claim"],
        "escalate": ["claim", "start_review"],
        "dismiss": ["claim", "start_review"],
        "approve": ["claim", "start_review", "escalate"],
        "reject": ["claim", "start_review", "escalate"],
        "reopen": ["claim", "start_review", "escalate", "approve"],
    }.get(action, [])
    kw = {"reason_code": "other", "note": "n", "assignee": helper.username}
    for step in setup:
        actor = helper
        if step == "approve":
            actor2 = None
            with session_scope(engine) as s:
                actor2 = make_user(s, "supervisor")
            actor = actor2
        if step == "claim" and action in ("start_review", "escalate", "dismiss"):
            # the acting user must be the assignee for these; assign to them directly
            with session_scope(engine) as s:
                row = s.get(AlertRow, alert_id)
                assert row is not None
                row.assignee = user.username
                row.status = "assigned"
            continue
        if step in ("start_review", "escalate") and action in (
            "start_review",
            "escalate",
            "dismiss",
        ):
            with session_scope(engine) as s:
                row = s.get(AlertRow, alert_id)
                assert row is not None
                row.status = "in_review"
            continue
        _act(engine, alert_id, actor, step, **kw)
    if EXPECTED[(role, action)]:
        _act(engine, alert_id, user, action, **kw)
    else:
        with pytest.raises(PermissionDenied, match=f"{role} may not"):
            _act(engine, alert_id, user, action, **kw)


def test_available_actions_for_viewer_is_empty(engine: Engine) -> None:
    with session_scope(engine) as s:
        viewer = make_user(s, "viewer")
        alert = make_alert(s)
        assert available_actions(alert, viewer) == []


@pytest.mark.parametrize(
    ("assignee", "ok"),
    [
        ("ivan", True),  # an inspector
        ("sven", True),  # a supervisor
        ("nobody", False),  # no such account
        ("vera", False),  # a viewer works no alerts
        ("ana", False),  # nor an analyst
        ("gone", False),  # a disabled inspector
    ],
)
def test_alerts_are_assigned_only_to_enabled_triagers(
    engine: Engine, assignee: str, ok: bool
) -> None:
    with session_scope(engine) as s:
        sup = make_user(s, "supervisor", "sara")
        for name, role in [("ivan", "inspector"), ("sven", "supervisor"), ("vera", "viewer"),
                           ("ana", "analyst"), ("gone", "inspector")]:  # fmt: skip
            make_user(s, role, name)
        s.scalars(select(User).where(User.username == "gone")).one().active = False
        alert_id = make_alert(s).id
    if ok:
        assert _act(engine, alert_id, sup, "assign", assignee=assignee) == "assigned"
        with session_scope(engine) as s:
            event = s.scalars(select(TriageEvent).where(TriageEvent.alert_id == alert_id)).one()
            assert (event.subject, event.note) == (assignee, f"assigned to {assignee}")
        return
    with pytest.raises(RegistryError, match="alerts go to an enabled inspector or supervisor"):
        _act(engine, alert_id, sup, "assign", assignee=assignee)
    with session_scope(engine) as s:
        assert s.get(AlertRow, alert_id).assignee is None  # type: ignore[union-attr]


def test_every_transition_starts_from_a_status_of_the_vocabulary() -> None:
    from registry.models import STATUSES
    from registry.service import _FROM

    assert set().union(*_FROM.values()) <= set(STATUSES)
    assert _FROM["note"] == frozenset(STATUSES)
