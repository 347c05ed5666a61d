"""`pwatch init`, `pwatch demo` and user management."""

from __future__ import annotations

import typer

from ui.cli.common import not_landed

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init() -> None:
        """Create or migrate the database and load the watchlist."""
        not_landed("init")
