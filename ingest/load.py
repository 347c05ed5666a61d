"""Loading a feed into the registry in ONE transaction: batch, rows, quarantine, findings, links."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, func, insert, select, text, update

from ingest.link import LinkConfig, LinkIndex
from ingest.normalise import normalise_company
from ingest.profile import (
    Profile,
    ProfileError,
    canonical_key,
    declared_header_factor,
    header_currency,
    header_unit,
    read_profile,
    resolve_mapping,
)
from ingest.readers import ReadError, SourceFile, open_source
from ingest.transform import (
    Context,
    count_reasons,
    shape,
    top_reasons,
)
from registry.models import (
    AmbiguousLink,
    DataQualityFinding,
    Declaration,
    Facility,
    IngestBatch,
    Party,
    QuarantinedRow,
    ShipmentRecord,
)
from registry.shipments import RECORD_COLUMNS, PartyBook

__all__ = ["LoadReport", "check_file", "load_file", "preview", "relink_shipments"]

_SQLITE_CACHE_KB = 512 * 1024
_SQLITE_SORT_CACHE_KB = 2 * 1024  # while rebuilding indexes (see _ShipmentWriter.finish)
_DEFER_INDEX_MIN_ROWS = 100_000
_MAX_SEGMENTS = 8  # staging files attached per load (SQLite allows 10 attached databases)
# Staged columns: batch_id is the same on every row and inlined as a literal.
_STAGED = [c for c in RECORD_COLUMNS if c != "batch_id"]

Progress = Callable[[int, int | None], None]  # (rows done, estimated total rows or None)


@dataclass
class LoadReport:
    """What a load did. status: 'loaded' or 'already_loaded' (same file hash seen before)."""

    batch_id: int | None
    kind: str
    status: str
    file_name: str
    file_hash: str
    source: str
    rows_total: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_updated: int = 0  # facilities: declarations that replaced an earlier one
    findings: int = 0
    linked: int = (
        0  # shipments: parties linked to a declared facility; facilities: relinked parties
    )
    ambiguous: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0
    # Without a profile: columns taken by a usual header name ("Consignee" -> importer), and
    # the file's columns that feed no canonical field (not loaded).
    mapped_by_synonym: dict[str, str] = field(default_factory=dict)
    unused_columns: list[str] = field(default_factory=list)
    examples: list[tuple[int, list[str]]] = field(default_factory=list)  # check: first bad rows
    # What the load did to some loaded rows without stopping them (message -> rows), e.g.
    # values kept without a US-dollar amount.
    notes: dict[str, int] = field(default_factory=dict)

    def add_notes(self, notes: dict[str, int]) -> None:
        for message, n in notes.items():
            self.notes[message] = self.notes.get(message, 0) + n

    def summary(self) -> str:
        if self.status == "checked":
            return (
                f"{self.file_name} checked, nothing written ({self.kind}, source "
                f"{self.source!r}): {self.rows_loaded} would load, {self.rows_quarantined} "
                f"would be quarantined of {self.rows_total} rows in {self.seconds:.1f} s"
            )
        if self.status == "already_loaded":
            return (
                f"{self.file_name} was already loaded as batch {self.batch_id} "
                f"({self.rows_loaded} loaded, {self.rows_duplicate} duplicate, "
                f"{self.rows_quarantined} quarantined); nothing to do"
            )
        return (
            f"batch {self.batch_id} ({self.kind}, source {self.source!r}): "
            f"{self.rows_loaded} loaded, {self.rows_duplicate} duplicate, "
            f"{self.rows_quarantined} quarantined of {self.rows_total} rows"
            f" in {self.seconds:.1f} s"
        )


def _profile_of(profile: Profile | str | Path | None) -> Profile | None:
    if profile is None or isinstance(profile, Profile):
        return profile
    return read_profile(profile)


def _default_source(path: Path, prof: Profile | None, source: str | None) -> tuple[str, bool]:
    """(batch source, whether it overrides a per-row source column)."""
    if source:
        return source.strip(), True
    if prof is not None and prof.options.get("source"):
        return str(prof.options["source"]).strip(), True
    name = path.name
    for suffix in (".gz",):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return Path(name).stem, False


def preview(
    path: str | Path, kind: str, profile: Profile | str | Path | None = None, rows: int = 20
) -> tuple[pl.DataFrame, dict[str, str], list[str]]:
    """The first rows mapped to canonical names, the mapping used, and problems found (no DB)."""
    prof = _profile_of(profile)
    problems: list[str] = []
    with open_source(path, prof.options if prof else None) as src:
        try:
            mapping = resolve_mapping(src.columns, kind, prof)
        except ProfileError as exc:
            problems.append(str(exc))
            mapping = {}
            from ingest.fields import fields_of
            from ingest.profile import canonical_key

            keys = {canonical_key(c): c for c in src.columns}
            for spec in fields_of(kind):
                if canonical_key(spec.name) in keys:
                    mapping[spec.name] = keys[canonical_key(spec.name)]
        unused = _unused_columns(src, mapping)
        if unused:
            problems.append(
                "not loaded (no canonical field): " + ", ".join(repr(c) for c in unused[:20])
            )
        head = src.head(rows)
        exprs = [pl.col("__row").alias("row_number")]
        for canon, col in mapping.items():
            exprs.append(pl.col(f"c{src.columns.index(col)}").alias(canon))
        frame = head.select(exprs)
        if head.height:
            ctx = _context(src, kind, mapping, prof, Path(path), None)
            try:
                shaped = shape(head, ctx)
                for row, _, reasons in shaped.quarantined:
                    problems.append(f"row {row}: " + "; ".join(reasons))
            except Exception as exc:  # a preview never fails on a value
                problems.append(str(exc))
        else:
            problems.append("the file has no data rows")
    return frame, mapping, problems


def check_file(
    path: str | Path,
    kind: str,
    profile: Profile | str | Path | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    *,
    chunk_size: int = 250_000,
) -> LoadReport:
    """Read, map and validate a whole file as a load would, writing nothing (no database):
    the rows that would load or go to quarantine, with the top reasons and the columns used.
    Duplicates against the registry and party links are only known to a real load."""
    if kind not in ("facilities", "shipments"):
        raise ValueError(f"unknown kind {kind!r}: use facilities or shipments")
    started = time.perf_counter()
    path = Path(path)
    prof = _profile_of(profile)
    with open_source(path, prof.options if prof else None) as src:
        mapping = resolve_mapping(src.columns, kind, prof)
        ctx = _context(src, kind, mapping, prof, path, source)
        report = _new_report("checked", src, ctx, prof, mapping, path)
        reasons: dict[str, int] = {}
        for chunk in _chunks(src, chunk_size, progress):
            shaped = shape(chunk, ctx)
            report.rows_total += shaped.rows
            report.rows_loaded += shaped.good.height
            report.rows_quarantined += len(shaped.quarantined)
            report.findings += len(shaped.findings)
            report.add_notes(shaped.notes)
            count_reasons(shaped.quarantined, reasons)
            for row, _, why in shaped.quarantined[: max(0, 10 - len(report.examples))]:
                report.examples.append((row, list(why)))
        report.top_reasons = top_reasons(reasons)
    if report.rows_total == 0:
        raise ReadError(f"{path.name} has a header but no data rows")
    report.seconds = time.perf_counter() - started
    return report


def _unused_columns(src: SourceFile, mapping: dict[str, str]) -> list[str]:
    """The file's columns that feed no canonical field (not loaded)."""
    used = set(mapping.values())
    return [c for c in src.columns if c not in used]


def _new_report(
    status: str,
    src: SourceFile,
    ctx: Context,
    prof: Profile | None,
    mapping: dict[str, str],
    path: Path,
) -> LoadReport:
    """An empty report of a load or a check, with the columns it read and did not read."""
    profiled = set(prof.columns) if prof else set()
    synonyms = {
        col: canon
        for canon, col in mapping.items()
        if canon not in profiled and canonical_key(col) != canonical_key(canon)
    }
    unit = header_unit(mapping, ctx.kind)
    if unit and not (prof and prof.options.get("default_unit")):
        synonyms[mapping["quantity"]] = f"quantity (unit {unit} from the header)"
    currency = header_currency(mapping, ctx.kind)
    if currency:
        synonyms[mapping["value"]] = f"value (currency {currency} from the header)"
    factor = declared_header_factor(mapping.get("declared_annual_kg", ""))
    if ctx.kind == "facilities" and factor and factor != 1.0:
        synonyms[mapping["declared_annual_kg"]] = (
            f"declared_annual_kg (x {factor:g} to kg, by the unit in its header)"
        )
    return LoadReport(
        batch_id=None,
        kind=ctx.kind,
        status=status,
        file_name=path.name,
        file_hash=src.file_hash,
        source=ctx.source,
        mapped_by_synonym=synonyms,
        unused_columns=_unused_columns(src, mapping),
    )


def _context(
    src: SourceFile,
    kind: str,
    mapping: dict[str, str],
    prof: Profile | None,
    path: Path,
    source: str | None,
) -> Context:
    batch_source, overrides = _default_source(path, prof, source)
    options = dict(prof.options) if prof else {}
    unit = header_unit(mapping, kind)
    if unit and not options.get("default_unit"):  # "Net Weight (kg)": every row's unit
        options["default_unit"] = unit
    currency = header_currency(mapping, kind)
    if currency:  # "Value (USD)": every value's currency (the header says so, not a guess)
        options["default_currency"] = currency
    return Context(
        kind=kind,
        columns=src.columns,
        mapping=mapping,
        options=options,
        densities=dict(prof.densities) if prof else {},
        source=batch_source,
        source_overrides_column=overrides,
        file_hash=src.file_hash,
    )


def _load_link_index(conn: Connection, config: LinkConfig | None = None) -> LinkIndex:
    rows = conn.execute(
        select(Facility.facility_id, Facility.name, Facility.name_norm, Facility.country)
    ).all()
    # Norms recomputed from the names: a registry loaded by an older release links the same way.
    facilities = [(fid, name, normalise_company(name) or norm, c) for fid, name, norm, c in rows]
    return LinkIndex(facilities, config or LinkConfig())


def load_file(
    engine: Engine,
    path: str | Path,
    kind: str,
    profile: Profile | str | Path | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    *,
    chunk_size: int = 250_000,
    loaded_by: str | None = None,
    link_config: LinkConfig | None = None,
) -> LoadReport:
    """Load one facilities or shipments file into the registry, all or nothing.

    Raises ProfileError / ReadError (one-line messages) for file-level problems; bad rows
    are quarantined instead. Loading a file whose hash is already recorded is a no-op.
    """
    if kind not in ("facilities", "shipments"):
        raise ValueError(f"unknown kind {kind!r}: use facilities or shipments")
    started = time.perf_counter()
    path = Path(path)
    prof = _profile_of(profile)
    if prof is not None and prof.kind is not None and prof.kind != kind:
        raise ProfileError(
            f'profile {prof.path} is for {prof.kind}, not {kind}: use a profile with kind = "{kind}"'
        )
    with open_source(path, prof.options if prof else None) as src:
        with engine.connect() as conn:
            prior = conn.execute(
                select(
                    IngestBatch.id,
                    IngestBatch.source,
                    IngestBatch.rows_total,
                    IngestBatch.rows_loaded,
                    IngestBatch.rows_duplicate,
                    IngestBatch.rows_quarantined,
                ).where(IngestBatch.kind == kind, IngestBatch.file_hash == src.file_hash)
            ).first()
        if prior is not None:
            return LoadReport(
                batch_id=prior.id,
                kind=kind,
                status="already_loaded",
                file_name=path.name,
                file_hash=src.file_hash,
                source=prior.source,
                rows_total=prior.rows_total,
                rows_loaded=prior.rows_loaded,
                rows_duplicate=prior.rows_duplicate,
                rows_quarantined=prior.rows_quarantined,
            )
        mapping = resolve_mapping(src.columns, kind, prof)
        ctx = _context(src, kind, mapping, prof, path, source)
        report = _new_report("loaded", src, ctx, prof, mapping, path)
        cleanups: list[Callable[[], None]] = []
        with engine.connect() as conn:
            try:
                with conn.begin():
                    _load_in_transaction(
                        conn,
                        src,
                        ctx,
                        report,
                        prof,
                        mapping,
                        path,
                        kind,
                        progress,
                        chunk_size,
                        loaded_by,
                        link_config,
                        cleanups,
                    )
            finally:
                for cleanup in cleanups:
                    cleanup()
    report.seconds = time.perf_counter() - started
    return report


def _load_in_transaction(
    conn: Connection,
    src: SourceFile,
    ctx: Context,
    report: LoadReport,
    prof: Profile | None,
    mapping: dict[str, str],
    path: Path,
    kind: str,
    progress: Progress | None,
    chunk_size: int,
    loaded_by: str | None,
    link_config: LinkConfig | None,
    cleanups: list[Callable[[], None]],
) -> None:
    batch_id = conn.execute(
        insert(IngestBatch).returning(IngestBatch.id),
        {
            "kind": kind,
            "source": ctx.source,
            "file_name": path.name,
            "file_hash": src.file_hash,
            "profile": {**(prof.as_dict() if prof else {}), "mapping": mapping},
            "loaded_by": loaded_by,
        },
    ).scalar_one()
    ctx.batch_id = batch_id
    report.batch_id = batch_id
    if kind == "shipments":
        ctx.link_index = _load_link_index(conn, link_config)
        _load_shipments(conn, src, ctx, report, progress, chunk_size, cleanups)
    else:
        _load_facilities(conn, src, ctx, report, progress, chunk_size)
        relinked = relink_shipments(conn, batch_id, link_config)
        report.linked = relinked
    if report.rows_total == 0:
        raise ReadError(f"{path.name} has a header but no data rows; nothing was loaded")
    report.ambiguous += _store_ambiguous(conn, ctx)
    conn.execute(
        update(IngestBatch)
        .where(IngestBatch.id == batch_id)
        .values(
            finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            rows_total=report.rows_total,
            rows_loaded=report.rows_loaded,
            rows_duplicate=report.rows_duplicate,
            rows_quarantined=report.rows_quarantined,
        )
    )


def _estimate_total(src: SourceFile, first: pl.DataFrame) -> int | None:
    if src.fmt != "csv" or first.height == 0:
        return first.height if src.fmt in ("excel", "json") else None
    cols = [c for c in first.columns if c != "__row"]
    nbytes = first.select(
        pl.sum_horizontal([pl.col(c).str.len_bytes().fill_null(0) for c in cols]).sum()
    ).item() + first.height * len(cols)
    return max(first.height, int(src.size * first.height / max(nbytes, 1)))


def _chunks(src: SourceFile, chunk_size: int, progress: Progress | None) -> Iterator[pl.DataFrame]:
    total: int | None = None
    done = 0
    for i, chunk in enumerate(src.batches(chunk_size)):
        if i == 0:
            total = _estimate_total(src, chunk)
        done += chunk.height
        yield chunk
        if progress is not None:
            progress(done, max(total, done) if total else None)


def _store_quarantine(
    conn: Connection, ctx: Context, shaped: Any, report: LoadReport, reasons: dict[str, int]
) -> None:
    if shaped.quarantined:
        conn.execute(
            insert(QuarantinedRow),
            [
                {"batch_id": ctx.batch_id, "row_number": r, "raw": raw, "reasons": rs}
                for r, raw, rs in shaped.quarantined
            ],
        )
        count_reasons(shaped.quarantined, reasons)
        report.rows_quarantined += len(shaped.quarantined)
    if shaped.findings:
        conn.execute(
            insert(DataQualityFinding),
            [
                {"batch_id": ctx.batch_id, "row_number": r, "field": f, "value": v, "finding": m}
                for r, f, v, m in shaped.findings
            ],
        )
        report.findings += len(shaped.findings)


def _load_shipments(
    conn: Connection,
    src: SourceFile,
    ctx: Context,
    report: LoadReport,
    progress: Progress | None,
    chunk_size: int,
    cleanups: list[Callable[[], None]],
) -> None:
    reasons: dict[str, int] = {}
    writer = _ShipmentWriter(conn, ctx.batch_id)
    book = PartyBook(conn)  # after the batch row: the load holds the write lock
    stager = _Stager.for_writer(writer, chunk_size)
    if stager is not None:
        cleanups.append(lambda: writer.release(stager))

    def shaped_chunks() -> Iterator[tuple[int, Any, int, pl.DataFrame | None, Any]]:
        """(estimate, shaped, links counted, new parties, staged segment or the good rows)
        per chunk."""
        try:
            for i, chunk in enumerate(_chunks(src, chunk_size, progress)):
                estimate = (_estimate_total(src, chunk) or chunk.height) if i == 0 else 0
                shaped = shape(chunk, ctx)
                good = shaped.good
                linked = (
                    good.select(
                        pl.col("exporter_facility_id").is_not_null().sum()
                        + pl.col("importer_facility_id").is_not_null().sum()
                    ).item()
                    if good.height
                    else 0
                )
                shaped.good = good.clear()
                rows, parties = book.assign(good)
                if stager is None:
                    yield estimate, shaped, linked, parties, rows
                    continue
                if estimate:
                    stager.plan(estimate)
                yield estimate, shaped, linked, parties, stager.add(rows)
            if stager is not None:
                yield 0, None, 0, None, stager.seal()
        finally:
            if stager is not None:
                stager.close()

    # Reading, shaping and staging the next batch (polars and ADBC, GIL released) overlap
    # the database write of the previous one (sqlite3 releases the GIL while stepping;
    # psycopg while copying).
    items = _prefetch(shaped_chunks())
    try:
        for estimate, shaped, linked, parties, rows in items:
            if estimate:
                writer.defer_indexes(estimate)
            if parties is not None:
                book.store(conn, parties)
            if shaped is not None:
                report.rows_total += shaped.rows
                _store_quarantine(conn, ctx, shaped, report, reasons)
                report.add_notes(shaped.notes)
                report.linked += linked
            if rows is None:
                continue
            offered, inserted = writer.write(rows)
            report.rows_loaded += inserted
            report.rows_duplicate += offered - inserted
    finally:
        items.close()
    writer.finish()
    book.finish(conn)
    report.top_reasons = top_reasons(reasons)


_DONE = object()


def _prefetch(items: Iterator[Any], depth: int = 1) -> Generator[Any, None, None]:
    """Iterate `items` in a helper thread, `depth` items ahead; errors re-raised here."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", _DONE))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally runs here, in its own thread

    thread = threading.Thread(target=run, name="pwatch-ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


@dataclass
class _Segment:
    """A staging SQLite file holding shaped rows (table t), ready to be copied by SQL."""

    path: Path
    rows: int


class _Stager:
    """Writes shaped shipment rows into scratch SQLite files through ADBC (Arrow, bound in C),
    from the reader thread. The load's own connection then ATTACHes each sealed file and
    copies it with one INSERT ... SELECT inside the load's transaction: the registry is only
    ever written by that transaction; the scratch files are outside it (no journal, deleted
    after the load; one left behind by a kill -9 holds nothing the registry depends on).

    A connection cannot see tables created after it first read an attached file, so every
    handover is a new file; SQLite allows 10 attached files, so a big load is cut into at
    most _MAX_SEGMENTS files (the last takes whatever the size estimate missed)."""

    def __init__(self, adbc: Any, chunk_size: int) -> None:
        self._adbc = adbc
        _remove_orphan_staging()
        self._dir = Path(tempfile.mkdtemp(prefix=f"pwatch-stage-{os.getpid()}-"))
        self._chunk_size = chunk_size
        self._per_segment = 1  # chunks per file, set by plan()
        self._made = 0
        self._chunks_in_current = 0
        self._rows_in_current = 0
        self._conn: Any = None
        self._path: Path | None = None

    @classmethod
    def for_writer(cls, writer: _ShipmentWriter, chunk_size: int) -> _Stager | None:
        if writer.dialect != "sqlite":
            return None
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:  # pragma: no cover - a declared dependency; executemany then
            return None
        return cls(adbc, chunk_size)

    def plan(self, estimate: int) -> None:
        chunks = max(1, -(-estimate // max(self._chunk_size, 1)))
        self._per_segment = max(1, -(-chunks // (_MAX_SEGMENTS - 1)))

    def add(self, good: pl.DataFrame) -> _Segment | None:
        """Stage `good`; returns the file to copy now when this chunk completes one."""
        if good.height:
            if self._conn is None:
                self._made += 1
                self._path = self._dir / f"stage{self._made}.db"
                self._conn = self._adbc.connect(str(self._path), autocommit=True)
                cur = self._conn.cursor()
                cur.execute("PRAGMA journal_mode = OFF")
                cur.execute("PRAGMA synchronous = OFF")
                cur.close()
            table = good.select(_STAGED).to_arrow(compat_level=pl.CompatLevel.oldest())
            cur = self._conn.cursor()
            cur.adbc_ingest("t", table, mode="create_append")
            cur.close()
            self._rows_in_current += good.height
        self._chunks_in_current += 1
        if self._chunks_in_current >= self._per_segment and self._made < _MAX_SEGMENTS:
            return self.seal()
        return None

    def seal(self) -> _Segment | None:
        self._chunks_in_current = 0
        if self._conn is None or self._path is None:
            return None
        self._conn.close()
        self._conn = None
        seg = _Segment(self._path, self._rows_in_current)
        self._rows_in_current = 0
        return seg

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def remove(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _remove_orphan_staging() -> None:
    """Scratch directories left by a load that was killed (kill -9, power loss): removed once
    the process named in the directory is gone."""
    for d in Path(tempfile.gettempdir()).glob("pwatch-stage-*-*"):
        try:
            pid = int(d.name.split("-")[2])
            os.kill(pid, 0)  # raises if there is no such process
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, OSError):
            continue  # not ours to judge, or another user's live process


class _ShipmentWriter:
    """Bulk insert of shaped shipment rows through the raw DBAPI connection (same transaction).

    (source, shipment_id) already present (in the registry or earlier in the file) is skipped
    by ON CONFLICT DO NOTHING; write() returns (rows offered, rows actually inserted)."""

    def __init__(self, conn: Connection, batch_id: int) -> None:
        self.conn = conn
        self._consts = str(int(batch_id))
        self.dialect = conn.dialect.name
        self.raw = conn.connection.driver_connection
        # (drop, restore) statements of the indexes and keys set aside for a big load
        self._deferred: list[tuple[str, str]] = []
        self._attached: list[str] = []
        cols = ", ".join(RECORD_COLUMNS)
        if self.dialect == "postgresql":
            cur = self.raw.cursor()  # type: ignore[union-attr]
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS pwatch_ingest_shipments AS "
                f"SELECT {cols} FROM shipment_records WITH NO DATA"
            )
            cur.execute("TRUNCATE pwatch_ingest_shipments")
            cur.close()
        else:
            # The default 2 MB page cache makes index maintenance of a big load disk-bound;
            # a larger cache for this connection's load (restored in finish) avoids that.
            cur = self.raw.cursor()  # type: ignore[union-attr]
            self._cache_size = cur.execute("PRAGMA cache_size").fetchone()[0]
            self._threads = cur.execute("PRAGMA threads").fetchone()[0]
            cur.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KB}")
            cur.execute("PRAGMA threads = 2")  # index builds sort with a helper thread
            cur.close()
            # batch_id is the same on every row: inlined, not bound per row.
            self._bound = list(_STAGED)

    def defer_indexes(self, expected_rows: int) -> None:
        """For a load bigger than the table, drop the secondary indexes (and on PostgreSQL the
        foreign keys) now and restore them in finish(), inside the same transaction: one sort
        per index beats a million random inserts, one check per key a million lookups. (On
        PostgreSQL this holds an exclusive lock on shipment_records until commit, so it is
        only done when the table is smaller than the load, e.g. an initial bulk load.)"""
        if self._deferred or expected_rows < _DEFER_INDEX_MIN_ROWS:
            return
        cur = self.raw.cursor()  # type: ignore[union-attr]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM shipment_records")
        existing = cur.fetchone()[0]
        if existing <= expected_rows:
            if self.dialect == "sqlite":
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'shipment_records' AND sql IS NOT NULL"
                )
            else:
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename = 'shipment_records' "
                    "AND schemaname = current_schema() AND indexdef NOT LIKE 'CREATE UNIQUE%'"
                )
            found = [(f'DROP INDEX "{name}"', str(sql)) for name, sql in cur.fetchall()]
            if self.dialect == "postgresql":
                # PostgreSQL checks a foreign key with a query per inserted row (three per
                # record: 18 of 24 s for a million); re-added in finish(), each is checked
                # once over the whole table. SQLite's own checks cost little: kept.
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'shipment_records'::regclass AND contype = 'f' "
                    "ORDER BY conname"
                )
                found += [
                    (
                        f'ALTER TABLE shipment_records DROP CONSTRAINT "{name}"',
                        f'ALTER TABLE shipment_records ADD CONSTRAINT "{name}" {definition}',
                    )
                    for name, definition in cur.fetchall()
                ]
            self._deferred = found
            for drop, _ in found:
                cur.execute(drop)
        cur.close()

    def write(self, rows: pl.DataFrame | _Segment) -> tuple[int, int]:
        """Insert one chunk (a frame) or one staged file; (rows offered, rows inserted)."""
        if isinstance(rows, _Segment):
            return rows.rows, self._copy_segment(rows)
        if not rows.height:
            return 0, 0
        if self.dialect == "postgresql":
            return rows.height, self._write_pg(rows)
        return rows.height, self._write_sqlite(rows)

    def _insert_sql(self, values: str) -> str:
        return (
            f"INSERT INTO shipment_records ({', '.join([*self._bound, 'batch_id'])}) "
            f"{values.format(consts=self._consts)} "
            "ON CONFLICT (source, shipment_id) DO NOTHING"
        )

    def _copy_segment(self, seg: _Segment) -> int:
        alias = f"pwatch_stage{len(self._attached) + 1}"
        cur = self.raw.cursor()  # type: ignore[union-attr]
        # Only read by this transaction (which writes nothing but the registry).
        cur.execute(f"ATTACH DATABASE ? AS {alias}", (str(seg.path),))
        self._attached.append(alias)
        cols = ", ".join(self._bound)
        # WHERE true: SQLite's parser needs it before an upsert clause on INSERT ... SELECT.
        cur.execute(self._insert_sql(f"SELECT {cols}, {{consts}} FROM {alias}.t WHERE true"))
        inserted = int(cur.rowcount)
        cur.close()
        return inserted

    def _write_sqlite(self, good: pl.DataFrame) -> int:
        sql = self._insert_sql(f"VALUES ({', '.join('?' * len(self._bound))}, {{consts}})")
        cur = self.raw.cursor()  # type: ignore[union-attr]
        step = 50_000
        inserted = 0
        for off in range(0, good.height, step):
            part = good.slice(off, step)
            rows = zip(*(part.get_column(c).to_list() for c in self._bound), strict=True)
            cur.executemany(sql, rows)
            inserted += cur.rowcount
        cur.close()
        return inserted

    def release(self, stager: _Stager) -> None:
        """After the transaction ended (either way): detach the scratch files, delete them."""
        try:
            cur = self.raw.cursor()  # type: ignore[union-attr]
            for alias in self._attached:
                cur.execute(f"DETACH DATABASE {alias}")
            cur.close()
            self._attached = []
        except Exception:  # a broken connection: never hand it back with files attached
            self.conn.invalidate()
        finally:
            stager.remove()

    def _write_pg(self, good: pl.DataFrame) -> int:
        cols = ", ".join(RECORD_COLUMNS)
        cur = self.raw.cursor()  # type: ignore[union-attr]
        data = good.select(RECORD_COLUMNS).write_csv(
            include_header=False, null_value="\\N", quote_style="non_numeric"
        )
        with cur.copy(
            f"COPY pwatch_ingest_shipments ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            copy.write(data.encode("utf-8"))
        cur.execute(
            f"INSERT INTO shipment_records ({cols}) SELECT {cols} FROM pwatch_ingest_shipments "
            "ORDER BY row_number ON CONFLICT (source, shipment_id) DO NOTHING"
        )
        inserted = cur.rowcount
        cur.execute("TRUNCATE pwatch_ingest_shipments")
        cur.close()
        return int(inserted)

    def finish(self) -> None:
        cur = self.raw.cursor()  # type: ignore[union-attr]
        if self.dialect == "postgresql":
            cur.execute("DROP TABLE IF EXISTS pwatch_ingest_shipments")
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        elif self._deferred:
            # SQLite's index sorter keeps one in-memory run as large as the page cache and
            # sorts it on one thread; with a small cache it cuts the keys into runs that its
            # helper threads sort in parallel, then merges them: about 3x faster here.
            cur.execute(f"PRAGMA cache_size = -{_SQLITE_SORT_CACHE_KB}")
        for _, restore in self._deferred:
            cur.execute(restore)
        self._deferred = []
        if self.dialect == "sqlite":
            cur.execute(f"PRAGMA cache_size = {int(self._cache_size)}")
            cur.execute(f"PRAGMA threads = {int(self._threads)}")
        cur.close()


def _load_facilities(
    conn: Connection,
    src: SourceFile,
    ctx: Context,
    report: LoadReport,
    progress: Progress | None,
    chunk_size: int,
) -> None:
    reasons: dict[str, int] = {}
    parts: list[pl.DataFrame] = []
    for chunk in _chunks(src, chunk_size, progress):
        shaped = shape(chunk, ctx)
        report.rows_total += shaped.rows
        _store_quarantine(conn, ctx, shaped, report, reasons)
        if shaped.good.height:
            parts.append(shaped.good)
    report.top_reasons = top_reasons(reasons)
    if not parts:
        return
    good = pl.concat(parts)
    # The declared substance resolved to the listed substance (free-base CAS), when it is one.
    from detection.screening import screen_names

    pairs = good.select("substance", "cas").unique(maintain_order=True)
    screened = screen_names(pairs["substance"].to_list(), cas=pairs["cas"].to_list())
    resolved = pairs.with_columns(
        pl.when(screened["verdict"] == "controlled")
        .then(screened["substance_cas"])
        .otherwise(None)
        .alias("substance_cas")
    )
    good = good.join(resolved, on=["substance", "cas"], how="left", nulls_equal=True)

    # Facilities: the last row of a facility in the file gives its current record.
    fac = good.sort("row_number").unique("facility_id", keep="last", maintain_order=True)
    ids = fac["facility_id"].to_list()
    existing: set[str] = set()
    for off in range(0, len(ids), 500):
        existing.update(
            conn.execute(
                select(Facility.facility_id).where(Facility.facility_id.in_(ids[off : off + 500]))
            ).scalars()
        )
    fac_rows = [
        {
            "facility_id": r["facility_id"],
            "name": r["name"],
            "name_norm": r["name_norm"],
            "country": r["country"],
            "address": r["address"],
            "lat": r["lat"],
            "lon": r["lon"],
            "batch_id": ctx.batch_id,
        }
        for r in fac.iter_rows(named=True)
    ]
    new = [r for r in fac_rows if r["facility_id"] not in existing]
    old = [r for r in fac_rows if r["facility_id"] in existing]
    if new:
        conn.execute(insert(Facility), new)
    if old:
        conn.execute(
            text(
                "UPDATE facilities SET name=:name, name_norm=:name_norm, country=:country, "
                "address=:address, lat=:lat, lon=:lon, batch_id=:batch_id "
                "WHERE facility_id=:facility_id"
            ),
            old,
        )
    # Declarations keyed (facility, substance, activity, year): a later row replaces an earlier one.
    key = ["facility_id", "substance", "activity", "declaration_year"]
    decl = good.sort("row_number").unique(key, keep="last", maintain_order=True)
    report.rows_duplicate += good.height - decl.height
    current: dict[tuple[Any, ...], int] = {}
    for off in range(0, len(ids), 500):
        for row in conn.execute(
            select(
                Declaration.id,
                Declaration.facility_id,
                Declaration.substance,
                Declaration.activity,
                Declaration.declaration_year,
            ).where(Declaration.facility_id.in_(ids[off : off + 500]))
        ):
            current[(row[1], row[2], row[3], row[4])] = row[0]
    inserts, updates = [], []
    for r in decl.iter_rows(named=True):
        values = {
            "facility_id": r["facility_id"],
            "activity": r["activity"],
            "substance": r["substance"],
            "cas": r["cas"],
            "substance_cas": r["substance_cas"],
            "declared_annual_kg": r["declared_annual_kg"],
            "declaration_year": r["declaration_year"],
            "batch_id": ctx.batch_id,
            "row_number": r["row_number"],
        }
        k = (r["facility_id"], r["substance"], r["activity"], r["declaration_year"])
        if k in current:
            updates.append({**values, "id": current[k]})
        else:
            inserts.append(values)
    if inserts:
        conn.execute(insert(Declaration), inserts)
    if updates:
        conn.execute(
            text(
                "UPDATE declarations SET cas=:cas, substance_cas=:substance_cas, "
                "declared_annual_kg=:declared_annual_kg, batch_id=:batch_id, "
                "row_number=:row_number WHERE id=:id"
            ),
            updates,
        )
    report.rows_loaded += decl.height
    report.rows_updated += len(updates)


def relink_shipments(conn: Connection, batch_id: int, link_config: LinkConfig | None = None) -> int:
    """Re-decide the facility link of every shipment party after the facilities changed.

    Links live on the parties table: one UPDATE per distinct (normalised name, country) whose
    link changes, whatever the number of shipments naming it. Parties left ambiguous are
    recorded under `batch_id`, per role, with their shipment counts. Returns the number of
    (normalised name, country) pairs whose link changed."""
    index = _load_link_index(conn, link_config)
    rows = conn.execute(
        select(
            Party.name_norm,
            Party.country,
            Party.facility_id,
            Party.link_score,
            Party.link_method,
            Party.id,
            Party.name,
        ).order_by(Party.id)
    ).all()
    if not rows:
        return 0
    decided = index.link_many(sorted({(r[0], r[1]) for r in rows}))
    todo: dict[tuple[str, str], dict[str, Any]] = {}
    ambiguous_ids: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for norm, country, fid, score, method, pid, name in rows:
        link = decided[(norm, country)]
        if link.ambiguous:
            ambiguous_ids.setdefault((norm, country), []).append((pid, name))
        if (fid, score, method) != (link.facility_id, link.score, link.method):
            todo[(norm, country)] = {
                "fid": link.facility_id,
                "score": link.score,
                "method": link.method,
                "norm": norm,
                "country": country,
            }
    if todo:
        conn.execute(
            text(
                "UPDATE parties SET facility_id=:fid, link_score=:score, link_method=:method "
                "WHERE name_norm=:norm AND country=:country"
            ),
            list(todo.values()),
        )
    # Shipments per ambiguous party and role: one grouped count per role.
    owner = {pid: key for key, parties in ambiguous_ids.items() for pid, _ in parties}
    ambiguous: dict[tuple[str, str, str], dict[str, Any]] = {}
    for role in ("exporter", "importer") if owner else ():
        col = getattr(ShipmentRecord, f"{role}_party_id")
        counts = conn.execute(
            select(col, func.count()).where(col.in_(list(owner))).group_by(col)
        ).all()
        for pid, n in sorted(counts, key=lambda r: owner[r[0]]):
            norm, country = owner[pid]
            entry = ambiguous.setdefault(
                (role, norm, country),
                {
                    "party": min(name for _, name in ambiguous_ids[(norm, country)]),
                    "candidates": list(decided[(norm, country)].candidates),
                    "count": 0,
                },
            )
            entry["count"] += int(n)
    ctx_amb = Context(
        "shipments", [], {}, {}, {}, "", False, batch_id=batch_id, ambiguous=ambiguous
    )
    _store_ambiguous(conn, ctx_amb)
    return len(todo)


def _store_ambiguous(conn: Connection, ctx: Context) -> int:
    if not ctx.ambiguous:
        return 0
    rows = [
        {
            "batch_id": ctx.batch_id,
            "role": role,
            "party": entry["party"],
            "party_norm": norm,
            "country": country,
            "candidates": entry["candidates"],
            "shipment_count": entry["count"],
        }
        for (role, norm, country), entry in ctx.ambiguous.items()
    ]
    conn.execute(insert(AmbiguousLink), rows)
    n = len(rows)
    ctx.ambiguous.clear()
    return n


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)
