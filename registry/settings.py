"""One settings module: every knob read from the environment with the PWATCH_ prefix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_DB_URL", "Settings", "get_settings"]

DEFAULT_DB_URL = "sqlite:///var/pwatch.db"


def _number(name: str, default: float, unit: str) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a positive number of {unit}, got {raw!r}") from exc
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number of {unit}, got {raw!r}")
    return value


def _hours(name: str, default: float) -> float:
    return _number(name, default, "hours")


@dataclass(frozen=True)
class Settings:
    """Process-wide settings. Defaults work out of the box (SQLite file under ./var)."""

    database_url: str = DEFAULT_DB_URL
    """SQLAlchemy URL of the system of record (PWATCH_DATABASE_URL or --db)."""
    data_dir: Path = Path("var")
    """Where the default SQLite file, uploads and generated documents live (PWATCH_DATA_DIR);
    also the audit key of a PostgreSQL registry (`audit.key`)."""
    review_deadline_hours: dict[str, float] = field(
        default_factory=lambda: {"critical": 24.0, "high": 72.0, "medium": 168.0, "low": 336.0}
    )
    """Hours an open alert of each severity may wait before it is overdue."""
    session_minutes: float = 480.0
    """Console session lifetime (PWATCH_SESSION_MINUTES)."""
    max_failed_logins: int = 5
    """Failed logins in a row before an account is locked for `lockout_minutes`
    (PWATCH_MAX_FAILED_LOGINS); at most this many guesses are ever checked per lockout."""
    lockout_minutes: float = 15.0
    """How long an account stays locked after `max_failed_logins` failures
    (PWATCH_LOCKOUT_MINUTES)."""
    audit_key: str | None = None
    """The secret that keys the audit chain (PWATCH_AUDIT_KEY, at least 32 characters). When
    unset the key is read from `audit_key_file`, created by `pwatch init` if missing."""
    audit_key_file: Path | None = None
    """Where the audit key is kept (PWATCH_AUDIT_KEY_FILE). Default: next to an SQLite
    registry (`<file>.audit-key`), else `<data_dir>/audit.key`. Mode 0600, never in the
    database."""
    max_uncompressed_mb: float = 4096.0
    """Largest feed accepted once decompressed or converted, in MB; a larger one (a gzip
    bomb) is refused as soon as it passes the limit (PWATCH_MAX_UNCOMPRESSED_MB)."""
    require_totp: bool = False
    """Authorities and supervisors must have a TOTP second factor (PWATCH_REQUIRE_TOTP=1):
    until they enrol they can do nothing else."""
    clarification_days: float = 10.0
    """Days a state has to answer a request for clarification, counted from the supervisor's
    approval (PWATCH_CLARIFICATION_DAYS; CWC Article IX: 10 days)."""
    declaration_due: str = "03-31"
    """Default deadline of a year's declarations, as month-day of that year
    (PWATCH_DECLARATION_DUE); a supervisor may set another per year."""
    max_attachment_mb: float = 10.0
    """Largest file an authority may attach to an answer, in MB (PWATCH_MAX_ATTACHMENT_MB)."""


def get_settings(database_url: str | None = None) -> Settings:
    """Read settings from the environment; an explicit URL (the --db flag) wins."""
    url = database_url or os.environ.get("PWATCH_DATABASE_URL") or DEFAULT_DB_URL
    data_dir = Path(os.environ.get("PWATCH_DATA_DIR", "var"))
    deadlines = {
        "critical": _hours("PWATCH_DEADLINE_CRITICAL_HOURS", 24.0),
        "high": _hours("PWATCH_DEADLINE_HIGH_HOURS", 72.0),
        "medium": _hours("PWATCH_DEADLINE_MEDIUM_HOURS", 168.0),
        "low": _hours("PWATCH_DEADLINE_LOW_HOURS", 336.0),
    }
    key_file = os.environ.get("PWATCH_AUDIT_KEY_FILE", "").strip()
    return Settings(
        database_url=url,
        data_dir=data_dir,
        review_deadline_hours=deadlines,
        session_minutes=_hours("PWATCH_SESSION_MINUTES", 480.0),
        max_failed_logins=int(_number("PWATCH_MAX_FAILED_LOGINS", 5, "attempts")),
        lockout_minutes=_number("PWATCH_LOCKOUT_MINUTES", 15.0, "minutes"),
        audit_key=os.environ.get("PWATCH_AUDIT_KEY") or None,
        audit_key_file=Path(key_file) if key_file else None,
        max_uncompressed_mb=_number("PWATCH_MAX_UNCOMPRESSED_MB", 4096.0, "megabytes"),
        require_totp=_flag("PWATCH_REQUIRE_TOTP"),
        clarification_days=_number("PWATCH_CLARIFICATION_DAYS", 10.0, "days"),
        declaration_due=_month_day("PWATCH_DECLARATION_DUE", "03-31"),
        max_attachment_mb=_number("PWATCH_MAX_ATTACHMENT_MB", 10.0, "megabytes"),
    )


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _month_day(name: str, default: str) -> str:
    import datetime as dt

    raw = os.environ.get(name, "").strip() or default
    try:
        dt.date.fromisoformat(f"2024-{raw}")  # a leap year: 02-29 is a valid deadline
    except ValueError as exc:
        raise ValueError(f"{name} must be a month-day such as 03-31, got {raw!r}") from exc
    return raw
