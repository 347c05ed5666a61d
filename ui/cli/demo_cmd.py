"""`pwatch demo`: a fresh demo database from the committed sample, detection, a summary, the console."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Engine, func, select

from ui.cli.common import state, user_errors

__all__ = ["DEMO_ACCOUNTS", "DEMO_AUTHORITIES", "build_demo", "register"]

# One account per role (two supervisors, so four-eyes approvals can be shown).
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("inspector", "inspector", "inspector-demo"),
    ("inspector2", "inspector", "inspector2-demo"),
    ("supervisor", "supervisor", "supervisor-demo"),
    ("supervisor2", "supervisor", "supervisor2-demo"),
    ("analyst", "analyst", "analyst-demo"),
    ("viewer", "viewer", "viewer-demo"),
]
# One national authority for a few of the sample's states: (user, state, password).
DEMO_AUTHORITIES: list[tuple[str, str, str]] = [
    ("authority-kor", "KOR", "authority-kor-demo"),
    ("authority-ind", "IND", "authority-ind-demo"),
    ("authority-chn", "CHN", "authority-chn-demo"),
]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def sample_dir() -> Path:
    """The small committed sample (facilities, shipments, answer key)."""
    return Path(str(resources.files("sample_data") / "small"))


def _fresh_database(url: str) -> Engine:
    from registry.db import downgrade_db, init_db, make_engine

    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        db_file = engine.url.database
        if db_file and db_file != ":memory:":
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(db_file + suffix).unlink(missing_ok=True)
            engine = make_engine(url)
    else:
        from registry.db import current_revision

        if current_revision(engine) is not None:
            downgrade_db(engine, "base")
    init_db(engine)
    return engine


def build_demo(url: str, *, sample: Path | None = None) -> dict[str, Any]:
    """Build the demo database at `url` from scratch; returns the figures of the summary."""
    from registry.db import session_scope
    from registry.users import add_user

    folder = sample or sample_dir()
    t0 = time.perf_counter()
    engine = _fresh_database(url)
    with session_scope(engine) as s:
        for name, role, password in DEMO_ACCOUNTS:
            add_user(s, name, role, password, display_name=f"Demo {role}")
        for name, code, password in DEMO_AUTHORITIES:
            add_user(
                s, name, "authority", password, display_name=f"Authority of {code}", state=code
            )
    figures: dict[str, Any] = {}
    figures.update(_ingest(engine, folder))
    figures.update(_detect(engine))
    figures.update(_states_in_the_loop(engine))
    figures.update(_counts(engine))
    figures.update(_caught(engine, folder / "answer_key.csv"))
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    engine.dispose()
    return figures


def _ingest(engine: Engine, folder: Path) -> dict[str, Any]:
    import ingest

    out: dict[str, Any] = {}
    for kind in ("facilities", "shipments"):
        report = ingest.load_file(engine, folder / f"{kind}.csv", kind, source="demo")
        out[f"{kind}_quarantined"] = report.rows_quarantined
        _say(f"  loaded {kind}: {report.rows_loaded} rows, {report.rows_quarantined} quarantined")
    return out


def _detect(engine: Engine) -> dict[str, Any]:
    from registry.detect_store import run_detection

    result = run_detection(engine)
    _say(
        f"  detection: {result.new} alerts over {result.shipments} shipments in {result.seconds:.1f} s"
    )
    return {}


def _top_alert(session: Any, **where: Any) -> Any:
    from registry.models import AlertRow

    stmt = select(AlertRow).order_by(AlertRow.score.desc(), AlertRow.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(AlertRow, column) == value)
    return session.scalars(stmt.limit(1)).first()


def _states_in_the_loop(engine: Engine) -> dict[str, Any]:
    """The loop a policymaker can follow: a request for clarification sent to an authority
    (drafted by the inspector, approved by a supervisor, awaiting the state's answer), a
    draft awaiting approval; the top alerts released as restricted for viewers, and one
    alert highly protected (only its assignee among inspectors sees it). All through the
    service layer, audited as any official's act."""
    from registry.access import set_classification
    from registry.clarifications import decide, draft, shareable
    from registry.db import session_scope
    from registry.models import AlertRow
    from registry.service import Action, act
    from registry.users import get_user

    out: dict[str, Any] = {}
    with session_scope(engine) as s:
        people = {n: get_user(s, n) for n in ("inspector", "supervisor", "supervisor2")}
        ins, sup = people["inspector"], people["supervisor"]
        assert ins is not None and sup is not None
        sent: list[tuple[int, str, str]] = []
        # The first two demo states with an alert on them: one request sent and awaiting the
        # state's answer, one draft awaiting a supervisor.
        for code in [c for _, c, _ in DEMO_AUTHORITIES]:
            if len(sent) == 2:
                break
            alert = _top_alert(s, country=code, detector="declared_quantity_exceeded")
            alert = alert or _top_alert(s, country=code)
            if alert is None:
                continue
            status = "pending_approval" if sent else "open"
            offer = [o.key for o in shareable(s, [alert.id], code)]
            keys = [k for k in offer if not k.startswith("record:")] + [
                k for k in offer if k.startswith("record:")
            ][:3]
            req = draft(
                s, ins, [alert.id], code,
                "Please explain the quantities shipped against the facility's declaration, "
                "and send the buyers' end-use statements.", keys,
            )  # fmt: skip
            if status == "open":
                decide(s, sup, req.id, True, "Grounds are clear; send it.")
            sent.append((req.id, code, status))
        released = [
            a.id for a in s.scalars(select(AlertRow).order_by(AlertRow.score.desc()).limit(5))
        ]
        for aid in released:
            set_classification(
                s, sup, "alert", aid, "restricted", "released for the policymakers' demo"
            )
        secret = s.scalars(
            select(AlertRow).where(AlertRow.id.notin_(released)).order_by(AlertRow.score.desc())
        ).first()
        if secret is not None:
            act(s, secret.id, ins, Action("claim"), expected_version=secret.version)
            set_classification(
                s, sup, "alert", secret.id, "highly_protected",
                "an ongoing national investigation: need to know only",
            )  # fmt: skip
            out["highly_protected"] = secret.id
    out["requests"] = sent
    out["released"] = released
    return out


def _counts(engine: Engine) -> dict[str, Any]:
    from registry.db import session_scope
    from registry.models import (
        AlertRow,
        Declaration,
        EarlyWarning,
        Facility,
        Shipment,
        ShipmentRecord,
    )
    from registry.overview import export_side

    with session_scope(engine) as s:
        by_detector = dict(
            s.execute(select(AlertRow.detector, func.count()).group_by(AlertRow.detector)).all()
        )
        by_severity = dict(
            s.execute(select(AlertRow.severity, func.count()).group_by(AlertRow.severity)).all()
        )
        return {
            "facilities": s.scalar(select(func.count()).select_from(Facility)),
            "declarations": s.scalar(select(func.count()).select_from(Declaration)),
            "shipments": s.scalar(select(func.count()).select_from(ShipmentRecord)),
            # Each consignment once: its export record, the import record being its check.
            "consignments": s.scalar(select(func.count(Shipment.id)).where(export_side())),
            "shipped_kg": s.scalar(
                select(func.coalesce(func.sum(Shipment.quantity_kg), 0.0)).where(export_side())
            ),
            "alerts": sum(by_detector.values()),
            "alerts_by_detector": by_detector,
            "alerts_by_severity": by_severity,
            "early_warnings": s.scalar(select(func.count()).select_from(EarlyWarning)),
        }


def _caught(engine: Engine, answer_key: Path) -> dict[str, Any]:
    """How many of the sample's planted anomalies some alert rests on (by shared shipments)."""
    import polars as pl

    from registry.db import session_scope
    from registry.models import AlertShipment, Shipment

    if not answer_key.exists():
        return {}
    key = pl.read_csv(answer_key, infer_schema=False)
    with session_scope(engine) as s:
        flagged = {
            sid
            for (sid,) in s.execute(
                select(Shipment.shipment_id)
                .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
                .distinct()
            )
        }
    ids = key.get_column("shipment_ids").fill_null("").str.split(";").to_list()
    caught = sum(1 for group in ids if flagged.intersection(group))
    return {"planted": key.height, "caught": caught}


def _print_summary(url: str, f: dict[str, Any]) -> None:
    by_detector: dict[str, int] = f.get("alerts_by_detector") or {}
    lines = [
        "",
        "precursor-watch demo",
        f"  database:      {url}",
        f"  declared:      {f.get('facilities', 0)} facilities, {f.get('declarations', 0)} declarations",
        f"  shipments:     {f.get('shipments', 0):,} records of {f.get('consignments', 0):,} consignments, "
        f"{float(f.get('shipped_kg') or 0):,.0f} kg (each consignment once) "
        f"({f.get('shipments_quarantined', 0)} rows quarantined)",
        f"  alerts:        {f.get('alerts', 0)}",
    ]
    from detection.catalogue import detector_label

    lines += [
        f"    {detector_label(name):<40} {count}"
        for name, count in sorted(by_detector.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    lines.append(f"  early warning: {f.get('early_warnings', 0)} designer analogues seen")
    if "planted" in f:
        lines.append(
            f"  answer key:    {f['caught']} of {f['planted']} planted anomalies rest on an alert"
        )
    for rid, code, status in f.get("requests", []):
        what = "awaiting its answer" if status == "open" else "a draft awaiting approval"
        lines.append(f"  clarification: request {rid} to {code}, {what}")
    if f.get("released"):
        lines.append(
            f"  confidentiality: alerts {', '.join(map(str, f['released']))} released as "
            f"restricted (what viewers see); alert {f.get('highly_protected')} highly "
            "protected (assigned to inspector)"
        )
    lines.append(f"  built in {f.get('seconds')} s")
    lines.append("")
    lines.append("  demo accounts (user / password):")
    lines += [f"    {n:<14} {pw:<20} {role}" for n, role, pw in DEMO_ACCOUNTS]
    lines += [f"    {n:<14} {pw:<20} authority of {c}" for n, c, pw in DEMO_AUTHORITIES]
    _say("\n".join(lines))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        no_serve: bool = typer.Option(False, "--no-serve", help="Stop after the summary."),
        port: int = typer.Option(8501, "--port", help="Port for the console."),
    ) -> None:
        """Fresh demo database from the sample, detect, print a summary, then serve the console."""
        with user_errors():
            from registry.settings import get_settings

            settings = get_settings()
            url = state.db or f"sqlite:///{settings.data_dir / 'demo.db'}"
            _say(f"building a fresh demo database at {url} ...")
            figures = build_demo(url)
            _print_summary(url, figures)
            if no_serve:
                return
            from ui.cli.console_cmd import serve

            _say(f"\nserving the console on http://localhost:{port} (Ctrl-C to stop)")
            serve(url, port)
