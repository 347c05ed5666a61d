"""Audit trail (supervisors): verify the hash chain of the triage log; browse recent events."""

from __future__ import annotations

import streamlit as st

from registry.audit import verify_chain
from registry.db import session_scope
from registry.queries import audit_events
from registry.words import action_word, reason_word, status_word
from ui.console import csv_bytes, current_user, engine
from ui.show import table


def _verify() -> None:
    if st.button("Verify the chain", type="primary", key="audit_verify"):
        with session_scope(engine()) as session:
            report = verify_chain(session)
        st.session_state["audit_report"] = (
            report.ok,
            report.events,
            report.first_broken_id,
            report.problem,
        )
    rep = st.session_state.get("audit_report")
    if rep:
        ok, events, broken, problem = rep
        if ok:
            st.success(f"Audit chain intact: {events:,} events verified.")
        else:
            st.error(f"Audit chain BROKEN at event {broken}: {problem}.")


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Audit trail")
    st.caption(
        "Every change is an event in a hash chain: each event's hash covers its content and the "
        "previous event's hash, so an edited, removed or inserted event breaks the chain."
    )
    if user.role != "supervisor":
        st.warning("Only supervisors verify the audit chain.")
        return
    _verify()
    c1, c2 = st.columns(2)
    actor = c1.text_input("Who", key="audit_actor")
    alert = c2.number_input("Alert number", min_value=0, step=1, value=0, key="audit_alert")
    with session_scope(engine()) as session:
        events = audit_events(session, actor, int(alert) or None)
    st.subheader("Recent events")
    table(
        (
            {
                "event": e["id"],
                "when (UTC)": e["created_at"],
                "who": e["actor"],
                "did": action_word(e["action"]),
                "alert": e["alert_id"] or "",
                "from": status_word(e["from_status"]),
                "to": status_word(e["to_status"]),
                "reason": reason_word(e["reason_code"]),
                "note": e["note"] or "",
                "hash": e["hash"][:16],
            }
            for e in events
        ),
        empty="No events match.",
    )
    if events:
        cols = list(events[0])
        st.download_button(
            "Download CSV",
            csv_bytes(cols, ([e[c] for c in cols] for e in events)),
            file_name="audit-events.csv",
            mime="text/csv",
            key="audit_csv",
        )


_page()
