"""Local accounts: salted password hashes (argon2), roles, login rate limiting."""

from __future__ import annotations

import contextlib
import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.audit import append_event
from registry.errors import PermissionDenied, RegistryError
from registry.models import ROLES, User, utcnow
from registry.settings import get_settings

__all__ = ["add_user", "authenticate", "get_user", "list_users", "set_password"]

_hasher = PasswordHasher()
MIN_PASSWORD = 8


def get_user(session: Session, username: str) -> User | None:
    """The account called `username`, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


def list_users(session: Session) -> list[User]:
    """Every account, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RegistryError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    actor: str = "system",
) -> User:
    """Create an account. The password is stored only as a salted argon2 hash."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise RegistryError("a username is 1-100 characters without spaces")
    if role not in ROLES:
        raise RegistryError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_password(password)
    if get_user(session, username) is not None:
        raise RegistryError(f"user {username!r} already exists")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    session.flush()
    append_event(session, actor=actor, action="user_added", note=f"{username} as {role}")
    return user


def set_password(session: Session, username: str, password: str, *, actor: str = "system") -> None:
    """Replace a user's password (and unlock the account)."""
    user = get_user(session, username)
    if user is None:
        raise RegistryError(f"no user called {username!r}")
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    append_event(session, actor=actor, action="password_set", note=username)


def authenticate(session: Session, username: str, password: str) -> User:
    """The user if the password is right; counts failures and locks after too many in a row.

    A failed attempt commits the session (the failure counter must persist), so call this
    in a session of its own.
    """
    settings = get_settings()
    user = get_user(session, username)
    now = utcnow()
    if user is None or not user.active:
        # Hash anyway so a missing user takes as long as a wrong password.
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, password)
        raise PermissionDenied("unknown user or wrong password")
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds() // 60) + 1
        raise PermissionDenied(
            f"account {username!r} is locked after repeated failed logins; try again in {wait} min"
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= settings.max_failed_logins:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
        # The failure count must survive the error the caller is about to see.
        session.commit()
        raise PermissionDenied("unknown user or wrong password") from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return user


_DUMMY_HASH = _hasher.hash("not-a-real-password")
