"""The `pwatch` command line offers every command of the contract, each with its help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ui.cli import app

CONTRACT = ["init", "ingest", "detect", "alerts", "screen", "console", "sample", "demo"]


def test_help_lists_every_contract_command() -> None:
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0
    for command in [*CONTRACT, "quarantine", "user", "triage", "audit", "export"]:
        assert f" {command} " in res.output, command


@pytest.mark.parametrize(
    "args",
    [[c] for c in CONTRACT if c != "ingest"]
    + [["ingest", "facilities"], ["ingest", "shipments"], ["export", "shipments"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    res = CliRunner().invoke(app, [*args, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output


def test_console_script_is_installed_and_errors_are_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = subprocess.run(
        [sys.executable, "-m", "ui.cli", "--db", "mysql://x/y", "alerts"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode != 0
    assert res.stderr.strip().count("\n") == 0
    assert "unsupported database 'mysql'" in res.stderr
    assert "Traceback" not in res.stderr
