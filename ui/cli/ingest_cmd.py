"""`pwatch ingest facilities|shipments` and `pwatch quarantine`."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.cli.common import not_landed

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    ingest = typer.Typer(
        help="Load a declared-facility registry or a shipment feed.", no_args_is_help=True
    )

    @ingest.command("facilities")
    def facilities(
        path: Path = typer.Argument(..., help="CSV/TSV, Parquet, Excel, JSON or NDJSON file."),
        profile: Path | None = typer.Option(None, "--profile", help="Mapping profile (TOML)."),
    ) -> None:
        """Load a declared-facility registry."""
        not_landed("Ingest")

    @ingest.command("shipments")
    def shipments(
        path: Path = typer.Argument(..., help="CSV/TSV, Parquet, Excel, JSON or NDJSON file."),
        profile: Path | None = typer.Option(None, "--profile", help="Mapping profile (TOML)."),
    ) -> None:
        """Load a shipment feed."""
        not_landed("Ingest")

    app.add_typer(ingest, name="ingest")
