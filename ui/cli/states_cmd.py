"""`pwatch facilities`, `pwatch declarations` (a national authority's submissions, the years'
deadlines) and `pwatch classify`: the states in the loop and confidentiality, under the same
rules as the console."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ui.cli.common import OutputFormat, emit_frame, fail, inert, state, user_errors

__all__ = ["register"]

_FORMAT = typer.Option(OutputFormat.table, "--format", help="table, csv or json.")


def _facilities(app: typer.Typer) -> None:
    @app.command("facilities")
    def facilities(
        country: str = typer.Option("", "--country", help="Only this state (ISO alpha-3)."),
        fmt: OutputFormat = _FORMAT,
    ) -> None:
        """List declared facilities and what each declares (one row per facility and
        substance, in the facilities format), with their classification: only what the
        account of --user may see."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.registry_reads import facilities_frame
            from ui.cli.detect_cmd import log_access

            engine = open_registry(state.db)
            with session_scope(engine) as session:
                frame = facilities_frame(session, state.actor, country)
            ids = frame["facility_id"].unique().to_list()
            log_access(engine, "facility", ids, f"pwatch facilities ({fmt})")
            emit_frame(frame, fmt, title=f"{len(ids)} facilities")


def _declarations(app: typer.Typer) -> None:
    group = typer.Typer(
        help="A national authority's declarations, per year, and their deadlines.",
        no_args_is_help=True,
    )

    @group.command("submit")
    def submit(
        path: Path = typer.Argument(..., help="File in the facilities format (CSV, Excel, JSON)."),
        year: int = typer.Option(..., "--year", help="Declaration year."),
        classification: str = typer.Option(
            "protected", "--classification", help="restricted, protected or highly_protected."
        ),
        note: str = typer.Option("", "--note", help="A note with this revision."),
    ) -> None:
        """Submit (or revise) your state's declarations for a year, as its authority."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.declarations import submit_file

            if state.actor is None:
                fail("a declaration is submitted by an authority: run `pwatch --user NAME ...`")
            with session_scope(open_registry(state.db)) as session:
                sub = submit_file(
                    session, state.actor, path, year, classification=classification, note=note
                )
                line = (
                    f"{sub.state} declarations for {sub.year}: revision {sub.revision}, "
                    f"{len(sub.rows)} rows" + (f"; LATE (due {sub.due})" if sub.late else "")
                )
            typer.echo(inert(line), err=True)

    _declaration_reads(group)
    app.add_typer(group, name="declarations")


def _declaration_reads(group: typer.Typer) -> None:
    """`declarations list` and `declarations deadline`."""

    @group.command("list")
    def listing(
        year: int | None = typer.Option(None, "--year", help="Only this year."),
        country: str = typer.Option("", "--state", help="Only this state (ISO alpha-3)."),
        fmt: OutputFormat = _FORMAT,
    ) -> None:
        """Every revision submitted, with its deadline and whether it came late."""
        with user_errors():
            import polars as pl

            from registry.db import open_registry, session_scope
            from registry.declarations import submissions

            with session_scope(open_registry(state.db)) as session:
                rows = [
                    {
                        "state": r.state,
                        "year": r.year,
                        "revision": r.revision,
                        "submitted_at": r.submitted_at.isoformat(timespec="seconds"),
                        "submitted_by": r.submitted_by,
                        "due": r.due.isoformat(),
                        "late": r.late,
                        "rows": len(r.rows),
                        "sha256": r.sha256,
                        "classification": r.classification,
                    }
                    for r in submissions(
                        session, state.actor, state=country.strip().upper() or None, year=year
                    )
                ]
            emit_frame(pl.DataFrame(rows), fmt, title=f"{len(rows)} declaration revisions")

    @group.command("deadline")
    def set_due(
        year: int = typer.Argument(..., help="Declaration year."),
        due: str = typer.Argument(..., help="Due date, YYYY-MM-DD."),
    ) -> None:
        """Set a year's deadline (a supervisor's act, audited)."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.declarations import set_deadline

            if state.actor is None:
                fail("setting a deadline needs a supervisor: run `pwatch --user SUPERVISOR ...`")
            try:
                day = dt.date.fromisoformat(due)
            except ValueError:
                fail(f"{due!r} is not a date: give YYYY-MM-DD")
            with session_scope(open_registry(state.db)) as session:
                set_deadline(session, state.actor, year, day)
            typer.echo(f"declarations of {year} are due on {day.isoformat()}", err=True)


def _classify(app: typer.Typer) -> None:
    @app.command("classify")
    def classify(
        kind: str = typer.Argument(..., help="facility, declaration, batch or alert."),
        key: str = typer.Argument(
            ..., help="Its id (facility id, declaration, batch or alert number)."
        ),
        level: str = typer.Argument(..., help="restricted, protected or highly_protected."),
        reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit chain)."),
    ) -> None:
        """Change an item's classification (a supervisor's act, with a reason; audited)."""
        with user_errors():
            from registry.access import set_classification
            from registry.db import open_registry, session_scope

            if state.actor is None:
                fail(
                    "a classification is changed by a supervisor: run `pwatch --user SUPERVISOR ...`"
                )
            item: object = int(key) if kind != "facility" and key.isdigit() else key
            with session_scope(open_registry(state.db)) as session:
                before = set_classification(session, state.actor, kind, item, level, reason)
            typer.echo(inert(f"{kind} {key}: {before} -> {level}"), err=True)


def register(app: typer.Typer) -> None:
    _facilities(app)
    _declarations(app)
    _classify(app)
