"""Feed readers: any supported file -> batches of all-string polars frames with row numbers.

Every reader yields frames whose columns are `__row` (1-based record number, header
excluded) and `c0..cN` (the source columns by position, all String), so duplicate or odd
header names never collide; CSV frames also carry `x0..x3` for surplus fields of ragged
rows. CSV, JSON, NDJSON and Parquet stream in batches (a JSON document is first converted,
record by record, to NDJSON); an Excel sheet is measured, then read whole. Decompressed and
re-encoded copies are nameless spools (ingest/spool.py) that no exit leaves behind; every
size is bounded by ingest/limits.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingest.charset import decode_to_utf8, explicit_encoding
from ingest.jsondoc import json_to_ndjson
from ingest.limits import ReadError, ReadLimits, read_limits
from ingest.sheets import read_excel
from ingest.spool import Spool, gunzip_capped

__all__ = ["EXTRA_FIELDS", "ReadError", "SourceFile", "open_source"]

EXTRA_FIELDS = 4  # surplus fields of a ragged CSV row kept to quarantine it with its data
_CHUNK = 1 << 20
_DELIMS = (",", ";", "\t", "|")


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
    # What the load should tell the user about how the file was read (a guessed charset).
    warnings: list[str] = field(default_factory=list)
    encoding_confidence: float | None = None
    _data: Path | None = None
    _frame: pl.DataFrame | None = None  # formats read whole
    _spools: list[Spool] = field(default_factory=list)

    def close(self) -> None:
        for spool in self._spools:
            spool.close()
        self._spools.clear()

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
            # Rows are numbered here, before blank ones are dropped (_records), so numbers
            # stay the source's.
            return lf.with_row_index("__row", offset=1)
        if self.fmt == "json":  # the spool of json_to_ndjson: c0..cN already, all strings
            schema = dict.fromkeys(names, pl.String)
            lf = pl.scan_ndjson(self._data, schema=schema)
            return lf.select(names).with_row_index("__row", offset=1)
        if self.fmt == "parquet":
            lf = pl.scan_parquet(self._data)
        elif self.fmt == "ndjson":
            lf = pl.scan_ndjson(self._data, infer_schema_length=10000)
        else:  # pragma: no cover - guarded by open_source
            raise ReadError(f"cannot stream {self.fmt}")
        fields = _flat_fields(lf.collect_schema())
        exprs = [_as_string(e, dt).alias(f"c{i}") for i, (_, e, dt) in enumerate(fields)]
        return lf.select(exprs).with_row_index("__row", offset=1)

    def _records(self, df: pl.DataFrame) -> pl.DataFrame:
        """A CSV batch without its blank lines (or rows of empty fields: nothing in them to
        load or lose). Filtered on the collected batch: in the lazy plan the same filter took
        27 s for 2,000 columns (the optimiser is worse than quadratic in the columns)."""
        if self.fmt != "csv" or not df.height:
            return df
        return df.filter(~pl.all_horizontal(pl.exclude("__row").is_null()))

    def batches(self, chunk_size: int = 200_000) -> Iterator[pl.DataFrame]:
        """Batches of at most about `chunk_size` rows, in file order."""
        lf = self._lazy().with_columns(pl.col("__row").cast(pl.Int64))
        try:
            for df in lf.collect_batches(chunk_size=chunk_size):
                df = self._records(df)
                if df.height:
                    yield df
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(self.path, exc)) from exc

    def distinct(self, column: str) -> list[str]:
        """The distinct non-empty values of one source column over the whole file (one
        projected scan), for facts a load must know before its first chunk."""
        name = f"c{self.columns.index(column)}"
        try:
            values = self._lazy().select(pl.col(name).drop_nulls().unique()).collect()
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(self.path, exc)) from exc
        return values.get_column(name).to_list()

    def head(self, n: int = 20) -> pl.DataFrame:
        frames: list[pl.DataFrame] = []
        got = 0
        for df in self.batches(max(n, 1000)):
            frames.append(df.head(n - got))
            got += frames[-1].height
            if got >= n:
                break
        if not frames:
            return self._lazy().head(0).collect().with_columns(pl.col("__row").cast(pl.Int64))
        return pl.concat(frames)


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


def _check_columns(path: Path, columns: list[str], limits: ReadLimits) -> None:
    if len(columns) > limits.max_columns:
        raise ReadError(
            f"{path.name} has more than the {limits.max_columns:,} columns a feed may have "
            f"({len(columns):,} read): is the delimiter right, or is it a matrix, not a feed?"
        )
    seen: set[str] = set()
    for c in columns:
        if c in seen and c:
            raise ReadError(
                f'{path.name} has two columns named "{c}": rename one in the file before loading'
            )
        seen.add(c)


def open_source(
    path: str | Path, options: dict[str, Any] | None = None, limits: ReadLimits | None = None
) -> SourceFile:
    """Open a feed file: hash it, detect its format, encoding and delimiter, read its header.
    `limits` default to ingest.limits.read_limits() (the settings)."""
    opts = options or {}
    path = Path(path)
    if not path.exists():
        raise ReadError(f"file not found: {path}")
    if path.is_dir():
        raise ReadError(f"{path} is a directory, not a file")
    size = path.stat().st_size
    if size == 0:
        raise ReadError(f"{path.name} is empty")
    limits = limits or read_limits()
    file_hash = _hash_file(path)
    spools: list[Spool] = []
    try:
        return _open(path, opts, file_hash, size, spools, limits)
    except BaseException:
        for spool in spools:
            spool.close()
        raise


def _open(
    path: Path,
    opts: dict[str, Any],
    file_hash: str,
    size: int,
    spools: list[Spool],
    limits: ReadLimits,
) -> SourceFile:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    data = path
    name_path = path
    if head.startswith(b"\x1f\x8b") or path.suffix.lower() == ".gz":
        data = gunzip_capped(path, spools, limits.max_uncompressed_bytes).path
        name_path = path.with_suffix("")  # feed.csv.gz -> feed.csv for format sniffing
        with open(data, "rb") as fh:
            head = fh.read(65536)
        if not head:
            raise ReadError(f"{path.name} is empty once decompressed")
    fmt = _sniff_format(name_path, head)
    src = SourceFile(path, fmt, file_hash, size, [], _spools=spools)
    if fmt == "excel":
        src._frame, src.columns = read_excel(data, path.name, opts.get("sheet"), limits)
        _check_columns(path, src.columns, limits)
        return src
    if fmt == "parquet":
        try:
            schema = pl.read_parquet_schema(data)
        except Exception as exc:
            raise ReadError(
                f"{path.name} is not a readable Parquet file (truncated or corrupt)"
            ) from exc
        src.columns = [n for n, _, _ in _flat_fields(schema)]
        _check_columns(path, src.columns, limits)
        src._data = data
        return src
    # UTF-16 with its byte-order mark: Excel's "Unicode text" export (NULs in every other byte).
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if _looks_binary(head) and not utf16:
        raise ReadError(
            f"{path.name} is binary, not a text feed: expected CSV/TSV, Parquet, .xlsx, JSON or NDJSON"
        )
    if opts.get("encoding") or utf16:
        data, src.encoding = explicit_encoding(
            data,
            path.name,
            str(opts.get("encoding") or "utf-16"),
            spools,
            limits.max_uncompressed_bytes,
        )
    else:
        data, charset = decode_to_utf8(data, path.name, spools, limits.max_uncompressed_bytes)
        src.encoding, src.encoding_confidence = charset.encoding, charset.confidence
        src.warnings.extend(charset.warnings)
    if fmt == "json":
        src._data, src.columns, _ = json_to_ndjson(data, path.name, spools, limits)
    elif fmt == "ndjson":
        try:
            schema = pl.scan_ndjson(data, infer_schema_length=10000).collect_schema()
        except pl.exceptions.PolarsError as exc:
            raise ReadError(_polars_message(path, exc)) from exc
        src._data, src.columns = data, [n for n, _, _ in _flat_fields(schema)]
    else:
        src._data = data
        _read_csv_header(src, name_path, opts.get("delimiter"))
    _check_columns(path, src.columns, limits)
    return src


def _read_csv_header(src: SourceFile, name_path: Path, given: Any) -> None:
    assert src._data is not None
    delim = _parse_delimiter(str(given)) if given else None
    if delim is None and name_path.suffix.lower() in (".tsv", ".tab"):
        delim = "\t"
    src.columns, src.delimiter, src.title_lines = _read_header(src._data, delim)
    if given and len(src.columns) == 1:
        others = [d for d in _DELIMS if d != src.delimiter and d in src.columns[0]]
        if others:
            shown = "tab" if others[0] == "\t" else others[0]
            raise ReadError(
                f'{src.path.name}: the header has a single column with delimiter "{given}" but '
                f'contains "{shown}": set delimiter = "{shown}" under [options]'
            )
