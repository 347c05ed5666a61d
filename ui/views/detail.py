"""Alert detail: why it fired (evidence in words and units), its consignments counted once,
charts, the screen's reading, the history, the request document and the triage actions."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from detection.catalogue import detector_label, explain_evidence, flow_word
from registry.cases import action_states, case_index
from registry.consignments import consignment_frame, facility_year_consignments, totals
from registry.db import session_scope
from registry.queries import (
    alert,
    alert_history,
    alert_shipments,
    challenge_requests,
    deadline_info,
    facility_name,
    queue_options,
    screen_explanations,
    substance,
    substance_names,
)
from registry.registry_reads import (
    consignment_records,
    facility_year_shipments,
    relation_shipments,
)
from registry.service import DISMISS_REASONS, FOUR_EYES_SEVERITIES
from registry.words import action_word, country_name, reason_word, status_word, verdict_word
from ui.chem import depict, known_smiles
from ui.console import action_callback, current_user, engine, esc, settings
from ui.show import SEVERITY_MARK, deadline_text, go, kg, link, requested_id, table, when


def _gather(alert_id: int, user: Any) -> dict[str, Any] | None:
    """Everything the page shows, read in one session through named queries."""
    from registry.access import can_see, classification_of

    with session_scope(engine()) as session:
        row = alert(session, alert_id)
        if row is None or not can_see(session, user, "alert", alert_id):
            return None
        flagged = alert_shipments(session, row.id)
        relation_desc, relation = relation_shipments(session, flagged, row.facility_id, user=user)
        evidence = dict(row.evidence or {})
        numbers = evidence.get("numbers") if isinstance(evidence.get("numbers"), dict) else {}
        refs = sorted({str(s["consignment_ref"]) for s in flagged if s.get("consignment_ref")})
        index = case_index(session)
        case = index.filter(pl.col("alert_id") == row.id)
        ctx: dict[str, Any] = {
            "alert": {c.key: getattr(row, c.key) for c in row.__table__.columns},
            "flagged": flagged,
            "flagged_cons": consignment_frame(session, flagged),
            "relation_desc": relation_desc,
            "relation_cons": consignment_frame(session, relation),
            "pair": consignment_records(session, refs, user),
            "classification": classification_of(session, "alert", row.id),
            "history": alert_history(session, row.id),
            "requests": challenge_requests(session, row.id),
            "names": substance_names(session),
            "listed": substance(session, (numbers or {}).get("listed_parent") or row.substance_cas),
            "screened": screen_explanations(
                session, sorted({str(s["product"]) for s in flagged})[:10]
            ),
            "triagers": queue_options(session, user)["triagers"],
            "states": action_states(row, user),
            "facility_name": facility_name(session, row.facility_id),
            "case": (int(case["case_id"][0]), int(case["case_size"][0])) if case.height else None,
        }
        ctx["year_cons"] = _year_consignments(session, ctx["alert"], numbers or {}, flagged, user)
    return ctx


def _year_consignments(
    session: Any,
    a: dict[str, Any],
    numbers: dict[str, Any],
    flagged: list[dict[str, Any]],
    user: Any,
) -> tuple[int, float, pl.DataFrame] | None:
    """For an alert citing a declaration: (year, declared kg, the facility's consignments of the
    substance that year in the role the detector judged), each consignment counted once."""
    declared = numbers.get("declared")
    if a["detector"] != "declared_quantity_exceeded" or not a["facility_id"] or declared is None:
        return None
    year = numbers.get("year") or max((s["date"] for s in flagged), default=None)
    if year is None:
        return None
    year = int(year if isinstance(year, int) else year.year)
    records = facility_year_shipments(session, a["facility_id"], year, user=user)
    # The other records of the same consignments (an export record whose importer ingest did
    # not link to the facility): each consignment whole, as detection formed it.
    refs = sorted({str(r["consignment_ref"]) for r in records if r.get("consignment_ref")})
    seen = {r["id"] for r in records}
    for i in range(0, len(refs), 200):
        more = consignment_records(session, refs[i : i + 200], user)
        records += [r for r in more if r["id"] not in seen]
        seen |= {r["id"] for r in more}
    role = "importer" if numbers.get("role") == "importer" else "exporter"
    cons = facility_year_consignments(
        consignment_frame(session, records), a["facility_id"], a["substance_cas"], year, role
    )
    return year, float(declared), cons


def header(ctx: dict[str, Any]) -> None:
    a = ctx["alert"]
    st.title(f"Alert {a['id']}")
    from ui.confidential import banner

    banner(ctx["classification"])
    st.caption(
        f"{detector_label(a['detector'])} · link to this alert: {link('detail', alert=a['id'])}"
    )
    dl = deadline_info(
        a["severity"], a["status"], a["created_at"], settings().review_deadline_hours
    )
    m = st.columns(5)
    m[0].metric("Severity", SEVERITY_MARK.get(a["severity"], a["severity"]))
    m[1].metric("Score", f"{a['score']:.0f} of 100")
    m[2].metric("Status", status_word(a["status"]))
    m[3].metric("Assignee", esc(a["assignee"]) if a["assignee"] else "nobody")
    m[4].metric("Review deadline", deadline_text(dl["left_h"], dl["overdue"]))
    st.markdown(f"**{esc(a['summary'])}**")
    bits = [
        f"created {when(a['created_at'])} UTC",
        f"last detected {when(a['last_detected_at'])} UTC",
    ]
    st.caption(" · ".join(bits))
    c1, c2 = st.columns([3, 1])
    if a["facility_id"]:
        c1.markdown(
            f"Facility: **{esc(ctx['facility_name'] or 'not in the declared registry')}** "
            f"({esc(a['facility_id'])})"
        )
        if ctx["facility_name"] and c2.button("Open the facility", key="d_facility"):
            go("facilities", facility=a["facility_id"])
    if ctx["case"] and ctx["case"][1] > 1:
        case_id, size = ctx["case"]
        c1.markdown(
            f"Part of **case {case_id}** with {size - 1} other alert(s) on the same shipments, consignment or facility-year."
        )
        if c2.button("Open the case", key="d_case"):
            go("case", case=case_id)


def evidence_section(ctx: dict[str, Any]) -> None:
    """The numbers that made the detector fire, in words and units, then the thresholds."""
    from detection.run import configs

    a = ctx["alert"]
    cfg = configs().get(a["detector"])
    meanings = {}
    if cfg is not None:
        import dataclasses

        meanings = {f.name: f.metadata.get("description", "") for f in dataclasses.fields(cfg)}
    parts = explain_evidence(a["detector"], a["evidence"] or {}, ctx["names"], meanings)
    rows = lambda items: [{"what": e.label, "value": e.value, "meaning": e.meaning} for e in items]  # noqa: E731
    st.caption("The numbers that made it fire")
    table(rows(parts["numbers"]), empty="The detector stored no numbers for this alert.")
    if parts["outlier"]:
        st.caption("How unusual the whole trade relation is (moves the score a little)")
        table(rows(parts["outlier"]))
    if parts["thresholds"]:
        with st.expander("Thresholds in force when it fired"):
            table(rows(parts["thresholds"]))


def records_section(ctx: dict[str, Any]) -> None:
    """The consignments the alert rests on, each counted once, with the import side beside."""
    a = ctx["alert"]
    cons: pl.DataFrame = ctx["flagged_cons"]
    if cons.height == 0:
        st.info("No shipment records are attached to this alert.")
        return
    st.markdown(esc(totals(cons).sentence()))
    table(_consignment_rows(cons, ctx["names"]))
    if a["detector"] in ("mirror_quantity_gap", "export_never_arrived"):
        _side_by_side(ctx)
    records = ctx["flagged"]
    with st.expander(f"The {len(records)} records as the authorities reported them"):
        table(
            {
                "source": r["source"],
                "shipment id": r["shipment_id"],
                "record": flow_word(r["flow"]),
                "date": r["date"],
                "exporter": f"{r['exporter']} ({country_name(r['exporter_country'])})",
                "importer": f"{r['importer']} ({country_name(r['importer_country'])})",
                "product": r["product"],
                "CAS": r["cas"] or "",
                "quantity": kg(r["quantity_kg"]),
                "consignment ref": r["consignment_ref"] or "",
            }
            for r in records
        )
        products = sorted({str(r["product"]) for r in records})
        st.caption("Product text as declared")
        st.code("\n".join(products[:10]), language=None)


def _consignment_rows(cons: pl.DataFrame, names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "date": r["date"],
            "exporter": f"{r['exporter']} ({country_name(r['exporter_country'])})",
            "importer": f"{r['importer']} ({country_name(r['importer_country'])})",
            "substance": names.get(r["substance"] or r["designer"] or "", r["product"] or ""),
            "quantity (counted)": kg(r["quantity_kg"]),
            "import record says": kg(r["import_kg"]) if r["import_kg"] is not None else "",
            "records held": r["sides"],
        }
        for r in cons.iter_rows(named=True)
    ]


def _side_by_side(ctx: dict[str, Any]) -> None:
    flagged_ids = {s["id"] for s in ctx["flagged"]}
    pair = ctx["pair"] + [
        s for s in ctx["flagged"] if s["id"] not in {p["id"] for p in ctx["pair"]}
    ]
    st.subheader("Export and import records side by side")
    c1, c2 = st.columns(2)
    for col, flow, title, missing in (
        (c1, "X", "Export record (as the exporting authority reported)", "No export record."),
        (
            c2,
            "M",
            "Import record (as the importing authority reported)",
            "No import record: the consignment never arrived on the record.",
        ),
    ):
        with col:
            st.caption(title)
            rows = [
                {
                    "consignment ref": s["consignment_ref"] or "",
                    "shipment id": s["shipment_id"],
                    "source": s["source"],
                    "date": s["date"],
                    "quantity": kg(s["quantity_kg"]),
                    "on this alert": "yes" if s["id"] in flagged_ids else "no",
                }
                for s in pair
                if (s.get("flow") or "") == flow
            ]
            if rows:
                table(rows)
            else:
                st.warning(missing)


def charts_section(ctx: dict[str, Any]) -> None:
    a = ctx["alert"]
    rel: pl.DataFrame = ctx["relation_cons"]
    flagged_ids = {s["id"] for s in ctx["flagged"]}
    if rel.height:
        frame = rel.with_columns(
            pl.col("pks").list.eval(pl.element().is_in(list(flagged_ids))).list.any().alias("_f")
        ).select(
            "date",
            pl.col("quantity_kg").alias("kg"),
            pl.when(pl.col("_f"))
            .then(pl.lit("on this alert"))
            .otherwise(pl.lit("other"))
            .alias("consignment"),
            pl.col("importer"),
        )
        st.caption(
            f"Consignments of {esc(ctx['relation_desc'])} ({frame.height:,}, each counted once)"
        )
        chart = (
            alt.Chart(frame)
            .mark_circle(size=70, opacity=0.8)
            .encode(
                x=alt.X("date:T", title="date"),
                y=alt.Y("kg:Q", title="kg per consignment"),
                color=alt.Color(
                    "consignment:N",
                    scale=alt.Scale(
                        domain=["on this alert", "other"], range=["#d62728", "#9aa5b1"]
                    ),
                    title="",
                ),
                tooltip=[alt.Tooltip("date:T"), alt.Tooltip("kg:Q", format=",.0f"), "importer"],
            )
            .properties(height=280)
        )
        numbers = (a["evidence"] or {}).get("numbers") or {}
        lines = [
            {"kg": float(numbers[k]), "baseline": f"{label} ({kg(numbers[k])})"}
            for k, label in (("usual_kg", "usual shipment"), ("peer_q", "peers' high mark"))
            if isinstance(numbers.get(k), int | float) and numbers[k] > 0
        ]
        if lines:
            rules = (
                alt.Chart(pl.DataFrame(lines))
                .mark_rule(strokeDash=[6, 4], color="#1f77b4")
                .encode(y="kg:Q", tooltip=["baseline"])
            )
            chart = chart + rules
            st.caption(" · ".join(str(r["baseline"]) for r in lines) + " (dashed)")
        st.altair_chart(chart, width="stretch")
    else:
        st.info("No shipment records to chart.")
    if ctx["year_cons"] is not None:
        _declared_chart(*ctx["year_cons"])


def _declared_chart(year: int, declared: float, cons: pl.DataFrame) -> None:
    """Declared versus shipped, cumulative over the year, each consignment counted once."""
    if cons.height == 0:
        return
    cum = cons.select("date", pl.col("quantity_kg").cum_sum().alias("shipped (kg)"))
    st.caption(
        f"Declared versus shipped over {year}: {cons.height} consignments, "
        # Whole kg as the detector's sentence gives them, to compare line by line.
        f"{cons['quantity_kg'].sum():,.0f} kg against {declared:,.0f} kg declared (red line)"
    )
    line = (
        alt.Chart(cum)
        .mark_line(interpolate="step-after", color="#1f77b4")
        .encode(x=alt.X("date:T", title="date"), y=alt.Y("shipped (kg):Q", title="kg, cumulative"))
    )
    rule = (
        alt.Chart(pl.DataFrame({"declared": [declared]}))
        .mark_rule(color="#d62728", strokeDash=[6, 4])
        .encode(y="declared:Q")
    )
    st.altair_chart((line + rule).properties(height=260), width="stretch")


def screening_section(ctx: dict[str, Any]) -> None:
    """How the screen read the product names, in the console's one verdict vocabulary."""
    a = ctx["alert"]
    evidence = a["evidence"] or {}
    if ctx["screened"]:
        table(
            {
                "product text": s["product"],
                "screen's verdict": verdict_word(s["verdict"], s["substance_cas"]),
                "substance": s["substance_name"] or "",
                "how": s["explanation"],
            }
            for s in ctx["screened"]
        )
    elif evidence.get("explanation"):
        st.markdown(esc(evidence["explanation"]))
    products = sorted({str(s["product"]) for s in ctx["flagged"]})
    smiles = evidence.get("smiles") or known_smiles(
        a["substance_cas"], products[0] if products else None
    )
    listed = ctx["listed"]
    if smiles is None and listed and listed["cas"] == a["substance_cas"]:
        smiles = listed["smiles"]  # a listed substance under a masking name
    c1, c2 = st.columns(2)
    with c1:
        st.caption(
            f"Structure seen in the feed ({esc(ctx['names'].get(a['substance_cas'] or '', a['substance_cas'] or 'unidentified'))})"
        )
        img = depict(smiles)
        if img:
            st.image(img, width=280)
        else:
            st.info("No structure could be derived from the product text.")
    with c2:
        if listed:
            st.caption(f"Nearest listed substance: {esc(listed['name'])} ({esc(listed['cas'])})")
            limg = depict(listed["smiles"])
            if limg:
                st.image(limg, width=280)
        else:
            st.info("No listed substance is linked to this alert.")


def history_section(ctx: dict[str, Any]) -> None:
    table(
        (
            {
                "when (UTC)": e["created_at"],
                "who": e["actor"],
                "did": action_word(e["action"]),
                "from": status_word(e["from_status"]),
                "to": status_word(e["to_status"]),
                "reason": reason_word(e["reason_code"]),
                "note": e["note"] or "",
            }
            for e in ctx["history"]
        ),
        empty="Nothing has happened to this alert yet.",
    )


def requests_section(ctx: dict[str, Any]) -> None:
    from registry.challenge import render_pdf

    aid = ctx["alert"]["id"]
    st.subheader("Challenge-inspection request")
    for r in ctx["requests"]:
        st.caption(
            f"Request {r['id']}, approved by {esc(r['created_by'])} on {when(r['created_at'])} UTC · document sha256 {r['sha256']}"
        )
        c1, c2 = st.columns(2)
        c1.download_button(
            "Download Markdown",
            r["markdown"].encode("utf-8"),
            file_name=f"challenge-request-alert-{aid}.md",
            mime="text/markdown",
            key=f"d_md_{r['id']}",
        )
        c2.download_button(
            "Download PDF",
            render_pdf(r["markdown"], classification=ctx["classification"]),
            file_name=f"challenge-request-alert-{aid}.pdf",
            mime="application/pdf",
            key=f"d_pdf_{r['id']}",
        )
        with st.expander("Read the request"):
            st.markdown(r["markdown"])


def _action_button(
    ctx: dict[str, Any], action: str, label: str, keys: dict[str, str] | None = None, **kw: Any
) -> None:
    """A triage button: enabled when the user can take the action now, else greyed out with
    the service layer's reason as its help."""
    a, why = ctx["alert"], ctx["states"].get(action)
    st.button(
        label,
        key=kw.pop("key", f"t_{action}_{a['id']}"),
        type="primary" if why is None else "secondary",
        disabled=why is not None,
        help=why,
        on_click=action_callback(a["id"], a["version"], action, keys),
        **kw,
    )


def _triage_forms(ctx: dict[str, Any]) -> None:
    """Assign, note, escalate and dismiss, with the fields each needs."""
    a, states = ctx["alert"], ctx["states"]
    aid = a["id"]
    c1, c2 = st.columns(2)
    with c1:
        st.selectbox(
            "Assign to",
            ctx["triagers"] or [""],
            key=f"t_assignee_{aid}",
            disabled=states.get("assign") is not None,
        )
        _action_button(ctx, "assign", "Assign", {"assignee": f"t_assignee_{aid}"})
        st.text_area(
            "Add a note to the record",
            key=f"t_note_{aid}",
            height=80,
            disabled=states.get("note") is not None,
        )
        _action_button(ctx, "note", "Add note", {"note": f"t_note_{aid}"}, key=f"t_note_btn_{aid}")
    with c2:
        st.text_area(
            "Grounds for a challenge inspection (required)",
            key=f"t_grounds_{aid}",
            height=80,
            disabled=states.get("escalate") is not None,
        )
        _action_button(ctx, "escalate", "Propose escalation", {"note": f"t_grounds_{aid}"})
        st.selectbox(
            "Reason for dismissing",
            ["", *DISMISS_REASONS],
            key=f"t_reason_{aid}",
            format_func=lambda c: DISMISS_REASONS.get(c, "choose a reason"),
            disabled=states.get("dismiss") is not None,
        )
        st.text_area(
            "Dismissal note (required)",
            key=f"t_dnote_{aid}",
            height=80,
            disabled=states.get("dismiss") is not None,
        )
        four_eyes = a["severity"] in FOUR_EYES_SEVERITIES
        _action_button(
            ctx,
            "dismiss",
            "Propose dismissal" if four_eyes else "Dismiss",
            {"reason_code": f"t_reason_{aid}", "note": f"t_dnote_{aid}"},
        )


def triage_section(ctx: dict[str, Any]) -> None:
    """Only what the user can do now is enabled; the rest is greyed out with the reason."""
    a, states = ctx["alert"], ctx["states"]
    aid = a["id"]
    st.subheader("Triage")
    can = [action_word(k) for k, why in states.items() if why is None]
    now = (
        "You can now: " + ", ".join(can) if can else "There is nothing you can do on this alert now"
    )
    st.caption(
        f"{now}. You act on version {a['version']}; if someone changed the alert since, nothing is saved."
    )
    if a["proposed_by"]:
        reason = (
            f", reason: {esc(reason_word(a['proposed_reason_code']))}"
            if a["proposed_reason_code"]
            else ""
        )
        note = f" — “{esc(a['proposed_note'])}”" if a["proposed_note"] else ""
        st.info(f"Proposal by {esc(a['proposed_by'])}: {status_word(a['status'])}{reason}{note}")
    for col, action in zip(
        st.columns(5), ("claim", "start_review", "approve", "reject", "reopen"), strict=True
    ):
        with col:
            decision = (
                {"note": f"t_decision_note_{aid}"} if action in ("approve", "reject") else None
            )
            _action_button(ctx, action, action_word(action), decision, width="stretch")
    if states.get("approve") is None or states.get("reject") is None:
        st.text_input(
            "Note with the approval or rejection (optional)", key=f"t_decision_note_{aid}"
        )
    _triage_forms(ctx)
    blocked = {k: why for k, why in states.items() if why is not None}
    if blocked:
        with st.expander("Why some actions are greyed out"):
            for k, why in blocked.items():
                st.markdown(f"- **{action_word(k)}**: {esc(why)}")


def _page() -> None:
    user = current_user()
    if user is None:  # app.py only routes logged-in users here
        st.stop()
    alert_id = requested_id("alert", "alert_id")
    with st.sidebar:
        typed = st.number_input("Alert number", min_value=1, step=1, value=alert_id, key="d_pick")
        if typed and int(typed) != alert_id and st.button("Show", key="d_pick_btn"):
            go("detail", alert=int(typed))
    if not alert_id:
        st.title("Alert detail")
        st.info("Choose an alert in the queue, or type its number in the sidebar.")
        return
    ctx = _gather(alert_id, user)
    if ctx is None:
        st.title("Alert detail")
        st.warning(f"There is no alert {alert_id} that you may see.")
        return
    header(ctx)
    is_name = ctx["alert"]["detector"] in ("masked_listed_substance", "designer_analogue")
    names = ["Why it fired", "Consignments", "Charts", "History"] + (
        ["Names and structures"] if is_name else []
    )
    tabs = st.tabs(names)
    for tab, section in zip(
        tabs,
        (evidence_section, records_section, charts_section, history_section, screening_section),
        strict=False,
    ):
        with tab:
            section(ctx)
    if ctx["requests"]:
        requests_section(ctx)
    from ui.confidential import change_control, log_view
    from ui.request_draft import clarification_section

    log_view(user, "alert", alert_id, "alert page")
    change_control(user, "alert", alert_id, ctx["classification"])
    st.divider()
    clarification_section(user, [alert_id], f"a{alert_id}")
    st.divider()
    triage_section(ctx)


_page()
