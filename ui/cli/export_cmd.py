"""`pwatch export shipments`: the registry's shipment records as detection reads them."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.cli.common import fail, neutralise_formula, state, user_errors

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    export = typer.Typer(
        help="Export what the registry holds, for engines and tools that read files.",
        no_args_is_help=True,
    )
    app.add_typer(export, name="export")

    @export.command("shipments")
    def shipments(
        out: Path = typer.Option(..., "--out", help="File to write (replaced if it exists)."),
        fmt: str = typer.Option(
            "parquet",
            "--format",
            help="parquet (exact: what `pwatch detect --shipments` reads) or csv (for people: "
            "text that a spreadsheet would run as a formula is prefixed with a quote).",
        ),
    ) -> None:
        """Every stored shipment record with the columns and types detection reads (`id` is
        the registry key alerts link to)."""
        with user_errors():
            from registry.db import open_registry
            from registry.export import EXPORT_FORMATS, export_shipments

            if fmt not in EXPORT_FORMATS:
                fail(f"unknown format {fmt!r}: use parquet or csv.")
            engine = open_registry(state.db)
            if state.actor is not None:  # the raw feed: the roles that load it
                from registry.service import require_role

                require_role(state.actor, "ingest")
            n, hidden = export_shipments(
                engine,
                out,
                fmt,
                csv_cell=neutralise_formula if fmt == "csv" else None,
                user=state.actor,
            )
            typer.echo(f"exported {n:,} shipment records to {out} ({fmt})", err=True)
            if hidden and state.actor is not None:
                typer.echo(
                    f"{hidden:,} records of batches classified above what {state.actor.username} "
                    "may see were left out (a detection run on this file would not see them)",
                    err=True,
                )
