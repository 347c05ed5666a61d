"""The `pwatch` command line. Each group of commands lives in its own module and registers itself."""

from __future__ import annotations

import sys

import typer

from ui.cli.common import state

__all__ = ["app", "main"]

app = typer.Typer(
    name="pwatch",
    help=(
        "precursor-watch: declared facilities, shipment feeds, precursor screening, "
        "anomaly detection and the inspector console of a fentanyl-precursor inspection regime."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="PWATCH_DATABASE_URL",
        help="SQLAlchemy database URL (default: sqlite:///var/pwatch.db).",
        show_default=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    user: str | None = typer.Option(
        None,
        "--user",
        help="Act as this account (password from PWATCH_PASSWORD or a prompt).",
        show_default=False,
    ),
) -> None:
    state.db = db
    state.debug = debug
    state.user = user
    state.actor = None
    # Log in before the command runs (not for a command's --help): whatever it does, it does
    # as this account, and a wrong password or a disabled account stops it here.
    if user is not None and not {"--help", "-h"} & set(sys.argv[1:]):
        from ui.cli.common import log_in, require_enrolled

        log_in(user)
        require_enrolled(sys.argv[1:])


def _register() -> None:
    # Order here is the order in `pwatch --help`.
    from ui.cli import (
        admin_cmd,
        console_cmd,
        demo_cmd,
        detect_cmd,
        export_cmd,
        ingest_cmd,
        sample_cmd,
        screen_cmd,
        states_cmd,
    )

    for module in (
        admin_cmd,
        ingest_cmd,
        detect_cmd,
        export_cmd,
        states_cmd,
        screen_cmd,
        console_cmd,
        sample_cmd,
        demo_cmd,
    ):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
