"""A case: alerts on the same shipments, consignment or facility-year, with their combined
story, their consignments counted once, and triage that records every alert's outcome."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from detection.catalogue import detector_label
from registry.cases import act_on_alerts, action_states, case_index, case_story
from registry.consignments import consignment_frame, totals
from registry.db import session_scope
from registry.errors import RegistryError
from registry.queries import AlertFilter, alert, alert_shipments, list_alerts, queue_options
from registry.service import ACTIONS, DISMISS_REASONS, Action
from registry.words import action_word, country_name, status_word
from ui.console import current_user, engine, esc, flash, settings
from ui.show import SEVERITY_MARK, deadline_text, go, kg, link, requested_id, table


def _gather(case_id: int, user: Any) -> dict[str, Any] | None:
    with session_scope(engine()) as session:
        index = case_index(session)
        member_ids = index.filter(pl.col("case_id") == case_id)["alert_id"].to_list()
        # only the alerts of the case this user may see (registry.access)
        members = list_alerts(
            session,
            AlertFilter(ids=member_ids, user=user),
            settings().review_deadline_hours,
            limit=None,
        )
        member_ids = members["alert_id"].to_list()
        if not member_ids:
            return None
        records = [r for a in member_ids for r in alert_shipments(session, a)]
        unique = list({r["id"]: r for r in records}.values())
        rows = [alert(session, a) for a in member_ids]
        states = {r.id: action_states(r, user) for r in rows if r is not None}
        return {
            "members": members,
            "cons": consignment_frame(session, unique),
            "states": states,
            "seen": {r.id: r.version for r in rows if r is not None},
            "triagers": queue_options(session, user)["triagers"],
            "ids": member_ids,
        }


def _act(user: Any, seen: dict[int, int], req: Action) -> None:
    try:
        with session_scope(engine()) as session:
            outcomes = act_on_alerts(session, user, seen, req)
    except RegistryError as exc:
        flash("error", f"Nothing saved: {exc}")
        return
    done = [str(o.alert_id) for o in outcomes if o.done]
    left = [f"{o.alert_id}: {o.message}" for o in outcomes if not o.done]
    flash(
        "success" if done else "warning",
        f"{action_word(req.action)} recorded on alerts {', '.join(done) or 'none'}"
        + (f"; left as they were: {'; '.join(left)}" if left else "."),
    )


def triage(ctx: dict[str, Any], user: Any, case_id: int) -> None:
    """Case triage: each action applies to every alert of the case where the rules allow it."""
    st.subheader("Triage the case")
    states: dict[int, dict[str, str | None]] = ctx["states"]
    able = {a: [i for i, s in states.items() if s.get(a) is None] for a in ACTIONS}
    n = len(states)
    st.caption(
        "An action here is taken on every alert of the case where you may take it now; each alert's outcome is recorded on it."
    )
    c1, c2, c3 = st.columns(3)
    with c1:
        for action in ("claim", "start_review", "reopen"):
            if st.button(
                f"{action_word(action)} ({len(able[action])} of {n})",
                key=f"c_{action}_{case_id}",
                disabled=not able[action],
            ):
                _act(user, ctx["seen"], Action(action))
                st.rerun()
        who = st.selectbox(
            "Assign to",
            ctx["triagers"] or [""],
            key=f"c_assignee_{case_id}",
            disabled=not able["assign"],
        )
        if st.button(
            f"Assign ({len(able['assign'])} of {n})",
            key=f"c_assign_{case_id}",
            disabled=not able["assign"],
        ):
            _act(user, ctx["seen"], Action("assign", assignee=who))
            st.rerun()
    with c2:
        grounds = st.text_area(
            "Grounds for a challenge inspection",
            key=f"c_grounds_{case_id}",
            height=100,
            disabled=not able["escalate"],
        )
        if st.button(
            f"Propose escalation ({len(able['escalate'])} of {n})",
            key=f"c_escalate_{case_id}",
            disabled=not able["escalate"],
        ):
            _act(user, ctx["seen"], Action("escalate", note=grounds))
            st.rerun()
    with c3:
        reason = st.selectbox(
            "Reason for dismissing",
            ["", *DISMISS_REASONS],
            format_func=lambda c: DISMISS_REASONS.get(c, "choose a reason"),
            key=f"c_reason_{case_id}",
            disabled=not able["dismiss"],
        )
        note = st.text_area(
            "Dismissal note", key=f"c_dnote_{case_id}", height=68, disabled=not able["dismiss"]
        )
        if st.button(
            f"Dismiss ({len(able['dismiss'])} of {n})",
            key=f"c_dismiss_{case_id}",
            disabled=not able["dismiss"],
        ):
            _act(user, ctx["seen"], Action("dismiss", reason_code=reason or None, note=note))
            st.rerun()
    st.caption("Approvals stay per alert (four eyes): open an alert, or use the Approvals page.")


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    case_id = requested_id("case", "case_id")
    if not case_id:
        st.title("Case")
        st.info("Open a case from the queue (Show: Cases) or from an alert that belongs to one.")
        return
    ctx = _gather(case_id, user)
    if ctx is None:
        st.title("Case")
        st.warning(f"There is no case {case_id} that you may see.")
        return
    members: pl.DataFrame = ctx["members"]
    st.title(f"Case {case_id}")
    st.caption(f"{members.height} alerts · link to this case: {link('case', case=case_id)}")
    m = st.columns(4)
    worst = min(
        members["severity"].to_list(), key=lambda s: ["critical", "high", "medium", "low"].index(s)
    )
    m[0].metric("Worst severity", SEVERITY_MARK.get(worst, worst))
    top = max(float(x) for x in members["score"].to_list())
    m[1].metric("Top score", f"{top:.0f} of 100")
    m[2].metric(
        "Open alerts",
        f"{members.filter(pl.col('left_h').is_not_null()).height} of {members.height}",
    )
    m[3].metric("Consignments", f"{ctx['cons'].height:,}")
    st.subheader("The combined story")
    for line in case_story(members.to_dicts()).splitlines():
        st.markdown(f"- {esc(line)}")
    st.subheader("Alerts")
    table(
        (
            {
                "alert": link("detail", alert=r["alert_id"]),
                "severity": SEVERITY_MARK.get(r["severity"], r["severity"]),
                "what was found": detector_label(r["detector"]),
                "status": status_word(r["status"]),
                "assignee": r["assignee"] or "",
                "deadline": deadline_text(r["left_h"], r["overdue"]),
            }
            for r in members.iter_rows(named=True)
        ),
        column_config={"alert": st.column_config.LinkColumn("alert", display_text=r"alert=(\d+)$")},
    )
    ids = members["alert_id"].to_list()
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Open an alert of the case", ids, key="c_open")
    if c2.button("Open alert", key="c_open_btn") and pick:
        go("detail", alert=int(pick))
    st.subheader("Consignments, each counted once")
    cons: pl.DataFrame = ctx["cons"]
    st.markdown(esc(totals(cons).sentence()))
    table(
        {
            "date": r["date"],
            "exporter": f"{r['exporter']} ({country_name(r['exporter_country'])})",
            "importer": f"{r['importer']} ({country_name(r['importer_country'])})",
            "product": r["product"] or "",
            "quantity (counted)": kg(r["quantity_kg"]),
            "import record says": kg(r["import_kg"]),
            "records held": r["sides"],
        }
        for r in cons.iter_rows(named=True)
    )
    from ui.request_draft import clarification_section

    st.divider()
    clarification_section(user, ctx["ids"], f"c{case_id}")
    st.divider()
    triage(ctx, user, case_id)


_page()
