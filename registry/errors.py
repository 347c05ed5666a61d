"""Errors of the system of record and their one-line, plain-language descriptions."""

from __future__ import annotations

__all__ = [
    "DatabaseUnavailable",
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
    """The database URL is malformed, unknown or the server cannot be reached."""


class SchemaTooNew(RegistryError):
    """The database was written by a newer precursor-watch."""


class PermissionDenied(RegistryError):
    """The acting user's role does not allow the action."""


class TransitionNotAllowed(RegistryError):
    """The alert's state machine does not allow the action from its current status."""


class StaleAlert(RegistryError):
    """Someone else changed the alert since it was read (optimistic locking)."""


def describe_exception(exc: BaseException) -> str:
    """One plain line for any exception a command may meet."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

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
