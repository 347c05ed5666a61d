"""Reading a source chunk by chunk (with progress), ahead of the database in a helper thread,
and storing what each chunk quarantined."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert

from ingest.readers import SourceFile
from ingest.reasons import Tally
from ingest.report import LoadReport
from ingest.transform import Context, Shaped
from registry.models import DataQualityFinding, QuarantinedRow

__all__ = ["Progress", "chunks", "estimate_total", "prefetch", "store_quarantine"]

Progress = Callable[[int, int | None], None]  # (rows done, estimated total rows or None)


def estimate_total(src: SourceFile, first: pl.DataFrame) -> int | None:
    if src.fmt != "csv" or first.height == 0:
        return first.height if src.fmt in ("excel", "json") else None
    cols = [c for c in first.columns if c != "__row"]
    nbytes = first.select(
        pl.sum_horizontal([pl.col(c).str.len_bytes().fill_null(0) for c in cols]).sum()
    ).item() + first.height * len(cols)
    return max(first.height, int(src.size * first.height / max(nbytes, 1)))


def chunks(src: SourceFile, chunk_size: int, progress: Progress | None) -> Iterator[pl.DataFrame]:
    total: int | None = None
    done = 0
    for i, chunk in enumerate(src.batches(chunk_size)):
        if i == 0:
            total = estimate_total(src, chunk)
        done += chunk.height
        yield chunk
        if progress is not None:
            progress(done, max(total, done) if total else None)


def store_quarantine(
    conn: Connection, ctx: Context, shaped: Shaped, report: LoadReport, tallies: tuple[Tally, Tally]
) -> None:
    """Store a chunk's quarantined rows and findings; count them by reason for the summary."""
    if shaped.quarantined:
        conn.execute(
            insert(QuarantinedRow),
            [
                {"batch_id": ctx.batch_id, "row_number": q.row, "raw": q.raw, "reasons": q.reasons}
                for q in shaped.quarantined
            ],
        )
        tallies[0].add_quarantined(shaped.quarantined)
        report.rows_quarantined += len(shaped.quarantined)
    if shaped.findings:
        conn.execute(
            insert(DataQualityFinding),
            [
                {
                    "batch_id": ctx.batch_id,
                    "row_number": f.row,
                    "field": f.field,
                    "value": f.value,
                    "finding": f.finding,
                }
                for f in shaped.findings
            ],
        )
        tallies[1].add_findings(shaped.findings)
        report.findings += len(shaped.findings)


_DONE = object()


def prefetch(items: Iterator[Any], depth: int = 1) -> Generator[Any, None, None]:
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
