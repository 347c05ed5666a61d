"""Overview for policymakers (read-only): what is declared, what moved, what was caught."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from sqlalchemy import String, bindparam, case, cast, func, literal, or_, select

from registry.db import session_scope
from registry.models import AlertRow, AlertShipment, Declaration, Facility, Shipment
from ui.console import engine, settings

st.title("Overview")
st.markdown(
    "States declare the facilities that produce, process or trade listed fentanyl precursors "
    "and how much they expect to handle each year. Customs records and pre-export notifications "
    "of every shipment flow in from national authorities. The system reconciles each export "
    "with its arrival, compares what moves with what was declared, screens product names and "
    "structures for disguised or designer precursors, and raises an alert with the numbers "
    "behind it. Inspectors triage each alert on the record; when the grounds hold, a second "
    "official approves a **challenge-inspection request** to the facility, as under the "
    "Chemical Weapons Convention."
)


def _listed_texts(s: Any) -> list[tuple[str, str]] | None:
    """(product, cas) texts the screen called a listed precursor, as detection cached them
    ('' for a missing value); None before detection has screened anything."""
    from registry.models import ScreenResult

    if s.scalar(select(func.count(ScreenResult.id))) == 0:
        return None
    rows = s.execute(
        select(ScreenResult.product, ScreenResult.cas)
        .where(ScreenResult.verdict == "controlled")
        .distinct()
    ).all()
    return sorted({(p or "", c or "") for p, c in rows})


@st.cache_data(ttl=900, show_spinner="Summarising the registry…")
def _summary(url: str) -> dict[str, Any]:
    month = func.substr(cast(Shipment.date, String), 1, 7)
    with session_scope(engine()) as s:
        n_fac = s.scalar(select(func.count(Facility.facility_id))) or 0
        declared = s.execute(
            select(Declaration.declaration_year, func.sum(Declaration.declared_annual_kg)).group_by(
                Declaration.declaration_year
            )
        ).all()
        # Export-side records only: an import record mirrors an export and would count twice.
        export_side = or_(Shipment.flow.is_(None), Shipment.flow != "M")
        # Which records are listed precursors: the screen's cached verdicts of their
        # (product, cas) text, so "moved" compares like with like with "declared".
        texts = _listed_texts(s)
        if texts:
            # One text key per (product, cas), rendered inline (escaped): no bind-parameter
            # limit caps the list, and PostgreSQL reads a long scalar list as one array.
            key = func.coalesce(Shipment.product, "") + "\x1f" + func.coalesce(Shipment.cas, "")
            is_listed: Any = key.in_(
                bindparam(
                    "listed_texts",
                    [f"{p}\x1f{c}" for p, c in texts],
                    type_=String(),
                    expanding=True,
                    literal_execute=True,
                )
            )
        else:
            is_listed = literal(False)
        # One pass over the shipments: month x country pair; months and flows are sums of it.
        cells = s.execute(
            select(
                month,
                Shipment.exporter_country,
                Shipment.importer_country,
                func.count(Shipment.id),
                func.sum(Shipment.quantity_kg),
                func.sum(case((is_listed, 1), else_=0)),
                func.sum(case((is_listed, Shipment.quantity_kg), else_=0.0)),
            )
            .where(export_side)
            .group_by(month, Shipment.exporter_country, Shipment.importer_country)
        ).all()
        flagged_ids = select(AlertShipment.shipment_pk).distinct().scalar_subquery()
        caught = s.execute(
            select(month, func.count(Shipment.id), func.sum(Shipment.quantity_kg))
            .where(Shipment.id.in_(flagged_ids), export_side)
            .group_by(month)
        ).all()
        by_detector = s.execute(
            select(AlertRow.detector, AlertRow.status, func.count(AlertRow.id)).group_by(
                AlertRow.detector, AlertRow.status
            )
        ).all()
    moved: dict[str, tuple[int, float]] = {}
    listed_months: dict[str, tuple[int, float]] | None = {} if texts is not None else None
    flows: dict[tuple[str, str], tuple[int, float]] = {}
    for m, a, b, n, kg, ln, lkg in cells:
        n0, kg0 = moved.get(m, (0, 0.0))
        moved[m] = (n0 + int(n), kg0 + float(kg or 0))
        if listed_months is not None:
            n2, kg2 = listed_months.get(m, (0, 0.0))
            listed_months[m] = (n2 + int(ln or 0), kg2 + float(lkg or 0))
        n1, kg1 = flows.get((a, b), (0, 0.0))
        flows[(a, b)] = (n1 + int(n), kg1 + float(kg or 0))
    return {
        "facilities": int(n_fac),
        "declared": [{"year": y, "kg": float(kg or 0)} for y, kg in declared],
        "moved": [{"month": m, "shipments": n, "kg": kg} for m, (n, kg) in sorted(moved.items())],
        "caught": [{"month": m, "shipments": int(n), "kg": float(kg or 0)} for m, n, kg in caught],
        "listed": None
        if listed_months is None
        else [
            {"month": m, "shipments": n, "kg": kg} for m, (n, kg) in sorted(listed_months.items())
        ],
        "flows": [
            {"from": a, "to": b, "shipments": n, "kg": kg}
            for (a, b), (n, kg) in sorted(flows.items(), key=lambda kv: -kv[1][1])[:40]
        ],
        "alerts": [{"detector": d, "status": st_, "alerts": int(n)} for d, st_, n in by_detector],
    }


data = _summary(settings().database_url)
moved = pd.DataFrame(data["moved"], columns=["month", "shipments", "kg"])
caught = pd.DataFrame(data["caught"], columns=["month", "shipments", "kg"])
alerts = pd.DataFrame(data["alerts"], columns=["detector", "status", "alerts"])

listed = (
    pd.DataFrame(data["listed"], columns=["month", "shipments", "kg"])
    if data.get("listed") is not None
    else None
)

c = st.columns(5)
c[0].metric("Declared facilities", f"{data['facilities']:,}")
c[1].metric("Consignments (export records)", f"{int(moved['shipments'].sum()):,}")
if listed is not None:
    c[2].metric(
        "Listed precursors moved (t)",
        f"{listed['kg'].sum() / 1000:,.1f}",
        help=f"of {moved['kg'].sum() / 1000:,.1f} t of all chemicals in the feeds",
    )
else:
    c[2].metric("All chemicals moved (t)", f"{moved['kg'].sum() / 1000:,.1f}")
c[3].metric("Tonnes in flagged shipments", f"{caught['kg'].sum() / 1000:,.1f}")
c[4].metric("Alerts", f"{int(alerts['alerts'].sum()):,}")

st.subheader("Declared, moved and caught")
years: dict[str, dict[str, float]] = {}
for d in data["declared"]:
    if d["year"] is not None:
        years.setdefault(str(d["year"]), {})["declared"] = d["kg"]
for frame, label in ((listed if listed is not None else moved, "moved"), (caught, "caught")):
    for row in frame.itertuples(index=False):
        y = str(row.month)[:4]
        years.setdefault(y, {})[label] = years.get(y, {}).get(label, 0.0) + float(row.kg)
yearly = pd.DataFrame(
    [
        {"year": y, "measure": m, "kg": v}
        for y, vals in sorted(years.items())
        for m, v in vals.items()
    ]
)
if not yearly.empty:
    yearly["tonnes"] = yearly["kg"] / 1000
    order = ["declared", "moved", "caught"]
    base = alt.Chart(yearly).encode(
        x=alt.X("year:N", title="year"),
        xOffset=alt.XOffset("measure:N", sort=order),
        y=alt.Y("tonnes:Q", title="tonnes"),
        tooltip=["year", "measure", alt.Tooltip("tonnes:Q", format=",.1f")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "measure:N",
            sort=order,
            scale=alt.Scale(domain=order, range=["#4c78a8", "#9ecae9", "#e45756"]),
        )
    )
    labels = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("tonnes:Q", format=",.1f"))
    st.altair_chart((bars + labels).properties(height=260), width="stretch")
    st.caption(
        "Declared: annual quantities in the declarations of that year. Moved: export-side "
        + (
            "records of listed precursors (by the screen, whatever name they travel under). "
            if listed is not None
            else "records of every chemical (run detection to separate listed precursors). "
        )
        + "Caught: export-side records that an alert rests on."
    )
shown = listed if listed is not None else moved
if not shown.empty:
    monthly = pd.concat([shown.assign(measure="moved"), caught.assign(measure="caught")])
    monthly["month"] = pd.to_datetime(monthly["month"] + "-01", errors="coerce")
    st.altair_chart(
        alt.Chart(monthly)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title="month"),
            y=alt.Y("kg:Q", title="kg per month"),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(domain=["moved", "caught"], range=["#4c78a8", "#e45756"]),
            ),
        )
        .properties(height=220),
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.subheader("Trade flows between countries")
    flows = pd.DataFrame(data["flows"], columns=["from", "to", "shipments", "kg"])
    if not flows.empty:
        st.altair_chart(
            alt.Chart(flows)
            .mark_rect()
            .encode(
                x=alt.X("to:N", title="importing country"),
                y=alt.Y("from:N", title="exporting country"),
                color=alt.Color("kg:Q", title="kg", scale=alt.Scale(scheme="blues")),
                tooltip=["from", "to", "shipments", alt.Tooltip("kg:Q", format=",.0f")],
            )
            .properties(height=320),
            width="stretch",
        )
    else:
        st.info("No shipments loaded yet.")
with right:
    st.subheader("Alerts by detector and outcome")
    if not alerts.empty:
        st.altair_chart(
            alt.Chart(alerts)
            .mark_bar()
            .encode(
                y=alt.Y("detector:N", title=None),
                x=alt.X("alerts:Q", title="alerts"),
                color=alt.Color("status:N", title="status"),
                tooltip=["detector", "status", "alerts"],
            )
            .properties(height=320),
            width="stretch",
        )
    else:
        st.info("No alerts yet.")
