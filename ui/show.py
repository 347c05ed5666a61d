"""How the console shows things: links between pages, words for codes, numbers for reading.

One place for the console's conventions: every table a view shows goes through `table`, which
takes rows with human column names and never shows None or NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
import streamlit as st

from ui.console import PAGES

# The console pages by key: ui.console's, plus the case page (reached from the queue and the
# alert page, not from the menu).
PAGE_FILES = {**PAGES, "case": "views/case.py"}

__all__ = [
    "PAGE_FILES",
    "deadline_text",
    "go",
    "kg",
    "link",
    "requested_facility",
    "requested_id",
    "table",
    "when",
]

# Severity in words (no emoji: a browser without an emoji font shows empty boxes).
SEVERITY_MARK = {s: s for s in ("critical", "high", "medium", "low")}


def link(page: str, **params: Any) -> str:
    """The console URL of a page with its parameters (a link per alert, case or facility)."""
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    url = str(getattr(st.context, "url", "") or "")
    base = "/".join(url.split("/")[:3]) if url.startswith("http") else ""
    return f"{base}/{page}" + (f"?{query}" if query else "")


def go(page: str, **params: Any) -> None:
    """Open a page with its URL parameters (so the address bar is a link to what is shown)."""
    st.switch_page(PAGE_FILES[page], query_params={k: str(v) for k, v in params.items()})


def _requested(name: str, session_key: str) -> str | None:
    """A URL parameter not seen before (a link just followed) wins over the last value opened
    this session; the value shown is written back to the URL, so the address bar always
    links to what is on the page."""
    raw = st.query_params.get(name)
    seen_key = f"_url_{name}"
    if raw and raw != st.session_state.get(seen_key):
        st.session_state[session_key] = str(raw)
    value = st.session_state.get(session_key)
    if value is not None:
        st.query_params[name] = str(value)
        st.session_state[seen_key] = str(value)
    return None if value is None else str(value)


def requested_id(name: str, session_key: str) -> int | None:
    """The alert or case number a page was asked for (URL, else this session's last)."""
    value = _requested(name, session_key)
    digits = (value or "").lstrip("#")
    return int(digits) if digits.isdigit() else None


def requested_facility() -> str | None:
    """The facility a page was asked for (URL `facility`, else this session's last)."""
    return _requested("facility", "facility_id")


def kg(value: Any) -> str:
    """A quantity for reading: whole kg from 100 kg up, tonnes from 10 t up."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    x = float(value)
    if abs(x) >= 10_000:
        return f"{x / 1000:,.1f} t"
    return f"{x:,.0f} kg" if abs(x) >= 100 else f"{x:,.1f} kg"


def when(value: Any) -> str:
    """A date or a time (UTC, to the minute) for reading."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def deadline_text(left_h: Any, overdue: Any) -> str:
    """'overdue by 3 d', '20 h left', '' for a closed alert."""
    if left_h is None or (isinstance(left_h, float) and math.isnan(left_h)):
        return "closed"
    h = float(left_h)
    if overdue:
        return f"OVERDUE by {_span(-h)}"
    return f"{_span(h)} left"


def _span(hours: float) -> str:
    return f"{hours / 24:.0f} d" if hours >= 48 else f"{hours:.0f} h"


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return when(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def table(
    rows: Iterable[Mapping[str, Any]] | pl.DataFrame,
    *,
    key: str | None = None,
    empty: str = "Nothing to show.",
    column_config: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Rows (dicts with the column names a person reads) as a table: no None, no NaN, numbers
    rounded to one decimal, dates as dates. Returns st.dataframe's value (for selections)."""
    data = rows.to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)
    if not data:
        st.info(empty)
        return None
    columns = list(data[0])
    clean = [{c: _cell(r.get(c)) for c in columns} for r in data]
    kinds = {c: {type(r[c]) for r in clean if r[c] != ""} for c in columns}
    # A column of numbers with blanks reads as text; mixed columns are shown as text.
    frame = pl.DataFrame(
        [
            {c: (str(r[c]) if len(kinds[c]) > 1 or str in kinds[c] else r[c]) for c in columns}
            for r in clean
        ],
        infer_schema_length=None,
    )
    return st.dataframe(
        frame, hide_index=True, key=key, column_config=dict(column_config or {}), **kwargs
    )
