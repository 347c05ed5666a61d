"""Alert queue: search, filters, alerts or cases, the deciding columns first, a link per row,
bulk claim and assign for supervisors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import streamlit as st

from detection.catalogue import detector_label
from registry.cases import act_on_alerts, case_index
from registry.clarifications import overdue_requests
from registry.db import session_scope
from registry.errors import RegistryError
from registry.models import STATUSES
from registry.queries import (
    OPEN_STATUSES,
    SORTS,
    AlertFilter,
    count_alerts,
    data_version,
    list_alerts,
    queue_counts,
    queue_options,
)
from registry.service import Action, allowed
from registry.words import action_word, country_name, status_word
from ui.console import csv_bytes, current_user, engine, flash, settings
from ui.show import SEVERITY_MARK, deadline_text, go, link

PAGE_SIZE = 50
SEVERITIES = ["critical", "high", "medium", "low"]
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@st.cache_data(show_spinner=False, max_entries=4)
def _case_index(url: str, version: tuple[Any, ...]) -> pl.DataFrame:
    """Alert -> case, recomputed only when the data changes (the version is the cache key)."""
    with session_scope(engine()) as session:
        return case_index(session)


def _filters(opts: dict[str, Any]) -> AlertFilter:
    text = st.text_input(
        "Search", key="q_text", placeholder="alert number, party, product, facility id or name"
    )
    with st.expander("Filters", expanded=False):
        c1, c2, c3 = st.columns(3)
        statuses = c1.multiselect(
            "Status",
            list(STATUSES),
            default=list(OPEN_STATUSES),
            format_func=status_word,
            key="q_status",
        )
        severities = c2.multiselect("Severity", SEVERITIES, key="q_severity")
        detectors = c3.multiselect(
            "What was found", opts["detectors"], format_func=detector_label, key="q_detector"
        )
        c4, c5, c6 = st.columns(3)
        countries = c4.multiselect(
            "Country", opts["countries"], format_func=country_name, key="q_country"
        )
        labels = {cas: f"{name} ({cas})" for cas, name in opts["substances"]}
        substances = c5.multiselect(
            "Substance", list(labels), format_func=lambda c: labels.get(c, c), key="q_substance"
        )
        facility = c6.text_input("Facility id", key="q_facility")
        c7, c8, c9, c10 = st.columns(4)
        date_from = c7.date_input("Created from", value=None, key="q_from")
        date_to = c8.date_input("Created to", value=None, key="q_to")
        assignee = c9.selectbox(
            "Assignee",
            ["", *opts["triagers"]],
            format_func=lambda u: u or "anyone",
            key="q_assignee",
        )
        overdue = c10.checkbox("Overdue only", key="q_overdue")
    return AlertFilter(
        statuses=list(statuses),
        severities=list(severities),
        detectors=list(detectors),
        countries=list(countries),
        substances=list(substances),
        facility=facility or "",
        date_from=date_from if isinstance(date_from, dt.date) else None,
        date_to=date_to if isinstance(date_to, dt.date) else None,
        assignee=assignee or "",
        overdue_only=overdue,
        text=text or "",
    )  # fmt: skip


def _alert_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("alert_id").map_elements(lambda i: link("detail", alert=i), return_dtype=pl.String).alias("alert"),
        pl.col("severity").replace_strict(SEVERITY_MARK, default=pl.col("severity")).alias("severity"),
        pl.col("score").round(0).cast(pl.Int64).alias("score"),
        pl.struct("left_h", "overdue").map_elements(lambda r: deadline_text(r["left_h"], r["overdue"]), return_dtype=pl.String).alias("deadline"),
        pl.col("detector").map_elements(detector_label, return_dtype=pl.String).alias("what was found"),
        pl.col("summary").alias("finding"),
        pl.col("status").map_elements(status_word, return_dtype=pl.String).alias("status"),
        pl.col("assignee").fill_null("").alias("assignee"),
    )  # fmt: skip


def _case_rows(frame: pl.DataFrame, index: pl.DataFrame) -> pl.DataFrame:
    """One row per case that has a matching alert, with every member's story counted."""
    joined = frame.join(index, on="alert_id", how="left").with_columns(
        pl.coalesce("case_id", "alert_id").alias("case_id"),
        pl.col("severity").replace_strict(_RANK, default=9).alias("_rank"),
    )
    cases = (
        joined.sort("_rank", pl.col("score").neg())
        .group_by("case_id", maintain_order=True)
        .agg(
            pl.len().alias("alerts"),
            pl.col("case_size").first().fill_null(1),
            pl.col("severity").first(),
            pl.col("score").max(),
            pl.struct("left_h", "overdue").sort_by("left_h").first().alias("_dl"),
            pl.col("detector").unique().alias("_dets"),
            pl.col("summary").first(),
            pl.col("status").unique().alias("_st"),
            pl.col("assignee").drop_nulls().unique().alias("_as"),
        )
    )
    return cases.select(
        pl.col("case_id").map_elements(lambda i: link("case", case=i), return_dtype=pl.String).alias("case"),
        pl.col("severity").replace_strict(SEVERITY_MARK, default=pl.col("severity")).alias("worst severity"),
        pl.col("score").round(0).cast(pl.Int64).alias("top score"),
        pl.col("_dl").map_elements(lambda r: deadline_text(r["left_h"], r["overdue"]), return_dtype=pl.String).alias("deadline"),
        pl.format("{} of {}", "alerts", "case_size").alias("alerts"),
        pl.col("_dets").map_elements(lambda d: ", ".join(sorted(detector_label(x) for x in d)), return_dtype=pl.String).alias("what was found"),
        pl.col("summary").alias("most serious finding"),
        pl.col("_st").map_elements(lambda d: ", ".join(sorted(status_word(x) for x in d)), return_dtype=pl.String).alias("status"),
        pl.col("_as").list.join(", ").alias("assignee"),
    )  # fmt: skip


# Widths in pixels: the table fits the page at 1440 px with the menu open.
_LINK = {
    "alert": st.column_config.LinkColumn("alert", display_text=r"alert=(\d+)$", width=50),
    "case": st.column_config.LinkColumn("case", display_text=r"case=(\d+)$", width=50),
    "severity": st.column_config.TextColumn(width=70),
    "worst severity": st.column_config.TextColumn(width=70),
    "score": st.column_config.NumberColumn(width=50, format="%d"),
    "top score": st.column_config.NumberColumn(width=50, format="%d"),
    "deadline": st.column_config.TextColumn(width=95),
    "alerts": st.column_config.TextColumn(width=55),
    "what was found": st.column_config.TextColumn(width=165),
    "finding": st.column_config.TextColumn(width=290),
    "most serious finding": st.column_config.TextColumn(width=230),
    "status": st.column_config.TextColumn(width=110),
    "assignee": st.column_config.TextColumn(width=80),
}


def _bulk(user: Any, frame: pl.DataFrame, picked: list[int], triagers: list[str]) -> None:
    """Supervisors: claim or assign the selected alerts, each under the triage rules."""
    seen = {int(r["alert_id"]): int(r["version"]) for r in frame[picked].iter_rows(named=True)}
    c1, c2, c3 = st.columns([2, 1, 1])
    target = c1.selectbox(f"Assign the {len(seen)} selected alerts to", triagers, key="q_bulk_to")
    if c2.button("Assign selected", key="q_bulk_assign", type="primary"):
        _run_bulk(user, seen, Action("assign", assignee=target))
    if c3.button("Claim selected", key="q_bulk_claim"):
        _run_bulk(user, seen, Action("claim"))


def _run_bulk(user: Any, seen: dict[int, int], req: Action) -> None:
    try:
        with session_scope(engine()) as session:
            outcomes = act_on_alerts(session, user, seen, req)
    except RegistryError as exc:
        flash("error", f"Nothing saved: {exc}")
    else:
        done = [o.alert_id for o in outcomes if o.done]
        skipped = [f"{o.alert_id} ({o.message})" for o in outcomes if not o.done]
        flash(
            "success",
            f"{action_word(req.action)}: {len(done)} alerts recorded"
            + (f"; left as they were: {', '.join(skipped)}" if skipped else "."),
        )
    st.session_state.pop("q_table", None)
    st.rerun()


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Alert queue")
    deadlines = settings().review_deadline_hours
    with session_scope(engine()) as session:
        opts = queue_options(session, user)
        overdue = overdue_requests(session, user)
        version = data_version(session)
    f = _filters(opts)
    f.user = user
    _overdue_banner(overdue)
    mode = st.radio(
        "Show",
        ["Alerts", "Cases"],
        horizontal=True,
        key="q_mode",
        help="A case groups the alerts on the same shipments, consignment or facility-substance-year.",
    )
    sort = st.selectbox("Sort by", list(SORTS), key="q_sort")
    page_no = int(st.session_state.get("q_page", 1)) - 1
    with session_scope(engine()) as session:
        counts = queue_counts(session, f, deadlines)
        if mode == "Alerts":
            total = count_alerts(session, f, deadlines)
            frame = list_alerts(
                session, f, deadlines, sort=sort, limit=PAGE_SIZE, offset=page_no * PAGE_SIZE
            )
        else:
            every = list_alerts(session, f, deadlines, sort=sort, limit=None)
    cols = st.columns(len(STATUSES))
    for col, status in zip(cols, STATUSES, strict=True):
        col.metric(status_word(status), f"{counts.get(status, 0):,}")
    if mode == "Cases":
        cases = _case_rows(every, _case_index(settings().database_url, version))
        total = cases.height
        shown = cases.slice(page_no * PAGE_SIZE, PAGE_SIZE)
    else:
        shown = _flag_overdue(_alert_rows(frame), frame, overdue)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    left, right = st.columns([3, 1])
    left.caption(
        f"{total:,} {'cases' if mode == 'Cases' else 'alerts'} match · page {page_no + 1} of {pages} · review deadlines: "
        + ", ".join(f"{k} {v:g} h" for k, v in deadlines.items())
    )
    right.number_input("Page", min_value=1, max_value=pages, step=1, key="q_page")
    if shown.height == 0:
        st.info("Nothing matches. Clear the search or the filters to see more.")
        return
    bulk = mode == "Alerts" and allowed(user.role, "assign")
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row" if bulk else "single-row",
        key="q_table",
        column_config=_LINK,
    )
    picked = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    if bulk and picked:
        _bulk(user, frame, picked, opts["triagers"])
    elif picked:
        _open_picked(mode, frame if mode == "Alerts" else cases, picked[0])
    else:
        st.session_state.pop("q_last_selected", None)
    if mode == "Alerts":
        _open_one(frame)
    _export(f, deadlines, sort, user)


def _open_one(frame: pl.DataFrame) -> None:
    """Pick an alert of the page by number and open it."""
    ids = frame["alert_id"].to_list()
    labels = {
        int(
            r["alert_id"]
        ): f"{r['alert_id']} · {r['severity']} · {status_word(r['status'])} · {r['summary'][:80]}"
        for r in frame.iter_rows(named=True)
    }
    c1, c2 = st.columns([4, 1])
    choice = c1.selectbox(
        "Open alert", ids, format_func=lambda i: labels.get(i, str(i)), key="q_open"
    )
    c2.write("")
    if c2.button("Open alert", type="primary", key="q_open_btn") and choice is not None:
        go("detail", alert=int(choice))


def _overdue_banner(overdue: dict[int, list[int]]) -> None:
    if overdue:
        shown_ids = ", ".join(str(a) for a in sorted(overdue)[:10])
        st.error(
            f"{sum(len(v) for v in overdue.values())} request(s) for clarification overdue "
            f"(alerts {shown_ids}{' and more' if len(overdue) > 10 else ''}): the states did not "
            "answer by the deadline."
        )


def _flag_overdue(
    shown: pl.DataFrame, frame: pl.DataFrame, overdue: dict[int, list[int]]
) -> pl.DataFrame:
    """An overdue request for clarification flagged in the status column (the queue keeps to
    8 columns to fit 1440 px)."""
    flags = ["; request overdue" if a in overdue else "" for a in frame["alert_id"].to_list()]
    return shown.with_columns(pl.col("status") + pl.Series(flags, dtype=pl.String))


def _open_picked(mode: str, rows: pl.DataFrame, index: int) -> None:
    if mode == "Alerts":
        picked = ("detail", int(rows["alert_id"][index]))
    else:
        picked = ("case", int(str(rows["case"][index]).rsplit("=", 1)[-1]))
    # Open once per selection, so coming back to the queue does not bounce to the page.
    if st.session_state.get("q_last_selected") != picked:
        st.session_state["q_last_selected"] = picked
        go(picked[0], **{"alert" if picked[0] == "detail" else "case": picked[1]})


def _log_export(user: Any, ids: list[int]) -> None:
    """An export that holds highly protected alerts is an audited access event."""
    from registry.access import record_access

    with session_scope(engine()) as session:
        record_access(session, user, "alert", ids, "queue export")


def _export(f: AlertFilter, deadlines: dict[str, float], sort: str, user: Any) -> None:
    if st.checkbox("Prepare a CSV export of every matching alert (up to 10,000)", key="q_export"):
        with session_scope(engine()) as session:
            every = list_alerts(
                session, f, deadlines, sort=sort, limit=10_000, with_shipment_ids=True
            )
        cols = [
            "alert_id",
            "detector",
            "severity",
            "score",
            "status",
            "assignee",
            "facility_id",
            "substance_cas",
            "country",
            "summary",
            "created_at",
            "shipment_ids",
            "classification",
        ]
        ids = every["alert_id"].to_list()
        st.download_button(
            "Download CSV",
            on_click=_log_export,
            args=(user, ids),
            data=csv_bytes(cols, every.select(cols).iter_rows()),
            file_name="alerts.csv",
            mime="text/csv",
            key="q_download",
        )


_page()
