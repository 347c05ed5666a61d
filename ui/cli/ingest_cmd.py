"""`pwatch ingest facilities|shipments` and `pwatch quarantine`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ui.cli.common import OutputFormat, emit_frame, state, user_errors

__all__ = ["register"]


def _run(
    kind: str, path: Path, profile: Path | None, source: str | None, check: bool = False
) -> None:
    with user_errors():
        from ingest import check_file, load_file

        if check:
            with _progress_bar() as progress:
                report = check_file(path, kind, profile=profile, source=source, progress=progress)
        else:
            from registry.db import open_registry

            engine = open_registry(state.db)
            if state.actor is not None:  # an account loads only if its role may
                from registry.service import require_role

                require_role(state.actor, "ingest")
            with _progress_bar() as progress:
                report = load_file(
                    engine,
                    path,
                    kind,
                    profile=profile,
                    source=source,
                    progress=progress,
                    loaded_by=state.actor.username if state.actor else None,
                )
        typer.echo(report.summary(), err=True)
        for warning in report.warnings:
            typer.echo(f"  warning: {warning}", err=True)
        if report.status in ("loaded", "checked"):
            if report.mapped_by_synonym:
                shown = ", ".join(f"{c!r} as {f}" for c, f in report.mapped_by_synonym.items())
                typer.echo(f"  columns read by their usual names: {shown}", err=True)
            if report.unused_columns:
                shown = ", ".join(repr(c) for c in report.unused_columns[:10])
                more = len(report.unused_columns) - 10
                typer.echo(
                    f"  columns not loaded (no canonical field): {shown}"
                    + (f" and {more} more" if more > 0 else ""),
                    err=True,
                )
            if report.kind == "shipments" and report.linked:
                typer.echo(f"  {report.linked} party links to declared facilities", err=True)
            if report.kind == "facilities":
                typer.echo(
                    f"  {report.rows_updated} declarations updated; "
                    f"{report.linked} shipment parties relinked",
                    err=True,
                )
            if report.ambiguous:
                typer.echo(
                    f"  {report.ambiguous} ambiguous parties left unlinked (see ambiguous_links)",
                    err=True,
                )
            for line in report.details():
                typer.echo(f"  {line}", err=True)
            for row, why in report.examples:
                typer.echo(f"  row {row}: {'; '.join(why)}", err=True)
            if report.rows_quarantined and report.status == "loaded":
                typer.echo(
                    f"  list them with: pwatch quarantine --batch {report.batch_id}", err=True
                )


def _classified(engine: Any, frame: Any) -> Any:
    """The quarantine of the batches the acting account may see (every batch for the local
    operator), each row with its batch's classification."""
    import polars as pl
    from sqlalchemy import select

    from registry.access import batch_scope
    from registry.db import session_scope
    from registry.models import IngestBatch

    with session_scope(engine) as session:
        seen = dict(
            session.execute(
                select(IngestBatch.id, IngestBatch.classification).where(batch_scope(state.actor))
            ).all()
        )
    return frame.filter(pl.col("batch_id").is_in(list(seen))).with_columns(
        pl.col("batch_id")
        .replace_strict(seen, default=None, return_dtype=pl.String)
        .alias("classification")
    )


class _progress_bar:
    """A rich progress bar on standard error, only when it is a terminal."""

    def __enter__(self) -> Any:
        self._progress: Any = None
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("loading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task("rows", total=None)

        def update(done: int, total: int | None) -> None:
            self._progress.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def register(app: typer.Typer) -> None:
    ingest = typer.Typer(
        help="Load a declared-facility registry or a shipment feed.", no_args_is_help=True
    )
    path_arg = typer.Argument(..., help="CSV/TSV, Parquet, Excel, JSON or NDJSON file (.gz too).")
    profile_opt = typer.Option(
        None,
        "--profile",
        help="Mapping profile (TOML) for columns not named as the canonical fields; see "
        "ingest/profiles/example_*.toml.",
    )
    check_opt = typer.Option(
        False,
        "--check",
        help="Read, map and validate the whole file and report what would load and what would "
        "be quarantined, writing nothing (no database needed).",
    )

    @ingest.command(
        "facilities",
        help="Load a declared-facility registry (one row per facility and declared "
        "substance).\n\nCanonical columns: facility_id, name, country, activity, substance, "
        "cas, declared_annual_kg; optional address, declaration_year, lat, lon. A load is one "
        "transaction; loading the same file again changes nothing; bad rows are quarantined "
        "with every reason (pwatch quarantine).",
    )
    def facilities(
        path: Path = path_arg, profile: Path | None = profile_opt, check: bool = check_opt
    ) -> None:
        _run("facilities", path, profile, None, check)

    @ingest.command(
        "shipments",
        help="Load a shipment feed.\n\nCanonical columns: shipment_id, date, exporter, "
        "exporter_country, importer, importer_country, product, quantity, unit; optional cas, "
        "hs_code, flow, consignment_ref, transit_countries, value and currency (the declared "
        "customs value; converted to US dollars at the ECB rate of the record's date), "
        "exporter_address, importer_address. A load is one transaction; loading "
        "the same file again changes nothing, and a later file repeating some "
        "(source, shipment_id) adds only the new ones; bad rows are quarantined with every "
        "reason (pwatch quarantine).",
    )
    def shipments(
        path: Path = path_arg,
        profile: Path | None = profile_opt,
        source: str | None = typer.Option(
            None,
            "--source",
            help="Reporting source; a shipment is identified by (source, shipment_id). "
            "Default: the profile's options.source, else a source column, else the file name.",
        ),
        check: bool = check_opt,
    ) -> None:
        _run("shipments", path, profile, source, check)

    app.add_typer(ingest, name="ingest")

    @app.command("quarantine")
    def quarantine(
        batch: int | None = typer.Option(None, "--batch", help="Only this ingest batch."),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table, csv or json"),
    ) -> None:
        """List quarantined source rows with every reason (CSV is formula-safe)."""
        with user_errors():
            from ingest import quarantine_frame
            from registry.db import open_registry

            engine = open_registry(state.db)
            frame = quarantine_frame(engine, batch)
            frame = _classified(engine, frame)
            if frame.height == 0:
                typer.echo(
                    "no quarantined rows" + (f" in batch {batch}" if batch else ""), err=True
                )
                if fmt is OutputFormat.table:
                    return
            emit_frame(frame, fmt, title="Quarantined rows")
