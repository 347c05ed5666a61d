"""Early warning: designer analogues seen in the feed; a supervisor promotes one to the watchlist."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from registry.db import session_scope
from registry.errors import RegistryError
from ui.chem import depict, known_smiles
from ui.console import current_user, engine, esc, flash
from ui.queries import early_warnings, substance

user = current_user()
if user is None:  # pragma: no cover
    st.stop()
assert user is not None

st.title("Early warning")
st.caption(
    "Close relatives of listed precursors that are not (yet) listed themselves, as the screen "
    "found them in product descriptions. A supervisor can promote one to the watchlist, so "
    "every later shipment of it is screened as controlled."
)

with session_scope(engine()) as session:
    rows = early_warnings(session)
    table = [
        {
            "id": w.id,
            "name": w.name,
            "status": w.status,
            "first seen": w.first_seen,
            "last seen": w.last_seen,
            "shipments": w.shipment_count,
            "kg": w.total_kg,
            "parties": ", ".join(map(str, w.parties or [])),
            "countries": ", ".join(map(str, w.countries or [])),
            "nearest listed": w.nearest_cas,
            "similarity": w.similarity,
        }
        for w in rows
    ]
    details = {
        w.id: (
            w.name,
            w.smiles,
            w.explanation,
            w.nearest_cas,
            w.status,
            w.promoted_by,
            w.promoted_cas,
        )
        for w in rows
    }
    nearest = {w.id: substance(session, w.nearest_cas) for w in rows}
    nearest_info = {k: (v.name, v.smiles) if v else None for k, v in nearest.items()}

if not table:
    st.info("No designer analogues have been seen in the feed.")
    st.stop()

st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
pick = int(
    st.selectbox(
        "Analogue",
        list(details),
        format_func=lambda i: f"#{i} {details[int(i)][0]}",
        key="ew_pick",
    )
)
name, smiles, explanation, nearest_cas, status, promoted_by, promoted_cas = details[pick]
st.subheader(esc(name), anchor=False)
if explanation:
    st.markdown(esc(explanation))
c1, c2 = st.columns(2)
with c1:
    st.caption("Structure seen in the feed")
    img = depict(smiles or known_smiles(name=name))
    if img:
        st.image(img, width=280)
    else:
        st.info("No structure recorded.")
with c2:
    info = nearest_info.get(pick)
    st.caption(f"Nearest listed substance: {esc(info[0]) if info else esc(nearest_cas or 'none')}")
    limg = depict(info[1]) if info else None
    if limg:
        st.image(limg, width=280)

if status == "promoted":
    st.success(f"Promoted to the watchlist by {esc(promoted_by)} as {esc(promoted_cas)}.")
elif user.role == "supervisor":
    if st.button("Promote to the watchlist", type="primary", key=f"ew_promote_{pick}"):
        from registry.early_warning import promote

        try:
            with session_scope(engine()) as session:
                promote(session, int(pick), user)
        except RegistryError as exc:
            st.error(f"Not allowed: {esc(exc)}")
        else:
            flash("success", f"{name} promoted to the watchlist.")
            st.rerun()
else:
    st.caption("Supervisors can promote an analogue to the watchlist.")
