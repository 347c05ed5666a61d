"""Saving uploaded feed files safely under the data directory."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

__all__ = ["safe_name", "save_upload"]


def safe_name(name: str) -> str:
    """A file name with no directory part, no leading dots and only [A-Za-z0-9._-]."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    base = re.sub(r"\.{2,}", ".", base)[-120:]
    return base or "upload"


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write the bytes to folder/<timestamp>-<safe name>; never outside the folder."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = (folder / f"{stamp}-{safe_name(name)}").resolve()
    if target.parent != folder:
        raise ValueError("refusing to write outside the upload folder")
    with open(target, "xb") as fh:
        fh.write(data)
    return target
