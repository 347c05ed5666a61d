"""Shared pieces of the command line: global options, one-line errors, output formats."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn

import polars as pl
import typer

from registry.errors import RegistryError

__all__ = [
    "OutputFormat",
    "PwatchError",
    "State",
    "emit_frame",
    "fail",
    "neutralise_formula",
    "not_landed",
    "state",
    "user_errors",
]


class PwatchError(RegistryError):
    """An error whose message is fit to show a user as one line (bad input, bad state)."""


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@dataclass
class State:
    """Global options given before the subcommand."""

    db: str | None = None
    debug: bool = False


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain line to standard error and exit non-zero."""
    first = " ".join(str(message).split()) or "unknown error"
    typer.echo(f"error: {first}", err=True)
    raise typer.Exit(code)


def not_landed(capability: str) -> NoReturn:
    """For a contract command whose capability is not built yet: say so, exit non-zero."""
    fail(f"{capability} has not landed in this version of precursor-watch yet.", code=3)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected failures into one-line errors; tracebacks only with --debug."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        fail("interrupted; nothing was committed by the interrupted step.", code=130)
    except Exception as exc:
        if state.debug:
            raise
        from registry.errors import describe_exception

        fail(describe_exception(exc))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a quote (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # A plain negative number is data, not a formula.
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def emit_frame(frame: pl.DataFrame, fmt: OutputFormat, *, title: str | None = None) -> None:
    """Write a frame to standard output as a table, CSV (formula-safe) or JSON."""
    rows = frame.to_dicts()
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, default=str, ensure_ascii=False, indent=1) + "\n")
        return
    if fmt is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in rows:
            writer.writerow(
                [neutralise_formula("" if v is None else _scalar(v)) for v in row.values()]
            )
        sys.stdout.write(buf.getvalue())
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else escape(str(_scalar(v))) for v in row.values()])
    Console(soft_wrap=False).print(table)


def _scalar(v: Any) -> Any:
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return v
