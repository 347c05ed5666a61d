"""`pwatch screen` through typer's CliRunner: arguments, input files, formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["screen", *args])
    return res.exit_code, res.stdout, res.stderr


def test_names_as_arguments_json() -> None:
    code, out, _ = run("ANPP", "acetone", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["verdict"] for r in rows] == ["controlled", "clear"]
    assert list(rows[0])[:7] == [
        "name",
        "verdict",
        "substance_cas",
        "substance_name",
        "score",
        "method",
        "explanation",
    ]


def test_text_file_one_name_per_line(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("4-ANPP 99%\n\nnorfentanyl\n", encoding="utf-8")
    code, out, _ = run("--input", str(f), "--format", "csv")
    assert code == 0
    frame = pl.read_csv(out.encode())
    assert frame["name"].to_list() == ["4-ANPP 99%", "norfentanyl"]
    assert set(frame["verdict"]) == {"controlled"}


def test_csv_column(tmp_path: Path) -> None:
    f = tmp_path / "feed.csv"
    pl.DataFrame({"id": [1, 2], "product": ["1-boc-4-AP", "sodium chloride"]}).write_csv(f)
    code, out, _ = run("--input", str(f), "--column", "product", "--format", "csv")
    assert code == 0
    assert pl.read_csv(out.encode())["verdict"].to_list() == ["controlled", "clear"]


def test_parquet_column(tmp_path: Path) -> None:
    f = tmp_path / "feed.parquet"
    pl.DataFrame({"desc": ["4-piperidone HCl", "toluene"]}).write_parquet(f)
    code, out, _ = run("--input", str(f), "--column", "desc", "--format", "json")
    assert code == 0
    assert [r["verdict"] for r in json.loads(out)] == ["controlled", "clear"]


def test_table_format() -> None:
    code, out, _ = run("ANPP")
    assert code == 0
    assert "controlled" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--input", "/no/such/file.txt"), "does not exist"),
        (("--column", "x"), "--column needs --input"),
        ((), "no names to screen"),
    ],
)
def test_errors_are_one_line(args: tuple[str, ...], fragment: str) -> None:
    code, out, err = run(*args)
    assert code != 0
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_missing_column_is_one_line_error(tmp_path: Path) -> None:
    f = tmp_path / "feed.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = run("--input", str(f), "--column", "product")
    assert code != 0
    assert "column 'product'" in err


def test_chinese_and_unreadable_names_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    damaged = "哌啶酮".encode().decode("gbk", errors="replace")  # UTF-8 read as GBK, bytes lost
    f.write_text(f"N-苯乙基-4-哌啶酮\n{damaged}\n丙酮\n", encoding="utf-8")
    code, out, err = run("--input", str(f), "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["verdict"], r["substance_cas"]) for r in rows] == [
        ("controlled", "39742-60-4"),
        ("unreadable", None),
        ("clear", None),
    ]
    assert "1 name(s) could not be read" in err
