"""Requests for clarification: for a national authority, its state's requests with their
deadlines, the evidence shared and an answer with attachments; for the body's staff, every
request on the alerts they may see: approve or reject drafts (supervisors, four eyes), and
close, ask again or propose a challenge inspection once answered."""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.clarifications import (
    FOLLOW_UPS,
    answer,
    attachments,
    decide,
    follow_up,
    is_overdue,
    requests_for,
    shareable,
)
from registry.db import session_scope
from registry.errors import RegistryError
from registry.models_states import ClarificationRequest
from registry.service import allowed
from registry.words import REQUEST_STATUS_WORDS, country_name
from ui.console import current_user, engine, esc, flash
from ui.show import go, link, requested_id, table, when

_OUTCOMES = {
    "close": "Close: the answer settles it",
    "ask_again": "Ask again (a new request, approved again)",
    "challenge": "Propose a challenge inspection (the answer goes on record)",
}


def _deadline(r: ClarificationRequest) -> str:
    if r.deadline_at is None:
        return ""
    if is_overdue(r):
        return f"OVERDUE since {when(r.deadline_at)} UTC"
    return f"{when(r.deadline_at)} UTC" if r.status == "open" else ""


def _listing(rows: list[ClarificationRequest], authority: bool) -> None:
    table(
        (
            {
                "request": link("clarifications", request=r.id),
                **({} if authority else {"alert": r.alert_id, "state": country_name(r.state)}),
                "status": REQUEST_STATUS_WORDS.get(r.status, r.status),
                "answer due": _deadline(r),
                "sent": when(r.decided_at) if r.status != "pending_approval" else "",
                "answered": when(r.answered_at),
            }
            for r in rows
        ),
        empty="No requests for clarification.",
        column_config={
            "request": st.column_config.LinkColumn("request", display_text=r"request=(\d+)$")
        },
    )


def _shared(r: ClarificationRequest) -> None:
    st.markdown("**Questions**")
    st.markdown(esc(r.questions))
    st.markdown("**Evidence shared with you**" if r.state else "**Evidence shared**")
    table({"what": s["label"], "value": s["value"]} for s in r.shared)


def _answer_form(user: Any, r: ClarificationRequest) -> None:
    if r.status != "open":
        return
    if is_overdue(r):
        st.error("The deadline has passed: an answer can no longer be stored.")
        return
    with st.form(f"answer_{r.id}", clear_on_submit=False):
        text = st.text_area("Your answer", key=f"cl_answer_{r.id}", height=160)
        files = st.file_uploader(
            "Attachments (up to 5 files)", accept_multiple_files=True, key=f"cl_files_{r.id}"
        )
        sent = st.form_submit_button("Send the answer", type="primary")
    if sent:
        try:
            with session_scope(engine()) as session:
                answer(session, user, r.id, text, [(f.name, f.getvalue()) for f in files or []])
        except RegistryError as exc:
            flash("error", f"Not sent: {exc}")
        else:
            flash("success", f"Your answer to request {r.id} was recorded.")
        st.rerun()


def _documents(r: ClarificationRequest, classification: str) -> None:
    from registry.challenge import render_pdf
    from registry.clarification_docs import request_markdown

    md = request_markdown(r, classification)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the request (Markdown)",
        md.encode("utf-8"),
        file_name=f"clarification-request-{r.id}.md",
        key=f"cl_md_{r.id}",
    )
    c2.download_button(
        "Download the request (PDF)",
        render_pdf(md, classification=classification),
        file_name=f"clarification-request-{r.id}.pdf",
        mime="application/pdf",
        key=f"cl_pdf_{r.id}",
    )


def _answer_shown(r: ClarificationRequest) -> None:
    if r.answer is None:
        return
    st.markdown(f"**Answer** of {esc(r.answered_by)}, {when(r.answered_at)} UTC")
    st.markdown(esc(r.answer))
    with session_scope(engine()) as session:
        files = [(a.id, a.file_name, a.size, a.content) for a in attachments(session, r.id)]
    for aid, name, size, content in files:
        st.download_button(
            esc(f"{name} ({size:,} bytes)"),
            content,
            file_name=name,
            mime="application/octet-stream",
            key=f"cl_att_{aid}",
        )


def _staff_actions(user: Any, r: ClarificationRequest) -> None:
    if r.status == "pending_approval" and allowed(user.role, "decide_clarification"):
        own = r.drafted_by == user.username
        note = st.text_input("Note with your decision (optional)", key=f"cl_dnote_{r.id}")
        c1, c2 = st.columns(2)
        for col, approve, label in ((c1, True, "Approve and send"), (c2, False, "Reject")):
            if col.button(
                label,
                key=f"cl_{'approve' if approve else 'reject'}_{r.id}",
                disabled=own,
                help="You drafted it: another supervisor decides (four eyes)." if own else None,
                type="primary" if approve else "secondary",
            ):
                _run(lambda s, a=approve: decide(s, user, r.id, a, note, expected_version=r.version),
                     "Approved: sent to the state" if approve else "Rejected")  # fmt: skip
    if (r.status == "answered" or is_overdue(r)) and allowed(user.role, "follow_up_clarification"):
        st.markdown("**What next**")
        outcome = st.radio(
            "Outcome", list(FOLLOW_UPS), format_func=lambda o: _OUTCOMES[o], key=f"cl_out_{r.id}"
        )
        why = st.text_area("Why (required, recorded)", key=f"cl_why_{r.id}", height=80)
        questions, keys = "", []
        if outcome == "ask_again":
            with session_scope(engine()) as session:
                offer = shareable(session, list(r.alert_ids), r.state)
            questions = st.text_area("New questions", key=f"cl_q2_{r.id}", height=80)
            labels = {o.key: f"{o.label}: {o.value}" for o in offer}
            keys = st.multiselect(
                "Evidence to share",
                list(labels),
                format_func=lambda k: labels[k],
                key=f"cl_k2_{r.id}",
            )
        if st.button("Record the outcome", key=f"cl_follow_{r.id}", type="primary"):
            _run(
                lambda s: follow_up(
                    s, user, r.id, outcome, why, questions=questions, keys=keys,
                    expected_version=r.version,
                ),
                f"Recorded: {_OUTCOMES[outcome]}",
            )  # fmt: skip


def _run(fn: Any, done: str) -> None:
    try:
        with session_scope(engine()) as session:
            fn(session)
    except RegistryError as exc:
        flash("error", f"Not saved: {exc}")
    else:
        flash("success", done + ".")
    st.rerun()


def _one(user: Any, r: ClarificationRequest) -> None:
    from registry.access import classification_of
    from ui.confidential import banner

    authority = user.role == "authority"
    with session_scope(engine()) as session:
        classification = classification_of(session, "alert", r.alert_id) or "protected"
    st.subheader(f"Request {r.id}: {REQUEST_STATUS_WORDS.get(r.status, r.status)}")
    banner(classification)
    bits = [f"to {country_name(r.state)}"]
    if r.deadline_at is not None:
        bits.append(f"answer due {when(r.deadline_at)} UTC")
    if not authority:
        bits += [f"alert {r.alert_id}", f"drafted by {r.drafted_by}"]
        if r.decided_by:
            bits.append(f"{'approved' if r.status != 'rejected' else 'rejected'} by {r.decided_by}")
    st.caption(esc(" · ".join(bits)))
    if is_overdue(r):
        st.error("OVERDUE: the state has not answered by the deadline.")
    _shared(r)
    _documents(r, classification)
    _answer_shown(r)
    if r.closing_note:
        st.caption(
            f"Outcome: {esc(REQUEST_STATUS_WORDS.get(r.status, r.status))}: {esc(r.closing_note)}"
        )
    if authority and allowed(user.role, "answer_clarification"):
        _answer_form(user, r)
    elif not authority:
        if st.button("Open the alert", key=f"cl_alert_{r.id}"):
            go("detail", alert=r.alert_id)
        _staff_actions(user, r)


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Requests for clarification")
    authority = user.role == "authority"
    st.caption(
        f"Requests from the inspection body to {country_name(user.state)}: answer each before its deadline."
        if authority
        else "Requests to states about alerts: drafted by an inspector, approved by another "
        "official, answered by the state's authority within its deadline."
    )
    with session_scope(engine()) as session:
        rows = requests_for(session, user)
    overdue = [r.id for r in rows if is_overdue(r)]
    if overdue:
        st.error(f"Overdue: request(s) {', '.join(map(str, overdue))}.")
    _listing(rows, authority)
    wanted = requested_id("request", "request_id")
    ids = [r.id for r in rows]
    if not ids:
        return
    pick = st.selectbox(
        "Open request",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda i: f"request {i}",
        key="cl_pick",
    )
    _one(user, next(r for r in rows if r.id == pick))


_page()
