"""Early warning: designer analogues seen in the feeds, one per structure whatever names they
travel under; a supervisor promotes one to the watchlist."""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.db import session_scope
from registry.early_warning import early_warning_groups, promote
from registry.errors import RegistryError
from registry.queries import substance
from registry.service import allowed
from registry.words import country_name, verdict_word
from ui.chem import depict
from ui.console import current_user, engine, esc, flash
from ui.show import kg, table, when


def _gather() -> tuple[list[dict[str, Any]], dict[int, dict[str, Any] | None]]:
    with session_scope(engine()) as session:
        groups = early_warning_groups(session)
        nearest = {g["id"]: substance(session, g["nearest_cas"]) for g in groups}
    return groups, nearest


def _status(g: dict[str, Any]) -> str:
    if g["status"] == "promoted":
        return "listed precursor (promoted to the watchlist)"
    return verdict_word("analogue")


def detail(g: dict[str, Any], listed: dict[str, Any] | None, user: Any) -> None:
    st.subheader(esc(g["names"][0]), anchor=False)
    if len(g["names"]) > 1:
        st.caption("Also seen as: " + esc("; ".join(g["names"][1:])))
    if g["explanation"]:
        st.markdown(esc(g["explanation"]))
    st.markdown(esc(g["totals"].sentence()))
    c1, c2 = st.columns(2)
    with c1:
        st.caption("Structure seen in the feed")
        img = depict(g["smiles"])
        if img:
            st.image(img, width=280)
        else:
            st.info("No structure recorded.")
    with c2:
        st.caption(
            f"Nearest listed substance: {esc(listed['name']) if listed else 'none on record'}"
        )
        limg = depict(listed["smiles"]) if listed else None
        if limg:
            st.image(limg, width=280)
    if g["status"] == "promoted":
        st.success(
            f"Promoted to the watchlist by {esc(g['promoted_by'])} as {esc(g['promoted_cas'])}."
        )
    elif allowed(user.role, "promote_analogue"):
        if st.button("Promote to the watchlist", type="primary", key=f"ew_promote_{g['id']}"):
            try:
                with session_scope(engine()) as session:
                    promote(session, int(g["id"]), user)
            except RegistryError as exc:
                st.error(f"Not allowed: {esc(exc)}")
            else:
                flash(
                    "success",
                    f"{g['names'][0]} promoted to the watchlist, with every name of its structure.",
                )
                st.rerun()
    else:
        st.caption("Supervisors can promote an analogue to the watchlist.")


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Early warning")
    st.caption(
        "Close relatives of listed precursors that are not listed themselves, as the screen found "
        "them in product descriptions: one row per chemical structure, whatever names it "
        "travels under, each consignment counted once. A supervisor can promote one to the "
        "watchlist, so every later shipment of it screens as a listed precursor."
    )
    groups, nearest = _gather()
    if not groups:
        st.info("No designer analogues have been seen in the feeds.")
        return
    table(
        {
            "analogue": g["names"][0],
            "names seen": len(g["names"]),
            "screen's verdict": _status(g),
            "first seen": when(g["first_seen"]),
            "consignments": g["totals"].consignments,
            "quantity": kg(g["totals"].kg),
            "countries": ", ".join(country_name(c) for c in g["countries"]),
            "nearest listed": (nearest[g["id"]] or {}).get("name", ""),
        }
        for g in groups
    )
    by_id = {g["id"]: g for g in groups}
    pick = int(
        st.selectbox(
            "Analogue", list(by_id), format_func=lambda i: by_id[int(i)]["names"][0], key="ew_pick"
        )
    )
    detail(by_id[pick], nearest[pick], user)


_page()
