"""Local accounts: salted password hashes (argon2), roles, login rate limiting, and account
management by supervisors, every change an audited event with its real actor."""

from __future__ import annotations

import contextlib
import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.orm import Session

from registry.audit import append_event, lock_chain
from registry.audit_state import password_digest
from registry.errors import PermissionDenied, RegistryError
from registry.models import ROLES, User, utcnow
from registry.service import require_role
from registry.settings import get_settings

__all__ = [
    "LOGIN_REFUSED",
    "add_user",
    "authenticate",
    "change_password",
    "change_role",
    "check_state",
    "create_account",
    "get_user",
    "list_users",
    "set_enabled",
    "set_password",
]

_hasher = PasswordHasher()
MIN_PASSWORD = 8

# The one answer to every refused login: it must not tell an unknown name from a wrong
# password, a locked account or a disabled one.
LOGIN_REFUSED = (
    "unknown user, wrong password or wrong authenticator code (an account is locked for a "
    "while after repeated failed logins)"
)


def get_user(session: Session, username: str) -> User | None:
    """The account called `username`, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


def list_users(session: Session) -> list[User]:
    """Every account, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RegistryError(f"a password needs at least {MIN_PASSWORD} characters")


def _check_username(username: str) -> None:
    # Names are printed in tables, logs and the console: no spaces, no control characters.
    if (
        not username
        or len(username) > 100
        or any(c.isspace() or not c.isprintable() for c in username)
    ):
        raise RegistryError("a username is 1-100 printable characters without spaces")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise RegistryError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def check_state(role: str, state: str | None) -> str | None:
    """An authority's state as an ISO 3166 alpha-3 code; other roles have none."""
    if role != "authority":
        if state:
            raise RegistryError(f"only an authority account is bound to a state, not a {role}")
        return None
    import pycountry

    code = (state or "").strip().upper()
    if not code:
        raise RegistryError("an authority account needs its state: --state ISO3 (e.g. --state MEX)")
    if len(code) != 3 or pycountry.countries.get(alpha_3=code) is None:
        raise RegistryError(f"{state!r} is not an ISO 3166 alpha-3 country code (e.g. MEX, NLD)")
    return code


def _account(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise RegistryError(f"no user called {username!r}")
    return user


def add_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    actor: str = "system",
    state: str | None = None,
) -> User:
    """Create an account, audited under `actor`; no permission check (seeding: the demo,
    tests). Commands go through create_account. The password is stored only as a salted
    argon2 hash; an authority account is bound to its state (ISO alpha-3)."""
    username = username.strip()
    _check_username(username)
    _check_role(role)
    state = check_state(role, state)
    _check_password(password)
    if get_user(session, username) is not None:
        raise RegistryError(f"user {username!r} already exists")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        active=True,
        failed_logins=0,
        session_epoch=0,
        state=state,
        totp_enabled=False,
    )
    session.add(user)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user_added",
        note=f"{username} as {role}" + (f" of {state}" if state else ""),
        subject=username,
        payload={
            "role": role,
            "active": True,
            "password": password_digest(user.password_hash),
            "state": state,
            "totp": None,
        },
    )
    return user


def set_password(session: Session, username: str, password: str, *, actor: str = "system") -> None:
    """Replace a user's password, unlock the account and end its console sessions."""
    user = _account(session, username)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_epoch += 1
    append_event(
        session,
        actor=actor,
        action="password_set",
        note=username,
        subject=username,
        payload={"password": password_digest(user.password_hash)},
    )


# --- account management: a supervisor's act ----------------------------------------------


def _manager(session: Session, acting: User) -> User:
    """The acting account, fresh from the registry, allowed to manage accounts."""
    fresh = get_user(session, acting.username)
    if fresh is None or not fresh.active:
        raise PermissionDenied(f"account {acting.username!r} is disabled or no longer exists")
    require_role(fresh, "manage_accounts")
    return fresh


def _keep_a_supervisor(session: Session, user: User) -> None:
    """Refuse to demote or disable the last enabled supervisor: nobody could manage
    accounts, approve or reopen again."""
    if user.role != "supervisor" or not user.active:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "supervisor", User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise RegistryError(
            f"{user.username} is the only enabled supervisor; add another supervisor first"
        )


def create_account(
    session: Session,
    acting: User | None,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    state: str | None = None,
) -> User:
    """A supervisor adds an account (an authority with its state). Without an acting account only the first supervisor of
    a registry with no accounts at all can be created (it is recorded as its own actor)."""
    if acting is None:
        lock_chain(session)  # two first-account attempts at once: one waits for the other
        if session.scalar(select(func.count()).select_from(User)):
            raise PermissionDenied(
                "adding an account needs a supervisor: run "
                "`pwatch --user SUPERVISOR user add ...` (that supervisor's password from "
                "PWATCH_PASSWORD or a prompt)"
            )
        if role != "supervisor":
            raise PermissionDenied("the first account of a registry must be a supervisor")
        return add_user(
            session, username, role, password, display_name=display_name, actor=username.strip()
        )
    manager = _manager(session, acting)
    return add_user(
        session,
        username,
        role,
        password,
        display_name=display_name,
        actor=manager.username,
        state=state,
    )


def change_password(session: Session, acting: User, username: str, password: str) -> None:
    """A supervisor resets an account's password, or a user changes their own."""
    if acting.username == username:
        fresh = get_user(session, username)
        if fresh is None or not fresh.active:
            raise PermissionDenied(f"account {username!r} is disabled or no longer exists")
        set_password(session, username, password, actor=username)
        return
    manager = _manager(session, acting)
    set_password(session, username, password, actor=manager.username)


def change_role(
    session: Session, acting: User, username: str, role: str, state: str | None = None
) -> None:
    """A supervisor gives an account another role (an authority with its state); its console
    sessions end."""
    manager = _manager(session, acting)
    _check_role(role)
    state = check_state(role, state)
    user = _account(session, username)
    if user.role == role and user.state == state:
        raise RegistryError(f"{username} is already a {role}")
    if role != "supervisor":
        _keep_a_supervisor(session, user)
    previous, user.role, user.state = user.role, role, state
    user.session_epoch += 1
    append_event(
        session,
        actor=manager.username,
        action="role_changed",
        note=f"{username}: {previous} -> {role}" + (f" of {state}" if state else ""),
        subject=username,
        payload={"role": role, "from": previous, "state": state},
    )


def set_enabled(session: Session, acting: User, username: str, enabled: bool) -> None:
    """A supervisor disables an account (it can no longer log in or act; its console
    sessions end) or enables it again."""
    manager = _manager(session, acting)
    user = _account(session, username)
    if user.active == enabled:
        raise RegistryError(f"{username} is already {'enabled' if enabled else 'disabled'}")
    if not enabled:
        _keep_a_supervisor(session, user)
    user.active = enabled
    user.session_epoch += 1
    if enabled:
        user.failed_logins = 0
        user.locked_until = None
    append_event(
        session,
        actor=manager.username,
        action="account_enabled" if enabled else "account_disabled",
        note=username,
        subject=username,
        payload={"active": enabled},
    )


# --- logging in -----------------------------------------------------------------------------


def _verify(password_hash: str, password: str) -> bool:
    """Check one guess against a stored hash (argon2: deliberately slow)."""
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _reserve_attempt(engine: Engine, username: str) -> tuple[int, int, str] | None:
    """Count this login attempt before its password is checked, in one atomic UPDATE, and
    commit it at once. Returns (user id, attempt number in the current series, stored hash),
    or None when no enabled, unlocked account has that name.

    Counting first is what bounds guessing: with the count read before the (slow) check and
    written after it, parallel guesses all saw the same count and were all checked."""
    now = utcnow()
    expired = User.locked_until.is_not(None) & (User.locked_until <= now)
    stmt = (
        update(User)
        .where(
            User.username == username,
            User.active.is_(True),
            User.locked_until.is_(None) | (User.locked_until <= now),
        )
        .values(
            failed_logins=case((expired, 1), else_=User.failed_logins + 1),
            locked_until=None,
        )
        .returning(User.id, User.failed_logins, User.password_hash)
    )
    with engine.begin() as conn:
        row = conn.execute(stmt).first()
    return (int(row[0]), int(row[1]), str(row[2])) if row is not None else None


def _lock(engine: Engine, user_id: int) -> None:
    """Lock the account for the lockout period and start a new series of attempts."""
    minutes = get_settings().lockout_minutes
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                locked_until=utcnow() + dt.timedelta(minutes=minutes),
                failed_logins=0,
            )
        )


def authenticate(session: Session, username: str, password: str, code: str | None = None) -> User:
    """The user if the password is right (and, for an account with a second factor, the
    authenticator code). At most `max_failed_logins` guesses are checked in a row; then the
    account is locked for `lockout_minutes`. Every refusal says the same (LOGIN_REFUSED),
    whether the name exists or not, and whichever of password or code was wrong.

    The attempt counter is written on connections of its own and committed at once, so call
    this before the session has written anything."""
    engine = session.get_bind().engine
    limit = get_settings().max_failed_logins
    attempt = _reserve_attempt(engine, username)
    if attempt is None or attempt[1] > limit:
        # Hash anyway so a refusal takes as long as a wrong password.
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, password)
        if attempt is not None:
            _lock(engine, attempt[0])
        raise PermissionDenied(LOGIN_REFUSED)
    user_id, number, stored = attempt
    step = _verify(stored, password) and _second_factor(engine, user_id, code)
    if step is False:
        if number >= limit:
            _lock(engine, user_id)
        raise PermissionDenied(LOGIN_REFUSED)
    values: dict[str, object] = {"failed_logins": 0}
    if isinstance(step, int) and step is not True:
        values["totp_last_step"] = step  # a code is accepted once
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(**values))
    user = session.get(User, user_id, populate_existing=True)
    assert user is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        append_event(
            session,
            actor=user.username,
            action="password_rehashed",
            note=user.username,
            subject=user.username,
            payload={"password": password_digest(user.password_hash)},
        )
        session.flush()
    return user


def _second_factor(engine: Engine, user_id: int, code: str | None) -> bool | int:
    """True when the account has no second factor; the accepted code's time step when it has
    one and the code is right (and newer than the last accepted); False otherwise."""
    from registry.second_factor import accepted_step

    with engine.connect() as conn:
        row = conn.execute(
            select(User.totp_enabled, User.totp_secret, User.totp_last_step).where(
                User.id == user_id
            )
        ).one()
    if not row[0] or not row[1]:
        return True
    step = accepted_step(row[1], code, row[2])
    return False if step is None else step


_DUMMY_HASH = _hasher.hash("not-a-real-password")
