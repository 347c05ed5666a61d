"""The request-for-clarification section of an alert or a case: the requests already made,
and for inspectors and supervisors a draft to the state concerned with the evidence to share
chosen field by field (what may be shared is the registry's answer, never the page's)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.clarifications import draft, is_overdue, requests_for, shareable, states_of
from registry.db import session_scope
from registry.errors import RegistryError
from registry.service import allowed
from registry.words import country_name
from ui.console import engine, esc, flash
from ui.show import link, table, when

__all__ = ["clarification_section"]


def _existing(user: Any, alert_ids: list[int]) -> None:
    from registry.words import REQUEST_STATUS_WORDS

    with session_scope(engine()) as session:
        rows = [r for r in requests_for(session, user) if set(r.alert_ids) & set(alert_ids)]
    if not rows:
        return
    table(
        (
            {
                "request": link("clarifications", request=r.id),
                "to": country_name(r.state),
                "status": REQUEST_STATUS_WORDS.get(r.status, r.status),
                "answer due": ("OVERDUE since " if is_overdue(r) else "")
                + (f"{when(r.deadline_at)} UTC" if r.deadline_at else ""),
            }
            for r in rows
        ),
        column_config={
            "request": st.column_config.LinkColumn("request", display_text=r"request=(\d+)$")
        },
    )


def clarification_section(user: Any, alert_ids: list[int], key: str) -> None:
    """Requests made about these alerts, and a new draft for those who may make one."""
    st.subheader("Request for clarification")
    _existing(user, alert_ids)
    if not allowed(user.role, "draft_clarification"):
        return
    with session_scope(engine()) as session:
        states = states_of(session, alert_ids)
    if not states:
        st.caption("No state is concerned by these records.")
        return
    with st.expander("Draft a request to the state concerned"):
        state = st.selectbox("State", states, format_func=country_name, key=f"rq_state_{key}")
        with session_scope(engine()) as session:
            offer = shareable(session, alert_ids, state)
        questions = st.text_area("Questions to the state", key=f"rq_q_{key}", height=100)
        st.caption(
            f"Evidence to share with {esc(country_name(state))} (only its own data is offered; "
            "the other side of a trade is never named):"
        )
        # a label is Markdown: the data in it is made inert (no links, no formatting)
        keys = [
            o.key
            for o in offer
            if st.checkbox(esc(f"{o.label}: {o.value}"), key=f"rq_{key}_{o.key}")
        ]
        if st.button("Draft the request", key=f"rq_draft_{key}", type="primary"):
            try:
                with session_scope(engine()) as session:
                    rid = draft(session, user, alert_ids, state, questions, keys).id
            except RegistryError as exc:
                flash("error", f"Not drafted: {exc}")
            else:
                flash(
                    "success",
                    f"Request {rid} drafted: a supervisor other than you approves it before "
                    "it is sent.",
                )
            st.rerun()
