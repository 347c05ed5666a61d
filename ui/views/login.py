"""Login page: local accounts (argon2), lockout after repeated failures."""

from __future__ import annotations

import streamlit as st

from ui.console import esc, log_in

st.title("precursor-watch")
st.caption("Inspector console of the fentanyl-precursor inspection body")

with st.form("login"):
    username = st.text_input("Username", key="login_user")
    password = st.text_input("Password", type="password", key="login_password")
    code = st.text_input(
        "Authenticator code (if your account has a second factor)",
        key="login_code",
        max_chars=8,
    )
    submitted = st.form_submit_button("Log in", type="primary")

if submitted:
    if not username or not password:
        st.error("Enter your username and password.")
    else:
        problem = log_in(username, password, code or None)
        if problem:
            st.error(f"Login refused: {esc(problem)}")
        else:
            st.rerun()
