"""The queue: free-text search, cases, links per alert and case, bulk actions for
supervisors, and a link that survives the login it needs."""

from __future__ import annotations

import console_factories as cf
import pytest
from sqlalchemy import select

from registry.db import session_scope
from registry.models import AlertRow, TriageEvent


def _shown(at) -> list[int]:  # type: ignore[no-untyped-def]
    """Alert numbers in the queue table, from their links."""
    return sorted(int(str(u).rsplit("=", 1)[-1]) for u in at.dataframe[0].value["alert"])


@pytest.mark.parametrize(
    ("text", "which"),
    [
        ("Blue Harbour", {"high", "low", "mirror", "name"}),  # a party of their records
        ("benzyl-4-piperidone", {"name"}),  # a product (in the evidence)
        ("acme fine", "all"),  # the facility's name
        ("FAC-1", "facility"),  # the facility id
        ("#", None),  # an alert number, filled in below
        ("no such thing", set()),
    ],
)
def test_free_text_search(console_db, text, which) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    alert_ids = {k: v for k, v in ids.items() if k != "early_warning"}
    if which is None:
        text, which = f"#{ids['mirror']}", {"mirror"}
    expected = (
        {
            "all": set(alert_ids.values()),
            "facility": {v for k, v in alert_ids.items()},
        }.get(which)
        if isinstance(which, str)
        else {alert_ids[k] for k in which}
    )
    at = cf.login("ines")
    at.text_input(key="q_text").input(text).run()
    assert not at.exception, at.exception
    if expected:
        assert set(_shown(at)) == expected
    else:
        assert any("Nothing matches" in m for m in cf.messages(at))


def test_columns_fit_and_deciding_ones_come_first(console_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ines")
    columns = list(at.dataframe[0].value.columns)
    assert columns[:4] == ["alert", "severity", "score", "deadline"]
    assert len(columns) <= 8
    assert cf.visible_problems(at) == []


def test_cases_view_and_case_page(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.login("ines")
    at.radio(key="q_mode").set_value("Cases").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # the four alerts on FAC-1's NPP records of 2026 are one case; the old one has no records
    assert sorted(table["alerts"]) == ["1 of 1", "4 of 4"]
    at.session_state["case_id"] = ids["high"]
    at.switch_page("views/case.py").run()
    assert at.title[0].value == f"Case {min(v for k, v in ids.items() if k != 'early_warning')}"
    assert cf.visible_problems(at) == []


def test_case_claim_records_each_alert(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, ids = console_db
    case = min(v for k, v in ids.items() if k != "early_warning")
    at = cf.login("ines")
    at.session_state["case_id"] = case
    at.switch_page("views/case.py").run()
    at.button(key=f"c_claim_{case}").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as s:
        claimed = set(s.scalars(select(TriageEvent.alert_id).where(TriageEvent.action == "claim")))
        statuses = {a.id: a.status for a in s.scalars(select(AlertRow))}
    members = {ids[k] for k in ("high", "low", "mirror", "name")}
    assert claimed == members
    assert {a for a, st in statuses.items() if st == "assigned"} == members


def test_supervisor_assigns_selected_alerts(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    at = cf.login("sara")
    rows = at.dataframe[0].value
    picked = [int(str(u).rsplit("=", 1)[-1]) for u in rows["alert"][:2]]
    # the supervisor ticks the first two rows of the table
    at.session_state["q_table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    at.selectbox(key="q_bulk_to").set_value("ivan")
    at.button(key="q_bulk_assign").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as s:
        assigned = {a.id: a.assignee for a in s.scalars(select(AlertRow))}
    assert {a for a, who in assigned.items() if who == "ivan"} == set(picked)


def test_a_link_to_an_alert_survives_the_login(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.new_app()
    at.query_params["alert"] = str(ids["mirror"])
    at.run()
    at.text_input(key="login_user").input("ines")
    at.text_input(key="login_password").input(cf.PASSWORD)
    at.button(key="FormSubmitter:login-Log in").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == f"Alert {ids['mirror']}"
