"""`pwatch sample`: write a seeded sample registry, feed and answer key."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.cli.common import not_landed

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("sample")
    def sample(
        out: Path = typer.Option(..., "--out", help="Folder to write into."),
        seed: int = typer.Option(7, "--seed", help="Random seed."),
        shipments: int = typer.Option(10_000, "--shipments", help="Number of shipment records."),
    ) -> None:
        """Write a seeded sample registry, shipment feed and answer key."""
        not_landed("The sample generator")
