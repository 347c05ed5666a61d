"""Safe names for files people hand the registry (uploaded feeds, answer attachments)."""

from __future__ import annotations

import re

__all__ = ["safe_name"]


def safe_name(name: str) -> str:
    """A file name with no directory part, no leading dots and only [A-Za-z0-9._-]."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    base = re.sub(r"\.{2,}", ".", base)[-120:]
    return base or "upload"
