"""Errors of the system of record and their one-line, plain-language descriptions."""

from __future__ import annotations

import tempfile

__all__ = [
    "DatabaseUnavailable",
    "ForeignDatabase",
    "PermissionDenied",
    "RegistryError",
    "SchemaTooNew",
    "StaleAlert",
    "TransitionNotAllowed",
    "describe_exception",
]


class RegistryError(Exception):
    """Base class: the message is fit to show a user as one line."""


class DatabaseUnavailable(RegistryError):
    """The database URL is malformed, unknown, missing or the server cannot be reached."""


class SchemaTooNew(RegistryError):
    """The database was written by a newer precursor-watch."""


class ForeignDatabase(RegistryError):
    """The database holds another application's tables."""


class PermissionDenied(RegistryError):
    """The acting user's role does not allow the action."""


class TransitionNotAllowed(RegistryError):
    """The alert's state machine does not allow the action from its current status."""


class StaleAlert(RegistryError):
    """Someone else changed the alert since it was read (optimistic locking)."""


# Low-level messages that hide a full disk or temporary folder. SQLite ends the transaction
# itself when a write fails for lack of space; the driver's own ROLLBACK then fails with
# "cannot rollback - no transaction is active", which hid the real cause.
_NO_SPACE = (
    "database or disk is full",
    "no space left on device",
    "cannot rollback - no transaction is active",
    "sqlite_full",
)


def _no_space_message() -> str:
    return (
        "the disk is full (the disk of the database or of the temporary folder "
        f"{tempfile.gettempdir()}), so the write failed and nothing was saved; "
        "free some space, or point TMPDIR and SQLITE_TMPDIR at a folder with room, "
        "and run the command again"
    )


def describe_exception(exc: BaseException) -> str:
    """One plain line for any exception a command may meet."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

    chain = [exc, exc.__cause__, exc.__context__, getattr(exc, "orig", None)]
    if any(e is not None and any(m in str(e).lower() for m in _NO_SPACE) for e in chain):
        return _no_space_message()
    if isinstance(exc, RegistryError | ValueError | FileNotFoundError | PermissionError):
        text = str(exc)
    elif isinstance(exc, NoSuchModuleError | ArgumentError):
        text = f"unknown or malformed database URL ({exc})"
    elif isinstance(exc, (OperationalError, DBAPIError)):
        orig = getattr(exc, "orig", None)
        text = f"database error: {orig if orig is not None else exc}"
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500] or type(exc).__name__
