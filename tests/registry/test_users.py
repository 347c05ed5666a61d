"""Accounts: salted hashes, lockout, one answer to every refused login, and account management
by supervisors only, each change an audited event with its real actor."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select, update

from registry.audit import verify_chain
from registry.db import session_scope
from registry.errors import PermissionDenied, RegistryError
from registry.models import TriageEvent, User
from registry.service import Action, act
from registry.users import (
    LOGIN_REFUSED,
    add_user,
    authenticate,
    change_password,
    change_role,
    create_account,
    get_user,
    set_enabled,
)
from tests.registry.factories import make_alert

PW = "correct horse"


def _login(engine: Engine, name: str, password: str = PW) -> User:
    with session_scope(engine) as s:
        return authenticate(s, name, password)


def _events(engine: Engine, action: str) -> list[TriageEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(TriageEvent).where(TriageEvent.action == action)))


def test_passwords_are_salted_hashes_and_logins_lock_out(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "ines", "inspector", PW)
        add_user(s, "ivan", "inspector", PW)
    with session_scope(engine) as s:
        hashes = [u.password_hash for u in s.scalars(select(User).order_by(User.username))]
    assert all(h.startswith("$argon2") and PW not in h for h in hashes)
    assert hashes[0] != hashes[1]  # salted
    assert _login(engine, "ines").role == "inspector"
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            _login(engine, "ines", "guess")
    with pytest.raises(PermissionDenied):  # the right password, but locked now
        _login(engine, "ines")
    with session_scope(engine) as s:
        s.execute(update(User).values(locked_until=dt.datetime(2000, 1, 1)))
    assert _login(engine, "ines").username == "ines"  # the lock ran out


@pytest.mark.parametrize("case", ["unknown user", "wrong password", "locked", "disabled"])
def test_every_refused_login_says_the_same(engine: Engine, case: str) -> None:
    """The answer must not tell whether a name exists (nor that it is locked or disabled)."""
    with session_scope(engine) as s:
        add_user(s, "sara", "supervisor", PW)
        add_user(s, "ines", "inspector", PW)
    name, password = {"unknown user": ("nobody", PW), "wrong password": ("ines", "nope-nope")}.get(
        case, ("ines", PW)
    )
    if case == "locked":
        for _ in range(5):
            with pytest.raises(PermissionDenied):
                _login(engine, "ines", "guess")
    if case == "disabled":
        with session_scope(engine) as s:
            set_enabled(s, get_user(s, "sara"), "ines", False)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied) as refused:
        _login(engine, name, password)
    assert str(refused.value) == LOGIN_REFUSED
    assert "ines" not in str(refused.value) and "nobody" not in str(refused.value)


@pytest.mark.parametrize(
    ("name", "role", "pw", "error"),
    [
        ("a b", "inspector", "long enough", "without spaces"),
        ("a\x1b[31mb", "inspector", "long enough", "printable"),
        ("ann", "wizard", "long enough", "unknown role"),
        ("ann", "viewer", "short", "at least 8"),
    ],
)
def test_bad_accounts_are_refused(
    sqlite_engine: Engine, name: str, role: str, pw: str, error: str
) -> None:
    with pytest.raises(RegistryError, match=error), session_scope(sqlite_engine) as s:
        add_user(s, name, role, pw)


# Who may create which account. README "Triage rules": account management (add, passwd,
# role, disable) is a supervisor's; only the first supervisor of an empty registry is
# created with no account acting.
# (accounts already there, acting role or None, role of the new account, allowed)
_CREATE = [
    ([], None, "supervisor", True),
    ([], None, "inspector", False),
    ([("sara", "supervisor")], None, "supervisor", False),
    ([("ana", "analyst")], None, "supervisor", False),
    ([("sara", "supervisor")], "supervisor", "supervisor", True),
    ([("sara", "supervisor")], "supervisor", "viewer", True),
    ([("sara", "supervisor"), ("ines", "inspector")], "inspector", "supervisor", False),
    ([("sara", "supervisor"), ("ana", "analyst")], "analyst", "inspector", False),
    ([("sara", "supervisor"), ("vera", "viewer")], "viewer", "viewer", False),
]


@pytest.mark.parametrize(("existing", "acting_role", "role", "ok"), _CREATE)
def test_who_may_create_an_account(
    engine: Engine, existing: list, acting_role: str | None, role: str, ok: bool
) -> None:
    with session_scope(engine) as s:
        for name, r in existing:
            add_user(s, name, r, PW)
    acting = None
    if acting_role is not None:
        acting = _login(engine, next(n for n, r in existing if r == acting_role))
    if not ok:
        with pytest.raises(PermissionDenied), session_scope(engine) as s:
            create_account(s, acting, "newbie", role, "newbie-pass")
        with session_scope(engine) as s:
            assert get_user(s, "newbie") is None
        return
    with session_scope(engine) as s:
        create_account(s, acting, "newbie", role, "newbie-pass")
    (event,) = [e for e in _events(engine, "user_added") if e.subject == "newbie"]
    assert event.actor == (acting.username if acting else "newbie")  # never "system"
    assert json.loads(event.payload or "")["role"] == role


def _team(engine: Engine) -> dict[str, User]:
    with session_scope(engine) as s:
        for name, role in [("sara", "supervisor"), ("sven", "supervisor"), ("ines", "inspector")]:
            add_user(s, name, role, PW)
    return {n: _login(engine, n) for n in ("sara", "sven", "ines")}


def test_password_resets_are_a_supervisors_or_your_own(engine: Engine) -> None:
    team = _team(engine)
    with (
        pytest.raises(PermissionDenied, match="may not manage accounts"),
        session_scope(engine) as s,
    ):
        change_password(s, team["ines"], "sara", "taken-over-1")
    with pytest.raises(PermissionDenied):
        _login(engine, "sara", "taken-over-1")
    with session_scope(engine) as s:
        change_password(s, team["ines"], "ines", "my-own-new-1")  # one's own: fine
        change_password(s, team["sara"], "sven", "reset-by-sara")
    assert _login(engine, "ines", "my-own-new-1")
    assert _login(engine, "sven", "reset-by-sara")
    actors = [(e.actor, e.subject) for e in _events(engine, "password_set")]
    assert actors == [("ines", "ines"), ("sara", "sven")]


def test_role_changes_are_audited_and_keep_a_supervisor(engine: Engine) -> None:
    team = _team(engine)
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        change_role(s, team["ines"], "ines", "supervisor")
    with session_scope(engine) as s:
        change_role(s, team["sara"], "ines", "supervisor")
        change_role(s, team["sara"], "sven", "viewer")
    (first, second) = _events(engine, "role_changed")
    assert (first.actor, first.subject, json.loads(first.payload or "")) == (
        "sara",
        "ines",
        {"role": "supervisor", "from": "inspector", "state": None},
    )
    assert second.subject == "sven"
    with session_scope(engine) as s:
        change_role(s, team["sara"], "ines", "inspector")
    # sara is now the only enabled supervisor: she cannot demote or disable herself
    with pytest.raises(RegistryError, match="only enabled supervisor"), session_scope(engine) as s:
        change_role(s, team["sara"], "sara", "inspector")
    with pytest.raises(RegistryError, match="only enabled supervisor"), session_scope(engine) as s:
        set_enabled(s, team["sara"], "sara", False)


def test_a_disabled_account_cannot_log_in_or_act(engine: Engine) -> None:
    team = _team(engine)
    with session_scope(engine) as s:
        alert = make_alert(s)
        alert_id, version = alert.id, alert.version
    with session_scope(engine) as s:
        set_enabled(s, team["sara"], "ines", False)
    with pytest.raises(PermissionDenied, match="unknown user, wrong password"):
        _login(engine, "ines")
    # The User object of a session opened before the disable is refused too.
    with pytest.raises(PermissionDenied, match="disabled"), session_scope(engine) as s:
        act(s, alert_id, team["ines"], Action("claim"), expected_version=version)
    with session_scope(engine) as s:
        set_enabled(s, team["sara"], "ines", True)
    assert _login(engine, "ines").active
    assert [e.actor for e in _events(engine, "account_disabled")] == ["sara"]


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_account_changes_move_the_session_epoch(engine: Engine, change: str) -> None:
    """The console ends the sessions opened under an older epoch (tests/ui check it)."""
    team = _team(engine)
    with session_scope(engine) as s:
        before = get_user(s, "ines").session_epoch  # type: ignore[union-attr]
        if change == "password":
            change_password(s, team["sara"], "ines", "new-password-1")
        elif change == "role":
            change_role(s, team["sara"], "ines", "viewer")
        else:
            set_enabled(s, team["sara"], "ines", False)
    with session_scope(engine) as s:
        assert get_user(s, "ines").session_epoch == before + 1  # type: ignore[union-attr]


def test_account_events_keep_the_chain_whole(engine: Engine) -> None:
    team = _team(engine)
    with session_scope(engine) as s:
        change_password(s, team["sara"], "ines", "new-password-1")
        change_role(s, team["sara"], "ines", "viewer")
        set_enabled(s, team["sara"], "ines", False)
    with session_scope(engine) as s:
        report = verify_chain(s)
    assert report.ok, report.describe()
