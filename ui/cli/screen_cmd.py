"""`pwatch screen`: screen product names against the watchlist (needs no database)."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.cli.common import OutputFormat, emit_frame, user_errors

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("screen")
    def screen(
        names: list[str] | None = typer.Argument(None, help="Product names to screen."),
        input_file: Path | None = typer.Option(
            None, "--input", help="Text file, one name per line; or CSV/Parquet with --column."
        ),
        column: str | None = typer.Option(None, "--column", help="Column of --input to screen."),
        fmt: OutputFormat = typer.Option(
            OutputFormat.table, "--format", help="table, csv or json."
        ),
    ) -> None:
        """Screen product names: controlled, analogue or clear, with the reason."""
        from detection.screening import screen_names

        with user_errors():
            values = list(names or [])
            if input_file is not None:
                values += input_file.read_text(encoding="utf-8").splitlines()
            emit_frame(screen_names(values), fmt)
