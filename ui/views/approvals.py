"""Approvals (supervisors): proposals awaiting a second pair of eyes."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import select

from registry.db import session_scope
from registry.models import AlertRow
from ui.console import action_callback, current_user, engine, esc, open_alert

user = current_user()
if user is None:  # pragma: no cover
    st.stop()
assert user is not None

st.title("Approvals")
st.caption(
    "Escalations and dismissals of high or critical alerts take effect only when a supervisor "
    "other than the proposer approves them. Nobody approves their own proposal."
)
with session_scope(engine()) as session:
    pending = list(
        session.scalars(
            select(AlertRow)
            .where(AlertRow.status.in_(("pending_escalation", "pending_dismissal")))
            .order_by(AlertRow.updated_at)
            .limit(200)
        )
    )

if not pending:
    st.info("Nothing awaits approval.")
    st.stop()

st.dataframe(
    pd.DataFrame(
        [
            {
                "alert": a.id,
                "proposal": a.status.replace("pending_", ""),
                "severity": a.severity,
                "proposed by": a.proposed_by,
                "reason": a.proposed_reason_code,
                "note": a.proposed_note,
                "summary": a.summary,
            }
            for a in pending
        ]
    ),
    hide_index=True,
    width="stretch",
)
for a in pending[:50]:
    with st.container(border=True):
        st.markdown(
            f"**Alert {a.id}** · {a.severity} · proposed {a.status.replace('pending_', '')} "
            f"by {esc(a.proposed_by)}"
            + (f" · reason {esc(a.proposed_reason_code)}" if a.proposed_reason_code else "")
        )
        st.markdown(esc(a.summary))
        if a.proposed_note:
            st.caption(f"Note: {esc(a.proposed_note)}")
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        c1.text_input(
            "Note (optional)",
            key=f"ap_note_{a.id}",
            label_visibility="collapsed",
            placeholder="note (optional)",
        )
        keys = {"note": f"ap_note_{a.id}"}
        c2.button(
            "Approve",
            key=f"ap_approve_{a.id}",
            type="primary",
            on_click=action_callback(a.id, a.version, "approve", keys),
        )
        c3.button(
            "Reject",
            key=f"ap_reject_{a.id}",
            on_click=action_callback(a.id, a.version, "reject", keys),
        )
        if c4.button("Open", key=f"ap_open_{a.id}"):
            open_alert(a.id)
