"""`pwatch screen`: screen product names against the watchlist (needs no database).

Given a registry (`pwatch --db URL screen ...` or PWATCH_DATABASE_URL), the analogues a
supervisor promoted from early warning screen as controlled too, as they do in detection."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer

from ui.cli.common import OutputFormat, PwatchError, emit_frame, fail, state, user_errors

__all__ = ["read_names", "register"]

_TABULAR = {".csv", ".tsv", ".parquet", ".pq"}


def read_names(path: Path, column: str | None) -> list[str | None]:
    """Names from a text file (one per line, no header) or a CSV/TSV/Parquet column."""
    import polars as pl

    if not path.exists():
        raise PwatchError(f"input file {path} does not exist.")
    if not path.is_file():
        raise PwatchError(f"input {path} is not a file.")
    suffix = path.suffix.lower()
    if column is None:
        if suffix in {".parquet", ".pq"}:
            raise PwatchError(f"{path.name} is a Parquet file: name the column with --column.")
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig", errors="replace")
        return [line for line in text.splitlines() if line.strip()]
    if suffix in {".parquet", ".pq"}:
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:
            raise PwatchError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    else:
        sep = "\t" if suffix == ".tsv" else ","
        try:
            frame = pl.read_csv(path, separator=sep, infer_schema=False, encoding="utf8-lossy")
        except Exception as exc:
            raise PwatchError(f"{path.name} is not a readable CSV file ({exc}).") from exc
    if column not in frame.columns:
        have = ", ".join(frame.columns[:10])
        raise PwatchError(f"column '{column}' is not in {path.name} (columns: {have}).")
    return frame[column].cast(pl.String).to_list()


def _collect(
    names: list[str] | None, input_file: Path | None, column: str | None
) -> list[str | None]:
    if column is not None and input_file is None:
        raise PwatchError("--column needs --input FILE.")
    values: list[str | None] = list(names or [])
    if input_file is not None:
        values += read_names(input_file, column)
    if not values:
        raise PwatchError("no names to screen: give names as arguments or --input FILE.")
    return values


def _promoted(url: str | None) -> list:
    """Substances promoted to the watchlist in the registry at `url` (none without a URL)."""
    if not url:
        return []
    from registry.db import open_registry, session_scope
    from registry.early_warning import promoted_substances

    engine = open_registry(url)
    try:
        with session_scope(engine) as session:
            return promoted_substances(session)
    finally:
        engine.dispose()


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
        """Screen product names: controlled, analogue or clear, with the reason.

        Needs no database; with `pwatch --db URL screen ...` (or PWATCH_DATABASE_URL) the
        analogues promoted to the watchlist in that registry count as controlled too."""
        with user_errors():
            try:
                values = _collect(names, input_file, column)
            except PwatchError as exc:
                fail(str(exc))
            from detection.screening import screen_names, structure_layer_status

            result = screen_names(values, extra=_promoted(state.db))
            if (result["method"] == "structure-unavailable").any():
                typer.echo(f"warning: {structure_layer_status()[1]}", err=True)
            unreadable = int((result["verdict"] == "unreadable").sum())
            if unreadable:
                typer.echo(
                    f"warning: {unreadable} name(s) could not be read (mojibake or lost "
                    "bytes): their verdict is 'unreadable'; re-read the source with its "
                    "right encoding.",
                    err=True,
                )
            if fmt is OutputFormat.table:  # for people; csv and json keep the contract
                result = result.select(
                    pl.col("name").alias("Name"),
                    pl.col("verdict").alias("Verdict"),
                    pl.when(pl.col("substance_cas").is_not_null())
                    .then(pl.format("{} ({})", "substance_name", "substance_cas"))
                    .otherwise(pl.lit(""))
                    .alias("Listed substance (nearest, for an analogue)"),
                    pl.col("score").round(0).cast(pl.Int64).alias("Score"),
                    pl.col("explanation").alias("Why"),
                )
            emit_frame(result, fmt)
