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
        style: str = typer.Option(
            "canonical",
            "--style",
            help="Shape of the feed: canonical, eu, eu-de, eu-fr or latam (a mapping profile "
            "shipments.toml is written beside the non-canonical ones).",
        ),
        no_anomalies: bool = typer.Option(
            False, "--no-anomalies", help="Plant nothing: only the noisy legitimate background."
        ),
        clean: bool = typer.Option(
            False, "--clean", help="Turn every kind of background noise off."
        ),
        noise_log: bool = typer.Option(
            False, "--noise-log", help="Also write noise.csv: which records carry which noise."
        ),
    ) -> None:
        """Write a seeded sample registry, shipment feed and answer key."""
        if shipments < 200:
            fail("--shipments must be at least 200.")
        if out.exists() and not out.is_dir():
            fail(f"{out} exists and is not a folder.")
        with user_errors():
            from sample_data.generate import STYLES, NoiseConfig, generate, write_sample

            if style not in STYLES:
                fail(f"unknown --style {style!r}; use one of {', '.join(STYLES)}.")
            s = generate(
                seed,
                shipments,
                noise=NoiseConfig.none() if clean else None,
                plant=() if no_anomalies else None,
            )
            paths = write_sample(s, out, style=style, noise_log=noise_log)
            typer.echo(
                f"wrote {s.facilities.height} declaration rows, {s.shipments.height} shipment "
                f"records and {s.answer_key.height} planted cases (seed {seed}) to "
                + ", ".join(str(p) for p in paths),
                err=True,
            )
