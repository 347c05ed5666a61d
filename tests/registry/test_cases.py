"""Cases group alerts on shared records, one consignment or one facility-substance-year;
acting on a case acts on each alert under the triage rules, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.cases import act_on_alerts, case_index
from registry.db import session_scope
from registry.errors import StaleAlert
from registry.models import AlertRow, TriageEvent, User
from registry.service import Action

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
import console_factories as cf


def _cases(engine) -> dict[int, int]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return dict(case_index(s).select("alert_id", "case_id").iter_rows())


def test_alerts_are_grouped_by_records_consignment_and_facility_year(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine)
    x, m, b, c = cf.mirror_case(sqlite_engine)
    other = cf.make_records(
        sqlite_engine,
        [
            {
                "date": __import__("datetime").date(2025, 6, 1),
                "quantity_kg": 5.0,
                "exporter_facility_id": None,
            }
        ],
    )
    on_export = cf.make_alert(sqlite_engine, shipment_pks=[x])  # A's export record
    on_import = cf.make_alert(
        sqlite_engine, shipment_pks=[m], facility_id=None
    )  # A's import: same ref
    same_year = cf.make_alert(sqlite_engine, shipment_pks=[b])  # FAC-1, NPP, 2026
    shares_b = cf.make_alert(sqlite_engine, shipment_pks=[b, c], facility_id=None)  # shares B
    alone = cf.make_alert(sqlite_engine, shipment_pks=other, facility_id=None)
    cases = _cases(sqlite_engine)
    first = cases[on_export]
    assert first == on_export  # named after its lowest alert number
    assert {cases[on_import], cases[same_year], cases[shares_b]} == {first}
    assert cases[alone] == alone


def test_case_action_records_each_alert_and_skips_with_the_reason(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine)
    pks = cf.mirror_case(sqlite_engine)
    new = cf.make_alert(sqlite_engine, shipment_pks=pks[:1])
    closed = cf.make_alert(sqlite_engine, shipment_pks=pks[:2], status="dismissed")
    with session_scope(sqlite_engine) as s:
        ines = s.scalars(select(User).where(User.username == "ines")).one()
        out = act_on_alerts(s, ines, {new: 1, closed: 1}, Action("claim"))
    assert [(o.alert_id, o.done, o.status) for o in out] == [
        (new, True, "assigned"),
        (closed, False, "dismissed"),
    ]
    assert "cannot claim" in out[1].message
    with session_scope(sqlite_engine) as s:
        actions = list(s.scalars(select(TriageEvent.alert_id).where(TriageEvent.action == "claim")))
    assert actions == [new]


def test_case_action_on_a_stale_alert_saves_nothing(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    cf.standard_users(sqlite_engine)
    a = cf.make_alert(sqlite_engine, facility_id=None)
    b = cf.make_alert(sqlite_engine, facility_id=None)
    with session_scope(sqlite_engine) as s:
        s.get(AlertRow, b).version = 5  # type: ignore[union-attr]  # someone acted meanwhile
    with pytest.raises(StaleAlert), session_scope(sqlite_engine) as s:
        sara = s.scalars(select(User).where(User.username == "sara")).one()
        act_on_alerts(s, sara, {a: 1, b: 1}, Action("assign", assignee="ines"))
    with session_scope(sqlite_engine) as s:
        assert s.get(AlertRow, a).status == "new"  # type: ignore[union-attr]
        assert s.scalar(select(TriageEvent.id).where(TriageEvent.alert_id.in_([a, b]))) is None
