"""Detection glue: read the registry into frames, run the detectors, upsert alerts by fingerprint.

Fingerprint = sha256(detector|key). A new finding is inserted with status "new"; a known one
gets its score, severity, summary, evidence and shipment links refreshed, never its status,
assignee or triage fields. Everything is written in one transaction. Screening results are
cached in `screen_results`, so a run after a new load screens only product texts not seen
before; alert rows are written only where something changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
from sqlalchemy import Engine, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from detection.detectors import DETECTORS
from detection.frames import attach
from detection.prepare import default_screener
from detection.run import configs, prepare_for, run_detectors, unjudged
from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from registry.db import session_scope
from registry.models import (
    Address,
    AlertRow,
    AlertShipment,
    Declaration,
    DetectionRun,
    DetectorSetting,
    EarlyWarning,
    Facility,
    Party,
    ScreenResult,
    ShipmentRecord,
)

# The alert list of `pwatch alerts` and the console is one query (registry.queries).
from registry.queries import ALERT_COLUMNS, alerts_frame

__all__ = [
    "ALERT_COLUMNS",
    "RunSummary",
    "alerts_frame",
    "fingerprint",
    "load_declarations",
    "load_shipments",
    "run_detection",
]


@dataclass
class RunSummary:
    """What one detection run did, per detector: new, updated and unchanged alerts."""

    run_id: int
    shipments: int
    seconds: float
    per_detector: dict[str, dict[str, int]] = field(default_factory=dict)
    screened_new: int = 0
    early_warnings: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: read, prepare, ...
    # Records some or all detectors could not judge: scope, reason, records, examples.
    unjudged: list[dict[str, Any]] = field(default_factory=list)
    as_of_note: str = ""  # how the reference date was chosen, in words

    @property
    def new(self) -> int:
        return sum(d["new"] for d in self.per_detector.values())

    @property
    def updated(self) -> int:
        return sum(d["updated"] for d in self.per_detector.values())


def fingerprint(detector: str, key: str) -> str:
    """The alert's stable identity."""
    return hashlib.sha256(f"{detector}|{key}".encode()).hexdigest()


# Rows turned into a frame at a time when reading SQLite: a million Python row tuples hold
# about a gigabyte until the frame is built; a quarter of a million, a quarter of that.
_READ_CHUNK = 250_000


def _read(session: Session, stmt: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows of a parameterless select as a frame with exactly `schema` (its columns in order).

    Read below the ORM, on the session's own connection and transaction: PostgreSQL
    streams `COPY (select) TO STDOUT` as CSV into a temporary file that polars' reader maps
    (NULL is an unquoted empty field, an empty string a quoted one; floats print exactly,
    dates in ISO order); SQLite hands raw tuples (dates as their stored ISO text), a chunk of
    rows to a frame at a time. Memory holds the frame and one chunk, never every row as
    Python objects nor the whole CSV text. About twice as fast as SQLAlchemy rows;
    tests/detection/test_detect_store.py checks the frame equals the ORM read on both
    backends."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect))
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        return _read_copy(raw, sql, schema)
    dates = [c for c, t in schema.items() if t == pl.Date()]
    as_read = [(c, pl.String() if c in dates else t) for c, t in schema.items()]
    parts = []
    cur = raw.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(_READ_CHUNK):
            frame = pl.DataFrame(rows, schema=as_read, orient="row", infer_schema_length=0)
            parts.append(frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in dates))
            del rows
    finally:
        cur.close()
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]


def _read_copy(raw: Any, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """PostgreSQL's `COPY (sql) TO STDOUT` as a frame, through a temporary file."""
    with tempfile.TemporaryDirectory(prefix="pwatch-read-") as tmp:
        path = Path(tmp) / "rows.csv"
        copy = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
        with path.open("wb") as out, raw.cursor() as cur, cur.copy(copy) as cp:
            for chunk in cp:
                out.write(chunk)
        if path.stat().st_size == 0:
            return pl.DataFrame(schema=schema)
        return pl.read_csv(
            path, has_header=False, new_columns=list(schema), schema=schema, raise_if_empty=False
        )


_PARTY_READ: dict[str, pl.DataType] = {
    "party_id": pl.Int64(),
    "name": pl.String(),
    "name_norm": pl.String(),
    "country": pl.String(),
    "facility_id": pl.String(),
}


def load_shipments(session: Session) -> pl.DataFrame:
    """Every stored shipment record as a SHIPMENT_SCHEMA frame: the records and the parties
    read apart (narrow rows) and joined here, as the `shipments` view would."""
    rec_schema = {
        c: t for c, t in SHIPMENT_SCHEMA.items() if hasattr(ShipmentRecord, c) and c != "id"
    }
    rec_schema = {
        "id": pl.Int64(),
        **rec_schema,
        "exporter_party_id": pl.Int64(),
        "importer_party_id": pl.Int64(),
        "exporter_address_id": pl.Int64(),
        "importer_address_id": pl.Int64(),
    }
    recs = _read(session, select(*(getattr(ShipmentRecord, c) for c in rec_schema)), rec_schema)
    addresses = _read(
        session, select(Address.id, Address.text), {"address_id": pl.Int64(), "text": pl.String()}
    )
    parties = _read(
        session,
        select(Party.id, Party.name, Party.name_norm, Party.country, Party.facility_id),
        _PARTY_READ,
    )
    for role in ("exporter", "importer"):
        named = parties.rename(
            {
                "party_id": f"{role}_party_id",
                "name": role,
                "name_norm": f"{role}_norm",
                "country": f"{role}_country",
                "facility_id": f"{role}_facility_id",
            }
        )
        recs = attach(recs, named, f"{role}_party_id")
        address = addresses.rename({"address_id": f"{role}_address_id", "text": f"{role}_address"})
        recs = attach(recs, address, f"{role}_address_id")
    # Columns the stored records do not carry (yet) are read as empty.
    return recs.select(
        pl.col(c) if c in recs.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in SHIPMENT_SCHEMA.items()
    )


def load_declarations(session: Session) -> pl.DataFrame:
    """Every declaration joined to its facility, as a DECLARATION_SCHEMA frame."""
    stmt = select(
        Declaration.facility_id,
        Facility.name,
        Facility.name_norm,
        Facility.country,
        Declaration.activity,
        Declaration.substance,
        Declaration.substance_cas,
        Declaration.declared_annual_kg,
        Declaration.declaration_year,
    ).join(Facility, Facility.facility_id == Declaration.facility_id)
    return _read(session, stmt, DECLARATION_SCHEMA)


def _screen_version() -> str:
    """Changes whenever the watchlist or the screening code changes: cached verdicts expire."""
    import detection.screening as scr

    h = hashlib.sha256()
    root = Path(scr.__file__).parent
    for p in sorted([*root.glob("*.py"), *root.glob("data/*")]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _text_hash(product: str, cas: str | None) -> str:
    return hashlib.sha256(f"detect\x1f{product}\x1f{cas or ''}".encode()).hexdigest()


class _CachedScreener:
    """Screens only (product, cas) pairs without a current cached verdict; remembers new ones."""

    def __init__(self, session: Session) -> None:
        from registry.early_warning import promoted_substances

        self.session = session
        # Analogues promoted to the watchlist screen as controlled; a promotion must
        # invalidate every cached verdict, so the promoted list is part of the version.
        self.extra = promoted_substances(session)
        promoted = ",".join(sorted(f"{p.cas}:{p.smiles}" for p in self.extra))
        self.version = _screen_version()
        if promoted:
            self.version = hashlib.sha256(f"{self.version}|{promoted}".encode()).hexdigest()[:16]
        self.new_rows = 0

    def __call__(self, pairs: pl.DataFrame) -> pl.DataFrame:
        if pairs.height == 0:
            return default_screener(pairs, self.extra)
        pairs = pairs.with_columns(
            pl.struct("product", "cas")
            .map_elements(lambda r: _text_hash(r["product"], r["cas"]), return_dtype=pl.String)
            .alias("_h")
        )
        cached_rows = self.session.execute(
            select(
                ScreenResult.text_hash,
                ScreenResult.verdict,
                ScreenResult.substance_cas,
                ScreenResult.substance_name,
                ScreenResult.score,
                ScreenResult.method,
                ScreenResult.explanation,
            ).where(ScreenResult.watchlist_version == self.version)
        ).all()
        cache_schema = {
            "_h": pl.String(),
            "verdict": pl.String(),
            "substance_cas": pl.String(),
            "substance_name": pl.String(),
            "score": pl.Float64(),
            "method": pl.String(),
            "explanation": pl.String(),
        }
        cached = pl.DataFrame(
            [tuple(r) for r in cached_rows], schema=list(cache_schema.items()), orient="row"
        )
        hit = pairs.join(cached, on="_h", how="inner")
        miss = pairs.join(cached.select("_h"), on="_h", how="anti")
        fresh = default_screener(miss.select("product", "cas"), self.extra) if miss.height else None
        parts = [hit.drop("_h")]
        if fresh is not None and fresh.height:
            fresh = fresh.join(miss, on=["product", "cas"], how="left", nulls_equal=True)
            hashes = fresh["_h"].to_list()
            self.session.execute(delete(ScreenResult).where(ScreenResult.text_hash.in_(hashes)))
            self.session.execute(
                insert(ScreenResult),
                [
                    {
                        "text_hash": r["_h"],
                        "product": r["product"],
                        "cas": r["cas"],
                        "verdict": r["verdict"],
                        "substance_cas": r["substance_cas"],
                        "substance_name": r["substance_name"],
                        "score": float(r["score"] or 0.0),
                        "method": r["method"] or "",
                        "explanation": r["explanation"] or "",
                        "watchlist_version": self.version,
                    }
                    for r in fresh.iter_rows(named=True)
                ],
            )
            self.new_rows += fresh.height
            parts.append(fresh.select(hit.drop("_h").columns))
        return pl.concat(parts, how="vertical_relaxed")


def _overrides(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(DetectorSetting.detector, DetectorSetting.values)).all()
    return {d: dict(v or {}) for d, v in rows}


def _thresholds(cfgs: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(json.dumps(v.__dict__, default=str)) for k, v in cfgs.items()}


def run_detection(
    engine: Engine,
    *,
    as_of: dt.date | None = None,
    progress: Callable[[str, int, float], None] | None = None,
    runner: Callable[..., pl.DataFrame] | None = None,
    shipments: pl.DataFrame | None = None,
) -> RunSummary:
    """Run every detector over everything loaded and upsert the alerts (one transaction).

    `runner` runs the detectors (default `run_detectors` in this process; an engine such as
    detection.engines.spark.SparkDetectors takes the same arguments and returns the same
    frame). `shipments`: the records as exported from this registry (`pwatch export
    shipments`) instead of reading them here; every one must be a record of this registry."""
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    phases: dict[str, float] = {}
    mark = [t0]

    def lap(name: str) -> None:
        t = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + t - mark[0]
        mark[0] = t

    with session_scope(engine) as session:
        overrides = _overrides(session)
        cfgs = configs(overrides)  # raises ValueError on a bad stored override
        thresholds = _thresholds(cfgs)
        decls = load_declarations(session)
        mode = str(getattr(runner, "mode", "full"))
        run = DetectionRun(started_at=now, mode=mode, config=dict(thresholds))
        session.add(run)
        session.flush()

        def read() -> pl.DataFrame:
            # Prepare holds the only reference to the records as read, and lets go of them
            # once it has its own columns (a million records: about 0.3 GB for the rest of
            # the run).
            ships = load_shipments(session) if shipments is None else _known(session, shipments)
            run.shipments_seen = ships.height
            run.max_batch_id = int(ships["batch_id"].max()) if ships.height else None  # type: ignore[arg-type]
            lap("read")
            if progress:
                progress("load", ships.height, time.perf_counter() - t0)
            return ships

        screener = _CachedScreener(session)
        ctx = prepare_for(read, decls, overrides, as_of=as_of, screener=screener, progress=progress)
        lap("prepare")
        notes: list[pl.DataFrame] = []
        alerts = (runner or run_detectors)(ctx, overrides, progress=progress, notes=notes)
        lap("detect")
        summary = RunSummary(run.id, run.shipments_seen, 0.0, screened_new=screener.new_rows)
        summary.unjudged = pl.concat([unjudged(ctx), *notes]).to_dicts()
        summary.as_of_note = ctx.as_of_note
        _upsert(session, alerts, run.id, now, summary)
        lap("write")
        summary.early_warnings = _record_early_warnings(session, ctx.shipments)
        lap("early_warnings")
        run.finished_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        run.alerts_new = summary.new
        run.alerts_updated = summary.updated
    lap("write")  # the commit
    summary.phases = phases
    summary.seconds = time.perf_counter() - t0
    return summary


def _known(session: Session, shipments: pl.DataFrame) -> pl.DataFrame:
    """Records read from an export, each checked to be a record of this registry (alerts
    link to records by their registry id)."""
    ids = _read(session, select(ShipmentRecord.id), {"id": pl.Int64()})
    stray = shipments.select("id").join(ids, on="id", how="anti")
    if stray.height:
        raise ValueError(
            f"{stray.height:,} of the {shipments.height:,} shipment records given are not "
            "records of this registry: export them from it with `pwatch export shipments`"
        )
    return shipments.select(pl.col(c).cast(t) for c, t in SHIPMENT_SCHEMA.items())


@dataclass
class _Plan:
    """What one run changes in the alert table: rows to insert (with their records), rows to
    refresh, rows seen again unchanged, and the record links to write."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    insert_pks: list[list[int]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    new_links: list[dict[str, int]] = field(default_factory=list)


def _known_alerts(
    session: Session, fingerprints: list[str]
) -> tuple[dict[str, tuple[Any, ...]], dict[int, set[int]]]:
    """The stored alerts of these fingerprints (id, score, severity, summary, evidence) and
    the records each is linked to."""
    known = {
        fp: (aid, score, severity, summary_, evidence)
        for aid, fp, score, severity, summary_, evidence in session.execute(
            select(
                AlertRow.id,
                AlertRow.fingerprint,
                AlertRow.score,
                AlertRow.severity,
                AlertRow.summary,
                AlertRow.evidence,
            ).where(AlertRow.fingerprint.in_(fingerprints))
        ).all()
    }
    links_known: dict[int, set[int]] = {}
    if known:
        ids = [v[0] for v in known.values()]
        for aid, pk in session.execute(
            select(AlertShipment.alert_id, AlertShipment.shipment_pk).where(
                AlertShipment.alert_id.in_(ids)
            )
        ).all():
            links_known.setdefault(aid, set()).add(pk)
    return known, links_known


def _plan(
    alerts: pl.DataFrame,
    known: dict[str, tuple[Any, ...]],
    links_known: dict[int, set[int]],
    now: dt.datetime,
    run_id: int,
    summary: RunSummary,
) -> _Plan:
    """Each alert of the run as an insert, a refresh of new evidence, or unchanged."""
    plan = _Plan()
    for r in alerts.iter_rows(named=True):
        counts = summary.per_detector.setdefault(
            r["detector"], {"new": 0, "updated": 0, "unchanged": 0}
        )
        evidence = json.loads(r["evidence"])
        pks = sorted(set(r["shipment_pks"] or []))
        fields = {
            "detector": r["detector"],
            "severity": r["severity"],
            "score": float(r["score"]),
            "summary": r["summary"],
            "evidence": evidence,
            "facility_id": r["facility_id"],
            "substance_cas": r["substance_cas"],
            "country": (r["country"] or None) and str(r["country"])[:3],
        }
        old = known.get(r["fingerprint"])
        if old is None:
            plan.inserts.append(
                {
                    "fingerprint": r["fingerprint"], "status": "new", "version": 1,
                    "created_at": now, "updated_at": now, "last_detected_at": now,
                    "detection_run_id": run_id, **fields,
                }
            )  # fmt: skip
            plan.insert_pks.append(pks)
            counts["new"] += 1
            continue
        aid, score, severity, summ, ev = old
        same = (
            abs(float(score) - fields["score"]) < 1e-9
            and severity == fields["severity"]
            and summ == fields["summary"]
            and json.dumps(ev, sort_keys=True) == json.dumps(evidence, sort_keys=True)
            and links_known.get(aid, set()) == set(pks)
        )
        if same:
            plan.unchanged_ids.append(aid)
            counts["unchanged"] += 1
            continue
        # New evidence: refresh what detection owns; status, assignee and triage stay.
        plan.updates.append({"_id": aid, **{f"_{k}": v for k, v in fields.items()}})
        plan.new_links += [{"alert_id": aid, "shipment_pk": pk} for pk in pks]
        counts["updated"] += 1
    return plan


def _write(session: Session, plan: _Plan, run_id: int, now: dt.datetime) -> None:
    """Carry out a plan: inserts, refreshes (their old record links dropped), the last
    detection time of the unchanged, and the new record links."""
    table = cast(Table, AlertRow.__table__)
    new_links = list(plan.new_links)
    if plan.inserts:
        # One statement per few hundred rows (RETURNING in parameter order: alert ids are
        # assigned in score order, as row by row).
        ins = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = [row[0] for row in session.execute(ins, plan.inserts)]
        for aid, pks in zip(ids, plan.insert_pks, strict=True):
            new_links += [{"alert_id": int(aid), "shipment_pk": pk} for pk in pks]
    if plan.updates:
        upd = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(
                {
                    **{k[1:]: bindparam(k) for k in plan.updates[0] if k != "_id"},
                    "updated_at": now,
                    "last_detected_at": now,
                    "detection_run_id": run_id,
                    "version": table.c.version + 1,
                }
            )
        )
        session.execute(upd, plan.updates)
        changed = [u["_id"] for u in plan.updates]
        for i in range(0, len(changed), 5000):
            session.execute(
                delete(AlertShipment).where(AlertShipment.alert_id.in_(changed[i : i + 5000]))
            )
    for i in range(0, len(plan.unchanged_ids), 5000):
        session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(plan.unchanged_ids[i : i + 5000]))
            .values(last_detected_at=now)
            .execution_options(synchronize_session=False)
        )
    if new_links:
        session.execute(insert(AlertShipment), new_links)


def _upsert(
    session: Session, alerts: pl.DataFrame, run_id: int, now: dt.datetime, summary: RunSummary
) -> None:
    """Store a run's alerts: new ones inserted, known ones refreshed when their evidence
    changed (their triage state kept), the rest marked as seen again."""
    for d in DETECTORS:
        summary.per_detector.setdefault(d.name, {"new": 0, "updated": 0, "unchanged": 0})
    if alerts.height == 0:
        return
    alerts = alerts.with_columns(
        pl.concat_str(["detector", "key"], separator="|")
        .map_elements(lambda s: hashlib.sha256(s.encode()).hexdigest(), return_dtype=pl.String)
        .alias("fingerprint")
    )
    known, links_known = _known_alerts(session, alerts["fingerprint"].to_list())
    _write(session, _plan(alerts, known, links_known, now, run_id, summary), run_id, now)


def _record_early_warnings(session: Session, shipments: pl.DataFrame) -> int:
    """Designer-precursor names seen become (or refresh) early-warning records, with the
    structure the screen read, so a supervisor can promote them to the watchlist."""
    from detection.screening import screen_names
    from detection.surveillance import surveillance_parent
    from registry.early_warning import name_key, record_early_warnings

    seen = shipments.filter(pl.col("designer").is_not_null())
    if seen.height == 0:
        return 0
    names = seen["product"].unique().to_list()
    # Names already on record with a structure need no second structure read.
    known = {
        k
        for (k,) in session.execute(
            select(EarlyWarning.name_key).where(EarlyWarning.smiles.is_not(None))
        )
    }
    todo = [n for n in names if name_key(n) not in known]
    structure = pl.DataFrame(
        schema={"product": pl.String(), "smiles": pl.String(), "nearest_similarity": pl.Float64()}
    )
    if todo:
        structure = screen_names(todo).select(
            pl.col("name").alias("product"), "smiles", "nearest_similarity"
        )
    parents = {d: surveillance_parent(d) or d for d in seen["designer"].unique().to_list()}
    rows = seen.select(
        "product",
        pl.col("designer").replace_strict(parents, return_dtype=pl.String).alias("substance_cas"),
        pl.col("screen_explanation").alias("explanation"),
        "date", "quantity_kg", "shipment_id", "exporter", "importer",
        "exporter_country", "importer_country",
    ).join(structure, on="product", how="left")  # fmt: skip
    return record_early_warnings(session, rows)
