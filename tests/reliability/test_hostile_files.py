"""Hostile feed files (issue 18, items 5 to 8): a mixed-charset file, gzip, .xlsx and JSON bombs,
a CSV of 100,000 columns, and kill -9 with a decompressed or re-encoded copy open. Each is
read right or refused in one line, in bounded memory, disk and time, and leaves nothing in the
temp folder. The files are made here, seeded and small; memory is the peak RSS of a child
process that reads the file (VmHWM in /proc), disk is bounded by a file-size limit
(RLIMIT_FSIZE) on it."""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "ingest"))
from reliability_helpers import pwatch, run_pwatch
from tests_ingest_helpers import SHIPMENT_HEADER, shipment

from ingest import ReadError, load_file
from registry.models import Shipment

pytestmark = pytest.mark.reliability

MB = 1 << 20
SEED = 18


# --- item 5: the charset is decided per file, never a silent re-read that corrupts --------


def _csv_bytes(names: list[str], encode: Callable[[int, str], bytes]) -> bytes:
    """A shipment feed whose exporters are `names`; row i's line encoded by encode(i, line)."""
    lines = [",".join(SHIPMENT_HEADER)]
    for i, name in enumerate(names, 1):
        row = shipment(i, exporter=name)
        lines.append(",".join(f'"{row[h]}"' for h in SHIPMENT_HEADER))
    return b"".join(encode(i, line + "\n") for i, line in enumerate(lines))


_FRENCH = [f"Société Générale de Chimie {i}" for i in range(40)]
_ONE_CP1252 = 17  # the line (0 = header) written in Windows-1252 in a UTF-8 file
_MIXED_NAMES = [*_FRENCH[:16], "Müller Chemie GmbH", *_FRENCH[17:]]

CHARSET_CASES = [
    # (case, names, how each line is encoded, warning expected (None: no warning))
    ("utf-8", _FRENCH, lambda i, s: s.encode("utf-8"), None),
    (
        "utf-8 with one cp1252 line",
        _MIXED_NAMES,
        lambda i, s: s.encode("cp1252" if i == _ONE_CP1252 else "utf-8"),
        f"1 line not valid UTF-8 (file line {_ONE_CP1252 + 1})",
    ),
    ("cp1252", _FRENCH, lambda i, s: s.encode("cp1252"), "read as Windows-1252"),
    (
        "utf-16 with its BOM (Excel's Unicode text)",
        _MIXED_NAMES,
        lambda i, s: s.encode("utf-16" if i == 0 else "utf-16-le"),
        None,
    ),
    (
        "latin-1",
        ["Química Alfa S.A.", "Müller Chemie GmbH", "Peña Hermanos", "Ørsted Kemi A/S"],
        lambda i, s: s.encode("latin-1"),
        "read as Windows-1252",  # the same letters: Latin-1 differs only in C1 controls
    ),
    (
        "cp1251",
        ["ООО Химпром", "АО Синтез Казань", "ПАО Фармстандарт"],
        lambda i, s: s.encode("cp1251"),
        "read as Windows-1251",
    ),
]


@pytest.mark.parametrize(
    ("case", "names", "encode", "warning"), CHARSET_CASES, ids=[c[0] for c in CHARSET_CASES]
)
def test_charset_is_decided_per_file_and_warned(
    case: str,
    names: list[str],
    encode: Callable[[int, str], bytes],
    warning: str | None,
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(_csv_bytes(names, encode))
    report = load_file(engine, path, "shipments")
    assert report.rows_loaded == len(names)
    with engine.connect() as conn:
        stored = conn.execute(select(Shipment.exporter).order_by(Shipment.row_number)).scalars()
        assert list(stored) == names  # every accent as written, on every line
    if warning is None:
        assert report.warnings == []
    else:
        assert len(report.warnings) == 1 and warning in report.warnings[0], report.warnings
        assert "confidence" in report.warnings[0] and "\n" not in report.warnings[0]


def test_the_cli_prints_the_charset_warning(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        _csv_bytes(_MIXED_NAMES, lambda i, s: s.encode("cp1252" if i == _ONE_CP1252 else "utf-8"))
    )
    url = f"sqlite:///{tmp_path / 'pwatch.db'}"
    assert run_pwatch(url, "init").returncode == 0
    done = run_pwatch(url, "ingest", "shipments", str(path))
    assert done.returncode == 0, done.stderr
    assert "warning: mixed.csv mixes charsets: 1 line not valid UTF-8" in done.stderr


# --- children that read a file under limits and report their peak memory -------------------

_CHILD = """
import json, resource, sys
path, fsize = sys.argv[1], int(sys.argv[2])
if fsize:
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
from ingest.readers import ReadError, open_source
try:
    with open_source(path) as src:
        out = {"rows": sum(b.height for b in src.batches()), "columns": len(src.columns)}
except ReadError as exc:
    out = {"refused": str(exc)}
# VmHWM is this process's own peak: ru_maxrss would carry the parent's over fork and exec.
status = open("/proc/self/status").read()
out["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def _read_in_child(
    path: Path, *, fsize: int = 0, env: dict[str, str] | None = None
) -> dict[str, object]:
    """Read `path` in a child process (file writes capped at `fsize` bytes when set): its
    outcome and peak resident memory in MB."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(fsize)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, object] = json.loads(done.stdout)
    out["seconds"] = time.monotonic() - started
    return out


# --- item 6: a gzip bomb is refused as it passes the cap; no copy outlives the read ---------


def _gzip_bomb(path: Path, megabytes: int) -> Path:
    """A gzip of `megabytes` MB of one CSV line repeated (about 1/300 of that compressed)."""
    line = (",".join(str(v) for v in shipment(1).values()) + "\n").encode()
    block = line * (MB // len(line))
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write((",".join(SHIPMENT_HEADER) + "\n").encode())
        for _ in range(megabytes):
            fh.write(block)
    return path


def test_a_gzip_bomb_is_refused_once_past_the_cap(tmp_path: Path) -> None:
    """256 MB inside, a cap of 8 MB, and the child may write at most 32 MB to any file: it is
    refused in one line and writes no more than the cap (before: the whole 256 MB copy)."""
    bomb = _gzip_bomb(tmp_path / "bomb.csv.gz", 256)
    assert bomb.stat().st_size < 2 * MB
    out = _read_in_child(bomb, fsize=32 * MB, env={"PWATCH_MAX_UNCOMPRESSED_MB": "8"})
    assert "decompresses to more than 8 MB" in str(out.get("refused")), out
    assert "PWATCH_MAX_UNCOMPRESSED_MB" in str(out["refused"])


def test_a_gzip_under_the_cap_loads(tmp_path: Path) -> None:
    out = _read_in_child(
        _gzip_bomb(tmp_path / "ok.csv.gz", 4), env={"PWATCH_MAX_UNCOMPRESSED_MB": "8"}
    )
    assert out.get("rows", 0) > 30_000 and "refused" not in out, out


def test_a_bad_cap_setting_is_one_line(tmp_path: Path) -> None:
    feed = _gzip_bomb(tmp_path / "f.csv.gz", 1)
    url = f"sqlite:///{tmp_path / 'pwatch.db'}"
    assert run_pwatch(url, "init").returncode == 0
    env = {**os.environ, "PWATCH_MAX_UNCOMPRESSED_MB": "lots"}
    done = subprocess.run(
        [*pwatch(), "--db", url, "ingest", "shipments", str(feed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "PWATCH_MAX_UNCOMPRESSED_MB must be a positive number of megabytes" in done.stderr
    assert "Traceback" not in done.stderr


def _feed(tmp: Path, kind: str) -> Path:
    """A seeded shipment feed that needs a working copy to be read: gzip or Windows-1252."""
    rng = random.Random(SEED)
    rows = [
        shipment(i, exporter=rng.choice(["Química Alfa S.A.", "Société Chimique", "Hebei Chem"]))
        for i in range(1, 3001)
    ]
    text = "\n".join(
        [",".join(SHIPMENT_HEADER), *(",".join(f'"{r[h]}"' for h in SHIPMENT_HEADER) for r in rows)]
    )
    if kind == "csv.gz":
        path = tmp / "feed.csv.gz"
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path = tmp / "feed.csv"
        path.write_bytes(text.encode("cp1252"))
    return path


def _temp_files_of(pid: int, tmpdir: Path) -> list[str]:
    """The working copies process `pid` holds open inside tmpdir: a nameless spool shows as
    '#123 (deleted)', a named one starts with 'pwatch-'. Not Python's own probe of a new
    temporary folder (an 8-letter file it writes and removes at once, before any copy): a kill
    at that instant leaves it behind, and it is not a working copy."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(tmpdir)) and (
            target.endswith("(deleted)") or Path(target).name.startswith("pwatch-")
        ):
            found.append(target)
    return found


@pytest.mark.parametrize("kind", ["csv.gz", "cp1252"])
@pytest.mark.parametrize("how", ["kill -9", "success", "refused", "corrupt"])
def test_no_working_copy_survives(kind: str, how: str, tmp_path: Path) -> None:
    """The decompressed or re-encoded copy is gone after a load that succeeds, is refused,
    fails on a corrupt file, or is killed with SIGKILL while the copy is open."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    feed = _feed(tmp_path, kind)
    if how == "corrupt" and kind == "csv.gz":
        feed.write_bytes(feed.read_bytes()[:-40])
    elif how == "corrupt":  # the profile names a charset the file is not in
        (tmp_path / "p.toml").write_text('[options]\nencoding = "utf-16"\n')
    url = f"sqlite:///{tmp_path / 'pwatch.db'}"
    assert run_pwatch(url, "init").returncode == 0
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    if how == "refused":
        env["PWATCH_MAX_UNCOMPRESSED_MB"] = "0.05"
    args = [*pwatch(), "--db", url, "ingest", "shipments", str(feed)]
    if how == "corrupt" and kind == "cp1252":
        args += ["--profile", str(tmp_path / "p.toml")]
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if how == "kill -9":
        deadline = time.monotonic() + 60
        while not _temp_files_of(child.pid, tmpdir):
            assert child.poll() is None, "the load ended before its working copy was seen"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=120)
    expected = {"kill -9": -signal.SIGKILL, "success": 0}.get(how, 1)
    assert child.returncode == expected, err.decode()
    if how in ("refused", "corrupt"):
        assert "Traceback" not in err.decode() and err.decode().count("\n") == 1, err
    assert sorted(os.listdir(tmpdir)) == []


# --- item 7: Excel and JSON are read in bounded memory or refused before it blows up -------

_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
    b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx(path: Path, rows: bytes, shared: list[str] | None = None) -> Path:
    """A minimal workbook of one sheet written part by part (as a hostile file would be)."""
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
        + (
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            if shared
            else ""
        )
        + "</Types>"
    )
    rels = (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    wb_rels = (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared
            else ""
        )
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        zf.writestr("xl/worksheets/sheet1.xml", _SHEET_HEAD + rows + _SHEET_TAIL)
        if shared:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}">{items}</sst>')
    return path


def _inline_row(r: int, cells: list[tuple[str, str]]) -> bytes:
    return (
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in cells)
        + "</row>"
    ).encode()


def _header_and_rows(n: int) -> bytes:
    cols = "ABCDEFGHIJK"
    body = [_inline_row(1, list(zip(cols, SHIPMENT_HEADER, strict=True)))]
    for i in range(2, n + 2):
        row = shipment(i)
        body.append(
            _inline_row(i, [(c, str(row[h])) for c, h in zip(cols, SHIPMENT_HEADER, strict=True)])
        )
    return b"".join(body)


def _far_cell(tmp: Path) -> Path:
    """Three rows of data and one cell at ALL30000: a rectangle of 1,000 x 30,000 cells
    (before: about 1 GB of memory for a 2 kB file)."""
    return _xlsx(tmp / "far.xlsx", _header_and_rows(2) + _inline_row(30000, [("ALL", "x")]))


def _far_column(tmp: Path) -> Path:
    return _xlsx(tmp / "wide.xlsx", _header_and_rows(2) + _inline_row(5, [("XFD", "x")]))


def _shared_text_bomb(tmp: Path) -> Path:
    """40,000 cells pointing to one 32,000-character shared text: 1.3 GB of text from a
    160 kB file (before: 2.6 GB of memory)."""
    rows = b"".join(
        f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c><c r="B{i}" t="s"><v>1</v></c></row>'.encode()
        for i in range(1, 20_001)
    )
    return _xlsx(tmp / "shared.xlsx", rows, shared=["A" * 32_000, "B" * 32_000])


def _json_records(tmp: Path) -> Path:
    """500,000 records in a small .json.gz (before: read whole, about 1.1 GB of memory; now
    one batch at a time, about 150 MB of it anonymous memory, the rest pages of the spool
    that polars maps)."""
    record = json.dumps({**shipment(1), "quantity": 25}).encode()
    path = tmp / "records.json.gz"
    path.write_bytes(gzip.compress(b"[" + b",".join([record] * 500_000) + b"]"))
    return path


def _json_huge_record(tmp: Path) -> Path:
    path = tmp / "huge.json.gz"
    record = json.dumps({**shipment(1), "product": "x" * (80 * MB)}).encode()
    path.write_bytes(gzip.compress(b"[" + record + b"]"))
    return path


BOMBS: list[tuple[str, Callable[[Path], Path], str | None, int]] = [
    # (case, make, refusal expected (None: read), peak RSS bound in MB)
    ("xlsx far cell", _far_cell, "30,000 rows by 1,000 columns (30,000,000 cells)", 400),
    ("xlsx far column", _far_column, "the sheet has 16,384 columns, more than the 2,000", 400),
    ("xlsx shared-text bomb", _shared_text_bomb, "the sheet unpacks to more than 1,024 MB", 400),
    ("json records", _json_records, None, 550),
    ("json huge record", _json_huge_record, "has a record of more than 64 MB", 600),
]


@pytest.mark.parametrize(("case", "make", "refusal", "peak_mb"), BOMBS, ids=[b[0] for b in BOMBS])
def test_bombs_are_read_in_bounded_memory_or_refused(
    case: str,
    make: Callable[[Path], Path],
    refusal: str | None,
    peak_mb: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path)
    assert path.stat().st_size < MB, "a bomb is a small file"
    out = _read_in_child(path)
    with capsys.disabled():
        print(
            f"\n{case}: {path.stat().st_size:,} bytes, peak RSS {float(out['peak_mb']):.0f} MB, "  # type: ignore[arg-type]
            f"{float(out['seconds']):.1f} s, {'refused' if 'refused' in out else 'read'}"  # type: ignore[arg-type]
        )
    if refusal is None:
        assert "refused" not in out and int(out["rows"]) > 0, out  # type: ignore[call-overload]
    else:
        assert refusal in str(out.get("refused")), out
    assert float(out["peak_mb"]) < peak_mb, out  # type: ignore[arg-type]


def test_a_sheet_within_the_limits_still_loads(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "ok.xlsx", _header_and_rows(50))
    report = load_file(sqlite_engine, path, "shipments")
    assert (report.rows_loaded, report.rows_quarantined) == (50, 0)


# --- item 8: wide files in linear time, refused above the column limit ---------------------


def _wide_csv(path: Path, columns: int) -> Path:
    header = SHIPMENT_HEADER + [f"extra {i}" for i in range(columns - len(SHIPMENT_HEADER))]
    rows = [
        [str(shipment(i)[h]) for h in SHIPMENT_HEADER] + ["x"] * (columns - len(SHIPMENT_HEADER))
        for i in range(1, 4)
    ]
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return path


def test_two_thousand_columns_load_in_seconds(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: 27 s (the blank-row filter in the lazy plan grew worse than quadratically)."""
    path = _wide_csv(tmp_path / "wide.csv", 2000)
    started = time.monotonic()
    report = load_file(sqlite_engine, path, "shipments")
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\n2,000 columns: loaded in {seconds:.2f} s")
    assert seconds < 10
    assert (report.rows_loaded, len(report.unused_columns)) == (3, 1989)


def test_a_hundred_thousand_columns_are_refused_at_once(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = _wide_csv(tmp_path / "matrix.csv", 100_000)
    started = time.monotonic()
    with pytest.raises(ReadError) as err:
        load_file(sqlite_engine, path, "shipments")
    assert time.monotonic() - started < 10
    assert "more than the 2,000 columns a feed may have" in str(err.value)
    assert "\n" not in str(err.value)


def test_blank_lines_of_a_wide_file_are_still_dropped(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = _wide_csv(tmp_path / "wide.csv", 500)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], "", "," * 499, lines[2], lines[3]]) + "\n")
    report = load_file(sqlite_engine, path, "shipments")
    assert (report.rows_total, report.rows_loaded) == (3, 3)
    with sqlite_engine.connect() as conn:
        numbers = conn.execute(select(Shipment.row_number).order_by(Shipment.row_number)).scalars()
        assert list(numbers) == [1, 4, 5]  # the source's numbering, blank lines counted
