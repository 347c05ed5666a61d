"""Shared pieces of the command line: global options, one-line errors, output formats."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import polars as pl
import typer

from registry.errors import RegistryError

if TYPE_CHECKING:
    from registry.models import User

__all__ = [
    "OutputFormat",
    "PwatchError",
    "State",
    "emit_frame",
    "fail",
    "inert",
    "log_in",
    "neutralise_formula",
    "new_password",
    "not_landed",
    "password",
    "require_enrolled",
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
    """Global options given before the subcommand, and the account `--user` logged in as."""

    db: str | None = None
    debug: bool = False
    user: str | None = None
    actor: User | None = None


state = State()

# C0 controls but tab and newline, DEL and C1 controls: a terminal acts on them (ESC starts
# colour, cursor, title and clipboard sequences; 0x9b is a one-byte CSI on some terminals;
# a carriage return overwrites the line).
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that reorder text on screen (bidi overrides, embeddings, isolates, marks).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, bidi: bool = False) -> str:
    """Text safe to print to a terminal: control characters (and, with `bidi`, the
    characters that reorder a line) shown as visible escapes such as \\x1b."""
    text = _TERMINAL_CONTROL.sub(_visible, text)
    return _BIDI.sub(_visible, text) if bidi else text


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain line to standard error and exit non-zero."""
    first = " ".join(inert(str(message), bidi=True).split()) or "unknown error"
    typer.echo(f"error: {first}", err=True)
    raise typer.Exit(code)


def password(prompt: str) -> str:
    """The acting account's password: PWATCH_PASSWORD (scripts) or an interactive prompt."""
    env = os.environ.get("PWATCH_PASSWORD")
    if env:
        return env
    try:
        return getpass.getpass(prompt)
    except (EOFError, OSError):
        fail("no password given: set PWATCH_PASSWORD or run in a terminal")


def new_password(prompt: str, *, fallback_env: bool = False) -> str:
    """A password being set: PWATCH_NEW_PASSWORD, or (`fallback_env`, when no account acts)
    PWATCH_PASSWORD, or typed twice at a prompt."""
    env = os.environ.get("PWATCH_NEW_PASSWORD") or (
        os.environ.get("PWATCH_PASSWORD") if fallback_env else None
    )
    if env:
        return env
    try:
        first = getpass.getpass(prompt)
        again = getpass.getpass("again: ")
    except (EOFError, OSError):
        fail("no new password given: set PWATCH_NEW_PASSWORD or run in a terminal")
    if first != again:
        fail("the two passwords differ; nothing was changed")
    return first


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
        # json.dumps escapes C0 controls itself; DEL and C1 get JSON escapes too, so the
        # data reads back unchanged and nothing raw reaches a terminal.
        text = json.dumps(rows, default=str, ensure_ascii=False, indent=1)
        sys.stdout.write(re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
        return
    if fmt is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row.values()])
        sys.stdout.write(buf.getvalue())
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    level = _highest_classification(frame)
    if level:  # the classification heads every table (CSV and JSON carry it on every row)
        title = f"Classification: {level.replace('_', ' ').upper()}" + (
            f" · {title}" if title else ""
        )
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            *["" if v is None else escape(inert(str(_scalar(v)), bidi=True)) for v in row.values()]
        )
    Console(soft_wrap=False).print(table)


def _highest_classification(frame: pl.DataFrame) -> str | None:
    if "classification" not in frame.columns or frame.height == 0:
        return None
    order = ("restricted", "protected", "highly_protected")
    present = set(frame.get_column("classification").drop_nulls().to_list())
    return next((c for c in reversed(order) if c in present), None)


def _csv_cell(v: Any) -> Any:
    value = neutralise_formula("" if v is None else _scalar(v))
    return inert(value) if isinstance(value, str) else value


def _scalar(v: Any) -> Any:
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return v


def log_in(username: str) -> User:
    """Authenticate `username` against the registry of --db (once per process) and keep the
    account in `state.actor` for the command to act as."""
    if state.actor is not None and state.actor.username == username:
        return state.actor
    with user_errors():
        from registry.db import open_registry, session_scope
        from registry.users import authenticate

        engine = open_registry(state.db)
        secret = password(f"password for {username}: ")
        code = _authenticator_code()
        with session_scope(engine) as session:
            state.actor = authenticate(session, username, secret, code)
    assert state.actor is not None
    return state.actor


def _authenticator_code() -> str | None:
    """The second factor's code: PWATCH_TOTP (scripts), else asked at a terminal (empty for
    an account without one); the question is the same for every account, so it tells
    nothing about which have a second factor."""
    env = os.environ.get("PWATCH_TOTP")
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass("authenticator code (Enter if your account has none): ") or None
    except (EOFError, OSError):
        return None


def require_enrolled(args: list[str]) -> None:
    """An account the settings require to have a second factor can only enrol one."""
    from registry.second_factor import needs_enrolment

    if state.actor is None or not needs_enrolment(state.actor):
        return
    enrolling = any(args[i : i + 3] == ["user", "totp", "enrol"] for i in range(len(args)))
    if not enrolling:
        fail(
            f"{state.actor.username} must set up a second factor first: run "
            f"`pwatch --user {state.actor.username} user totp enrol`"
        )
