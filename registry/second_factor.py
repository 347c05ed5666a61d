"""The optional TOTP second factor (RFC 6238, through pyotp): enrolment with a provisioning URI
(and its QR code) confirmed by a first code, verification at login (each code accepted once),
removal; enforced for authorities and supervisors when PWATCH_REQUIRE_TOTP is set. Every
enrolment and removal is an audited event under its real actor."""

from __future__ import annotations

import hashlib
import time

import pyotp
from sqlalchemy.orm import Session

from registry.audit import append_event
from registry.errors import PermissionDenied, RegistryError
from registry.models import User
from registry.settings import get_settings

__all__ = [
    "ENFORCED_ROLES",
    "ISSUER",
    "accepted_step",
    "confirm_enrolment",
    "needs_enrolment",
    "qr_png",
    "remove_second_factor",
    "start_enrolment",
    "totp_digest",
]

ISSUER = "precursor-watch"
# The roles that must have a second factor when the setting asks for it.
ENFORCED_ROLES = frozenset({"authority", "supervisor"})
_STEP = 30


def totp_digest(secret: str | None) -> str | None:
    """What the audit chain records of a second factor: a digest of its secret."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest() if secret else None


def accepted_step(secret: str, code: str | None, last_step: int | None) -> int | None:
    """The time step of a right code (this step or the one either side, for clock drift),
    provided it is later than the last one accepted; None for a wrong or reused code."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // _STEP
    for step in (now, now - 1, now + 1):
        if totp.generate_otp(step) == code and (last_step is None or step > last_step):
            return step
    return None


def needs_enrolment(user: User) -> bool:
    """An account the settings require to have a second factor, which has none yet: it may
    only enrol until it has."""
    return get_settings().require_totp and user.role in ENFORCED_ROLES and not user.totp_enabled


def _fresh(session: Session, username: str) -> User:
    from registry.users import get_user

    user = get_user(session, username)
    if user is None or not user.active:
        raise PermissionDenied(f"account {username!r} is disabled or no longer exists")
    return user


def start_enrolment(session: Session, acting: User) -> str:
    """Give the acting account a new secret (not yet in force) and return its provisioning
    URI (otpauth://...) for an authenticator app; a first code confirms it."""
    user = _fresh(session, acting.username)
    if user.totp_enabled:
        raise RegistryError(
            f"{user.username} already has a second factor; remove it first to enrol a new one"
        )
    user.totp_secret = pyotp.random_base32()
    session.flush()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm_enrolment(session: Session, acting: User, code: str) -> None:
    """Put the pending secret in force once a code from the app matches it; audited. The
    account's other console sessions end."""
    user = _fresh(session, acting.username)
    if user.totp_enabled or not user.totp_secret:
        raise RegistryError("there is no enrolment to confirm: start one first")
    step = accepted_step(user.totp_secret, code, None)
    if step is None:
        raise RegistryError(
            "that code does not match: check the authenticator app's clock and type the "
            "6-digit code it shows now"
        )
    user.totp_enabled = True
    user.totp_last_step = step
    user.session_epoch += 1
    append_event(
        session,
        actor=user.username,
        action="totp_enrolled",
        note=user.username,
        subject=user.username,
        payload={"totp": totp_digest(user.totp_secret)},
    )


def remove_second_factor(session: Session, acting: User, username: str) -> None:
    """Remove an account's second factor: the account itself, or a supervisor (a lost
    phone); audited, and its console sessions end."""
    from registry.service import require_role

    actor = _fresh(session, acting.username)
    if actor.username != username:
        require_role(actor, "manage_accounts")
    from registry.users import get_user

    user = get_user(session, username)
    if user is None:
        raise RegistryError(f"no user called {username!r}")
    if not user.totp_enabled and not user.totp_secret:
        raise RegistryError(f"{username} has no second factor")
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.session_epoch += 1
    append_event(
        session,
        actor=actor.username,
        action="totp_removed",
        note=username,
        subject=username,
        payload={"totp": None},
    )


def qr_png(uri: str, scale: int = 5) -> bytes:
    """The provisioning URI as a QR code (PNG), for the enrolment page."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()
