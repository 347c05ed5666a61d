"""Excel (.xlsx) feeds: the sheet measured from its XML, streamed, before it is read whole.

calamine (through polars) holds a sheet in memory as a dense rectangle of cells plus the
text of every cell, so a 1.5 kB workbook with one cell at XFD20000 took 11 GB, and 40,000
cells pointing to one 32,000-character shared text 2.6 GB. The sheet's used rectangle, its
text once shared texts are expanded, and the size of the parts read are measured first, in
bounded memory, and a sheet over a limit is refused with one line naming it."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import polars as pl

from ingest.limits import ReadError, ReadLimits
from ingest.spool import too_big_message

__all__ = ["read_excel"]

_CHUNK = 1 << 20
_SMALL_PART = 16 << 20
_LONGEST_ELEMENT = 64 << 20  # workbook.xml and its relationships: a few kB in a real workbook
_TITLE_SCAN = 20  # rows searched for the header below a title
_NS_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ROW_R = re.compile(rb"<row\b[^>]*?\br=\"(\d+)\"")
_CELL_COL_FIRST = re.compile(rb"<c r=\"([A-Z]{1,3})\d")
_CELL_COL = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]{1,3})\d")
_CELL_TAG = re.compile(rb"<c[\s>/]")
_SHARED_REF = re.compile(rb"t=\"s\"[^>]*>\s*<v>(\d+)<")  # a cell pointing to a shared text
_SI = re.compile(rb"<si\b[^>]*>(.*?)</si>|<si\s*/>", re.S)
_TAG = re.compile(rb"<[^>]*>")


@dataclass
class _Measure:
    rows: int = 0
    cols: int = 0
    text: int = 0  # bytes of text the cells expand to


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _stream(
    zf: zipfile.ZipFile, part: str, limit: int, name: str, starts: tuple[bytes, ...]
) -> Iterator[bytes]:
    """The part's bytes in pieces cut just before an element that starts with one of
    `starts` (so no measured element is split), refused past `limit` bytes. zipfile checks
    each part's CRC and declared size, so a part that lies about its size is an error."""
    carry = b""
    total = 0
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise ReadError(too_big_message(name, "has a sheet that unpacks to", limit))
            buf = carry + chunk
            cut = max(buf.rfind(s) for s in starts)
            if cut <= 0:
                if len(buf) > _LONGEST_ELEMENT:  # an Excel cell holds 32,767 characters
                    raise ReadError(
                        f"{name} is not a readable .xlsx workbook ({part} holds an element "
                        f"of more than {_LONGEST_ELEMENT >> 20} MB)"
                    )
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]
    if carry:
        yield carry


def _shared_lengths(zf: zipfile.ZipFile, part: str | None, limit: int, name: str) -> np.ndarray:
    """Bytes of text of each shared string (its runs joined, tags left out)."""
    lengths: list[int] = []
    if part is not None and part in zf.namelist():
        for piece in _stream(zf, part, limit, name, (b"<si",)):
            lengths.extend(len(_TAG.sub(b"", m.group(1) or b"")) for m in _SI.finditer(piece))
    return np.asarray(lengths, dtype=np.int64)


def _max_col(piece: bytes) -> int:
    """The rightmost column of the piece's cells. Cells are written `<c r="B7" ...>` by Excel
    and the usual libraries; others (the reference later, or none: the cell follows the
    previous one of its row) take the slow path."""
    cols = set(_CELL_COL_FIRST.findall(piece))
    n = max((_col_number(c) for c in cols), default=0)
    if piece.count(b"<c ") + piece.count(b"<c>") > piece.count(b'<c r="'):
        n = max(n, *(_col_number(c) for c in set(_CELL_COL.findall(piece))))
        n = max(n, *(len(_CELL_TAG.findall(row)) for row in piece.split(b"<row")))
    return n


def _measure_sheet(
    zf: zipfile.ZipFile, part: str, shared: np.ndarray, limits: ReadLimits, name: str
) -> _Measure:
    """Rows and columns of the sheet's used rectangle, and its bytes once unpacked with each
    shared text counted every time a cell points to it (the text calamine then holds)."""
    m = _Measure(text=int(shared.sum()))  # the shared texts themselves, held once
    row_tags = 0
    for piece in _stream(zf, part, limits.max_uncompressed_bytes, name, (b"<c", b"<row")):
        rows = _ROW_R.findall(piece)
        row_tags += piece.count(b"<row")
        if rows:
            m.rows = max(m.rows, max(map(int, rows)))
        m.cols = max(m.cols, _max_col(piece))
        m.text += len(piece)
        if shared.size:
            refs = _SHARED_REF.findall(piece)
            if refs:
                idx = np.asarray(refs, dtype=np.bytes_).astype(np.int64)
                m.text += int(shared[idx[idx < shared.size]].sum())
        if m.text > limits.max_sheet_bytes:
            break
    m.rows = max(m.rows, row_tags)
    return m


def _small_xml(zf: zipfile.ZipFile, part: str, name: str) -> ElementTree.Element:
    info = zf.getinfo(part)
    if info.file_size > _SMALL_PART:
        raise ReadError(
            f"{name} is not a readable .xlsx workbook ({part} is {info.file_size:,} bytes)"
        )
    return ElementTree.fromstring(zf.read(part))


def _targets(
    zf: zipfile.ZipFile, rels_part: str, base: str, name: str
) -> dict[str, tuple[str, str]]:
    """Id -> (part, relationship type) of a relationships part; targets relative to `base`."""
    targets: dict[str, tuple[str, str]] = {}
    for rel in _small_xml(zf, rels_part, name):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        targets[rel.get("Id", "")] = (posixpath.normpath(target), rel.get("Type", ""))
    return targets


def _parts(zf: zipfile.ZipFile, sheet: Any, name: str) -> tuple[str, str | None]:
    """(the part of the sheet to read, the shared-strings part) from the workbook's index,
    found as a reader must: the package's relationships name the workbook part."""
    root = _targets(zf, "_rels/.rels", "", name).values()
    main = next((t for t, kind in root if kind.endswith("/officeDocument")), "xl/workbook.xml")
    folder, file = posixpath.split(main)
    wb = _small_xml(zf, main, name)
    targets = _targets(zf, posixpath.join(folder, "_rels", f"{file}.rels"), folder, name)
    shared = next((t for t, kind in targets.values() if kind.endswith("/sharedStrings")), None)
    sheets = [(s.get("name"), s.get(f"{_NS_R}id")) for s in wb.iter() if s.tag.endswith("}sheet")]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        chosen = sheets[sheet - 1] if 1 <= sheet <= len(sheets) else None
    elif sheet:
        chosen = next((s for s in sheets if s[0] == str(sheet)), None)
    else:
        chosen = sheets[0] if sheets else None
    if chosen is None:
        raise ReadError(f'{name} has no sheet "{sheet or 1}" (option sheet)')
    part = targets.get(chosen[1] or "", ("", ""))[0]
    if part not in zf.namelist():
        raise ReadError(f"{name} is not a readable .xlsx workbook (its sheet is missing)")
    return part, shared


def _check_sheet(data: Path, name: str, sheet: Any, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(data) as zf:
            part, shared_part = _parts(zf, sheet, name)
            shared = _shared_lengths(zf, shared_part, limits.max_uncompressed_bytes, name)
            m = _measure_sheet(zf, part, shared, limits, name)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, EOFError, OSError) as exc:
        msg = " ".join(str(exc).split())[:200]
        raise ReadError(
            f"{name} is not a readable .xlsx workbook (truncated or corrupt): {msg}"
        ) from exc
    if m.cols > limits.max_columns:
        raise ReadError(
            f"{name}: the sheet has {m.cols:,} columns, more than the {limits.max_columns:,} "
            "a feed may have; delete the empty columns at its right or save the data alone"
        )
    if m.rows * m.cols > limits.max_sheet_cells:
        raise ReadError(
            f"{name}: the sheet spans {m.rows:,} rows by {m.cols:,} columns "
            f"({m.rows * m.cols:,} cells), more than the {limits.max_sheet_cells:,} cells read "
            "from one workbook; delete what lies beyond the data, or save it as CSV"
        )
    if m.text > limits.max_sheet_bytes:
        raise ReadError(
            f"{name}: the sheet unpacks to more than {limits.max_sheet_bytes / (1 << 20):,.0f} "
            "MB (its cells' texts counted where they are used), the limit read from one "
            "workbook; save it as CSV"
        )


def read_excel(
    data: Path, name: str, sheet: Any, limits: ReadLimits
) -> tuple[pl.DataFrame, list[str]]:
    """(the rows below the header as c0..cN strings with __row, the header) of one sheet."""
    if not zipfile.is_zipfile(data):
        raise ReadError(f"{name} is not a readable .xlsx workbook (truncated or corrupt)")
    _check_sheet(data, name, sheet, limits)
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
            raise ReadError(f'{name} has no sheet "{sheet}" (option sheet)') from exc
        raise ReadError(
            f"{name} is not a readable .xlsx workbook (truncated or corrupt): {msg}"
        ) from exc
    if raw.height == 0:
        raise ReadError(f"{name}: the sheet is empty")
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
