"""The audit key: the secret that keys the audit chain, kept outside the database.

Anyone who can write to the database could rewrite a plain hash chain and recompute every
hash; with a keyed chain (HMAC-SHA256) they also need this key. It comes from
PWATCH_AUDIT_KEY, or from a file readable by its owner only: PWATCH_AUDIT_KEY_FILE, else next
to an SQLite registry (`pwatch.db.audit-key`), else `<PWATCH_DATA_DIR>/audit.key`.
`pwatch init` creates the file when a registry has no keyed event yet.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from registry.errors import RegistryError
from registry.settings import get_settings

__all__ = ["AuditKey", "AuditKeyError", "key_location", "load_key"]

MIN_KEY_CHARS = 32


class AuditKeyError(RegistryError):
    """The audit key is missing, unreadable, too short or readable by others."""


@dataclass(frozen=True)
class AuditKey:
    """The secret and where it came from (the file path, or the environment variable)."""

    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key: tells which key wrote a chain or checkpoint."""
        return self.mac(b"precursor-watch audit key id")[:16]

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of `data` under this key, as 64 hex characters."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def key_location(bind: Any) -> Path | None:
    """The key file of the registry behind `bind` (an engine, connection or URL), or None
    when PWATCH_AUDIT_KEY supplies the key."""
    settings = get_settings()
    if settings.audit_key:
        return None
    if settings.audit_key_file is not None:
        return settings.audit_key_file
    url = make_url(str(getattr(getattr(bind, "engine", bind), "url", bind)))
    db = url.database
    if (
        url.get_backend_name() == "sqlite"
        and db
        and db != ":memory:"
        and not db.startswith("file:")
    ):
        return Path(db + ".audit-key")
    return settings.data_dir / "audit.key"


def _check_secret(text: str, source: str) -> bytes:
    secret = text.strip()
    if len(secret) < MIN_KEY_CHARS:
        raise AuditKeyError(
            f"the audit key from {source} is too short ({len(secret)} characters; "
            f"it needs at least {MIN_KEY_CHARS})"
        )
    return secret.encode("utf-8")


def _create(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")


def load_key(bind: Any, *, create: bool = False) -> AuditKey:
    """The audit key of the registry behind `bind`; with `create`, a missing key file is made
    (0600, 256 random bits). Refuses a key file others can read."""
    path = key_location(bind)
    if path is None:
        return AuditKey(_check_secret(get_settings().audit_key or "", "PWATCH_AUDIT_KEY"), "env")
    if not path.exists():
        if not create:
            raise AuditKeyError(
                f"the audit key is missing (expected in {path}): restore it from your backup, "
                "or set PWATCH_AUDIT_KEY or PWATCH_AUDIT_KEY_FILE"
            )
        _create(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise AuditKeyError(
            f"the audit key file {path} can be read by other users (mode {mode:o}): "
            f"run `chmod 600 {path}`"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc}") from exc
    return AuditKey(_check_secret(text, str(path)), str(path))
