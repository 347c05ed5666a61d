"""`pwatch console`: serve the inspector console."""

from __future__ import annotations

import typer

from ui.cli.common import not_landed

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("console")
    def console(port: int = typer.Option(8501, "--port", help="Port to serve on.")) -> None:
        """Serve the inspector console (Streamlit)."""
        not_landed("The inspector console")
