"""`pwatch detect` and `pwatch alerts`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import typer

from ui.cli.common import OutputFormat, emit_frame, fail, state, user_errors

__all__ = ["log_access", "not_judged_lines", "register"]


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
    def detect(
        engine_name: str = typer.Option(
            "local",
            "--engine",
            help="local (this process) or spark (Apache Spark; needs the extra "
            "precursor-watch\\[spark] and Java 17): the same detectors and the same alerts; "
            "the detectors that read one substance run on Spark, grouped by substance, the "
            "rest here.",
        ),
        master: str = typer.Option(
            "local[2]",
            "--master",
            help="With --engine spark: the Spark master, local[N] (N cores here) or a cluster "
            "URL such as spark://host:7077 (its workers need precursor-watch installed).",
        ),
        conf: list[str] = typer.Option(
            [],
            "--conf",
            help="With --engine spark: a Spark setting KEY=VALUE, repeatable, e.g. "
            "--conf spark.driver.memory=4g (local mode holds the feed's frames in it) or "
            "--conf spark.executor.memory=8g.",
        ),
        shipments: Path | None = typer.Option(
            None,
            "--shipments",
            help="Read the shipment records from this Parquet file (`pwatch export shipments` "
            "of this registry) instead of the database; alerts are still stored in it.",
        ),
    ) -> None:
        """Run every detector on what is loaded; store new alerts, keep triage state of known
        ones (`--engine spark` runs them on Apache Spark with the same results)."""
        with user_errors():
            _detect(engine_name, master, shipments, conf)

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
            from registry.models import STATUSES

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
                from registry.db import session_scope
                from registry.queries import substance_names

                with session_scope(engine) as session:
                    names = substance_names(session)
                frame = _for_people(frame.select([*ALERT_COLUMNS, "classification"]), names)
            emit_frame(frame, fmt, title=f"{frame.height} alerts")


# What the count of each step before the detectors is (a detector's count is its findings).
_STEP_WORDS = {
    "load": "records loaded",
    "checks": "records with names normalised and quantities and dates checked",
    "screen": "distinct product descriptions screened or taken from the cache",
    "entities": "parties after grouping their spellings into entities",
    "pairs": "export records paired with their import record",
    "consignments": "consignments (each reported record counted once)",
}


def _detect(engine_name: str, master: str, shipments: Path | None, conf: list[str]) -> None:
    """`pwatch detect`: read, run the detectors on the engine chosen, store, report."""
    from registry.db import open_registry
    from registry.detect_store import run_detection

    runner = _runner(engine_name, master, conf)
    engine = open_registry(state.db)
    ships = None
    if shipments is not None:
        from registry.export import read_exported_shipments

        ships = read_exported_shipments(shipments)

    def progress(step: str, count: int, seconds: float) -> None:
        what = _STEP_WORDS.get(step, "findings")
        typer.echo(f"  {step}: {count:,} {what} ({seconds:.1f} s)", err=True)

    where = f" on Spark ({master})" if runner is not None else ""
    typer.echo(f"detecting{where}...", err=True)
    s = run_detection(engine, progress=progress, runner=runner, shipments=ships)
    _report(s)
    _keep_overview(engine)


def _keep_overview(engine: Any) -> None:
    """The console's overview figures computed now and kept on disk, so its first page after
    this run does not wait for them; a failure only costs that wait."""
    import time

    from polars.exceptions import PolarsError
    from sqlalchemy.exc import SQLAlchemyError

    from registry.db import session_scope
    from registry.overview import keep_snapshot
    from registry.settings import get_settings

    t0 = time.perf_counter()
    settings = get_settings(state.db)
    try:
        with session_scope(engine) as session:
            keep_snapshot(session, settings.data_dir, settings.database_url)
    except (OSError, SQLAlchemyError, PolarsError) as exc:
        # The alerts are stored: the console computes the figures itself when it first opens.
        why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        typer.echo(f"  the overview's figures were not kept ({why})", err=True)
        return
    typer.echo(
        f"  overview figures kept for the console ({time.perf_counter() - t0:.1f} s)", err=True
    )


def _report(s: Any) -> None:
    """The run's summary on standard error: counts, time per phase, per detector, not judged."""
    typer.echo(
        f"detection run {s.run_id}: {s.shipments:,} shipment records, {s.new:,} new and "
        f"{s.updated:,} updated alerts, {s.early_warnings:,} early-warning names, "
        f"{s.screened_new:,} product texts newly screened, "
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
        typer.echo(f"{name:<28} {c['new']:>5,} {c['updated']:>8,} {c['unchanged']:>10,}", err=True)
    typer.echo(f"  {s.as_of_note}", err=True)
    for line in not_judged_lines(s.unjudged):
        typer.echo(line, err=True)


def _runner(name: str, master: str, conf: list[str]) -> Any:
    """The engine `--engine` names: None for this process, else the Spark runner."""
    if name == "local":
        if conf:
            fail("--conf sets Spark: use it with --engine spark.")
        return None
    if name != "spark":
        fail(f"unknown engine {name!r}: use local or spark.")
    settings = {}
    for item in conf:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            fail(f"--conf takes KEY=VALUE, e.g. spark.driver.memory=4g (got {item!r}).")
        settings[key.strip()] = value.strip()
    try:
        import pyspark  # noqa: F401
    except ImportError:
        fail("the spark engine needs pyspark: pip install 'precursor-watch[spark]'.")
    from detection.engines.spark import SparkDetectors

    return SparkDetectors(master, conf=settings)


def _for_people(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """The alert list as a person reads it: words for detectors and statuses, the substance by
    name, a rounded score, the time to the minute (CSV and JSON keep the contract's columns)."""
    from detection.catalogue import detector_label
    from registry.words import status_word

    ids = frame["shipment_ids"].fill_null("").str.split(";")
    return frame.select(
        pl.col("alert_id").alias("Alert"),
        pl.col("detector").map_elements(detector_label, return_dtype=pl.String).alias("Finding"),
        pl.col("severity").alias("Severity"),
        pl.col("score").round(0).cast(pl.Int64).alias("Score"),
        pl.col("status").map_elements(status_word, return_dtype=pl.String).alias("Status"),
        pl.when(ids.list.len() > 3)
        .then(pl.format("{} records", ids.list.len()))
        .otherwise(ids.list.join(", "))
        .alias("Shipments"),
        pl.col("facility_id").fill_null("").alias("Facility"),
        pl.col("substance_cas")
        .replace_strict(names, default=pl.col("substance_cas"), return_dtype=pl.String)
        .fill_null("")
        .alias("Substance"),
        pl.col("summary").alias("What was found"),
        pl.col("created_at").cast(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M").alias("Raised (UTC)"),
        pl.col("classification").str.replace_all("_", " ").alias("Classification"),
    )


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
