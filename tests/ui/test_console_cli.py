"""`pwatch console`: the Streamlit command line and one-line errors on a bad database."""

from __future__ import annotations

from typer.testing import CliRunner

from ui.cli import app
from ui.cli.console_cmd import APP, streamlit_command


def test_streamlit_command_is_headless_without_usage_stats() -> None:
    cmd = streamlit_command(8765, "127.0.0.1")
    assert str(APP) in cmd and APP.name == "app.py"
    joined = " ".join(cmd)
    assert "--server.port 8765" in joined
    assert "--server.headless true" in joined
    assert "--browser.gatherUsageStats false" in joined
    assert "--server.address 127.0.0.1" in joined


def test_console_refuses_an_uninitialised_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(app, ["--db", url, "console", "--port", "8599"])
    assert result.exit_code != 0
    assert "pwatch init" in result.output


def test_console_rejects_a_bad_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "console", "--port", "0"]
    )
    assert result.exit_code != 0
    assert "--port" in result.output
