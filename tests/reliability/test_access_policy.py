"""Every role against every triage action and every account-management command through the
command line, checked against a table written here from the README's role description (not
against registry.service.POLICY, which is what is under test). The service-layer walk is in
tests/registry/test_service.py, the console's in tests/ui/test_console_roles.py."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from registry.db import make_engine, session_scope
from registry.models import ROLES, TriageEvent
from registry.service import ACTIONS
from registry.users import LOGIN_REFUSED, add_user
from tests.registry.factories import make_alert

pytestmark = pytest.mark.reliability

# README "Triage rules": viewers read; analysts load data; inspectors triage; supervisors
# also assign, approve, reject, reopen, and manage accounts (add, passwd, role, disable).
_ROLE_TABLE = """
action           viewer  analyst  inspector  supervisor  authority
claim            -       -        yes        yes         -
assign           -       -        -          yes         -
start_review     -       -        yes        yes         -
note             -       -        yes        yes         -
escalate         -       -        yes        yes         -
dismiss          -       -        yes        yes         -
approve          -       -        -          yes         -
reject           -       -        -          yes         -
reopen           -       -        -          yes         -
user-add         -       -        -          yes         -
user-passwd      -       -        -          yes         -
user-role        -       -        -          yes         -
user-disable     -       -        -          yes         -
user-enable      -       -        -          yes         -
"""
_header, *_rows = (line.split() for line in _ROLE_TABLE.strip().splitlines())
EXPECTED = {
    (role, row[0]): cell == "yes"
    for row in _rows
    for role, cell in zip(_header[1:], row[1:], strict=True)
}
_PASSWORD = "policy-pass-1"


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from registry.db import init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('policy') / 'p.db'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as s:
        for role in ROLES:
            state = "NLD" if role == "authority" else None
            add_user(s, f"{role}-user", role, _PASSWORD, state=state)
        add_user(s, "target", "inspector", _PASSWORD)
        add_user(s, "other-supervisor", "supervisor", _PASSWORD)
    engine.dispose()
    return url


@pytest.mark.parametrize(("role", "action"), list(itertools.product(ROLES, ACTIONS)))
def test_cli_obeys_policy(
    cli_db: str, role: str, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import app

    engine: Engine = make_engine(cli_db)
    with session_scope(engine) as s:
        alert_id = make_alert(s, with_shipment=False).id
    monkeypatch.setenv("PWATCH_PASSWORD", _PASSWORD)
    args = ["--db", cli_db, "--user", f"{role}-user", "triage", action, str(alert_id)]
    args += ["--note", "n", "--reason", "other", "--to", "inspector-user"]
    res = CliRunner().invoke(app, args)
    out = res.output.strip()
    refusal = f"error: {_article(role)} {role} may not {action.replace('_', ' ')}"
    if EXPECTED[(role, action)]:
        assert "may not" not in out, out
    else:
        assert res.exit_code == 1
        assert out == refusal


_ACCOUNT_COMMANDS = {
    "user-add": ["user", "add", "newcomer-{role}", "--role", "viewer"],
    "user-passwd": ["user", "passwd", "target"],
    "user-role": ["user", "role", "target", "{next_role}"],
    "user-disable": ["user", "disable", "target"],
    "user-enable": ["user", "enable", "target"],
}


@pytest.mark.parametrize(("role", "command"), list(itertools.product(ROLES, _ACCOUNT_COMMANDS)))
def test_account_management_obeys_policy(
    cli_db: str, role: str, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import app

    engine = make_engine(cli_db)
    with session_scope(engine) as s:
        target = s.scalars(select(TriageEvent).order_by(TriageEvent.id.desc())).first()
        before = target.id if target else 0
        from registry.models import User

        account = s.scalars(select(User).where(User.username == "target")).one()
        next_role = "viewer" if account.role != "viewer" else "inspector"
        if command == "user-enable":
            account.active = False  # so enabling has something to do
        else:
            account.active = True
    monkeypatch.setenv("PWATCH_PASSWORD", _PASSWORD)
    monkeypatch.setenv("PWATCH_NEW_PASSWORD", _PASSWORD)
    args = [a.format(role=role, next_role=next_role) for a in _ACCOUNT_COMMANDS[command]]
    res = CliRunner().invoke(app, ["--db", cli_db, "--user", f"{role}-user", *args])
    with session_scope(engine) as s:
        new_events = list(s.scalars(select(TriageEvent).where(TriageEvent.id > before)))
    if EXPECTED[(role, command)]:
        assert res.exit_code == 0, res.output
        assert [e.actor for e in new_events] == [f"{role}-user"]
    else:
        assert res.exit_code == 1
        assert res.output.strip() == f"error: {_article(role)} {role} may not manage accounts"
        assert new_events == []


@pytest.mark.parametrize("name", ["inspector-user", "no-such-user"])
def test_wrong_password_is_refused_in_one_line(
    cli_db: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import app

    monkeypatch.setenv("PWATCH_PASSWORD", "not-the-password")
    res = CliRunner().invoke(app, ["--db", cli_db, "--user", name, "triage", "claim", "1"])
    assert res.exit_code == 1
    assert res.output.strip() == f"error: {LOGIN_REFUSED}"
