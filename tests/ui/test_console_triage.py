"""The whole triage flow through the console, four eyes, stale versions, challenge requests."""

from __future__ import annotations

import console_factories as cf
from sqlalchemy import select

from registry.db import session_scope
from registry.models import AlertRow, ChallengeRequest, TriageEvent


def _alert(engine, alert_id):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        a = s.get(AlertRow, alert_id)
        assert a is not None
        return a.status, a.assignee, a.version


def _greyed_out(at, key, reason):  # type: ignore[no-untyped-def]
    """The button is there, disabled, and says why in the service's words."""
    button = at.button(key=key)
    assert button.disabled, f"{key} is enabled"
    assert reason in (button.help or ""), button.help
    return True


def _click(at, key):  # type: ignore[no-untyped-def]
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return cf.messages(at)


def test_inspector_dismissal_of_high_alert_needs_another_supervisor(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    a = ids["high"]
    ines = cf.open_detail(cf.login("ines"), a)
    assert any("recorded" in m for m in _click(ines, f"t_claim_{a}"))
    assert _alert(engine, a)[:2] == ("assigned", "ines")
    _click(ines, f"t_start_review_{a}")
    assert _alert(engine, a)[0] == "in_review"

    # a dismissal needs a reason code and a note: the service says so, nothing changes
    msgs = _click(ines, f"t_dismiss_{a}")
    assert any("reason code" in m for m in msgs)
    assert _alert(engine, a)[0] == "in_review"

    ines.selectbox(key=f"t_reason_{a}").set_value("legitimate_trade_verified")
    ines.text_area(key=f"t_dnote_{a}").input(
        "Buyer licensed; confirmed with the competent authority."
    )
    assert [b.label for b in ines.button if b.key == f"t_dismiss_{a}"] == ["Propose dismissal"]
    _click(ines, f"t_dismiss_{a}")
    assert _alert(engine, a)[0] == "pending_dismissal"

    # the proposer cannot approve (and an inspector may not approve at all): greyed out
    assert _greyed_out(ines, f"t_approve_{a}", "inspector may not approve")
    assert _alert(engine, a)[0] == "pending_dismissal"

    # a supervisor approves from the approvals page
    sara = cf.login("sara")
    sara.switch_page("views/approvals.py").run()
    assert any(f"Alert {a}" in m.value for m in sara.markdown)
    _click(sara, f"ap_approve_{a}")
    status, _, _ = _alert(engine, a)
    assert status == "dismissed"

    # the queue and the history show it
    sara.switch_page("views/queue.py").run()
    sara.multiselect(key="q_status").set_value(["dismissed"]).run()
    assert sara.selectbox(key="q_open").value == a
    cf.open_detail(sara, a)
    hist = sara.dataframe[-1].value
    assert list(hist["did"]) == ["Claim", "Start review", "Dismiss", "Approve"]
    assert list(hist["who"]) == ["ines", "ines", "ines", "sara"]
    assert list(hist["to"]) == ["assigned", "in review", "dismissal pending", "dismissed"]

    # only a supervisor reopens
    ines = cf.open_detail(cf.login("ines"), a)
    assert _greyed_out(ines, f"t_reopen_{a}", "inspector may not reopen")
    cf.open_detail(sara, a)
    _click(sara, f"t_reopen_{a}")
    assert _alert(engine, a)[0] == "new"


def test_supervisor_cannot_approve_own_proposal(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    a = ids["old"]  # critical
    sara = cf.open_detail(cf.login("sara"), a)
    _click(sara, f"t_claim_{a}")
    _click(sara, f"t_start_review_{a}")
    sara.selectbox(key=f"t_reason_{a}").set_value("data_error")
    sara.text_area(key=f"t_dnote_{a}").input("Duplicate feed row.")
    _click(sara, f"t_dismiss_{a}")
    assert _alert(engine, a)[0] == "pending_dismissal"
    assert _greyed_out(sara, f"t_approve_{a}", "own proposal")
    assert _alert(engine, a)[0] == "pending_dismissal"
    sven = cf.open_detail(cf.login("sven"), a)
    _click(sven, f"t_approve_{a}")
    assert _alert(engine, a)[0] == "dismissed"


def test_low_alert_dismissal_takes_effect_at_once(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    a = ids["low"]
    ines = cf.open_detail(cf.login("ines"), a)
    _click(ines, f"t_claim_{a}")
    _click(ines, f"t_start_review_{a}")
    ines.selectbox(key=f"t_reason_{a}").set_value("not_a_precursor")
    ines.text_area(key=f"t_dnote_{a}").input("Fertiliser.")
    _click(ines, f"t_dismiss_{a}")
    assert _alert(engine, a)[0] == "dismissed"


def test_escalation_produces_challenge_request_markdown_and_pdf(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    a = ids["high"]
    ines = cf.open_detail(cf.login("ines"), a)
    _click(ines, f"t_claim_{a}")
    _click(ines, f"t_start_review_{a}")
    assert any("grounds" in m for m in _click(ines, f"t_escalate_{a}"))
    ines.text_area(key=f"t_grounds_{a}").input(
        "Shipped 23% over the declaration to an undeclared buyer."
    )
    _click(ines, f"t_escalate_{a}")
    assert _alert(engine, a)[0] == "pending_escalation"
    sara = cf.open_detail(cf.login("sara"), a)
    _click(sara, f"t_approve_{a}")
    assert _alert(engine, a)[0] == "escalated"
    with session_scope(engine) as s:
        req = s.scalars(select(ChallengeRequest).where(ChallengeRequest.alert_id == a)).one()
        md = req.markdown
    assert "Acme Fine Chemicals Ltd" in md and "23% over the declaration" in md
    labels = [b.label for b in sara.get("download_button")]
    assert labels.count("Download Markdown") == 1 and labels.count("Download PDF") == 1
    from registry.challenge import render_pdf

    assert render_pdf(md).startswith(b"%PDF")


def test_stale_version_second_inspector_gets_clear_message(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    a = ids["high"]
    first = cf.open_detail(cf.login("ines"), a)
    second = cf.open_detail(cf.login("ivan"), a)  # both see version 1
    _click(first, f"t_claim_{a}")
    assert _alert(engine, a)[:2] == ("assigned", "ines")
    msgs = _click(second, f"t_claim_{a}")
    assert any("changed by someone else" in m and "reload" in m for m in msgs), msgs
    assert _alert(engine, a)[:2] == ("assigned", "ines")  # nothing overwritten
    # the second session now shows the fresh data
    assert any(m.label == "Assignee" and m.value == "ines" for m in second.metric)
    # a note by the second inspector with the old version is refused too, then works fresh
    second.text_area(key=f"t_note_{a}").input("Looked at it.")
    assert any("recorded" in m for m in _click(second, f"t_note_btn_{a}"))
    with session_scope(engine) as s:
        actions = list(
            s.scalars(
                select(TriageEvent.action).where(TriageEvent.alert_id == a).order_by(TriageEvent.id)
            )
        )
    assert actions == ["claim", "note"]
