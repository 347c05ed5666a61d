"""Facilities: search the declared registry; a facility's declarations, shipments, parties, alerts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from registry.db import session_scope
from ui.console import engine, esc, open_alert
from ui.queries import facility_profile, search_facilities

st.title("Facilities")
c1, c2 = st.columns([3, 1])
text = c1.text_input("Search declared facilities by name or id", key="f_search")
country = c2.text_input("Country (alpha-3)", key="f_country", max_chars=3)

with session_scope(engine()) as session:
    hits = search_facilities(session, text, country.strip().upper())

if hits:
    st.dataframe(pd.DataFrame(hits), hide_index=True, width="stretch")
    ids = [h["facility_id"] for h in hits]
    current = st.session_state.get("facility_id")
    labels = {h["facility_id"]: f"{h['name']} ({h['facility_id']}, {h['country']})" for h in hits}
    idx = ids.index(current) if current in ids else 0
    chosen = st.selectbox(
        "Facility profile", ids, index=idx, format_func=lambda i: labels.get(i, i), key="f_pick"
    )
    if chosen != current:
        st.session_state["facility_id"] = chosen
else:
    st.info("No declared facility matches.")

fid = st.session_state.get("facility_id")
if not fid:
    st.stop()

with session_scope(engine()) as session:
    prof = facility_profile(session, fid)
if prof is None:
    st.warning(f"No declared facility {esc(fid)}.")
    st.stop()
assert prof is not None
fac = prof["facility"]
st.header(esc(fac["name"]), anchor=False)
st.caption(
    esc(f"{fac['facility_id']} · {fac['country']} · {fac['address'] or 'no address declared'}")
)

tab_d, tab_s, tab_p, tab_a = st.tabs(
    [
        f"Declarations ({len(prof['declarations'])})",
        f"Shipments ({prof['shipment_count']:,})",
        f"Linked parties ({len(prof['parties'])})",
        f"Alerts ({len(prof['alerts'])})",
    ]
)
with tab_d:
    if prof["declarations"]:
        st.dataframe(pd.DataFrame(prof["declarations"]), hide_index=True, width="stretch")
    else:
        st.info("No declarations.")
with tab_s:
    if prof["shipments"]:
        ships = pd.DataFrame(prof["shipments"])
        ships["date"] = pd.to_datetime(ships["date"])
        monthly = (
            ships.assign(month=ships["date"].dt.to_period("M").dt.to_timestamp())
            .groupby("month", as_index=False)["quantity_kg"]
            .sum()
        )
        st.altair_chart(
            alt.Chart(monthly)
            .mark_bar()
            .encode(x=alt.X("month:T", title="month"), y=alt.Y("quantity_kg:Q", title="kg"))
            .properties(height=200),
            width="stretch",
        )
        st.caption(f"The {len(ships):,} most recent of {prof['shipment_count']:,} records")
        st.dataframe(ships, hide_index=True, width="stretch")
    else:
        st.info("No shipments linked to this facility.")
with tab_p:
    if prof["parties"]:
        st.dataframe(pd.DataFrame(prof["parties"]), hide_index=True, width="stretch")
    else:
        st.info("No trading partners on record.")
with tab_a:
    if prof["alerts"]:
        st.dataframe(pd.DataFrame(prof["alerts"]), hide_index=True, width="stretch")
        ids = [a["id"] for a in prof["alerts"]]
        c1, c2 = st.columns([3, 1])
        pick = c1.selectbox("Alert", ids, key="f_alert")
        if c2.button("Open alert", key="f_alert_btn") and pick:
            open_alert(int(pick))
    else:
        st.info("No alerts about this facility.")
