"""Every role against every triage action through the command line, checked against the one
written policy table (registry.service.POLICY). The service-layer walk is in
tests/registry/test_service.py::test_role_action_matrix_matches_policy."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from registry.db import make_engine, session_scope
from registry.models import ROLES
from registry.service import ACTIONS, allowed
from registry.users import add_user
from tests.registry.factories import make_alert

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from registry.db import init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('policy') / 'p.db'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as s:
        for role in ROLES:
            add_user(s, f"{role}-user", role, "policy-pass-1")
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
    monkeypatch.setenv("PWATCH_PASSWORD", "policy-pass-1")
    args = ["--db", cli_db, "triage", action, str(alert_id), "--user", f"{role}-user"]
    args += ["--note", "n", "--reason", "other", "--to", f"{role}-user"]
    res = CliRunner().invoke(app, args)
    out = res.output.strip()
    if allowed(role, action):
        assert "may not" not in out, out
    else:
        assert res.exit_code == 1
        assert out == f"error: a {role} may not {action.replace('_', ' ')}"


def test_wrong_password_is_refused_in_one_line(
    cli_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import app

    monkeypatch.setenv("PWATCH_PASSWORD", "not-the-password")
    res = CliRunner().invoke(
        app, ["--db", cli_db, "triage", "claim", "1", "--user", "inspector-user"]
    )
    assert res.exit_code == 1
    assert res.output.strip() == "error: unknown user or wrong password"
