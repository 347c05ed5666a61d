"""Approvals (supervisors): proposals awaiting a second official; nobody approves their own."""

from __future__ import annotations

import streamlit as st

from detection.catalogue import detector_label
from registry.db import session_scope
from registry.queries import pending_approvals
from registry.words import reason_word, status_word
from ui.console import action_callback, current_user, engine, esc
from ui.show import SEVERITY_MARK, go, link, table


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Approvals")
    st.caption(
        "Escalations and dismissals of high or critical alerts take effect only when a supervisor "
        "other than the proposer approves them. Nobody approves their own proposal."
    )
    from registry.clarifications import requests_for

    with session_scope(engine()) as session:
        pending = pending_approvals(session, user=user)
        drafts = len(requests_for(session, user, statuses=["pending_approval"]))
    if drafts:
        st.info(
            f"{drafts} request(s) for clarification await a supervisor's approval: see "
            "Requests for clarification."
        )
    if not pending:
        st.info("Nothing awaits approval.")
        return
    table(
        (
            {
                "alert": link("detail", alert=a["id"]),
                "proposal": status_word(a["status"]),
                "severity": SEVERITY_MARK.get(a["severity"], a["severity"]),
                "what was found": detector_label(a["detector"]),
                "proposed by": a["proposed_by"] or "",
                "reason": reason_word(a["proposed_reason_code"]),
                "note": a["proposed_note"] or "",
            }
            for a in pending
        ),
        column_config={"alert": st.column_config.LinkColumn("alert", display_text=r"alert=(\d+)$")},
    )
    for a in pending[:50]:
        own = a["proposed_by"] == user.username
        why = "You proposed it: another supervisor must decide (four eyes)." if own else None
        with st.container(border=True):
            st.markdown(
                f"**Alert {a['id']}** · {SEVERITY_MARK.get(a['severity'], a['severity'])} · "
                f"{status_word(a['status'])}, proposed by {esc(a['proposed_by'])}"
                + (
                    f" · reason: {esc(reason_word(a['proposed_reason_code']))}"
                    if a["proposed_reason_code"]
                    else ""
                )
            )
            st.markdown(esc(a["summary"]))
            if a["proposed_note"]:
                st.caption(f"Note: {esc(a['proposed_note'])}")
            c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
            c1.text_input(
                "Note (optional)",
                key=f"ap_note_{a['id']}",
                label_visibility="collapsed",
                placeholder="note with your decision (optional)",
                disabled=own,
            )
            keys = {"note": f"ap_note_{a['id']}"}
            c2.button(
                "Approve",
                key=f"ap_approve_{a['id']}",
                type="primary",
                disabled=own,
                help=why,
                on_click=action_callback(a["id"], a["version"], "approve", keys),
            )
            c3.button(
                "Reject",
                key=f"ap_reject_{a['id']}",
                disabled=own,
                help=why,
                on_click=action_callback(a["id"], a["version"], "reject", keys),
            )
            if c4.button("Open", key=f"ap_open_{a['id']}"):
                go("detail", alert=a["id"])


_page()
