"""`pwatch detect` and `pwatch alerts`."""

from __future__ import annotations

from typing import Any

import typer

from ui.cli.common import OutputFormat, emit_frame, fail, state, user_errors

__all__ = ["not_judged_lines", "register"]


def not_judged_lines(rows: list[dict[str, Any]]) -> list[str]:
    """One plain line per reason records were not judged: who, how many, why, a few ids."""
    out = []
    for r in rows:
        n = int(r["records"])
        ids = ", ".join(str(x) for x in (r.get("examples") or []))
        more = f" (e.g. {ids}{', ...' if n > len(r.get('examples') or []) else ''})" if ids else ""
        noun = "record" if n == 1 else "records"
        kind = r.get("kind") or "not judged"
        what = noun if kind == "not judged" else ("finding" if n == 1 else "findings")
        out.append(f"  {kind} by {r['scope']}: {n:,} {what}, {r['reason']}{more}")
    return out


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
            typer.echo(f"  {s.as_of_note}", err=True)
            for line in not_judged_lines(s.unjudged):
                typer.echo(line, err=True)

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
            frame = alerts_frame(engine, status=status.strip() if status else None)
            if fmt is OutputFormat.table:
                frame = frame.select(ALERT_COLUMNS)
            emit_frame(frame, fmt, title=f"{frame.height} alerts")
