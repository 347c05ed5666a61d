"""`pwatch sample`: writes the sample in the asked shape, refuses bad options in one line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from ui.cli import app


def test_sample_writes_a_styled_feed_with_its_profile_and_noise_log(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["sample", "--out", str(out), "--seed", "3", "--shipments", "1000", "--style", "eu-de",
            "--no-anomalies", "--noise-log"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "answer_key.csv",
        "facilities.csv",
        "noise.csv",
        "shipments.csv",
        "shipments.toml",
    ]
    assert pl.read_csv(out / "answer_key.csv").height == 0
    header = pl.read_csv(out / "shipments.csv", separator=";", n_rows=0).columns
    assert "Versender" in header and "Zollwert" in header
    assert pl.read_csv(out / "noise.csv")["kind"].n_unique() >= 8


def test_clean_sample_has_no_noise_log_rows(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["sample", "--out", str(tmp_path), "--shipments", "600", "--clean", "--noise-log"]
    )
    assert res.exit_code == 0, res.output
    assert pl.read_csv(tmp_path / "noise.csv").height == 0
    assert pl.read_csv(tmp_path / "answer_key.csv").height > 0


def test_unknown_style_is_one_plain_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["sample", "--out", str(tmp_path), "--style", "martian"])
    assert res.exit_code != 0
    assert "unknown --style 'martian'" in res.output
    assert "Traceback" not in res.output
