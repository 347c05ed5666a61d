"""Alert queue: filters, counts per status, age against the review deadline, open an alert."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from registry.db import session_scope
from registry.models import STATUSES
from ui.console import csv_bytes, engine, open_alert, settings
from ui.queries import OPEN_STATUSES, SORTS, QueueFilter, queue_counts, queue_options, queue_page

PAGE_SIZE = 50
SEVERITIES = ["critical", "high", "medium", "low"]

st.title("Alert queue")
deadlines = settings().review_deadline_hours

with session_scope(engine()) as session:
    opts = queue_options(session)

with st.expander("Filters", expanded=True):
    c1, c2, c3 = st.columns(3)
    statuses = c1.multiselect(
        "Status",
        list(STATUSES),
        default=list(OPEN_STATUSES),
        key="q_status",
    )
    severities = c2.multiselect("Severity", SEVERITIES, key="q_severity")
    detectors = c3.multiselect("Detector", opts["detectors"], key="q_detector")
    c4, c5, c6 = st.columns(3)
    countries = c4.multiselect("Country", opts["countries"], key="q_country")
    subst_labels = {cas: f"{name} ({cas})" for cas, name in opts["substances"]}
    substances = c5.multiselect(
        "Substance",
        list(subst_labels),
        format_func=lambda c: subst_labels.get(c, c),
        key="q_substance",
    )
    facility = c6.text_input("Facility id", key="q_facility")
    c7, c8, c9, c10 = st.columns(4)
    date_from = c7.date_input("Created from", value=None, key="q_from")
    date_to = c8.date_input("Created to", value=None, key="q_to")
    assignee = c9.selectbox("Assignee", ["", *opts["triagers"]], key="q_assignee")
    overdue_only = c10.checkbox("Overdue only", key="q_overdue")
    sort = st.selectbox("Sort by", list(SORTS), key="q_sort")

f = QueueFilter(
    statuses=list(statuses),
    severities=list(severities),
    detectors=list(detectors),
    countries=list(countries),
    substances=list(substances),
    facility=facility or "",
    date_from=date_from if isinstance(date_from, dt.date) else None,
    date_to=date_to if isinstance(date_to, dt.date) else None,
    assignee=assignee or "",
    overdue_only=overdue_only,
)

with session_scope(engine()) as session:
    counts = queue_counts(session, f, deadlines)
    page_no = int(st.session_state.get("q_page", 1)) - 1
    total, rows = queue_page(session, f, deadlines, sort=sort, page=page_no, page_size=PAGE_SIZE)

cols = st.columns(len(STATUSES))
for col, status in zip(cols, STATUSES, strict=True):
    col.metric(status.replace("_", " "), f"{counts.get(status, 0):,}")

pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
left, right = st.columns([3, 1])
left.caption(
    f"{total:,} alerts match · page {page_no + 1} of {pages} · review deadlines (hours): "
    + ", ".join(f"{k} {v:g}" for k, v in deadlines.items())
)
right.number_input("Page", min_value=1, max_value=pages, step=1, key="q_page")

if not rows:
    st.info("No alert matches these filters.")
    st.stop()

frame = pd.DataFrame(rows)
frame["overdue"] = frame["overdue"].map(lambda o: "OVERDUE" if o else "")
frame = frame[
    [
        "id",
        "severity",
        "score",
        "status",
        "detector",
        "summary",
        "facility_id",
        "substance_cas",
        "country",
        "assignee",
        "age_h",
        "left_h",
        "overdue",
        "created_at",
    ]
]


def _row_style(row: pd.Series) -> list[str]:
    colour = "background-color: #fde2e1" if row["overdue"] else ""
    return [colour] * len(row)


event = st.dataframe(
    frame.style.apply(_row_style, axis=1).format(
        {"score": "{:.0f}", "age_h": "{:.1f}", "left_h": "{:.1f}"}, na_rep=""
    ),
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="q_table",
    column_config={
        "id": st.column_config.NumberColumn("Alert", format="%d"),
        "summary": st.column_config.TextColumn("Summary", width="large"),
        "age_h": st.column_config.NumberColumn("Age (h)"),
        "left_h": st.column_config.NumberColumn("Hours left"),
        "overdue": st.column_config.TextColumn("Deadline"),
        "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
    },
)
selected = getattr(getattr(event, "selection", None), "rows", None) if event else None
if selected:
    picked = int(frame.iloc[selected[0]]["id"])
    # Open once per selection, so coming back to the queue does not bounce to the detail.
    if st.session_state.get("q_last_selected") != picked:
        st.session_state["q_last_selected"] = picked
        open_alert(picked)
else:
    st.session_state.pop("q_last_selected", None)

ids = [int(i) for i in frame["id"]]
labels = {
    int(r["id"]): f"#{r['id']} · {r['severity']} · {r['status']} · {r['summary'][:80]}"
    for r in rows
}
c1, c2 = st.columns([4, 1])
choice = c1.selectbox("Open alert", ids, format_func=lambda i: labels.get(i, str(i)), key="q_open")
c2.write("")
if c2.button("Open alert", type="primary", key="q_open_btn") and choice is not None:
    open_alert(int(choice))

if st.checkbox("Prepare a CSV export of every matching alert (up to 10,000)", key="q_export"):
    with session_scope(engine()) as session:
        _, every = queue_page(session, f, deadlines, sort=sort, page=0, page_size=10_000)
    export_cols = list(frame.columns)
    st.download_button(
        "Download CSV",
        data=csv_bytes(export_cols, ([r.get(c) for c in export_cols] for r in every)),
        file_name="alerts.csv",
        mime="text/csv",
        key="q_download",
    )
