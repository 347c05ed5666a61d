"""A JSON feed (an array of records, or an object holding one) streamed record by record into
an all-string NDJSON spool that polars then reads in batches: memory holds one record at a
time (at most ReadLimits.max_json_record_bytes), never the document (a 1.2 MB .json.gz of
3 GB once opened used to be read whole, to 3.2 GB of memory). Nesting is bounded by the
decoder's recursion limit (about 1,000 levels), refused in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl

from ingest.limits import ReadError, ReadLimits
from ingest.spool import Spool, too_big_message

__all__ = ["json_to_ndjson"]

_CHUNK = 1 << 20
_BATCH = 20_000  # records converted to NDJSON at a time
_WS = " \t\r\n"
_DECODER = json.JSONDecoder()


class _Stream:
    """A JSON text read a buffer at a time; each value is parsed by the standard library's C
    decoder from the buffer, which grows (to `record_limit` characters) for a value that does
    not fit."""

    def __init__(self, fh: IO[str], name: str, record_limit: int) -> None:
        self.fh, self.name, self.record_limit = fh, name, record_limit
        self.buf, self.pos, self.lines, self.eof = "", 0, 0, False

    def _fill(self, size: int = _CHUNK) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(size)
        if not chunk:
            self.eof = True
            return False
        self.lines += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def error(self, what: str, at: int | None = None) -> ReadError:
        at = self.pos if at is None else at
        line = self.lines + self.buf.count("\n", 0, at) + 1
        column = at - self.buf.rfind("\n", 0, at)
        return ReadError(
            f"{self.name} is not valid JSON (line {line:,}, column {column:,}: {what})"
        )

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def take(self, chars: str) -> str:
        ch = self.peek()
        if not ch or ch not in chars:
            raise self.error(f"expected {' or '.join(repr(c) for c in chars)}")
        self.pos += 1
        return ch

    def _too_long(self) -> ReadError:
        return ReadError(
            f"{self.name} has a record of more than {self.record_limit >> 20:,} MB "
            "(or is not valid JSON there); a shipment record is a few hundred bytes"
        )

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # The value may go on past the buffer: read on, doubling, to the record limit.
                held = len(self.buf) - self.pos
                if held >= self.record_limit:
                    raise self._too_long() from exc
                if not self._fill(min(max(_CHUNK, held), self.record_limit - held)):
                    raise self.error(exc.msg, exc.pos) from exc
                continue
            except RecursionError as exc:  # e.g. [[[[...]]]] thousands deep
                raise ReadError(
                    f"{self.name} is nested too deeply to be an array of records"
                ) from exc
            if end - self.pos > self.record_limit:
                raise self._too_long()
            if end == len(self.buf) and not self.eof and self._fill():
                continue  # a number may go on in the next buffer: parse it again whole
            self.pos = end
            return value


def _items(stream: _Stream) -> Iterator[dict[str, Any]]:
    """The records of the array whose '[' was just taken."""
    if stream.peek() == "]":
        stream.pos += 1
        return
    while True:
        rec = stream.value()
        if not isinstance(rec, dict):
            raise ReadError(f"{stream.name}: expected a JSON array of objects (one per record)")
        yield rec
        if stream.take(",]") == "]":
            return


def _records(stream: _Stream) -> Iterator[dict[str, Any]]:
    """The records of `[{...}, ...]` or of the one array in `{"meta": ..., "rows": [...]}`."""
    first = stream.peek()
    if first == "[":
        stream.pos += 1
        yield from _items(stream)
    elif first == "{":
        stream.pos += 1
        lists = 0
        while stream.peek() != "}":
            if not isinstance(stream.value(), str):
                raise stream.error("expected a key")
            stream.take(":")
            if stream.peek() == "[":
                lists += 1
                if lists > 1:
                    raise ReadError(f"{stream.name}: expected a JSON array of records")
                stream.pos += 1
                yield from _items(stream)
            else:
                stream.value()  # metadata beside the records
            if stream.take(",}") == "}":
                break
        else:
            stream.pos += 1
        if lists != 1:
            raise ReadError(f"{stream.name}: expected a JSON array of records")
    else:
        stream.value()  # not valid JSON, or a lone value
        raise ReadError(f"{stream.name}: expected a JSON array of objects (one per record)")
    if stream.peek():
        raise stream.error("extra data after the records")


def _flat_record(rec: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON record with nested objects opened up as "parent.child" keys (as Parquet and
    NDJSON columns are)."""
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if isinstance(v, dict) and v:
            out.update(_flat_record(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, default=str)  # floats as JSON writes them (Infinity), lists as JSON


def _flush(batch: list[dict[str, str | None]], columns: dict[str, str], spool: Spool) -> None:
    frame = pl.from_dicts(batch, schema=dict.fromkeys(columns.values(), pl.String))
    try:
        frame.write_ndjson(spool.file)
    except OSError as exc:  # a full temp folder
        raise ReadError(
            f"cannot write a working copy of the feed to the temp folder: {exc}"
        ) from exc
    batch.clear()


def json_to_ndjson(
    data: Path, name: str, spools: list[Spool], limits: ReadLimits
) -> tuple[Path, list[str], int]:
    """(path of an NDJSON spool with keys c0..cN and string values, the columns in order of
    first appearance, the number of records). ReadError for anything but records."""
    spool = Spool()
    spools.append(spool)
    columns: dict[str, str] = {}
    batch: list[dict[str, str | None]] = []
    rows = 0
    with open(data, encoding="utf-8-sig", errors="surrogateescape") as fh:
        stream = _Stream(fh, name, limits.max_json_record_bytes)
        for rec in _records(stream):
            line: dict[str, str | None] = {}
            try:
                flat = _flat_record(rec) if dict in map(type, rec.values()) else rec
                for key, value in flat.items():
                    col = columns.get(key)
                    if col is None:
                        if len(columns) >= limits.max_columns:
                            raise ReadError(
                                f"{name} has more than {limits.max_columns:,} different keys "
                                "in its records, the limit of columns for one feed"
                            )
                        col = columns[key] = f"c{len(columns)}"
                    line[col] = value if type(value) is str else _text(value)
            except RecursionError as exc:
                raise ReadError(f"{name} is nested too deeply to be an array of records") from exc
            batch.append(line)
            rows += 1
            if len(batch) >= _BATCH:
                _flush(batch, columns, spool)
                if spool.file.tell() > limits.max_uncompressed_bytes:
                    raise ReadError(too_big_message(name, "holds", limits.max_uncompressed_bytes))
    if batch:
        _flush(batch, columns, spool)
    return spool.path, list(columns), rows
