"""Kept for importers of the console's former query module: the read functions now live in
registry.queries (one alert list for the console and `pwatch alerts`) and
registry.registry_reads (facilities and loads)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from registry.queries import AlertFilter, list_alerts, queue_counts
from registry.registry_reads import recent_batches

__all__ = ["QueueFilter", "queue_counts", "queue_page", "recent_batches"]

QueueFilter = AlertFilter


def queue_page(
    session: Session,
    f: AlertFilter,
    deadlines: dict[str, float],
    *,
    sort: str = "Severity, then score",
    page: int = 0,
    page_size: int = 50,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of alerts as dicts): the queue's page, as the console reads it."""
    from registry.queries import count_alerts

    frame = list_alerts(session, f, deadlines, sort=sort, limit=page_size, offset=page * page_size)
    return count_alerts(session, f, deadlines), frame.to_dicts()
