"""Your account: the TOTP second factor (enrol with an authenticator app from the QR code or
the provisioning URI, confirm with a first code; remove it). Required for authorities and
supervisors when the registry is configured so (PWATCH_REQUIRE_TOTP)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.db import session_scope
from registry.errors import RegistryError
from registry.second_factor import (
    confirm_enrolment,
    needs_enrolment,
    qr_png,
    remove_second_factor,
    start_enrolment,
)
from registry.words import country_name
from ui.console import current_user, engine, esc, flash


def _refresh_epoch() -> None:
    """Enrolling ends the account's other sessions; this one goes on with the new epoch."""
    from registry.users import get_user

    with session_scope(engine()) as session:
        fresh = get_user(session, st.session_state["auth"]["username"])
        if fresh is not None:
            st.session_state["auth"]["epoch"] = fresh.session_epoch


def _enrol(user: Any) -> None:
    if st.button("Set up a second factor", key="totp_start", type="primary"):
        try:
            with session_scope(engine()) as session:
                st.session_state["totp_uri"] = start_enrolment(session, user)
        except RegistryError as exc:
            flash("error", str(exc))
        st.rerun()
    uri = st.session_state.get("totp_uri")
    if not uri:
        return
    st.markdown("Scan this code with an authenticator app (or type the key from the link):")
    st.image(qr_png(uri), width=220)
    st.code(uri, language=None)
    code = st.text_input("The 6-digit code the app shows now", key="totp_code", max_chars=8)
    if st.button("Confirm", key="totp_confirm"):
        try:
            with session_scope(engine()) as session:
                confirm_enrolment(session, user, code)
        except RegistryError as exc:
            flash("error", f"Not enrolled: {exc}")
        else:
            st.session_state.pop("totp_uri", None)
            _refresh_epoch()
            flash("success", "Second factor enrolled: log in with a code from now on.")
        st.rerun()


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Your account")
    st.write(
        esc(f"{user.display_name or user.username} · {user.role}")
        + (f" of {esc(country_name(user.state))}" if user.state else "")
    )
    st.subheader("Second factor (authenticator app)")
    if needs_enrolment(user):
        st.warning("Your role must have a second factor: set one up to continue.")
    if user.totp_enabled:
        st.success("A second factor is set: every login asks for a code.")
        if st.button("Remove the second factor", key="totp_remove"):
            try:
                with session_scope(engine()) as session:
                    remove_second_factor(session, user, user.username)
            except RegistryError as exc:
                flash("error", str(exc))
            else:
                _refresh_epoch()
                flash("info", "Second factor removed.")
            st.rerun()
    else:
        _enrol(user)


_page()
