"""Facilities: search the declared registry; a facility's declarations, its consignments
(each counted once, as supplier and as buyer), its trading partners and its alerts."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from detection.catalogue import detector_label
from registry.db import session_scope
from registry.registry_reads import facility_profile, search_facilities
from registry.words import country_name, status_word
from ui.console import engine, esc
from ui.show import SEVERITY_MARK, go, kg, link, requested_facility, table


def _pick(user: Any) -> str | None:
    c1, c2 = st.columns([3, 1])
    text = c1.text_input("Search declared facilities by name or id", key="f_search")
    country = c2.text_input("Country (ISO code, e.g. MEX)", key="f_country", max_chars=3)
    with session_scope(engine()) as session:
        hits = search_facilities(session, text, country.strip().upper(), user=user)
    current = requested_facility()
    if not hits:
        st.info("No declared facility matches.")
        return current
    ids = [h["facility_id"] for h in hits]
    labels = {
        h["facility_id"]: f"{h['name']} ({h['facility_id']}, {country_name(h['country'])})"
        for h in hits
    }
    with st.expander(f"{len(hits)} facilities match", expanded=current is None):
        table(
            {
                "facility": h["name"],
                "id": h["facility_id"],
                "country": country_name(h["country"]),
                "address": h["address"] or "",
            }
            for h in hits
        )
    idx = ids.index(current) if current in ids else 0
    chosen = st.selectbox(
        "Facility profile", ids, index=idx, format_func=lambda i: labels.get(i, i), key="f_pick"
    )
    if chosen != current:
        st.session_state["facility_id"] = chosen
        st.query_params["facility"] = chosen
    return str(chosen)


def profile(prof: dict[str, Any], user: Any = None) -> None:
    from ui.confidential import banner, change_control

    fac = prof["facility"]
    st.header(esc(fac["name"]), anchor=False)
    banner(fac["classification"])
    change_control(user, "facility", fac["facility_id"], fac["classification"])
    st.caption(
        esc(
            f"{fac['facility_id']} · {country_name(fac['country'])} · {fac['address'] or 'no address declared'}"
        )
        + f" · link: {link('facilities', facility=fac['facility_id'])}"
    )
    shipped, received = prof["shipped"], prof["received"]
    m = st.columns(4)
    m[0].metric("Shipped (as supplier)", kg(shipped.kg), help=shipped.sentence())
    m[1].metric("Consignments shipped", f"{shipped.consignments:,}")
    m[2].metric("Received (as buyer)", kg(received.kg), help=received.sentence())
    m[3].metric("Alerts about it", f"{len(prof['alerts']):,}")
    tabs = st.tabs(
        [
            f"Declarations ({len(prof['declarations'])})",
            f"Consignments ({prof['consignments'].height:,})",
            f"Trading partners ({prof['partners'].height})",
            f"Alerts ({len(prof['alerts'])})",
        ]
    )
    with tabs[0]:
        table(
            ({"substance": d["substance"], "CAS": d["substance_cas"] or "", "activity": d["activity"], "year": d["declaration_year"] or "every year", "declared per year": kg(d["declared_annual_kg"])} for d in prof["declarations"]),
            empty="No declarations.",
        )  # fmt: skip
    with tabs[1]:
        consignments(prof)
    with tabs[2]:
        table(
            ({"partner": p["party"], "country": country_name(p["country"]), "role": p["role"], "consignments": p["consignments"], "quantity": kg(p["kg"])} for p in prof["partners"].iter_rows(named=True)),
            empty="No trading partners on record.",
        )  # fmt: skip
    with tabs[3]:
        alerts(prof["alerts"])


def consignments(prof: dict[str, Any]) -> None:
    cons: pl.DataFrame = prof["consignments"]
    if cons.height == 0:
        st.info("No shipments linked to this facility.")
        return
    fid = prof["facility"]["facility_id"]
    st.markdown(
        esc(f"As supplier: {prof['shipped'].sentence()} As buyer: {prof['received'].sentence()}")
    )
    if prof["capped"]:
        st.caption(
            "Only the facility's most recent records are added up here (see Known limitations)."
        )
    monthly = (
        cons.with_columns(
            pl.col("date").dt.truncate("1mo").alias("month"),
            pl.when(pl.col("exporter_facility_id") == fid).then(pl.lit("shipped")).otherwise(pl.lit("received")).alias("direction"),
        )
        .group_by("month", "direction")
        .agg(pl.col("quantity_kg").sum().alias("kg"))
    )  # fmt: skip
    st.altair_chart(
        alt.Chart(monthly).mark_bar().encode(
            x=alt.X("month:T", title="month"),
            y=alt.Y("kg:Q", title="kg per month (each consignment once)"),
            color=alt.Color("direction:N", title=None),
            tooltip=[alt.Tooltip("month:T", format="%b %Y"), "direction", alt.Tooltip("kg:Q", format=",.0f")],
        ).properties(height=220),
        width="stretch",
    )  # fmt: skip
    table(
        {
            "date": r["date"],
            "direction": "shipped" if r["exporter_facility_id"] == fid else "received",
            "partner": f"{r['importer']} ({country_name(r['importer_country'])})" if r["exporter_facility_id"] == fid else f"{r['exporter']} ({country_name(r['exporter_country'])})",
            "product": r["product"] or "",
            "quantity (counted)": kg(r["quantity_kg"]),
            "import record says": kg(r["import_kg"]),
            "records held": r["sides"],
        }
        for r in cons.sort("date", descending=True).head(500).iter_rows(named=True)
    )  # fmt: skip


def alerts(rows: list[dict[str, Any]]) -> None:
    if not rows:
        st.info("No alerts about this facility.")
        return
    table(
        ({"alert": link("detail", alert=a["id"]), "severity": SEVERITY_MARK.get(a["severity"], a["severity"]), "what was found": detector_label(a["detector"]), "status": status_word(a["status"]), "finding": a["summary"]} for a in rows),
        column_config={"alert": st.column_config.LinkColumn("alert", display_text=r"alert=(\d+)$")},
    )  # fmt: skip
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Alert", [a["id"] for a in rows], key="f_alert")
    if c2.button("Open alert", key="f_alert_btn") and pick:
        go("detail", alert=int(pick))


def _page() -> None:
    from ui.confidential import log_view
    from ui.console import current_user

    user = current_user()
    if user is None:
        st.stop()
    st.title("Facilities")
    fid = _pick(user)
    if not fid:
        return
    with session_scope(engine()) as session:
        prof = facility_profile(session, fid, user)
    if prof is None:
        st.warning(f"No declared facility {esc(fid)} that you may see.")
        return
    log_view(user, "facility", fid, "facility page")
    profile(prof, user)


_page()
