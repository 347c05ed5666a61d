"""Shared pieces of the inspector console: the engine, the logged-in user, messages, escaping.

The console never decides who may do what: it asks registry.service, and shows its answer.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from registry.db import open_registry, session_scope
from registry.errors import PermissionDenied, RegistryError, StaleAlert
from registry.models import User
from registry.service import Action, act
from registry.settings import Settings, get_settings
from ui.cli.common import neutralise_formula

__all__ = [
    "PAGES",
    "csv_bytes",
    "current_user",
    "engine",
    "esc",
    "flash",
    "log_in",
    "log_out",
    "open_alert",
    "run_action",
    "settings",
    "show_flashes",
]

# File pages, relative to ui/app.py; keys are used by st.switch_page callers.
PAGES = {
    "login": "views/login.py",
    "queue": "views/queue.py",
    "detail": "views/detail.py",
    "approvals": "views/approvals.py",
    "facilities": "views/facilities.py",
    "early_warning": "views/early_warning.py",
    "overview": "views/overview.py",
    "load_data": "views/load_data.py",
    "audit": "views/audit.py",
    "thresholds": "views/thresholds.py",
    "declarations": "views/declarations.py",
    "clarifications": "views/clarifications.py",
    "account": "views/account.py",
}

_engines: dict[str, Engine] = {}


def settings() -> Settings:
    """Settings read from the environment on every run (PWATCH_DATABASE_URL and friends)."""
    return get_settings()


def engine() -> Engine:
    """The registry engine for the configured URL (opened once per process)."""
    url = settings().database_url
    if url not in _engines:
        _engines[url] = open_registry(url)
    return _engines[url]


# --- escaping and exports ----------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")
# Streamlit's Markdown (remark-gfm) turns bare URLs and e-mail addresses into live links
# *after* escapes are resolved, matching the text against /(https?:\/\/|www(?=\.))/ and
# /[-.\w+]+@[-\w]+(\.[-\w]+)+/: a backslash cannot stop it. An invisible word joiner
# (U+2060) inside "://", after "www" and after "@" breaks those patterns; the text reads
# the same.
_AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=www)(?=\.)|(?<=@)")
_WORD_JOINER = "\u2060"


def esc(text: Any) -> str:
    """Text from the data made inert for st.markdown: no links (bare URLs and e-mail
    addresses included), images, HTML or formatting."""
    s = "" if text is None else str(text)
    s = _AUTOLINK.sub(_WORD_JOINER, s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", " ")


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A formula-safe CSV (OWASP CSV injection) of the given rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise_formula("" if v is None else str(v)) for v in row])
    return buf.getvalue().encode("utf-8")


# --- messages that survive a rerun -------------------------------------------------------


def flash(kind: str, text: str) -> None:
    """Queue a message (success, info, warning, error) for the top of the next page run."""
    st.session_state.setdefault("_flash", []).append((kind, text))


def show_flashes() -> None:
    for kind, text in st.session_state.pop("_flash", []):
        getattr(st, kind)(esc(text))  # messages quote data (names, file names): keep them inert


# --- login -------------------------------------------------------------------------------


def log_in(username: str, password: str, code: str | None = None) -> str | None:
    """Authenticate through registry.users (with the authenticator code of an account that
    has a second factor); returns an error message, or None on success."""
    from registry.users import authenticate

    try:
        with session_scope(engine()) as session:
            user = authenticate(session, username.strip(), password, code)
            role, epoch = user.role, user.session_epoch
    except PermissionDenied as exc:
        return str(exc)
    st.session_state["auth"] = {
        "username": username.strip(),
        "role": role,
        "at": time.time(),
        "epoch": epoch,
    }
    return None


def log_out(message: str | None = None) -> None:
    keep = {"_flash"}
    for key in list(st.session_state.keys()):
        if key not in keep:
            del st.session_state[key]
    if message:
        flash("info", message)


def current_user() -> User | None:
    """The logged-in, still active account (fresh from the registry), or None.

    Expires the session after settings.session_minutes, and ends it when the account's
    password, role or status changed since the login (its session epoch moved on).
    """
    auth = st.session_state.get("auth")
    if not auth:
        return None
    if time.time() - auth["at"] > settings().session_minutes * 60:
        log_out("Your session expired; please log in again.")
        return None
    from registry.users import get_user

    with session_scope(engine()) as session:
        user = get_user(session, auth["username"])
    if user is None or not user.active:
        log_out("Your account is no longer active.")
        return None
    if user.session_epoch != auth.get("epoch"):
        log_out("Your account was changed (password, role or status); please log in again.")
        return None
    return user


# --- acting on alerts --------------------------------------------------------------------


def run_action(
    alert_id: int,
    seen_version: int | None,
    action: str,
    *,
    reason_code: str | None = None,
    note: str | None = None,
    assignee: str | None = None,
    clear_keys: Sequence[str] = (),
) -> bool:
    """Ask the service layer to apply one action with the version the user saw; show its answer.

    Used as a widget callback, so the version is the one rendered when the button was drawn.
    """
    user = current_user()
    if user is None:
        return False
    req = Action(action, reason_code=reason_code or None, note=note or None, assignee=assignee)
    try:
        with session_scope(engine()) as session:
            row = act(session, alert_id, user, req, expected_version=seen_version)
            status, version = row.status, row.version
    except StaleAlert as exc:
        flash("error", f"Not saved: {exc}. The page now shows the current data.")
        return False
    except RegistryError as exc:
        flash("error", f"Not allowed: {exc}")
        return False
    flash(
        "success",
        f"{action.replace('_', ' ').capitalize()} recorded: alert {alert_id} is now {status} (version {version}).",
    )
    for key in clear_keys:
        st.session_state[key] = ""
    return True


def action_callback(
    alert_id: int,
    seen_version: int,
    action: str,
    keys: dict[str, str] | None = None,
) -> Callable[[], None]:
    """A callback for a button: reads its inputs (reason, note, assignee) from session state."""

    def _cb() -> None:
        vals = {name: st.session_state.get(key) for name, key in (keys or {}).items()}
        clear = [k for n, k in (keys or {}).items() if n == "note"]
        run_action(
            alert_id,
            seen_version,
            action,
            reason_code=vals.get("reason_code"),
            note=vals.get("note"),
            assignee=vals.get("assignee"),
            clear_keys=clear,
        )

    return _cb


def open_alert(alert_id: int) -> None:
    """Go to an alert's detail page."""
    st.session_state["alert_id"] = int(alert_id)
    st.switch_page(PAGES["detail"])


def open_facility(facility_id: str) -> None:
    st.session_state["facility_id"] = facility_id
    st.switch_page(PAGES["facilities"])
