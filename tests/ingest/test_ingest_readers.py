"""Every supported format loads the same rows; every bad file is one plain line, loading nothing."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from tests_ingest_helpers import SHIPMENT_HEADER, shipment, write_csv

from ingest import ProfileError, ReadError, load_file
from registry.models import IngestBatch, QuarantinedRow, Shipment

ROWS = [
    shipment(1, exporter="Química Alfa S.A.", exporter_country="Mexico"),
    shipment(2, quantity="1.5", unit="t"),
    shipment(3, importer_country="Viet Nam"),
]


def _frame() -> pl.DataFrame:
    return pl.DataFrame([{h: r[h] for h in SHIPMENT_HEADER} for r in ROWS])


def _write(fmt: str, tmp: Path) -> Path:
    if fmt == "csv":
        return write_csv(tmp / "f.csv", ROWS, SHIPMENT_HEADER)
    if fmt == "tsv":
        return write_csv(tmp / "f.tsv", ROWS, SHIPMENT_HEADER, delimiter="\t")
    if fmt == "semicolon":
        return write_csv(tmp / "f.csv", ROWS, SHIPMENT_HEADER, delimiter=";")
    if fmt == "pipe.txt":
        return write_csv(tmp / "f.txt", ROWS, SHIPMENT_HEADER, delimiter="|")
    if fmt == "utf8-bom":
        return write_csv(tmp / "f.csv", ROWS, SHIPMENT_HEADER, encoding="utf-8-sig")
    if fmt == "latin-1":
        return write_csv(tmp / "f.csv", ROWS, SHIPMENT_HEADER, encoding="latin-1")
    if fmt == "csv.gz":
        raw = write_csv(tmp / "raw.csv", ROWS, SHIPMENT_HEADER).read_bytes()
        (tmp / "f.csv.gz").write_bytes(gzip.compress(raw))
        return tmp / "f.csv.gz"
    if fmt == "parquet":
        df = _frame().with_columns(pl.col("quantity").cast(pl.Float64))  # typed columns too
        df.write_parquet(tmp / "f.parquet")
        return tmp / "f.parquet"
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(SHIPMENT_HEADER)
        for r in ROWS:
            ws.append([float(r[h]) if h == "quantity" else r[h] for h in SHIPMENT_HEADER])
        wb.save(tmp / "f.xlsx")
        return tmp / "f.xlsx"
    if fmt == "json":
        (tmp / "f.json").write_text(
            json.dumps([{**r, "quantity": float(r["quantity"])} for r in ROWS])
        )
        return tmp / "f.json"
    if fmt == "json-wrapped":
        (tmp / "f.json").write_text(json.dumps({"shipments": ROWS}))
        return tmp / "f.json"
    if fmt == "ndjson":
        (tmp / "f.ndjson").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
        return tmp / "f.ndjson"
    raise AssertionError(fmt)


@pytest.mark.parametrize(
    "fmt",
    [
        "csv",
        "tsv",
        "semicolon",
        "pipe.txt",
        "utf8-bom",
        "latin-1",
        "csv.gz",
        "parquet",
        "xlsx",
        "json",
        "json-wrapped",
        "ndjson",
    ],
)
def test_every_format_loads_the_same_rows(fmt: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    path = _write(fmt, tmp_path)
    rep = load_file(sqlite_engine, path, "shipments")
    assert (rep.rows_total, rep.rows_loaded, rep.rows_quarantined) == (3, 3, 0), rep.top_reasons
    with sqlite_engine.connect() as conn:
        got = {r.shipment_id: r for r in conn.execute(select(Shipment))}
    assert got["S1"].exporter == "Química Alfa S.A." and got["S1"].exporter_country == "MEX"
    assert got["S2"].quantity_kg == 1500.0
    assert got["S3"].importer_country == "VNM"
    assert str(got["S1"].date) == "2024-01-05"
    assert got["S1"].source == "f"


def test_excel_sheet_option(sqlite_engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    first.append(["notes"])
    ws = wb.create_sheet("Shipments")
    ws.append(SHIPMENT_HEADER)
    ws.append([ROWS[0][h] for h in SHIPMENT_HEADER])
    wb.save(tmp_path / "w.xlsx")
    prof = tmp_path / "p.toml"
    prof.write_text('[options]\nsheet = "Shipments"\n')
    rep = load_file(sqlite_engine, tmp_path / "w.xlsx", "shipments", profile=prof)
    assert rep.rows_loaded == 1
    prof.write_text('[options]\nsheet = "Nope"\n')
    with pytest.raises(ReadError):
        load_file(sqlite_engine, tmp_path / "w.xlsx", "shipments", profile=prof)


@pytest.mark.parametrize("fmt", ["csv", "semicolon", "xlsx"])
def test_a_title_above_the_header_is_skipped(
    fmt: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Authorities' exports often start with a report title and a note: the header is the
    first line of several fields; row numbers still count from the first data row."""
    title = [
        "Export declarations of listed chemicals, Ministry of Trade (2025)",
        "",
        "as of 1 March",
    ]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        for t in title:
            ws.append([t] if t else [])
        ws.append(SHIPMENT_HEADER)
        for r in ROWS:
            ws.append([r[h] for h in SHIPMENT_HEADER])
        wb.save(tmp_path / "t.xlsx")
        path = tmp_path / "t.xlsx"
    else:
        sep = ";" if fmt == "semicolon" else ","
        body = write_csv(tmp_path / "b.csv", ROWS, SHIPMENT_HEADER, delimiter=sep).read_text()
        path = tmp_path / "t.csv"
        path.write_text("\n".join(f'"{t}"' if t else "" for t in title) + "\n" + body)
    rep = load_file(sqlite_engine, path, "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (3, 0)
    with sqlite_engine.connect() as conn:
        rows = dict(conn.execute(select(Shipment.shipment_id, Shipment.row_number)).all())
    assert rows == {"S1": 1, "S2": 2, "S3": 3}


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


def _nothing_loaded(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(IngestBatch)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(Shipment)).scalar_one() == 0


def _truncated_xlsx(tmp: Path) -> Path:
    p = _write("xlsx", tmp)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _truncated_gzip(tmp: Path) -> Path:
    p = _write("csv.gz", tmp)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 12])
    return p


BAD_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("empty", lambda t: (t / "e.csv", (t / "e.csv").write_bytes(b""))[0], "is empty"),
    (
        "header only",
        lambda t: (t / "h.csv", (t / "h.csv").write_text(",".join(SHIPMENT_HEADER) + "\n"))[0],
        "no data rows",
    ),
    (
        "binary garbage",
        lambda t: (t / "g.csv", (t / "g.csv").write_bytes(bytes(range(256)) * 40))[0],
        "binary",
    ),
    ("truncated gzip", _truncated_gzip, "truncated or corrupt gzip"),
    ("truncated xlsx", _truncated_xlsx, "truncated or corrupt"),
    (
        "duplicate column names",
        lambda t: write_csv(t / "d.csv", ROWS, [*SHIPMENT_HEADER, "exporter"]),
        'two columns named "exporter"',
    ),
    (
        "no usable columns",
        lambda t: (t / "n.csv", (t / "n.csv").write_text("a,b\n1,2\n"))[0],
        'missing column for "shipment_id"',
    ),
    (
        "invalid json",
        lambda t: (t / "j.json", (t / "j.json").write_text('[{"a": 1},'))[0],
        "not valid JSON",
    ),
    ("old xls", lambda t: (t / "x.xls", (t / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0"))[0], ".xls"),
]


@pytest.mark.parametrize(("case", "make", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_one_line_errors(
    case: str, make: Callable[[Path], Path], message: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = make(tmp_path)
    with pytest.raises((ReadError, ProfileError)) as err:
        load_file(sqlite_engine, path, "shipments")
    assert message in _one_line(err.value)
    _nothing_loaded(sqlite_engine)


def test_wrong_delimiter_in_profile(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ROWS, SHIPMENT_HEADER)
    prof = tmp_path / "p.toml"
    prof.write_text('[options]\ndelimiter = ";"\n')
    with pytest.raises(ReadError) as err:
        load_file(sqlite_engine, path, "shipments", profile=prof)
    assert 'set delimiter = ","' in _one_line(err.value)


def test_column_mapped_twice(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ROWS, SHIPMENT_HEADER)
    prof = tmp_path / "p.toml"
    prof.write_text('[columns]\nexporter = "exporter"\nimporter = "exporter"\n')
    with pytest.raises(ProfileError) as err:
        load_file(sqlite_engine, path, "shipments", profile=prof)
    assert "mapped twice" in _one_line(err.value)


def test_wrong_encoding_given(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ROWS, SHIPMENT_HEADER, encoding="latin-1")
    prof = tmp_path / "p.toml"
    prof.write_text('[options]\nencoding = "utf-8"\n')
    with pytest.raises(ReadError) as err:
        load_file(sqlite_engine, path, "shipments", profile=prof)
    assert "not valid UTF-8" in _one_line(err.value)


def test_ten_megabyte_field_quarantines_its_row_only(sqlite_engine: Engine, tmp_path: Path) -> None:
    huge = "x" * 10_000_000
    rows = [shipment(1), shipment(2, product=huge), shipment(3)]
    path = write_csv(tmp_path / "big.csv", rows, SHIPMENT_HEADER)
    rep = load_file(sqlite_engine, path, "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (2, 1)
    with sqlite_engine.connect() as conn:
        q = conn.execute(select(QuarantinedRow)).one()
    assert q.row_number == 2
    assert q.reasons == ["field 'product' is 10000000 characters long (limit 65536)"]
    assert len(q.raw["product"]) < 2000 and "truncated" in q.raw["product"]


def test_ragged_rows_are_quarantined(sqlite_engine: Engine, tmp_path: Path) -> None:
    head = ",".join(SHIPMENT_HEADER)
    good = ",".join(str(shipment(1, exporter="Hebei")[h]) for h in SHIPMENT_HEADER)
    long = (
        ",".join(str(shipment(2, exporter="Hebei")[h]) for h in SHIPMENT_HEADER) + ",surplus,more"
    )
    short = "S3,2024-01-05,Acme"
    (tmp_path / "r.csv").write_text("\n".join([head, good, long, "", short, ""]) + "\n")
    rep = load_file(sqlite_engine, tmp_path / "r.csv", "shipments")
    assert (rep.rows_total, rep.rows_loaded, rep.rows_quarantined) == (3, 1, 2)
    with sqlite_engine.connect() as conn:
        q = {r.row_number: r for r in conn.execute(select(QuarantinedRow))}
    assert q[2].reasons == ["row has more fields than the header (11 columns)"]
    assert q[2].raw["__extra_1"] == "surplus"
    # Row numbers are the source's: the blank line before the short row still counts.
    assert "missing exporter_country" in q[4].reasons


@pytest.mark.parametrize("fmt", ["json", "ndjson", "parquet"])
def test_nested_records_are_opened_up(fmt: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    """{"exporter": {"name": ..., "country": ...}}: read as exporter.name / exporter.country,
    which map like "Exporter Name" / "Exporter Country"; lists stay one field."""
    recs = [
        {
            "id": f"N{i}",
            "date": "2025-01-05",
            "exporter": {"name": "Hebei Chem Co Ltd", "country": "CN"},
            "importer": {"name": "Acme GmbH", "country": "DE"},
            "product": "NPP",
            "quantity": {"value": 25 + i, "unit": "kg"},
            "tags": ["a", "b"],
        }
        for i in range(3)
    ]
    path = tmp_path / f"n.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps({"shipments": recs}))
    elif fmt == "ndjson":
        path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    else:
        pl.DataFrame(recs).write_parquet(path)
    rep = load_file(sqlite_engine, path, "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (3, 0)
    assert rep.mapped_by_synonym["exporter.name"] == "exporter"
    assert rep.mapped_by_synonym["quantity.value"] == "quantity"
    assert rep.unused_columns == ["tags"]
    with sqlite_engine.connect() as conn:
        got = conn.execute(
            select(Shipment.exporter, Shipment.exporter_country, Shipment.quantity_kg).where(
                Shipment.shipment_id == "N2"
            )
        ).one()
    assert tuple(got) == ("Hebei Chem Co Ltd", "CHN", 27.0)


def test_preview_and_check_say_how_the_charset_was_guessed(tmp_path: Path) -> None:
    """The charset warning of a load is shown before it too: in the preview's problems and
    the check's report."""
    from ingest import check_file, preview

    path = write_csv(tmp_path / "c.csv", ROWS, SHIPMENT_HEADER, encoding="cp1252")
    _, _, problems = preview(path, "shipments")
    assert problems[0].startswith("c.csv is not UTF-8: read as Windows-1252")
    report = check_file(path, "shipments")
    assert report.rows_loaded == 3 and report.warnings == problems[:1]
