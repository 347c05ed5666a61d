"""The inspector console (Streamlit): login, then pages by role. `pwatch console` serves it.

The menus mirror the roles; the service layer enforces them. A link to an alert or a case
(/detail?alert=12, /case?case=7) survives the login it may need.
"""

from __future__ import annotations

import streamlit as st

from registry.errors import RegistryError
from ui.console import current_user, engine, esc, log_out, show_flashes
from ui.show import PAGE_FILES as PAGES

st.set_page_config(page_title="precursor-watch console", page_icon="⚗️", layout="wide")

# Which pages each role sees in its menu (the service layer still decides every action).
_VIEW = ["overview", "queue", "detail", "facilities", "early_warning", "account"]
_STATES = ["declarations", "clarifications"]
MENUS: dict[str, list[str]] = {
    "viewer": _VIEW,
    "analyst": [*_VIEW, "load_data", "declarations"],
    "inspector": [*_VIEW, *_STATES],
    "supervisor": [*_VIEW, *_STATES, "load_data", "approvals", "thresholds", "audit"],
    # a national authority: its state's declarations and the requests sent to it, nothing else
    "authority": [*_STATES, "account"],
}
# Where each role lands: policymakers (viewers) on the overview, authorities on the requests
# sent to them, everyone else on the queue.
LANDING = {"viewer": "overview", "authority": "clarifications"}
_TITLES = {
    "queue": ("Alert queue", ":material/list_alt:"),
    "detail": ("Alert detail", ":material/search:"),
    "case": ("Case", ":material/folder_open:"),
    "approvals": ("Approvals", ":material/rule:"),
    "facilities": ("Facilities", ":material/factory:"),
    "early_warning": ("Early warning", ":material/science:"),
    "overview": ("Overview", ":material/public:"),
    "load_data": ("Load data", ":material/upload_file:"),
    "audit": ("Audit trail", ":material/verified:"),
    "thresholds": ("Detector thresholds", ":material/tune:"),
    "declarations": ("Declarations", ":material/assignment:"),
    "clarifications": ("Requests for clarification", ":material/contact_support:"),
    "account": ("Your account", ":material/account_circle:"),
}
_GROUPS = {
    "Work": ["queue", "detail", "case", "approvals", "clarifications"],
    "Registry": ["facilities", "early_warning", "load_data", "declarations"],
    "Regime": ["overview", "thresholds", "audit"],
    "Account": ["account"],
}
# URL parameters that name what a link points at, and the page that shows it.
_LINKS = {
    "alert": "detail",
    "case": "case",
    "facility": "facilities",
    "request": "clarifications",
}


def _remember_link() -> None:
    """Before login: keep what the link asked for, to open it once the user is in."""
    for param, page in _LINKS.items():
        value = st.query_params.get(param)
        if value:
            st.session_state["_deeplink"] = (page, {param: str(value)})


def _follow_link(allowed: list[str]) -> None:
    target = st.session_state.pop("_deeplink", None)
    if target and target[0] in allowed:
        st.switch_page(PAGES[target[0]], query_params=target[1])


def _main() -> None:
    try:
        engine()
        user = current_user()
    except RegistryError as exc:
        st.error(f"The console cannot open the registry: {esc(exc)}")
        st.stop()
        return
    if user is None:
        _remember_link()
        login = st.Page(PAGES["login"], title="Log in", icon=":material/login:", url_path="login")
        # A link to a page (/detail?alert=12) shows the login form, not "page not found".
        linked = [
            st.Page(PAGES["login"], title="Log in", url_path=page, visibility="hidden")
            for page in sorted(set(_LINKS.values()))
        ]
        nav = st.navigation([login, *linked], position="hidden")
        show_flashes()
        nav.run()
        return
    from registry.second_factor import needs_enrolment

    allowed = MENUS.get(user.role, [])
    if "detail" in allowed:
        allowed = [*allowed, "case"]
    landing = LANDING.get(user.role, "queue")
    if needs_enrolment(user):  # until a required second factor is set, only the account page
        allowed, landing = ["account"], "account"
    pages: dict[str, list[st.Page]] = {}
    for group, keys in _GROUPS.items():
        for key in keys:
            if key in allowed:
                title, icon = _TITLES[key]
                pages.setdefault(group, []).append(
                    st.Page(
                        PAGES[key],
                        title=title,
                        icon=icon,
                        url_path=key,
                        default=(key == landing),
                        visibility="hidden" if key == "case" else "visible",
                    )
                )
    with st.sidebar:
        st.caption("precursor-watch inspector console")
        where = f" of {user.state}" if user.state else ""
        st.write(f"**{esc(user.display_name or user.username)}** · {user.role}{where}")
        st.button(
            "Log out",
            key="logout",
            icon=":material/logout:",
            on_click=log_out,
            args=("You are logged out.",),
        )
    nav = st.navigation(pages)
    _follow_link(allowed)
    show_flashes()
    nav.run()


_main()
