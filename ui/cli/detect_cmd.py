"""`pwatch detect` and `pwatch alerts`."""

from __future__ import annotations

from typing import Any

import typer

from ui.cli.common import OutputFormat, emit_frame, fail, state, user_errors

__all__ = ["log_access", "register"]


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect() -> None:
        """Run every detector on what is loaded; store new alerts, keep triage state of known ones."""
        with user_errors():
            from registry.db import open_registry
            from registry.detect_store import run_detection

            engine = open_registry(state.db)

            def progress(step: str, count: int, seconds: float) -> None:
                what = "records loaded" if step == "load" else "findings"
                typer.echo(f"  {step}: {count} {what} ({seconds:.1f} s)", err=True)

            typer.echo("detecting...", err=True)
            s = run_detection(engine, progress=progress)
            typer.echo(
                f"detection run {s.run_id}: {s.shipments} shipment records, {s.new} new and "
                f"{s.updated} updated alerts, {s.early_warnings} early-warning names, "
                f"{s.screened_new} product texts newly screened, "
                f"{s.seconds:.1f} s",
                err=True,
            )
            if s.phases:
                typer.echo(
                    "  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in s.phases.items()),
                    err=True,
                )
            typer.echo(f"{'detector':<28} {'new':>5} {'updated':>8} {'unchanged':>10}", err=True)
            for name, c in s.per_detector.items():
                typer.echo(
                    f"{name:<28} {c['new']:>5} {c['updated']:>8} {c['unchanged']:>10}", err=True
                )

    @app.command("alerts")
    def alerts(
        status: str | None = typer.Option(None, "--status", help="Only alerts in this status."),
        fmt: OutputFormat = typer.Option(
            OutputFormat.table, "--format", help="table, csv or json."
        ),
    ) -> None:
        """List or export alerts."""
        with user_errors():
            from registry.db import open_registry
            from registry.detect_store import ALERT_COLUMNS, alerts_frame

            if status is not None and not status.strip():
                fail("--status needs a value, e.g. --status new.")
            from registry.service import STATUSES

            if status is not None and status.strip() not in STATUSES:
                fail(f"unknown status {status.strip()!r}: use one of {', '.join(STATUSES)}.")
            engine = open_registry(state.db)
            actor = state.actor
            if actor is not None and actor.role == "authority":
                _shared_with_state(engine, actor, fmt)
                return
            frame = alerts_frame(engine, status=status.strip() if status else None, user=actor)
            log_access(engine, "alert", frame["alert_id"].to_list(), f"pwatch alerts ({fmt})")
            if fmt is OutputFormat.table:
                frame = frame.select([*ALERT_COLUMNS, "classification"])
            emit_frame(frame, fmt, title=f"{frame.height} alerts")


def _shared_with_state(engine: Any, actor: Any, fmt: OutputFormat) -> None:
    """An authority's `pwatch alerts`: what requests for clarification shared with its state."""
    from registry.clarifications import shared_frame
    from registry.db import session_scope

    with session_scope(engine) as session:
        frame = shared_frame(session, actor)
    emit_frame(frame, fmt, title=f"{frame.height} requests for clarification to {actor.state}")


def log_access(engine: Any, kind: str, keys: list[Any], what: str) -> None:
    """A listing or export that holds highly protected items is an audited access event."""
    if state.actor is None or not keys:
        return
    from registry.access import record_access
    from registry.db import session_scope

    with session_scope(engine) as session:
        record_access(session, state.actor, kind, keys, what)
