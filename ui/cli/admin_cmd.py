"""`pwatch init`, users, the audit chain and triage from the command line."""

from __future__ import annotations

import getpass
import os

import typer

from ui.cli.common import fail, state, user_errors

__all__ = ["register"]


def _password(prompt: str) -> str:
    """The password from PWATCH_PASSWORD (scripts) or an interactive prompt."""
    env = os.environ.get("PWATCH_PASSWORD")
    if env:
        return env
    try:
        return getpass.getpass(prompt)
    except (EOFError, OSError):
        fail("no password given: set PWATCH_PASSWORD or run in a terminal")


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init() -> None:
        """Create or migrate the database and load the watchlist."""
        with user_errors():
            from registry.db import current_revision, init_db, make_engine

            engine = make_engine(state.db)
            before = current_revision(engine)
            rev = init_db(engine)
            where = engine.url.render_as_string(hide_password=True)
            if before == rev:
                typer.echo(
                    f"database {where} is up to date (schema {rev}); watchlist refreshed", err=True
                )
            else:
                typer.echo(
                    f"database {where} at schema {rev} (was {before or 'empty'}); watchlist loaded",
                    err=True,
                )

    user = typer.Typer(help="Manage local accounts.", no_args_is_help=True)

    @user.command("add")
    def user_add(
        username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Option(..., "--role", help="analyst, inspector, supervisor or viewer."),
        display_name: str = typer.Option("", "--name", help="Full name shown in the console."),
    ) -> None:
        """Add an account (password from PWATCH_PASSWORD or a prompt)."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import add_user

            engine = open_registry(state.db)
            pw = _password(f"password for {username}: ")
            with session_scope(engine) as session:
                add_user(session, username, role, pw, display_name=display_name)
            typer.echo(f"user {username} added as {role}", err=True)

    @user.command("passwd")
    def user_passwd(username: str = typer.Argument(..., help="Login name.")) -> None:
        """Set a new password for an account (from PWATCH_PASSWORD or a prompt)."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import set_password

            engine = open_registry(state.db)
            pw = _password(f"new password for {username}: ")
            with session_scope(engine) as session:
                set_password(session, username, pw)
            typer.echo(f"password of {username} changed", err=True)

    @user.command("list")
    def user_list() -> None:
        """List accounts and their roles."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import list_users

            engine = open_registry(state.db)
            with session_scope(engine) as session:
                for u in list_users(session):
                    flag = "" if u.active else " (disabled)"
                    typer.echo(f"{u.username}\t{u.role}\t{u.display_name}{flag}")

    app.add_typer(user, name="user")

    audit = typer.Typer(help="The tamper-evident triage log.", no_args_is_help=True)

    @audit.command("verify")
    def audit_verify() -> None:
        """Check the hash chain of every triage event; name the first broken one."""
        with user_errors():
            from registry.audit import verify_chain
            from registry.db import open_registry, session_scope

            engine = open_registry(state.db)
            with session_scope(engine) as session:
                report = verify_chain(session)
            if report.ok:
                typer.echo(f"audit chain intact: {report.events} events verified")
                return
            fail(f"audit chain broken at event {report.first_broken_id}: {report.problem}", code=2)

    app.add_typer(audit, name="audit")

    @app.command("triage")
    def triage(
        action: str = typer.Argument(
            ...,
            help="claim, assign, start_review, note, escalate, dismiss, approve, reject or reopen.",
        ),
        alert_id: int = typer.Argument(..., help="Alert number."),
        username: str = typer.Option(..., "--user", "-u", help="Acting user (password asked)."),
        version: int | None = typer.Option(
            None, "--version", help="Alert version you saw (default: the current one)."
        ),
        reason: str | None = typer.Option(None, "--reason", help="Reason code (dismiss)."),
        note: str | None = typer.Option(None, "--note", help="Note or grounds."),
        assignee: str | None = typer.Option(None, "--to", help="Assignee (assign)."),
    ) -> None:
        """Act on an alert under the same rules as the console."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.models import AlertRow
            from registry.service import Action, act
            from registry.users import authenticate

            engine = open_registry(state.db)
            pw = _password(f"password for {username}: ")
            with session_scope(engine) as session:
                actor = authenticate(session, username, pw)
            with session_scope(engine) as session:
                alert = session.get(AlertRow, alert_id)
                seen = version if version is not None else (alert.version if alert else None)
                row = act(
                    session,
                    alert_id,
                    actor,
                    Action(action, reason_code=reason, note=note, assignee=assignee),
                    expected_version=seen,
                )
                typer.echo(f"alert {row.id}: {row.status} (version {row.version})")
