"""Alert detail: summary, evidence, charts, mirror records, structures, history, triage."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from registry.db import session_scope
from registry.models import AlertRow, utcnow
from registry.service import ACTIONS, DISMISS_REASONS, FOUR_EYES_SEVERITIES, available_actions
from ui.chem import depict, known_smiles
from ui.console import action_callback, current_user, engine, esc, open_facility, settings
from ui.queries import (
    alert_history,
    alert_shipments,
    challenge_requests,
    consignment_records,
    deadline_info,
    facility_year_shipments,
    queue_options,
    relation_shipments,
    screen_explanations,
    substance,
)

user = current_user()
if user is None:  # pragma: no cover - app.py only routes logged-in users here
    st.stop()
assert user is not None

alert_id = st.session_state.get("alert_id")
with st.sidebar:
    typed = st.number_input(
        "Alert number", min_value=1, step=1, value=int(alert_id) if alert_id else None, key="d_pick"
    )
    if typed and int(typed) != alert_id and st.button("Show", key="d_pick_btn"):
        st.session_state["alert_id"] = alert_id = int(typed)

if not alert_id:
    st.title("Alert detail")
    st.info("Choose an alert in the queue, or type its number in the sidebar.")
    st.stop()

with session_scope(engine()) as session:
    alert = session.get(AlertRow, int(alert_id))
    if alert is None:
        st.title("Alert detail")
        st.warning(f"There is no alert {int(alert_id)}.")
        st.stop()
    assert alert is not None
    flagged = alert_shipments(session, alert.id)
    relation_desc, relation = relation_shipments(session, flagged, alert.facility_id)
    history = alert_history(session, alert.id)
    requests = [
        (r.id, r.created_at, r.created_by, r.markdown, r.sha256)
        for r in challenge_requests(session, alert.id)
    ]
    numbers_ev = (alert.evidence or {}).get("numbers") or {}
    parent_cas = (
        numbers_ev.get("listed_parent") if isinstance(numbers_ev, dict) else None
    ) or alert.substance_cas
    listed = substance(session, parent_cas)
    products = sorted({str(s["product"]) for s in flagged})[:10]
    screened = screen_explanations(session, products)
    listed_info = (listed.name, listed.smiles, listed.cas) if listed else None
    triagers = queue_options(session)["triagers"]
    actions_now = available_actions(alert, user)
    evidence: dict[str, Any] = dict(alert.evidence or {})
    facility_name = None
    if alert.facility_id:
        from registry.models import Facility

        fac = session.get(Facility, alert.facility_id)
        facility_name = fac.name if fac else None

st.title(f"Alert {alert.id}")
dl = deadline_info(alert.severity, alert.status, alert.created_at, settings().review_deadline_hours)
m = st.columns(6)
m[0].metric("Severity", alert.severity)
m[1].metric("Score", f"{alert.score:.0f}")
m[2].metric("Status", alert.status.replace("_", " "))
m[3].metric("Assignee", esc(alert.assignee) if alert.assignee else "nobody")
m[4].metric("Age (h)", f"{dl['age_h']:.0f}")
m[5].metric(
    "Deadline",
    "OVERDUE"
    if dl["overdue"]
    else (f"{dl['left_h']:.0f} h left" if dl["left_h"] is not None else "closed"),
)
st.caption(
    f"Detector {esc(alert.detector)} · version {alert.version} · created "
    f"{alert.created_at:%Y-%m-%d %H:%M} UTC · last detected {alert.last_detected_at:%Y-%m-%d %H:%M} UTC"
)
st.subheader("Summary")
st.markdown(esc(alert.summary))

if alert.facility_id:
    c1, c2 = st.columns([3, 1])
    c1.markdown(
        f"Facility: **{esc(facility_name or 'not in the declared registry')}** ({esc(alert.facility_id)})"
    )
    if facility_name and c2.button("Open facility profile", key="d_facility"):
        open_facility(alert.facility_id)


def _scalar_rows(ev: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for key, value in ev.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _scalar_rows(value, name + ".")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append({"evidence": name, "value": f"{len(value)} records (below)"})
        elif isinstance(value, list):
            out.append({"evidence": name, "value": ", ".join(map(str, value))})
        elif isinstance(value, float):
            small = value != 0 and abs(value) < 0.01
            out.append({"evidence": name, "value": f"{value:.3g}" if small else f"{value:,.2f}"})
        else:
            out.append({"evidence": name, "value": "" if value is None else str(value)})
    return out


is_name = (
    any(k in alert.detector for k in ("name", "screen", "analogue", "designer", "masked"))
    or "explanation" in evidence
)
tab_ev, tab_chart, tab_records, tab_hist = st.tabs(["Evidence", "Charts", "Records", "History"])

with tab_ev:
    numbers = evidence.get("numbers") if isinstance(evidence.get("numbers"), dict) else None
    thresholds = (
        evidence.get("thresholds") if isinstance(evidence.get("thresholds"), dict) else None
    )
    if numbers is not None:
        st.caption("The numbers that made the detector fire")
        st.dataframe(pd.DataFrame(_scalar_rows(numbers)), hide_index=True, width="stretch")
        if thresholds:
            st.caption("Thresholds in force")
            st.dataframe(
                pd.DataFrame(_scalar_rows(thresholds)).rename(columns={"evidence": "threshold"}),
                hide_index=True,
                width="stretch",
            )
        rest = {
            k: v
            for k, v in evidence.items()
            if k not in ("numbers", "thresholds", "records", "detector")
        }
        if rest:
            st.caption("Other evidence")
            st.dataframe(pd.DataFrame(_scalar_rows(rest)), hide_index=True, width="stretch")
    else:
        rows = _scalar_rows(evidence)
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        else:
            st.info("The detector stored no evidence numbers for this alert.")
        for key, value in evidence.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                st.caption(esc(key))
                st.dataframe(pd.DataFrame(value).astype(str), hide_index=True, width="stretch")

    # Name and structure alerts: the screen's explanation and the structure beside the listed one.
    if is_name:
        st.subheader("Screening")
        for line in [evidence.get("explanation"), *[r["explanation"] for r in screened]]:
            if line:
                st.markdown(esc(line))
        if screened:
            st.dataframe(pd.DataFrame(screened), hide_index=True, width="stretch")
        elif products:
            st.caption("Product text as declared")
            st.code("\n".join(products), language=None)
        smiles = next(
            (
                str(evidence[k])
                for k in ("smiles", "query_smiles", "analogue_smiles", "structure")
                if evidence.get(k)
            ),
            None,
        ) or known_smiles(alert.substance_cas, products[0] if products else None)
        if smiles is None and listed_info and listed_info[2] == alert.substance_cas:
            smiles = listed_info[1]  # a listed substance under a masking name
        c1, c2 = st.columns(2)
        img = depict(smiles)
        with c1:
            st.caption(f"Structure seen in the feed ({esc(alert.substance_cas or 'unidentified')})")
            if img:
                st.image(img, width=280)
            else:
                st.info("No structure could be derived from the product text.")
        with c2:
            if listed_info:
                st.caption(
                    f"Nearest listed substance: {esc(listed_info[0])} ({esc(listed_info[2])})"
                )
                limg = depict(listed_info[1])
                if limg:
                    st.image(limg, width=280)
            else:
                st.info("No listed substance is linked to this alert.")

with tab_chart:
    if relation:
        flagged_ids = {s["id"] for s in flagged}
        frame = pd.DataFrame(relation)
        frame["flagged"] = frame["id"].map(lambda i: "flagged" if i in flagged_ids else "other")
        frame["date"] = pd.to_datetime(frame["date"])
        st.caption(f"Shipments of {esc(relation_desc)} ({len(frame):,} most recent)")
        chart = (
            alt.Chart(frame)
            .mark_circle(size=70, opacity=0.8)
            .encode(
                x=alt.X("date:T", title="date"),
                y=alt.Y("quantity_kg:Q", title="kg"),
                color=alt.Color(
                    "flagged:N",
                    scale=alt.Scale(domain=["flagged", "other"], range=["#d62728", "#9aa5b1"]),
                    title="",
                ),
                tooltip=["shipment_id", "date:T", "quantity_kg", "product", "flow"],
            )
            .properties(height=280)
        )
        # The baselines the detector compared with, as dashed lines: the relation's usual
        # shipment and, when cited, the peers' high quantile.
        baselines: list[dict[str, Any]] = []
        if isinstance(numbers_ev, dict):
            for key, label in (("usual_kg", "usual shipment"), ("peer_q", "peers' high quantile")):
                v = numbers_ev.get(key)
                if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
                    baselines.append({"kg": float(v), "baseline": f"{label} ({float(v):,.0f} kg)"})
        if baselines:
            rules = (
                alt.Chart(pd.DataFrame(baselines))
                .mark_rule(strokeDash=[6, 4], color="#1f77b4")
                .encode(y="kg:Q", tooltip=["baseline"])
            )
            labels = (
                alt.Chart(pd.DataFrame(baselines))
                .mark_text(align="left", dx=4, dy=-6, color="#1f77b4")
                .encode(y="kg:Q", x=alt.value(0), text="baseline")
            )
            chart = chart + rules + labels
            st.caption(" · ".join(r["baseline"] for r in baselines) + " (dashed)")
        st.altair_chart(chart, width="stretch")
    else:
        st.info("No shipment records to chart.")

    # Declared versus shipped, cumulative over the year, when the evidence cites a declaration.
    declared = next(
        (
            float(v)
            for k, v in (
                numbers_ev if isinstance(numbers_ev, dict) and numbers_ev else evidence
            ).items()
            if "declared" in k and isinstance(v, int | float) and not isinstance(v, bool)
        ),
        None,
    )
    if declared is not None and alert.facility_id:
        src = numbers_ev if isinstance(numbers_ev, dict) and numbers_ev else evidence
        year = src.get("year") or src.get("declaration_year")
        if not isinstance(year, int):
            year = max((s["date"] for s in flagged), default=utcnow().date()).year
        with session_scope(engine()) as session:
            ships = facility_year_shipments(session, alert.facility_id, int(year))
        wanted = {s["cas"] for s in flagged if s.get("cas")} | (
            {alert.substance_cas} if alert.substance_cas else set()
        )
        if wanted:
            picked = [s for s in ships if s.get("cas") in wanted]
            ships = picked or ships
        if ships:
            cum = pd.DataFrame(ships)
            cum["date"] = pd.to_datetime(cum["date"])
            cum = cum.sort_values("date")
            cum["cumulative kg"] = cum["quantity_kg"].cumsum()
            st.caption(
                f"Declared versus shipped, cumulative over {year} (declared {declared:,.0f} kg)"
            )
            line = (
                alt.Chart(cum)
                .mark_line(interpolate="step-after", color="#1f77b4")
                .encode(x=alt.X("date:T", title="date"), y=alt.Y("cumulative kg:Q", title="kg"))
            )
            rule = (
                alt.Chart(pd.DataFrame({"declared": [declared]}))
                .mark_rule(color="#d62728", strokeDash=[6, 4])
                .encode(y="declared:Q")
            )
            st.altair_chart((line + rule).properties(height=260), width="stretch")

with tab_records:
    is_mirror = "mirror" in alert.detector or "arriv" in alert.detector
    if is_mirror:
        refs = sorted({str(s["consignment_ref"]) for s in flagged if s.get("consignment_ref")})
        with session_scope(engine()) as session:
            pair = consignment_records(session, refs) if refs else []
        seen_ids = {s["id"] for s in pair}
        pair += [s for s in flagged if s["id"] not in seen_ids]
        exports = [s for s in pair if (s.get("flow") or "") == "X"]
        imports = [s for s in pair if (s.get("flow") or "") == "M"]
        st.subheader("Export and import records side by side")
        cols = [
            "consignment_ref",
            "shipment_id",
            "source",
            "date",
            "exporter",
            "importer",
            "product",
            "quantity_kg",
        ]
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Export side (as the exporting authority reported)")
            if exports:
                st.dataframe(pd.DataFrame(exports)[cols], hide_index=True, width="stretch")
            else:
                st.warning("No export record.")
        with c2:
            st.caption("Import side (as the importing authority reported)")
            if imports:
                st.dataframe(pd.DataFrame(imports)[cols], hide_index=True, width="stretch")
            else:
                st.warning("No import record: the consignment never arrived on the record.")
    st.subheader("Records this alert rests on")
    if flagged:
        st.dataframe(pd.DataFrame(flagged), hide_index=True, width="stretch")
        linked = sorted(
            {
                f
                for s in flagged
                for f in (s["exporter_facility_id"], s["importer_facility_id"])
                if f
            }
        )
        if linked:
            c1, c2 = st.columns([3, 1])
            target = c1.selectbox("Linked declared facility", linked, key="d_linked")
            if c2.button("Open", key="d_linked_btn") and target:
                open_facility(target)
    else:
        st.info("No shipment records are attached to this alert.")

with tab_hist:
    if history:
        st.dataframe(pd.DataFrame(history), hide_index=True, width="stretch")
    else:
        st.info("Nothing has happened to this alert yet.")

# --- challenge-inspection requests ----------------------------------------------------
if requests:
    from registry.challenge import render_pdf

    st.subheader("Challenge-inspection request")
    for rid, created, by, markdown, sha in requests:
        st.caption(
            f"Request {rid}, approved by {esc(by)} on {created:%Y-%m-%d %H:%M} UTC · sha256 {sha[:16]}…"
        )
        c1, c2 = st.columns(2)
        c1.download_button(
            "Download Markdown",
            markdown.encode("utf-8"),
            file_name=f"challenge-request-alert-{alert.id}.md",
            mime="text/markdown",
            key=f"d_md_{rid}",
        )
        c2.download_button(
            "Download PDF",
            render_pdf(markdown),
            file_name=f"challenge-request-alert-{alert.id}.pdf",
            mime="application/pdf",
            key=f"d_pdf_{rid}",
        )
        with st.expander("Preview"):
            st.code(markdown, language="markdown")

# --- triage ----------------------------------------------------------------------------
st.divider()
can_triage = user.role in ("inspector", "supervisor")
box = (
    st.container()
    if can_triage
    else st.expander(f"Triage (a {user.role} may not change alerts; the registry will refuse)")
)
aid, ver = alert.id, alert.version
with box:
    st.subheader("Triage")
    st.caption(
        "Available to you now: "
        + (", ".join(a.replace("_", " ") for a in actions_now) or "nothing")
        + f". You act on version {ver}; if someone changed the alert since, nothing is saved."
    )
    if alert.proposed_by:
        st.info(
            f"Proposal by {esc(alert.proposed_by)}: {alert.status.replace('_', ' ')}"
            + (f", reason {esc(alert.proposed_reason_code)}" if alert.proposed_reason_code else "")
            + (f" — “{esc(alert.proposed_note)}”" if alert.proposed_note else "")
        )

    def _kind(action: str) -> Any:
        return "primary" if action in actions_now else "secondary"

    simple = [
        ("claim", "Claim"),
        ("start_review", "Start review"),
        ("approve", "Approve"),
        ("reject", "Reject"),
        ("reopen", "Reopen"),
    ]
    bcols = st.columns(len(simple))
    for col, (action, label) in zip(bcols, simple, strict=True):
        col.button(
            label,
            key=f"t_{action}_{aid}",
            type=_kind(action),
            on_click=action_callback(
                aid,
                ver,
                action,
                {"note": f"t_decision_note_{aid}"} if action in ("approve", "reject") else None,
            ),
            width="stretch",
        )
    st.text_input("Note with an approval or rejection (optional)", key=f"t_decision_note_{aid}")

    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Assign**")
        st.selectbox("Assign to", triagers or [""], key=f"t_assignee_{aid}")
        st.button(
            "Assign",
            key=f"t_assign_{aid}",
            type=_kind("assign"),
            on_click=action_callback(aid, ver, "assign", {"assignee": f"t_assignee_{aid}"}),
        )
        st.markdown("**Note**")
        st.text_area("Add a note to the record", key=f"t_note_{aid}", height=80)
        st.button(
            "Add note",
            key=f"t_note_btn_{aid}",
            type=_kind("note"),
            on_click=action_callback(aid, ver, "note", {"note": f"t_note_{aid}"}),
        )
    with c2:
        st.markdown("**Escalate to a challenge inspection**")
        st.text_area("Grounds (required)", key=f"t_grounds_{aid}", height=80)
        st.button(
            "Propose escalation",
            key=f"t_escalate_{aid}",
            type=_kind("escalate"),
            on_click=action_callback(aid, ver, "escalate", {"note": f"t_grounds_{aid}"}),
        )
        st.markdown("**Dismiss**")
        st.selectbox(
            "Reason code",
            ["", *DISMISS_REASONS],
            key=f"t_reason_{aid}",
            format_func=lambda c: DISMISS_REASONS.get(c, "choose a reason"),
        )
        st.text_area("Dismissal note (required)", key=f"t_dnote_{aid}", height=80)
        label = "Propose dismissal" if alert.severity in FOUR_EYES_SEVERITIES else "Dismiss"
        st.button(
            label,
            key=f"t_dismiss_{aid}",
            type=_kind("dismiss"),
            on_click=action_callback(
                aid, ver, "dismiss", {"reason_code": f"t_reason_{aid}", "note": f"t_dnote_{aid}"}
            ),
        )
    if alert.severity in FOUR_EYES_SEVERITIES:
        st.caption(
            "A dismissal of a high or critical alert takes effect only when another supervisor approves it; every escalation needs a supervisor's approval."
        )

assert set(a for a, _ in simple) | {"assign", "note", "escalate", "dismiss"} == set(ACTIONS)
_ = (dt, json)
