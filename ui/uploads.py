"""Saving uploaded feed files safely under the data directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from registry.files import safe_name

__all__ = ["safe_name", "save_upload"]


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
