"""Every console page renders for the roles that see it; login, lockout, expiry, menus, safety."""

from __future__ import annotations

import time

import console_factories as cf
import pytest
from sqlalchemy import select

from registry.db import session_scope
from registry.models import User

ALL_PAGES = [
    "queue",
    "detail",
    "approvals",
    "facilities",
    "early_warning",
    "overview",
    "load_data",
    "audit",
    "thresholds",
    "declarations",
    "clarifications",
    "account",
]
_VIEW = {"overview", "queue", "detail", "case", "facilities", "early_warning", "account"}
MENU = {
    "vera": _VIEW,
    "ana": {*_VIEW, "load_data", "declarations"},
    "ines": {*_VIEW, "declarations", "clarifications"},
    "sara": {*ALL_PAGES, "case"},
    "nora": {"declarations", "clarifications", "account"},
}
# Policymakers (viewers) land on the overview, authorities on the requests sent to their
# state, everyone else on the queue.
LANDING = {
    "vera": "Overview",
    "ana": "Alert queue",
    "ines": "Alert queue",
    "sara": "Alert queue",
    "nora": "Requests for clarification",
}


def _menu(at) -> set[str]:  # type: ignore[no-untyped-def]
    from pathlib import Path

    return {
        Path(str(info["script_path"])).stem
        for info in at._registered_pages.values()
        if info.get("script_path")
    }


@pytest.mark.parametrize("username", list(MENU))
def test_each_role_sees_its_menu_and_every_page_renders(console_db, username) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.login(username)
    assert at.title[0].value == LANDING[username]
    assert _menu(at) == MENU[username]
    at.session_state["alert_id"] = ids["high"]
    at.session_state["case_id"] = ids["high"]
    for page in sorted(MENU[username]):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert at.title, page
        assert cf.visible_problems(at) == [], page
    for page in set(ALL_PAGES) - MENU[username] - {"case"}:
        with pytest.raises(ValueError):
            at.switch_page(f"views/{page}.py")


def test_login_refused_and_lockout_message(console_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ines", "wrong-password")
    assert any("wrong password" in e.value for e in at.error)
    assert at.title[0].value == "precursor-watch"
    for _ in range(5):
        at = cf.login("ines", "wrong-password")
    at = cf.login("ines")  # even the right password is refused while locked
    assert any("locked" in e.value for e in at.error), [e.value for e in at.error]


def test_session_expires_and_logout(console_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ines")
    at.button(key="logout").click().run()
    assert at.title[0].value == "precursor-watch"
    assert any("logged out" in m for m in cf.messages(at))
    at = cf.login("ines")
    monkeypatch.setenv("PWATCH_SESSION_MINUTES", "1")
    at.session_state["auth"]["at"] = time.time() - 120
    at.run()
    assert at.title[0].value == "precursor-watch"
    assert any("expired" in m for m in cf.messages(at))


def test_disabled_account_is_logged_out(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    at = cf.login("ines")
    with session_scope(engine) as s:
        s.scalars(select(User).where(User.username == "ines")).one().active = False
    at.run()
    assert at.title[0].value == "precursor-watch"


def test_queue_filters_counts_and_overdue(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.login("ines")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["new"] == "5"
    frame = at.dataframe[0].value
    # the five-day-old critical alert is past its 24 h deadline (4 days over), the others not
    assert [d for d in frame["deadline"] if "OVERDUE" in d] == ["OVERDUE by 4 d"]
    at.multiselect(key="q_severity").set_value(["critical"]).run()
    assert any("1 alerts match" in c.value for c in at.caption)
    at.multiselect(key="q_severity").set_value([]).run()
    at.checkbox(key="q_overdue").check().run()
    assert any("1 alerts match" in c.value for c in at.caption)
    at.checkbox(key="q_overdue").uncheck().run()
    at.multiselect(key="q_detector").set_value(["export_never_arrived"]).run()
    assert at.selectbox(key="q_open").value == ids["mirror"]
    at.button(key="q_open_btn").click().run()
    assert at.title[0].value == f"Alert {ids['mirror']}"


def test_queue_csv_export_neutralises_formulas(console_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ines")
    at.checkbox(key="q_export").check().run()
    assert not at.exception
    from ui.console import csv_bytes

    text = csv_bytes(["summary"], [['=HYPERLINK("x")'], ["-12.5"], ["+cmd"]]).decode()
    assert "'=HYPERLINK" in text and "\n-12.5\n" in text and "'+cmd" in text


def test_detail_renders_data_as_text_not_html(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.open_detail(cf.login("ines"), ids["name"])
    md = " ".join(m.value for m in at.markdown)
    assert "[x](http" not in md and "<b>" not in md
    # the product text with markup is shown as code, verbatim
    assert any("<b>bold</b>" in c.value for c in at.code)
    assert len(at.get("image")) >= 1  # RDKit depictions


def test_detail_mirror_and_declaration_views(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.open_detail(cf.login("ines"), ids["mirror"])
    assert any("never arrived" in w.value for w in at.warning)
    at = cf.open_detail(at, ids["high"])
    assert any("Declared versus shipped" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) >= 2


def test_facility_profile(console_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("ana")
    at.switch_page("views/facilities.py").run()
    at.text_input(key="f_search").input("acme").run()
    assert at.selectbox(key="f_pick").value == "FAC-1"
    assert at.header[0].value == "Acme Fine Chemicals Ltd"
    assert any(t.label.startswith("Consignments") for t in at.tabs)
    # a policymaker sees only what the body released (restricted); FAC-1 is protected
    at = cf.login("vera")
    at.switch_page("views/facilities.py").run()
    at.text_input(key="f_search").input("acme").run()
    assert "No declared facility matches." in cf.messages(at)


def test_early_warning_promotion_is_supervised(console_db) -> None:  # type: ignore[no-untyped-def]
    _, ids = console_db
    at = cf.login("ines")
    at.switch_page("views/early_warning.py").run()
    assert not [b for b in at.button if b.key and b.key.startswith("ew_promote")]
    at = cf.login("sara")
    at.switch_page("views/early_warning.py").run()
    at.button(key=f"ew_promote_{ids['early_warning']}").click().run()
    assert not at.exception, at.exception
    assert any("promoted" in m for m in cf.messages(at)), cf.messages(at)
    assert len(at.get("image")) >= 1


def test_audit_verification_shows_intact_and_broken_chain(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    at = cf.login("sara")
    at.switch_page("views/audit.py").run()
    at.button(key="audit_verify").click().run()
    assert any("intact" in s.value for s in at.success)
    from registry.models import TriageEvent

    with session_scope(engine) as s:
        s.scalars(select(TriageEvent).order_by(TriageEvent.id)).first().note = "tampered"  # type: ignore[union-attr]
    at.button(key="audit_verify").click().run()
    assert any("BROKEN" in e.value for e in at.error)


def test_thresholds_saved_through_the_service(console_db) -> None:  # type: ignore[no-untyped-def]
    """A supervisor raises the mirror-gap tolerance from 10% to 25% on the page: the next
    detection run uses 0.25, the page shows it in force, and the change is audited."""
    from detection.run import configs
    from registry.models import DetectorSetting, TriageEvent

    engine, _ = console_db
    at = cf.login("sara")
    at.switch_page("views/thresholds.py").run()
    assert not at.exception
    at.selectbox(key="th_detector").set_value("mirror_quantity_gap").run()
    tolerance = next(n for n in at.number_input if n.value == 0.10)
    tolerance.set_value(0.25)
    next(b for b in at.button if b.label == "Save thresholds").click().run()
    assert any("saved" in m for m in cf.messages(at)), cf.messages(at)
    with session_scope(engine) as s:
        stored = s.scalars(
            select(DetectorSetting).where(DetectorSetting.detector == "mirror_quantity_gap")
        ).one()
        assert stored.values == {"tolerance": 0.25} and stored.updated_by == "sara"
        assert (
            configs({"mirror_quantity_gap": stored.values})["mirror_quantity_gap"].tolerance == 0.25
        )
        event = s.scalars(select(TriageEvent).order_by(TriageEvent.id.desc())).first()
        assert event is not None and event.action == "tune_thresholds" and event.actor == "sara"


def test_load_data_page_saves_upload_safely(console_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ui.uploads import safe_name, save_upload

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\x.csv") == "x.csv"
    assert safe_name("...") == "upload"
    p = save_upload(tmp_path / "up", "../evil name.csv", b"a,b\n")
    assert p.parent == (tmp_path / "up").resolve() and p.name.endswith("evil_name.csv")
    at = cf.login("ana")
    at.switch_page("views/load_data.py").run()
    assert not at.exception
    assert at.title[0].value == "Load data"


def test_overview_is_read_only(console_db) -> None:  # type: ignore[no-untyped-def]
    at = cf.login("vera")
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert [b.key for b in at.button] == ["logout"]
    assert len(at.get("vega_lite_chart")) >= 3


def test_analyst_uploads_previews_and_loads_a_feed(console_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    csv = (
        b"facility_id,name,country,activity,substance,cas,declared_annual_kg\n"
        b"FAC-9,Nine Chemicals,Germany,trade,NPP,39742-60-4,250\n"
        b"FAC-10,Ten Chemicals,Narnia,trade,NPP,39742-60-4,not-a-number\n"
    )
    at = cf.login("ana")
    at.switch_page("views/load_data.py").run()
    at.radio(key="ld_kind").set_value("facilities").run()
    at.file_uploader[0].upload("../../outside.csv", csv, "text/csv")
    at.run()
    assert not at.exception, at.exception
    uploads = list((tmp_path / "data" / "uploads").iterdir())
    assert len(uploads) == 1 and uploads[0].name.endswith("-outside.csv")
    at.button(key="ld_preview").click().run()
    assert not at.exception, at.exception
    # the whole file is checked: counts, not a box per row
    assert "Whole file checked: 2 rows: 1 would load, 1 would be quarantined." in cf.messages(at)
    assert any("Columns used" in c.value for c in at.caption)
    at.button(key="ld_load").click().run()
    assert not at.exception, at.exception
    assert any("Loaded" in m for m in cf.messages(at)), cf.messages(at)
    from registry.models import Facility

    with session_scope(engine) as s:
        assert s.get(Facility, "FAC-9") is not None
    # the quarantine report of the load lists the bad row
    assert len(at.dataframe) >= 2
