"""Audit trail (supervisors): verify the hash chain of the triage log; browse recent events."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import select

from registry.audit import verify_chain
from registry.db import session_scope
from registry.models import TriageEvent
from ui.console import csv_bytes, current_user, engine, esc

user = current_user()
if user is None:  # pragma: no cover
    st.stop()
assert user is not None

st.title("Audit trail")
st.caption(
    "Every change is an event in a hash chain: each event's hash covers its content and the "
    "previous event's hash, so an edited, removed or inserted event breaks the chain."
)
if user.role != "supervisor":
    st.warning("Only supervisors verify the audit chain.")
    st.stop()

if st.button("Verify the chain", type="primary", key="audit_verify"):
    with session_scope(engine()) as session:
        report = verify_chain(session)
    st.session_state["audit_report"] = (report.ok, report.events, report.describe())

rep = st.session_state.get("audit_report")
if rep:
    ok, events, description = rep
    if ok:
        st.success(f"Audit chain intact: {events:,} events verified.")
    else:
        st.error(f"BROKEN: {esc(description)}.")

c1, c2 = st.columns(2)
actor = c1.text_input("Actor", key="audit_actor")
alert = c2.number_input("Alert number", min_value=0, step=1, value=0, key="audit_alert")
with session_scope(engine()) as session:
    stmt = select(
        TriageEvent.id,
        TriageEvent.created_at,
        TriageEvent.actor,
        TriageEvent.action,
        TriageEvent.alert_id,
        TriageEvent.from_status,
        TriageEvent.to_status,
        TriageEvent.reason_code,
        TriageEvent.note,
        TriageEvent.hash,
    )
    if actor.strip():
        stmt = stmt.where(TriageEvent.actor == actor.strip())
    if alert:
        stmt = stmt.where(TriageEvent.alert_id == int(alert))
    events = [
        dict(r) for r in session.execute(stmt.order_by(TriageEvent.id.desc()).limit(500)).mappings()
    ]

st.subheader("Recent events")
if events:
    frame = pd.DataFrame(events)
    frame["hash"] = frame["hash"].str[:16]
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "Download CSV",
        csv_bytes(list(frame.columns), frame.itertuples(index=False)),
        file_name="audit-events.csv",
        mime="text/csv",
        key="audit_csv",
    )
else:
    st.info("No events match.")
