"""`pwatch init`, accounts, the audit chain and triage from the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ui.cli.common import fail, inert, log_in, new_password, state, user_errors

if TYPE_CHECKING:
    from registry.models import User

__all__ = ["register"]

_ROLES_HELP = "analyst, inspector, supervisor, viewer or authority (with --state)."
_STATE_HELP = "An authority's state: ISO 3166 alpha-3 code (e.g. MEX)."


def _supervisor(what: str) -> User:
    """The account given with the global --user, which must be there for `what`."""
    actor = state.actor
    if actor is None:
        fail(
            f"{what} needs a supervisor: run `pwatch --user SUPERVISOR user ...` "
            "(the supervisor's password from PWATCH_PASSWORD or a prompt)"
        )
    return actor


def _register_init(app: typer.Typer) -> None:
    @app.command("init")
    def init() -> None:
        """Create or migrate the database, key the audit chain and load the watchlist."""
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


def _register_users(app: typer.Typer) -> None:
    user = typer.Typer(
        help=(
            "Manage local accounts: as a supervisor (`pwatch --user SUPERVISOR user ...`), "
            "except the first supervisor of an empty registry."
        ),
        no_args_is_help=True,
    )

    @user.command("add")
    def user_add(
        username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Option(..., "--role", help=_ROLES_HELP),
        display_name: str = typer.Option("", "--name", help="Full name shown in the console."),
        state_code: str | None = typer.Option(None, "--state", help=_STATE_HELP),
    ) -> None:
        """Add an account (its password from PWATCH_NEW_PASSWORD or a prompt)."""
        with user_errors():
            from sqlalchemy import func, select

            from registry.db import open_registry, session_scope
            from registry.models import User
            from registry.users import create_account

            engine = open_registry(state.db)
            if state.actor is None:
                with session_scope(engine) as session:
                    if session.scalar(select(func.count()).select_from(User)):
                        _supervisor("adding an account")
            pw = new_password(
                f"password for the new account {username}: ", fallback_env=state.actor is None
            )
            with session_scope(engine) as session:
                create_account(
                    session,
                    state.actor,
                    username,
                    role,
                    pw,
                    display_name=display_name,
                    state=state_code,
                )
            by = state.actor.username if state.actor else "itself (first supervisor)"
            of = f" of {state_code.strip().upper()}" if state_code else ""
            typer.echo(f"user {inert(username)} added as {role}{of} by {by}", err=True)

    @user.command("passwd")
    def user_passwd(username: str = typer.Argument(..., help="Login name.")) -> None:
        """Set a new password (from PWATCH_NEW_PASSWORD or a prompt); sessions end.

        A supervisor may set any account's password; anyone may set their own.
        """
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import change_password

            acting = _supervisor("changing a password")
            engine = open_registry(state.db)
            pw = new_password(f"new password for {username}: ")
            with session_scope(engine) as session:
                change_password(session, acting, username, pw)
            typer.echo(f"password of {inert(username)} changed", err=True)

    _register_account_changes(user)
    app.add_typer(user, name="user")


def _register_account_changes(user: typer.Typer) -> None:
    """`user role`, `disable`, `enable` and `list`."""

    @user.command("role")
    def user_role(
        username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Argument(..., help=_ROLES_HELP),
        state_code: str | None = typer.Option(None, "--state", help=_STATE_HELP),
    ) -> None:
        """Give an account another role (a supervisor's act; its console sessions end)."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import change_role

            acting = _supervisor("changing a role")
            with session_scope(open_registry(state.db)) as session:
                change_role(session, acting, username, role, state_code)
            typer.echo(f"{inert(username)} is now a {role}", err=True)

    def _set_enabled(username: str, enabled: bool) -> None:
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.users import set_enabled

            acting = _supervisor("enabling or disabling an account")
            with session_scope(open_registry(state.db)) as session:
                set_enabled(session, acting, username, enabled)
            typer.echo(f"{inert(username)} {'enabled' if enabled else 'disabled'}", err=True)

    @user.command("disable")
    def user_disable(username: str = typer.Argument(..., help="Login name.")) -> None:
        """Disable an account: it can no longer log in or act; its console sessions end."""
        _set_enabled(username, False)

    @user.command("enable")
    def user_enable(username: str = typer.Argument(..., help="Login name.")) -> None:
        """Enable a disabled account again."""
        _set_enabled(username, True)

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
                    flag += " (second factor)" if u.totp_enabled else ""
                    role = f"{u.role} of {u.state}" if u.state else u.role
                    line = f"{u.username}\t{role}\t{u.display_name}{flag}"
                    typer.echo(inert(line, bidi=True))

    _register_totp(user)


def _register_totp(user: typer.Typer) -> None:
    """`user totp enrol` and `user totp remove`."""
    totp = typer.Typer(help="The TOTP second factor (an authenticator app).", no_args_is_help=True)

    @totp.command("enrol")
    def totp_enrol() -> None:
        """Set up your second factor: scan the QR code (or use the otpauth:// link), then give
        the app's code (PWATCH_TOTP or a prompt)."""
        with user_errors():
            import segno

            from registry.db import open_registry, session_scope
            from registry.second_factor import confirm_enrolment, start_enrolment

            acting = _own("setting up a second factor")
            engine = open_registry(state.db)
            with session_scope(engine) as session:
                uri = start_enrolment(session, acting)
            typer.echo(uri, err=True)
            segno.make(uri, error="m").terminal(compact=True)
            code = os.environ.get("PWATCH_TOTP") or typer.prompt("code shown by the app")
            with session_scope(engine) as session:
                confirm_enrolment(session, acting, code)
            typer.echo(f"second factor set for {inert(acting.username)}", err=True)

    @totp.command("remove")
    def totp_remove(username: str = typer.Argument(..., help="Login name.")) -> None:
        """Remove an account's second factor (your own, or any as a supervisor)."""
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.second_factor import remove_second_factor

            acting = _own("removing a second factor")
            with session_scope(open_registry(state.db)) as session:
                remove_second_factor(session, acting, username)
            typer.echo(f"second factor of {inert(username)} removed", err=True)

    user.add_typer(totp, name="totp")


def _own(what: str) -> User:
    actor = state.actor
    if actor is None:
        fail(f"{what} acts as an account: run `pwatch --user NAME user totp ...`")
    return actor


def _register_audit(app: typer.Typer) -> None:
    audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

    @audit.command("verify")
    def audit_verify(
        checkpoint: Path | None = typer.Option(
            None,
            "--checkpoint",
            help="A checkpoint file from `pwatch audit checkpoint`: the log must still hold it.",
        ),
    ) -> None:
        """Check the keyed chain and compare the registry with what its events say.

        Names the first broken event; then compares alerts, accounts, thresholds and
        challenge documents with the state the events vouch for, and, with --checkpoint,
        that no event the checkpoint recorded was deleted.
        """
        with user_errors():
            from registry.audit import read_checkpoint, verify_chain
            from registry.audit_key import load_key
            from registry.db import open_registry, session_scope

            engine = open_registry(state.db)
            cp = read_checkpoint(checkpoint, load_key(engine)) if checkpoint else None
            with session_scope(engine) as session:
                report = verify_chain(session, cp)
            if report.ok:
                held = f"; the checkpoint of {cp.written_at} holds" if cp else ""
                typer.echo(report.describe() + held)
                return
            for problem in report.problems[1:]:
                typer.echo(inert(f"also: {problem}", bidi=True))
            fail(report.describe(), code=2)

    @audit.command("checkpoint")
    def audit_checkpoint(
        out: Path = typer.Option(..., "--out", help="File to write the signed checkpoint to."),
    ) -> None:
        """Verify the chain and write its signed head to a file (keep it elsewhere).

        `pwatch audit verify --checkpoint FILE` then detects the newest events, or the
        whole log, deleted.
        """
        with user_errors():
            from registry.audit import write_checkpoint
            from registry.db import open_registry, session_scope

            engine = open_registry(state.db)
            with session_scope(engine) as session:
                cp = write_checkpoint(session, out)
            typer.echo(
                f"checkpoint written to {out}: event {cp.event_id}, {cp.events} events, "
                f"audit key {cp.key_id}",
                err=True,
            )

    app.add_typer(audit, name="audit")


def _register_triage(app: typer.Typer) -> None:
    @app.command("triage")
    def triage(
        action: str = typer.Argument(
            ...,
            help="claim, assign, start_review, note, escalate, dismiss, approve, reject or reopen.",
        ),
        alert_id: int = typer.Argument(..., help="Alert number."),
        username: str | None = typer.Option(
            None,
            "--user",
            "-u",
            help="Acting user (same as the global `pwatch --user NAME triage ...`).",
        ),
        version: int | None = typer.Option(
            None, "--version", help="Alert version you saw (default: the current one)."
        ),
        reason: str | None = typer.Option(None, "--reason", help="Reason code (dismiss)."),
        note: str | None = typer.Option(None, "--note", help="Note or grounds."),
        assignee: str | None = typer.Option(None, "--to", help="Assignee (assign)."),
    ) -> None:
        """Act on an alert under the same rules as the console."""
        if username and state.user and username != state.user:
            fail(f"two accounts given (--user {state.user} and --user {username}): give one")
        if state.actor is None and not username:
            fail("triage acts as an account: run `pwatch --user NAME triage ...`")
        actor = state.actor or log_in(username or "")
        with user_errors():
            from registry.db import open_registry, session_scope
            from registry.models import AlertRow
            from registry.service import Action, act

            engine = open_registry(state.db)
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


def register(app: typer.Typer) -> None:
    _register_init(app)
    _register_users(app)
    _register_audit(app)
    _register_triage(app)
