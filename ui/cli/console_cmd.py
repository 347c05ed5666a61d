"""`pwatch console`: serve the inspector console (Streamlit) on the configured database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ui.cli.common import fail, state, user_errors

__all__ = ["APP", "register", "serve", "streamlit_command"]

APP = Path(__file__).resolve().parent.parent / "app.py"


def streamlit_command(port: int, address: str | None = None) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, no file watching."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]
    if address:
        cmd += ["--server.address", address]
    return cmd


def serve(url: str, port: int, address: str | None = None) -> None:
    """Check the registry opens, then become the Streamlit server (exec: one process to stop)."""
    from registry.db import open_registry

    open_registry(url)  # a clear one-line error now beats a broken page later
    env = dict(os.environ, PWATCH_DATABASE_URL=url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    cmd = streamlit_command(port, address)
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child process: stopping `pwatch console` (Ctrl-C, SIGTERM) stops the server.
    os.execve(cmd[0], cmd, env)


def register(app: typer.Typer) -> None:
    @app.command("console")
    def console(
        port: int = typer.Option(8501, "--port", help="Port to serve on."),
        address: str | None = typer.Option(
            None, "--address", help="Interface to listen on (default: Streamlit's, all)."
        ),
    ) -> None:
        """Serve the inspector console (Streamlit) on the database given by --db."""
        with user_errors():
            from registry.settings import get_settings

            if not 1 <= port <= 65535:
                fail(f"--port must be 1-65535, got {port}")
            serve(get_settings(state.db).database_url, port, address)
