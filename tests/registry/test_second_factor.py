"""The TOTP second factor: enrolment confirmed by a code, a code at every login (accepted
once), the same refusal for a wrong or missing code, removal, enforcement for authorities and
supervisors, and the chain noticing a second factor removed without an event."""

from __future__ import annotations

import json
import time

import pyotp
import pytest
from sqlalchemy import Engine, select, update

from registry.audit import verify_chain
from registry.db import session_scope
from registry.errors import PermissionDenied, RegistryError
from registry.models import TriageEvent, User
from registry.second_factor import (
    confirm_enrolment,
    needs_enrolment,
    qr_png,
    remove_second_factor,
    start_enrolment,
)
from registry.users import LOGIN_REFUSED, add_user, authenticate


def _login(engine: Engine, name: str, password: str, code: str | None = None) -> User:
    with session_scope(engine) as s:
        return authenticate(s, name, password, code)


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


@pytest.fixture
def enrolled(engine: Engine) -> str:
    """nora, an authority with a second factor; returns its secret."""
    with session_scope(engine) as s:
        nora = add_user(s, "nora", "authority", "password-123", state="MEX")
        add_user(s, "sara", "supervisor", "password-123")
        uri = start_enrolment(s, nora)
        assert uri.startswith("otpauth://totp/precursor-watch:nora?secret=")
        secret = pyotp.parse_uri(uri).secret
        with pytest.raises(RegistryError, match="does not match"):
            confirm_enrolment(s, nora, "000000" if _code(secret) != "000000" else "111111")
        confirm_enrolment(s, nora, _code(secret, -30))  # the step before: clock drift
    assert qr_png(uri).startswith(b"\x89PNG")
    return secret


def test_login_needs_the_code_once(engine: Engine, enrolled: str) -> None:
    for code in (None, "12345", "abcdef"):
        with pytest.raises(PermissionDenied) as err:
            _login(engine, "nora", "password-123", code)
        assert str(err.value) == LOGIN_REFUSED  # the same answer as a wrong password
    code = _code(enrolled)
    assert _login(engine, "nora", "password-123", code).username == "nora"
    with pytest.raises(PermissionDenied):  # a code is good once
        _login(engine, "nora", "password-123", code)
    with session_scope(engine) as s:
        events = s.scalars(select(TriageEvent).where(TriageEvent.action == "totp_enrolled")).all()
        assert [(e.actor, json.loads(e.payload or "{}")["totp"] is not None) for e in events] == [
            ("nora", True)
        ]
        assert verify_chain(s).ok


def test_wrong_codes_count_towards_the_lockout(engine: Engine, enrolled: str) -> None:
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            _login(engine, "nora", "password-123", "999999")
    with pytest.raises(PermissionDenied):  # locked: even the right code
        _login(engine, "nora", "password-123", _code(enrolled))


def test_removal_and_the_chain(engine: Engine, enrolled: str) -> None:
    with session_scope(engine) as s:
        sara = s.scalars(select(User).where(User.username == "sara")).one()
        remove_second_factor(s, sara, "nora")  # a lost phone: a supervisor removes it
    assert _login(engine, "nora", "password-123").username == "nora"
    with session_scope(engine) as s:
        nora = s.scalars(select(User).where(User.username == "nora")).one()
        start = start_enrolment(s, nora)
        confirm_enrolment(s, nora, _code(pyotp.parse_uri(start).secret))
    with engine.begin() as conn:  # removed in the database, without an event
        conn.execute(update(User).where(User.username == "nora").values(totp_enabled=False))
    with session_scope(engine) as s:
        report = verify_chain(s)
    assert not report.ok
    assert "account nora: second factor was replaced" in report.describe()


def test_enforced_for_authorities_and_supervisors(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        users = {
            role: add_user(
                s, role, role, "password-123", state="MEX" if role == "authority" else None
            )
            for role in ("authority", "supervisor", "inspector")
        }
    assert not any(needs_enrolment(u) for u in users.values())
    monkeypatch.setenv("PWATCH_REQUIRE_TOTP", "1")
    assert {r for r, u in users.items() if needs_enrolment(u)} == {"authority", "supervisor"}


def test_the_command_line_asks_for_the_code_and_enrolment(
    engine: Engine,
    enrolled: str,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from typer.testing import CliRunner

    from ui.cli import app

    url = engine.url.render_as_string(hide_password=False)
    run = CliRunner().invoke
    monkeypatch.setenv("PWATCH_PASSWORD", "password-123")
    refused = run(app, ["--db", url, "--user", "nora", "facilities"])
    assert refused.exit_code == 1 and refused.output.strip() == f"error: {LOGIN_REFUSED}"
    monkeypatch.setenv("PWATCH_TOTP", _code(enrolled))
    assert run(app, ["--db", url, "--user", "nora", "facilities"]).exit_code == 0
    monkeypatch.delenv("PWATCH_TOTP")
    monkeypatch.setenv("PWATCH_REQUIRE_TOTP", "1")
    res = run(app, ["--db", url, "--user", "sara", "alerts"])
    assert res.exit_code == 1
    assert "sara must set up a second factor first" in res.output
