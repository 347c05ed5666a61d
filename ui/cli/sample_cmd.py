"""`pwatch sample`: write a seeded sample registry, feed and answer key."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.cli.common import fail, user_errors

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("sample")
    def sample(
        out: Path = typer.Option(..., "--out", help="Folder to write into."),
        seed: int = typer.Option(7, "--seed", help="Random seed."),
        shipments: int = typer.Option(10_000, "--shipments", help="Number of shipment records."),
    ) -> None:
        """Write a seeded sample registry, shipment feed and answer key."""
        if shipments < 200:
            fail("--shipments must be at least 200.")
        if out.exists() and not out.is_dir():
            fail(f"{out} exists and is not a folder.")
        with user_errors():
            from sample_data.generate import generate, write_sample

            s = generate(seed, shipments)
            paths = write_sample(s, out)
            typer.echo(
                f"wrote {s.facilities.height} declaration rows, {s.shipments.height} shipment "
                f"records and {s.answer_key.height} labelled anomalies (seed {seed}) to "
                + ", ".join(str(p) for p in paths),
                err=True,
            )
