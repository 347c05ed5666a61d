"""Loading a feed into the registry in ONE transaction (batch, rows, quarantine, findings,
links), checking a file without a database, and previewing its first rows: the steps in
order. The bulk paths (ingest.bulk_sqlite, ingest.bulk_postgres), facilities (ingest.
facilities) and relinking (ingest.relink) each have their module."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, text, update

from ingest.bulk import open_writer
from ingest.chunks import Progress, chunks, estimate_total, prefetch, store_quarantine
from ingest.dates import date_order_evidence
from ingest.facilities import load_facilities
from ingest.link import LinkConfig
from ingest.profile import (
    Profile,
    ProfileError,
    header_currency,
    header_unit,
    read_profile,
    resolve_mapping,
)
from ingest.readers import ReadError, SourceFile, open_source
from ingest.reasons import Tally
from ingest.relink import load_link_index, relink_shipments, store_ambiguous
from ingest.report import LoadReport, new_report, unused_columns
from ingest.transform import Context, shape
from registry.models import IngestBatch
from registry.shipments import NewEntries, PartyBook

__all__ = [
    "LoadReport",
    "check_file",
    "load_file",
    "preview",
    "read_rows",
    "relink_shipments",
]


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
    path: str | Path,
    kind: str,
    profile: Profile | str | Path | None = None,
    rows: int = 20,
    *,
    converted: bool = False,
) -> tuple[pl.DataFrame, dict[str, str], list[str]]:
    """The first rows mapped to canonical names, the mapping used, and problems found (no DB).

    With `converted`, the rows are given as a load would store them (dates read, countries
    alpha-3, quantities in kg, values in US dollars), quarantined rows left out."""
    prof = _profile_of(profile)
    problems: list[str] = []
    with open_source(path, prof.options if prof else None) as src:
        problems.extend(src.warnings)  # how the file was read (a guessed charset)
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
        unused = unused_columns(src, mapping)
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
                for q in shaped.quarantined:
                    problems.append(f"row {q.row}: " + "; ".join(q.reasons))
                if converted:
                    keep = ["row_number", *(c for c in _CONVERTED if c in shaped.good.columns)]
                    frame = shaped.good.select(keep)
            except Exception as exc:  # a preview never fails on a value
                problems.append(str(exc))
        else:
            problems.append("the file has no data rows")
    return frame, mapping, problems


# What the converted preview shows: the fields a load reads into another form.
_CONVERTED = (
    "shipment_id", "date", "flow", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "quantity_kg", "value", "currency", "value_usd",
    "facility_id", "name", "country", "activity", "substance", "cas", "declared_annual_kg",
    "declaration_year",
)  # fmt: skip


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
        report = new_report("checked", src, ctx, prof, mapping, path)
        quarantine, findings = Tally(), Tally()
        for chunk in chunks(src, chunk_size, progress):
            shaped = shape(chunk, ctx)
            report.rows_total += shaped.rows
            report.rows_loaded += shaped.good.height
            report.rows_quarantined += len(shaped.quarantined)
            report.findings += len(shaped.findings)
            report.add_notes(shaped.notes)
            quarantine.add_quarantined(shaped.quarantined)
            findings.add_findings(shaped.findings)
            for q in shaped.quarantined[: max(0, 10 - len(report.examples))]:
                report.examples.append((q.row, list(q.reasons)))
        report.tally(quarantine, findings)
    if report.rows_total == 0:
        raise ReadError(f"{path.name} has a header but no data rows")
    report.seconds = time.perf_counter() - started
    return report


def read_rows(
    path: str | Path, kind: str, profile: Profile | str | Path | None = None
) -> tuple[pl.DataFrame, list[tuple[int, list[str]]]]:
    """The whole file shaped as a load would shape it, writing nothing: (the rows that would
    load, as canonical frames; every quarantined row with its reasons). Facility rows come
    with `substance_cas`, the listed substance each declared one is. For callers that store
    rows their own way (a national authority's declaration)."""
    path = Path(path)
    prof = _profile_of(profile)
    parts: list[pl.DataFrame] = []
    quarantined: list[tuple[int, list[str]]] = []
    with open_source(path, prof.options if prof else None) as src:
        ctx = _context(src, kind, resolve_mapping(src.columns, kind, prof), prof, path, None)
        for chunk in chunks(src, 250_000, None):
            shaped = shape(chunk, ctx)
            parts.append(shaped.good)
            quarantined += [(q.row, list(q.reasons)) for q in shaped.quarantined]
    good = pl.concat(parts) if parts else pl.DataFrame()
    if kind == "facilities" and good.height:
        from ingest.facilities import with_listed_substance

        good = with_listed_substance(good)
    return good, quarantined


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
    # The day/month order the whole feed proves (13/01/2025 anywhere settles 02/01/2025
    # everywhere), known before the first chunk: a load reads the same in any chunk size and
    # a preview of the first rows reads them as the load will.
    orders = (
        date_order_evidence(src.distinct(mapping["date"]))
        if "date" in mapping and not options.get("date_format")
        else set()
    )
    return Context(
        kind=kind,
        columns=src.columns,
        mapping=mapping,
        options=options,
        densities=dict(prof.densities) if prof else {},
        source=batch_source,
        source_overrides_column=overrides,
        file_hash=src.file_hash,
        date_orders=orders,
    )


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
            prior = _already_loaded(conn, kind, src.file_hash, path)
        if prior is not None:
            return prior
        mapping = resolve_mapping(src.columns, kind, prof)
        ctx = _context(src, kind, mapping, prof, path, source)
        job = _Job(
            src=src,
            ctx=ctx,
            report=new_report("loaded", src, ctx, prof, mapping, path),
            batch={
                "kind": kind,
                "source": ctx.source,
                "file_name": path.name,
                "file_hash": src.file_hash,
                "profile": {**(prof.as_dict() if prof else {}), "mapping": mapping},
                "loaded_by": loaded_by,
            },
            progress=progress,
            chunk_size=chunk_size,
            link_config=link_config,
        )
        with engine.connect() as conn:
            try:
                with conn.begin():
                    _take_load_lock(conn)
                    # The same file may have been loaded while this load queued for the lock.
                    prior = _already_loaded(conn, kind, src.file_hash, path)
                    if prior is not None:
                        return prior
                    _load_in_transaction(conn, job, path)
            finally:
                for cleanup in job.cleanups:
                    cleanup()
    job.report.seconds = time.perf_counter() - started
    return job.report


@dataclass
class _Job:
    """One load: its source, shaping context, report, batch row and settings."""

    src: SourceFile
    ctx: Context
    report: LoadReport
    batch: dict[str, Any]  # the ingest_batches row
    progress: Progress | None
    chunk_size: int
    link_config: LinkConfig | None
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # after the transaction


# One advisory lock for every load into a PostgreSQL registry, taken before anything else:
# loads then queue whole. Without it a first bulk load (which sets the indexes and foreign
# keys of shipment_records aside) and another load took the locks of parties, ingest_batches
# and shipment_records in opposite orders and deadlocked. (SQLite serialises writers itself.)
_LOAD_LOCK_KEY = 0x7077_6174_6368  # "pwatch"


def _take_load_lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOAD_LOCK_KEY})


def _already_loaded(conn: Connection, kind: str, file_hash: str, path: Path) -> LoadReport | None:
    """The report of an earlier load of the same file (same kind and SHA-256), if any."""
    prior = conn.execute(
        select(
            IngestBatch.id,
            IngestBatch.source,
            IngestBatch.rows_total,
            IngestBatch.rows_loaded,
            IngestBatch.rows_duplicate,
            IngestBatch.rows_quarantined,
        ).where(IngestBatch.kind == kind, IngestBatch.file_hash == file_hash)
    ).first()
    if prior is None:
        return None
    return LoadReport(
        batch_id=prior.id,
        kind=kind,
        status="already_loaded",
        file_name=path.name,
        file_hash=file_hash,
        source=prior.source,
        rows_total=prior.rows_total,
        rows_loaded=prior.rows_loaded,
        rows_duplicate=prior.rows_duplicate,
        rows_quarantined=prior.rows_quarantined,
    )


def _load_in_transaction(conn: Connection, job: _Job, path: Path) -> None:
    ctx, report = job.ctx, job.report
    batch_id = conn.execute(insert(IngestBatch).returning(IngestBatch.id), job.batch).scalar_one()
    ctx.batch_id = batch_id
    report.batch_id = batch_id
    if ctx.kind == "shipments":
        ctx.link_index = load_link_index(conn, job.link_config)
        _load_shipments(conn, job)
    else:
        load_facilities(conn, job.src, ctx, report, job.progress, job.chunk_size)
        report.linked = relink_shipments(conn, batch_id, job.link_config)
    if report.rows_total == 0:
        raise ReadError(f"{path.name} has a header but no data rows; nothing was loaded")
    report.ambiguous += store_ambiguous(conn, batch_id, ctx.ambiguous)
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


def _load_shipments(conn: Connection, job: _Job) -> None:
    ctx, report = job.ctx, job.report
    tallies = (Tally(), Tally())
    writer = open_writer(conn, ctx.batch_id, job.chunk_size)
    job.cleanups.append(writer.release)
    book = PartyBook(conn)  # after the batch row: the load holds the write lock

    def shaped_chunks() -> Iterator[tuple[int, Any, int, NewEntries | None, Any]]:
        """(estimate, shaped, links counted, new parties and addresses, what to write) per
        chunk, then what is left staged."""
        try:
            for i, chunk in enumerate(chunks(job.src, job.chunk_size, job.progress)):
                estimate = (estimate_total(job.src, chunk) or chunk.height) if i == 0 else 0
                shaped = shape(chunk, ctx)
                good = shaped.good
                linked = _links_made(good)
                shaped.good = good.clear()
                rows, new = book.assign(good)
                if estimate:
                    writer.plan(estimate)
                yield estimate, shaped, linked, new, writer.stage(rows)
            yield 0, None, 0, None, writer.seal()
        finally:
            writer.close_stage()

    # Reading, shaping and staging the next batch (polars and ADBC, GIL released) overlap
    # the database write of the previous one (sqlite3 releases the GIL while stepping;
    # psycopg while copying).
    items = prefetch(shaped_chunks())
    try:
        for estimate, shaped, linked, new, rows in items:
            if estimate:
                writer.defer_indexes(estimate)
            if new is not None:
                book.store(conn, new)
            if shaped is not None:
                report.rows_total += shaped.rows
                store_quarantine(conn, ctx, shaped, report, tallies)
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
    report.tally(*tallies)


def _links_made(good: pl.DataFrame) -> int:
    """Party links to declared facilities among a chunk's good rows (both roles)."""
    if not good.height:
        return 0
    return int(
        good.select(
            pl.col("exporter_facility_id").is_not_null().sum()
            + pl.col("importer_facility_id").is_not_null().sum()
        ).item()
    )
