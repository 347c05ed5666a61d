"""The console's confidentiality pieces: classification words and banners, the supervisor's
change of classification, access events for highly protected items, and the documents of a
request for clarification. The rules are registry.access's; this only shows them."""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.access import CLASSIFICATION_WORDS, record_access, set_classification
from registry.db import session_scope
from registry.errors import RegistryError
from registry.service import allowed
from registry.vocab import CLASSIFICATIONS
from ui.console import engine, esc, flash

__all__ = ["banner", "change_control", "log_view", "word"]


def word(classification: str | None) -> str:
    """'highly protected' for 'highly_protected'."""
    return CLASSIFICATION_WORDS.get(classification or "", classification or "")


def banner(classification: str | None) -> None:
    """The classification of what the page shows, in words, above it."""
    text = f"Classification: {word(classification).upper()}"
    if classification == "highly_protected":
        st.error(text + " · every view is recorded in the audit trail")
    elif classification == "protected":
        st.warning(text)
    else:
        st.info(text)


def log_view(user: Any, kind: str, key: Any, what: str) -> None:
    """Record a view of a highly protected item once per opening (not on every rerun of the
    same page), as an audited access event."""
    marker = (kind, str(key), what)
    if st.session_state.get("_last_view") == marker:
        return
    with session_scope(engine()) as session:
        record_access(session, user, kind, [key], what)
    st.session_state["_last_view"] = marker


def change_control(user: Any, kind: str, key: Any, current: str | None) -> None:
    """Supervisors: change the item's classification with a reason (audited)."""
    if user is None or not allowed(user.role, "set_classification"):
        return
    with st.expander("Change the classification"):
        wk = f"cl_{kind}_{key}"
        level = st.selectbox(
            "New classification",
            list(CLASSIFICATIONS),
            index=list(CLASSIFICATIONS).index(current) if current in CLASSIFICATIONS else 1,
            format_func=word,
            key=f"{wk}_level",
        )
        reason = st.text_input("Reason (required, recorded)", key=f"{wk}_reason")
        if st.button("Change classification", key=f"{wk}_btn"):
            try:
                with session_scope(engine()) as session:
                    before = set_classification(session, user, kind, key, level, reason)
            except RegistryError as exc:
                flash("error", f"Not changed: {exc}")
            else:
                flash("success", f"The {kind} {key} is now {word(level)} (was {word(before)}).")
            st.rerun()


def escape(text: Any) -> str:
    return esc(text)
