"""Typed limits of what ingest accepts, each with its reason: how old an exchange rate may be."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["IngestLimits"]


def _limit(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class IngestLimits:
    """Bounds a loaded record must respect; a value outside them is not stored as given."""

    max_rate_gap_days: int = _limit(
        10,
        "A customs value is converted to US dollars at the ECB rate of the record's date or "
        "of the nearest earlier publication day at most this many days before it. The ECB "
        "publishes on every TARGET working day, so gaps are at most 4-5 days (Easter, "
        "Christmas); a longer gap means the currency was not published then (ISK 2008-2018, "
        "RUB since March 2022) and the value is left without a US-dollar amount.",
    )
