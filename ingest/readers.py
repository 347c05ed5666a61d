"""Feed readers: any supported file -> batches of all-string polars frames with row numbers.

Every reader yields frames whose columns are `__row` (1-based record number, header
excluded) and `c0..cN` (the source columns by position, all String), so duplicate or odd
header names never collide; CSV frames also carry `x0..x3` for surplus fields of ragged
rows. CSV, NDJSON and Parquet stream in batches; Excel and JSON are read whole.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["EXTRA_FIELDS", "ReadError", "SourceFile", "open_source"]

EXTRA_FIELDS = 4  # surplus fields of a ragged CSV row kept to quarantine it with its data
_CHUNK = 1 << 20
_DELIMS = (",", ";", "\t", "|")


class ReadError(ValueError):
    """A file-level problem (empty, binary, truncated, undecodable); one plain line."""


@dataclass
class SourceFile:
    """An opened feed: its identity (hash), header, and a way to iterate its rows in batches."""

    path: Path
    fmt: str  # csv | parquet | excel | json | ndjson
    file_hash: str
    size: int
    columns: list[str]
    delimiter: str | None = None
    encoding: str | None = None
    title_lines: int = 0  # lines above the header (a report title, a date), skipped
    _data: Path | None = None
    _frame: pl.DataFrame | None = None  # formats read whole
    _temps: list[Path] = field(default_factory=list)

    def close(self) -> None:
        for t in self._temps:
            t.unlink(missing_ok=True)
        self._temps.clear()

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def internal_columns(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.columns))]

    def _lazy(self) -> pl.LazyFrame:
        names = self.internal_columns
        if self._frame is not None:
            return self._frame.lazy()
        assert self._data is not None
        if self.fmt == "csv":
            schema = {n: pl.String for n in names} | {
                f"x{i}": pl.String for i in range(EXTRA_FIELDS)
            }
            lf = pl.scan_csv(
                self._data,
                has_header=False,
                skip_rows=1 + self.title_lines,
                separator=self.delimiter or ",",
                schema=schema,
                missing_columns="insert",
                extra_columns="ignore",
                truncate_ragged_lines=True,
                quote_char='"',
                raise_if_empty=False,
            )
            # A blank line (or a row of empty fields: nothing in it to load or lose) is not a
            # record; rows are numbered before it is dropped, so numbers stay the source's.
            return lf.with_row_index("__row", offset=1).filter(
                ~pl.all_horizontal(pl.exclude("__row").is_null())
            )
        if self.fmt == "parquet":
            lf = pl.scan_parquet(self._data)
        elif self.fmt == "ndjson":
            lf = pl.scan_ndjson(self._data, infer_schema_length=10000)
        else:  # pragma: no cover - guarded by open_source
            raise ReadError(f"cannot stream {self.fmt}")
        fields = _flat_fields(lf.collect_schema())
        exprs = [_as_string(e, dt).alias(f"c{i}") for i, (_, e, dt) in enumerate(fields)]
        return lf.select(exprs).with_row_index("__row", offset=1)

    def batches(self, chunk_size: int = 200_000) -> Iterator[pl.DataFrame]:
        """Batches of at most about `chunk_size` rows, in file order."""
        lf = self._lazy().with_columns(pl.col("__row").cast(pl.Int64))
        try:
            for df in lf.collect_batches(chunk_size=chunk_size):
                if df.height:
                    yield df
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(self.path, exc)) from exc

    def head(self, n: int = 20) -> pl.DataFrame:
        try:
            return self._lazy().head(n).collect().with_columns(pl.col("__row").cast(pl.Int64))
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(self.path, exc)) from exc


def _flat_fields(
    schema: Any, prefix: str = "", expr: pl.Expr | None = None
) -> list[tuple[str, pl.Expr, pl.DataType]]:
    """Columns of a Parquet/NDJSON schema with nested records opened up: {"exporter": {"name":
    ..., "country": ...}} gives "exporter.name" and "exporter.country" (which then map like
    "Exporter Name" and "Exporter Country"). Lists stay one column (as JSON text)."""
    out: list[tuple[str, pl.Expr, pl.DataType]] = []
    items = schema.items() if hasattr(schema, "items") else [(f.name, f.dtype) for f in schema]
    for name, dtype in items:
        e = pl.col(name) if expr is None else expr.struct.field(name)
        full = f"{prefix}{name}"
        if isinstance(dtype, pl.Struct) and dtype.fields:
            out.extend(_flat_fields(dtype.fields, f"{full}.", e))
        else:
            out.append((full, e, dtype))
    return out


def _as_string(name: str | pl.Expr, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name) if isinstance(name, str) else name
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.Struct | pl.List | pl.Array):
        return col.map_elements(
            lambda v: json.dumps(v, default=str), return_dtype=pl.String, skip_nulls=True
        )
    if isinstance(dtype, pl.Datetime):
        return col.dt.to_string("%Y-%m-%dT%H:%M:%S")
    return col.cast(pl.String)


def _polars_message(path: Path, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot read {path.name}: {first}"


def _sniff_format(path: Path, head: bytes) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    ext = suffixes[-1] if suffixes else ""
    table = {
        ".csv": "csv",
        ".tsv": "csv",
        ".tab": "csv",
        ".txt": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".xlsx": "excel",
        ".xlsm": "excel",
        ".json": "json",
        ".ndjson": "ndjson",
        ".jsonl": "ndjson",
    }
    if ext == ".xls":
        raise ReadError(f"{path.name}: old .xls workbooks are not supported; save it as .xlsx")
    if ext in table:
        return table[ext]
    if head.startswith(b"PK\x03\x04"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "ndjson"
    return "csv"


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _is_utf8(path: Path) -> bool:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                dec.decode(chunk)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _gunzip(path: Path, temps: list[Path]) -> Path:
    fd, name = tempfile.mkstemp(prefix="pwatch-", suffix=".raw")
    out = Path(name)
    temps.append(out)
    try:
        with os.fdopen(fd, "wb") as dst, gzip.open(path, "rb") as src:
            shutil.copyfileobj(src, dst, _CHUNK)
    except (EOFError, OSError, zlib.error) as exc:
        raise ReadError(
            f"{path.name} is a truncated or corrupt gzip file ({exc}); nothing was loaded"
        ) from exc
    return out


def _transcode(path: Path, encoding: str, temps: list[Path]) -> Path:
    fd, name = tempfile.mkstemp(prefix="pwatch-", suffix=".utf8")
    out = Path(name)
    temps.append(out)
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        with os.fdopen(fd, "wb") as dst, open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                dst.write(dec.decode(chunk).encode("utf-8"))
            dst.write(dec.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{path.name} is not valid {encoding} text at byte {exc.start}: "
            'set encoding = "..." under [options]'
        ) from exc
    return out


def _norm_encoding(enc: str) -> str:
    try:
        name = codecs.lookup(enc).name
    except LookupError as exc:
        raise ReadError(f'unknown encoding "{enc}" in [options]') from exc
    return name


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    # Text feeds may carry the odd control character in a value; binary data is full of them.
    ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return ctrl / len(sample) > 0.3


def _parse_delimiter(value: str) -> str:
    v = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(value, value)
    if len(v) != 1:
        raise ReadError(f'delimiter = "{value}" must be one character (or "tab")')
    return v


_TITLE_SCAN = 20  # lines searched for the header below a title


def _cells(line: str, delimiter: str | None) -> int:
    """Non-empty fields of one CSV line (with the best delimiter when none is given)."""
    best = 0
    for d in [delimiter] if delimiter else _DELIMS:
        try:
            row = next(csv.reader(io.StringIO(line), delimiter=d))
        except (csv.Error, StopIteration):
            continue
        best = max(best, sum(1 for c in row if c.strip()))
    return best


def _read_header(data: Path, delimiter: str | None) -> tuple[list[str], str, int]:
    """(header, delimiter, title lines above the header). A report's title and notes above
    the header (lines of one field, then the first line of several) are skipped."""
    with open(data, encoding="utf-8-sig", newline="") as fh:
        lines = [fh.readline(1 << 20) for _ in range(_TITLE_SCAN)]
    first = lines[0]
    if not first.strip():
        raise ReadError("the file has no header line (the first line is empty)")
    skip = 0
    old_limit = csv.field_size_limit()
    csv.field_size_limit(1 << 24)
    try:
        if _cells(first, delimiter) <= 1:
            for i, line in enumerate(lines[1:], 1):
                if not line:
                    break
                if _cells(line, delimiter) >= 2:
                    skip = i
                    break
    finally:
        csv.field_size_limit(old_limit)
    first = lines[skip]
    if delimiter is None:
        counts = {d: first.count(d) for d in _DELIMS}
        delimiter = max(_DELIMS, key=lambda d: (counts[d], d == ","))
    old_limit = csv.field_size_limit()
    try:
        csv.field_size_limit(1 << 24)
        header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise ReadError(f"cannot parse the header line: {exc}") from exc
    finally:
        csv.field_size_limit(old_limit)
    return [h.strip() for h in header], delimiter, skip


def _check_columns(path: Path, columns: list[str]) -> None:
    seen: set[str] = set()
    for c in columns:
        if c in seen and c:
            raise ReadError(
                f'{path.name} has two columns named "{c}": rename one in the file before loading'
            )
        seen.add(c)


def open_source(path: str | Path, options: dict[str, Any] | None = None) -> SourceFile:
    """Open a feed file: hash it, detect its format, encoding and delimiter, read its header."""
    opts = options or {}
    path = Path(path)
    if not path.exists():
        raise ReadError(f"file not found: {path}")
    if path.is_dir():
        raise ReadError(f"{path} is a directory, not a file")
    size = path.stat().st_size
    if size == 0:
        raise ReadError(f"{path.name} is empty")
    file_hash = _hash_file(path)
    temps: list[Path] = []
    try:
        return _open(path, opts, file_hash, size, temps)
    except BaseException:
        for t in temps:
            t.unlink(missing_ok=True)
        raise


def _open(
    path: Path, opts: dict[str, Any], file_hash: str, size: int, temps: list[Path]
) -> SourceFile:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    data = path
    name_path = path
    if head.startswith(b"\x1f\x8b") or path.suffix.lower() == ".gz":
        data = _gunzip(path, temps)
        name_path = path.with_suffix("")  # feed.csv.gz -> feed.csv for format sniffing
        with open(data, "rb") as fh:
            head = fh.read(65536)
        if not head:
            raise ReadError(f"{path.name} is empty once decompressed")
    fmt = _sniff_format(name_path, head)
    if fmt == "excel":
        frame, columns = _read_excel(data, path, opts.get("sheet"))
        _check_columns(path, columns)
        return SourceFile(path, fmt, file_hash, size, columns, _frame=frame, _temps=temps)
    if fmt == "parquet":
        try:
            schema = pl.read_parquet_schema(data)
        except Exception as exc:
            raise ReadError(
                f"{path.name} is not a readable Parquet file (truncated or corrupt)"
            ) from exc
        columns = [n for n, _, _ in _flat_fields(schema)]
        return SourceFile(path, fmt, file_hash, size, columns, _data=data, _temps=temps)
    if _looks_binary(head):
        raise ReadError(
            f"{path.name} is binary, not a text feed: expected CSV/TSV, Parquet, .xlsx, JSON or NDJSON"
        )
    enc_opt = opts.get("encoding")
    if enc_opt:
        enc = _norm_encoding(str(enc_opt))
        if enc in ("utf-8", "utf-8-sig"):
            if not _is_utf8(data):
                raise ReadError(
                    f'{path.name} is not valid UTF-8: set encoding = "latin-1" (or the right one) under [options]'
                )
        else:
            data = _transcode(data, enc, temps)
    else:
        enc = "utf-8"
        if not _is_utf8(data):
            enc = "cp1252"
            try:
                data = _transcode(data, "cp1252", temps)
            except ReadError:
                enc = "latin-1"
                data = _transcode(data, "latin-1", temps)
    if fmt == "json":
        frame, columns = _read_json(data, path)
        _check_columns(path, columns)
        return SourceFile(
            path, fmt, file_hash, size, columns, encoding=enc, _frame=frame, _temps=temps
        )
    if fmt == "ndjson":
        try:
            schema = pl.scan_ndjson(data, infer_schema_length=10000).collect_schema()
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(path, exc)) from exc
        columns = [n for n, _, _ in _flat_fields(schema)]
        return SourceFile(
            path, fmt, file_hash, size, columns, encoding=enc, _data=data, _temps=temps
        )
    given = opts.get("delimiter")
    delim = _parse_delimiter(str(given)) if given else None
    if delim is None and name_path.suffix.lower() in (".tsv", ".tab"):
        delim = "\t"
    columns, delim, title_lines = _read_header(data, delim)
    if given and len(columns) == 1:
        others = [d for d in _DELIMS if d != delim and d in columns[0]]
        if others:
            shown = "tab" if others[0] == "\t" else others[0]
            raise ReadError(
                f'{path.name}: the header has a single column with delimiter "{given}" but contains '
                f'"{shown}": set delimiter = "{shown}" under [options]'
            )
    _check_columns(path, columns)
    return SourceFile(
        path,
        fmt,
        file_hash,
        size,
        columns,
        delimiter=delim,
        encoding=enc,
        title_lines=title_lines,
        _data=data,
        _temps=temps,
    )


def _read_excel(data: Path, path: Path, sheet: Any) -> tuple[pl.DataFrame, list[str]]:
    if not zipfile.is_zipfile(data):
        raise ReadError(f"{path.name} is not a readable .xlsx workbook (truncated or corrupt)")
    kwargs: dict[str, Any] = {"engine": "calamine", "has_header": False, "infer_schema_length": 0}
    if isinstance(sheet, int):
        kwargs["sheet_id"] = sheet
    elif sheet:
        kwargs["sheet_name"] = sheet
    else:
        kwargs["sheet_id"] = 1
    try:
        raw = pl.read_excel(data, **kwargs)
    except Exception as exc:
        msg = " ".join(str(exc).split())[:200]
        if sheet and "sheet" in msg.lower():
            raise ReadError(f'{path.name} has no sheet "{sheet}" (option sheet)') from exc
        raise ReadError(
            f"{path.name} is not a readable .xlsx workbook (truncated or corrupt): {msg}"
        ) from exc
    if raw.height == 0:
        raise ReadError(f"{path.name}: the sheet is empty")
    # A title and notes above the header (rows of one cell): the header is the first row of
    # several cells among the first few.
    top = 0
    filled = [
        sum(1 for v in raw.row(i) if v is not None and str(v).strip())
        for i in range(min(raw.height, _TITLE_SCAN))
    ]
    if filled[0] <= 1:
        top = next((i for i, n in enumerate(filled) if n >= 2), 0)
    header = [("" if v is None else str(v)).strip() for v in raw.row(top)]
    body = raw.slice(top + 1)
    body.columns = [f"c{i}" for i in range(len(header))]
    body = body.with_columns(pl.all().cast(pl.String))
    body = body.with_columns(pl.all().str.strip_chars().replace("", None))
    body = body.with_row_index("__row", offset=1)
    return body.filter(~pl.all_horizontal(pl.exclude("__row").is_null())), header


def _flat_record(rec: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON record with nested objects opened up as "parent.child" keys (see _flat_fields)."""
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if isinstance(v, dict) and v:
            out.update(_flat_record(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _read_json(data: Path, path: Path) -> tuple[pl.DataFrame, list[str]]:
    try:
        with open(data, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] thousands deep
        raise ReadError(f"{path.name} is nested too deeply to be an array of records") from exc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ReadError(f"{path.name}: expected a JSON array of records")
        doc = lists[0]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise ReadError(f"{path.name}: expected a JSON array of objects (one per record)")
    doc = [_flat_record(r) for r in doc]
    columns: list[str] = []
    index: dict[str, int] = {}
    for rec in doc:
        for k in rec:
            if k not in index:
                index[k] = len(columns)
                columns.append(k)
    cols: list[list[str | None]] = [[] for _ in columns]
    for rec in doc:
        for k, i in index.items():
            v = rec.get(k)
            cols[i].append(
                None if v is None else v if isinstance(v, str) else json.dumps(v, default=str)
            )
    frame = pl.DataFrame(
        {f"c{i}": pl.Series(values, dtype=pl.String) for i, values in enumerate(cols)},
        schema={f"c{i}": pl.String for i in range(len(columns))},
    )
    return frame.with_row_index("__row", offset=1), columns
