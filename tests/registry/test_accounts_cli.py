"""Account management and `--user` from the command line: the hostile review's four-eyes
bypass (an inspector creating a supervisor or resetting one's password, recorded as
`system`) is refused, and every account change is on the record under its real actor."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from registry.db import make_engine, session_scope
from registry.models import AlertRow, TriageEvent
from registry.users import add_user
from tests.registry.factories import make_alert

PW = {"sara": "sara-password", "sven": "sven-password", "ines": "ines-password"}


def _cli(url: str, *args: str, password: str | None = None, new: str | None = None) -> Result:
    from ui.cli import app

    env = {"PWATCH_PASSWORD": password, "PWATCH_NEW_PASSWORD": new}
    return CliRunner().invoke(app, ["--db", url, *args], env=env)


@pytest.fixture
def team(engine: Engine) -> str:
    """An initialised registry with two supervisors and an inspector; returns its URL."""
    with session_scope(engine) as s:
        for name, role in [("sara", "supervisor"), ("sven", "supervisor"), ("ines", "inspector")]:
            add_user(s, name, role, PW[name])
    return engine.url.render_as_string(hide_password=False)


def _events(url: str, action: str) -> list[tuple[str, str | None]]:
    with session_scope(make_engine(url)) as s:
        rows = s.scalars(select(TriageEvent).where(TriageEvent.action == action))
        return [(e.actor, e.subject) for e in rows]


def test_the_first_supervisor_needs_no_account_and_only_the_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _cli(url, "init").exit_code == 0
    res = _cli(url, "user", "add", "ines", "--role", "inspector", new="ines-password")
    assert res.exit_code == 1 and "first account of a registry must be a supervisor" in res.output
    res = _cli(url, "user", "add", "root", "--role", "supervisor", new="root-password")
    assert res.exit_code == 0, res.output
    res = _cli(url, "user", "add", "root2", "--role", "supervisor", new="root-password")
    assert res.exit_code == 1 and "needs a supervisor" in res.output
    # The older form (the new password in PWATCH_PASSWORD) still creates the first account.
    url2 = f"sqlite:///{tmp_path / 'fresh2.db'}"
    assert _cli(url2, "init").exit_code == 0
    res = _cli(url2, "user", "add", "root", "--role", "supervisor", password="root-password")
    assert res.exit_code == 0, res.output
    assert _events(url, "user_added") == [("root", "root")]


# The hostile review's bypass, step by step: each must be refused for an inspector.
_BYPASS = [
    ("user", "add", "mallory", "--role", "supervisor"),
    ("user", "passwd", "sara"),
    ("user", "role", "ines", "supervisor"),
    ("user", "disable", "sara"),
]


@pytest.mark.parametrize("args", _BYPASS)
def test_an_inspector_cannot_manage_accounts(team: str, args: tuple[str, ...]) -> None:
    before = _events(team, "user_added") + _events(team, "password_set")
    res = _cli(team, "--user", "ines", *args, password=PW["ines"], new="taken-over-1")
    assert res.exit_code == 1
    assert res.output.strip() == "error: an inspector may not manage accounts"
    res = _cli(team, *args, new="taken-over-1")  # and without any account
    assert res.exit_code == 1 and "needs a supervisor" in res.output
    assert _events(team, "user_added") + _events(team, "password_set") == before
    assert _cli(team, "--user", "sara", "alerts", password="taken-over-1").exit_code == 1


def test_an_inspector_cannot_approve_their_own_escalation(team: str) -> None:
    """End to end: escalate, then try the routes around four eyes; a second supervisor
    approves."""
    with session_scope(make_engine(team)) as s:
        alert_id = str(make_alert(s, with_shipment=False).id)
    for step in (["claim"], ["start_review"], ["escalate", "--note", "splitting pattern"]):
        res = _cli(
            team, "--user", "ines", "triage", step[0], alert_id, *step[1:], password=PW["ines"]
        )
        assert res.exit_code == 0, res.output
    new = "mallory-pass-1"
    assert _cli(team, "--user", "ines", "user", "add", "mal", "--role", "supervisor", password=PW["ines"], new=new).exit_code == 1  # fmt: skip
    assert _cli(team, "--user", "mal", "triage", "approve", alert_id, password=new).exit_code == 1
    res = _cli(team, "--user", "ines", "triage", "approve", alert_id, password=PW["ines"])
    assert res.output.strip() == "error: an inspector may not approve"
    res = _cli(team, "--user", "sara", "triage", "approve", alert_id, password=PW["sara"])
    assert res.exit_code == 0 and "escalated" in res.output
    with session_scope(make_engine(team)) as s:
        events = s.scalars(select(TriageEvent).where(TriageEvent.alert_id == int(alert_id)))
        assert [(e.actor, e.action) for e in events] == [
            ("ines", "claim"), ("ines", "start_review"), ("ines", "escalate"), ("sara", "approve")
        ]  # fmt: skip


def test_a_supervisor_manages_accounts_under_their_own_name(team: str) -> None:
    sup = ("--user", "sara")
    steps = [
        (("user", "add", "ivan", "--role", "inspector"), "ivan-password"),
        (("user", "passwd", "sven"), "sven-new-password"),
        (("user", "role", "ivan", "viewer"), None),
        (("user", "disable", "ivan"), None),
        (("user", "enable", "ivan"), None),
    ]
    for args, new in steps:
        res = _cli(team, *sup, *args, password=PW["sara"], new=new)
        assert res.exit_code == 0, (args, res.output)
    assert _events(team, "user_added")[-1] == ("sara", "ivan")
    assert _events(team, "password_set") == [("sara", "sven")]
    assert _events(team, "role_changed") == [("sara", "ivan")]
    assert _events(team, "account_disabled") == [("sara", "ivan")]
    assert _events(team, "account_enabled") == [("sara", "ivan")]
    assert _cli(team, "--user", "sven", "alerts", password="sven-new-password").exit_code == 0
    listing = _cli(team, "user", "list").output
    assert "ivan\tviewer" in listing
    res = _cli(team, "audit", "verify")
    assert res.exit_code == 0, res.output


def test_a_disabled_account_cannot_log_in_from_the_cli(team: str) -> None:
    assert _cli(team, *("--user", "sara", "user", "disable", "ines"), password=PW["sara"]).exit_code == 0  # fmt: skip
    res = _cli(team, "--user", "ines", "alerts", password=PW["ines"])
    assert res.exit_code == 1
    assert res.output.startswith("error: unknown user, wrong password")


def test_reading_commands_authenticate_the_account(team: str) -> None:
    for args in (["alerts"], ["quarantine"], ["audit", "verify"], ["user", "list"]):
        assert _cli(team, "--user", "ines", *args, password=PW["ines"]).exit_code == 0, args
        res = _cli(team, "--user", "ines", *args, password="wrong-password")
        assert res.exit_code == 1 and "wrong password" in res.output, args


def test_triage_takes_the_global_user_and_the_older_form(team: str) -> None:
    with session_scope(make_engine(team)) as s:
        a, b = (str(make_alert(s, with_shipment=False).id) for _ in range(2))
    res = _cli(team, "--user", "ines", "triage", "claim", a, password=PW["ines"])
    assert res.exit_code == 0 and "assigned" in res.output
    res = _cli(team, "triage", "claim", b, "--user", "ines", password=PW["ines"])
    assert res.exit_code == 0 and "assigned" in res.output
    res = _cli(team, "--user", "sara", "triage", "note", a, "--user", "ines", "--note", "x", password=PW["sara"])  # fmt: skip
    assert res.exit_code == 1 and "two accounts given" in res.output
    res = _cli(team, "triage", "note", a, "--note", "x")
    assert res.exit_code == 1 and "pwatch --user NAME triage" in res.output
    with session_scope(make_engine(team)) as s:
        assert {r.assignee for r in s.scalars(select(AlertRow))} == {"ines"}
