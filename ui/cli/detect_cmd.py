"""`pwatch detect` and `pwatch alerts`."""

from __future__ import annotations

import typer

from ui.cli.common import OutputFormat, not_landed

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect() -> None:
        """Run every detector on what is loaded; store new alerts, keep triage state of known ones."""
        not_landed("Detection")

    @app.command("alerts")
    def alerts(
        status: str | None = typer.Option(None, "--status", help="Only alerts in this status."),
        fmt: OutputFormat = typer.Option(
            OutputFormat.table, "--format", help="table, csv or json."
        ),
    ) -> None:
        """List or export alerts."""
        not_landed("Detection")
