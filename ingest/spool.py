"""Nameless temporary copies of a feed (decompressed, re-encoded, converted) that no exit can
leave behind: the file is unlinked as it is created, so the kernel frees it when the process
ends, by close, exception or kill -9, and polars reads it through /proc/self/fd."""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path
from typing import IO

from ingest.limits import ReadError

__all__ = ["Spool", "gunzip_capped", "too_big_message"]

_CHUNK = 1 << 20
_PROC_FD = Path("/proc/self/fd")


class Spool:
    """A temporary file with no name in the temp folder, readable by path while it is open."""

    def __init__(self) -> None:
        self._named: Path | None = None
        if _PROC_FD.is_dir():
            # O_TMPFILE on Linux: the file never has a name (elsewhere it is unlinked at once).
            self._file: IO[bytes] = tempfile.TemporaryFile(prefix="pwatch-")  # noqa: SIM115
        else:  # pragma: no cover - no /proc: a named file, removed at close
            fd, name = tempfile.mkstemp(prefix="pwatch-")
            self._file = os.fdopen(fd, "w+b")
            self._named = Path(name)

    @property
    def file(self) -> IO[bytes]:
        return self._file

    @property
    def path(self) -> Path:
        """A path that opens this file (for readers that want a path, such as polars)."""
        self._file.flush()
        return self._named or _PROC_FD / str(self._file.fileno())

    def write(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:  # a full temp folder: say so, not "corrupt file"
            raise ReadError(
                f"cannot write a working copy of the feed to the temp folder "
                f"({tempfile.gettempdir()}): {exc.strerror or exc}; nothing was loaded"
            ) from exc

    def close(self) -> None:
        self._file.close()
        if self._named is not None:
            self._named.unlink(missing_ok=True)


def too_big_message(name: str, what: str, limit: int) -> str:
    """One line refusing a feed over the decompressed-size limit."""
    return (
        f"{name} {what} more than {limit / (1 << 20):,.4g} MB, the limit for one feed "
        "(PWATCH_MAX_UNCOMPRESSED_MB); nothing was loaded: split the feed or raise the limit"
    )


def gunzip_capped(path: Path, spools: list[Spool], limit: int) -> Spool:
    """The decompressed content of a gzip file in a spool, streamed, refused as soon as it
    passes `limit` bytes (a bomb writes no more than the limit to disk)."""
    spool = Spool()
    spools.append(spool)
    total = 0
    try:
        with gzip.open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise ReadError(too_big_message(path.name, "decompresses to", limit))
                spool.write(chunk)
    except (EOFError, OSError, zlib.error) as exc:
        raise ReadError(
            f"{path.name} is a truncated or corrupt gzip file ({exc}); nothing was loaded"
        ) from exc
    spool.file.flush()
    return spool
