"""No leak: every role (and an authority of each of two states) against every reading action
(the CLI's alerts, facilities and quarantine exports, the console's queue, alert pages,
facility search, requests for clarification, and the documents) for items of two states at
each of the three classifications, checked against a policy table written here from the
issue (#16) and the README, not read from registry.access.ACCESS.

Each item carries a marker string of its own (ZQ-...); an action leaks when a marker the
table says the user may not see appears anywhere in what the action shows. CLI and registry
on SQLite and PostgreSQL; the console (Streamlit AppTest) on SQLite."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from registry.db import init_db, make_engine, session_scope
from registry.models import (
    AlertRow,
    AlertShipment,
    Declaration,
    Facility,
    IngestBatch,
    QuarantinedRow,
)
from registry.shipments import write_shipments
from registry.users import add_user
from tests.conftest import PG_URL, create_pg_database, drop_pg_database

pytestmark = pytest.mark.reliability

STATES = ("NLD", "MEX")
LEVELS = ("restricted", "protected", "highly_protected")
PASSWORD = "policy-walk-1"

# Who sees what (issue #16, README "Confidentiality"): viewers what the body released
# (restricted); analysts up to protected; inspectors up to protected, and highly protected
# only for the alerts assigned to them (the alert, its facility, the batch of its records);
# supervisors everything; an authority its own state's facilities and declarations at every
# level, never a shipment feed, and alerts only as a request for clarification shares them.
_POLICY = """
user      role        restricted  protected  highly_protected
vera      viewer      all         -          -
ana       analyst     all         all        -
ines      inspector   all         all        assigned
ivan      inspector   all         all        assigned
sara      supervisor  all         all        all
nld-auth  authority   own         own        own
mex-auth  authority   own         own        own
"""
_head, *_rows = (line.split() for line in _POLICY.strip().splitlines())
POLICY = {row[0]: dict(zip(_head[2:], row[2:], strict=True)) for row in _rows}
ROLE = {row[0]: row[1] for row in _rows}
STATE = {"nld-auth": "NLD", "mex-auth": "MEX"}
# ines is assigned the Netherlands' highly protected alert; ivan nothing.
ASSIGNED = {"ines": {("NLD", "highly_protected")}, "ivan": set()}
# The one request sent: to the Netherlands about its protected alert (one to Mexico stays
# a draft, never approved: Mexico sees nothing of it).
SHARED = ("NLD", "protected")

ITEMS = list(itertools.product(STATES, LEVELS))


def marker(kind: str, state: str, level: str) -> str:
    return f"ZQ-{kind}-{state}-{level}"


def sees(user: str, kind: str, state: str, level: str) -> bool:
    """The table's answer for one user, kind of item (facility, declaration, quarantine,
    alert) and item."""
    scope = POLICY[user][level]
    if scope == "all":
        return True
    if scope == "assigned":
        return (state, level) in ASSIGNED[user]
    if scope == "own":
        if kind in ("facility", "declaration"):
            return STATE[user] == state
        return False  # feeds and alerts: never as such (a request shares chosen fields)
    return False


def _build(url: str, data_dir: Path) -> None:
    engine = make_engine(url)
    init_db(engine, load_watchlist=False)
    with session_scope(engine) as s:
        for user, role in ROLE.items():
            add_user(s, user, role, PASSWORD, state=STATE.get(user))
        add_user(s, "sven", "supervisor", PASSWORD)
    for n, (state, level) in enumerate(ITEMS):
        _item(engine, n, state, level)
    from registry.clarifications import decide, draft, shareable
    from registry.users import get_user

    with session_scope(engine) as s:
        ivan, sven = get_user(s, "ivan"), get_user(s, "sven")
        assert ivan is not None and sven is not None
        for (state, level), approve in ((SHARED, True), (("MEX", "protected"), False)):
            aid = (
                s.query(AlertRow.id)
                .filter(AlertRow.summary.contains(marker("ALERT", state, level)))
                .scalar()
            )
            keys = [o.key for o in shareable(s, [aid], state)]
            req = draft(s, ivan, [aid], state, f"Questions {marker('Q', state, level)}", keys)
            if approve:
                decide(s, sven, req.id, True)
    engine.dispose()


def _item(engine: Engine, n: int, state: str, level: str) -> None:
    """A facility with one declaration, a shipment batch with one record and one quarantined
    row, and an alert on that record: all of `state`, all classified `level`."""
    fid = f"F-{state}-{level}"
    with session_scope(engine) as s:
        fac_batch = IngestBatch(kind="facilities", file_name=f"f{n}.csv", file_hash=f"f{n:063d}",
                                classification=level, state=state)  # fmt: skip
        feed = IngestBatch(kind="shipments", file_name=f"s{n}.csv", file_hash=f"s{n:063d}",
                           classification=level)  # fmt: skip
        s.add_all([fac_batch, feed])
        s.flush()
        s.add(Facility(facility_id=fid, name=marker("FAC", state, level), name_norm=fid.lower(),
                       country=state, batch_id=fac_batch.id, classification=level))  # fmt: skip
        s.flush()
        s.add(Declaration(facility_id=fid, activity="trade", substance=marker("DECL", state, level),
                          declared_annual_kg=100.0 + n, declaration_year=2026,
                          batch_id=fac_batch.id, classification=level))  # fmt: skip
        s.add(QuarantinedRow(batch_id=feed.id, row_number=2, reasons=["unknown unit"],
                             raw={"product": marker("QUAR", state, level)}))  # fmt: skip
        (pk,) = write_shipments(
            s.connection(),
            [
                {
                    "source": "walk", "shipment_id": f"S{n}", "date": dt.date(2026, 3, 1),
                    "exporter": marker("PARTY", state, level), "exporter_norm": f"party {n}",
                    "exporter_country": state, "importer": marker("BUYER", state, level),
                    "importer_norm": f"buyer {n}", "importer_country": "DEU",
                    "product": "N-phenethyl-4-piperidone", "quantity": 40.0, "unit": "kg",
                    "quantity_kg": 40.0, "exporter_facility_id": fid, "batch_id": feed.id,
                    "row_number": 1,
                }
            ],
        )  # fmt: skip
        assigned = next((u for u, items in ASSIGNED.items() if (state, level) in items), None)
        alert = AlertRow(
            fingerprint=f"walk-{n}", detector="declared_quantity_exceeded", severity="high",
            score=80.0, summary=f"Alert about {marker('ALERT', state, level)}",
            evidence={}, facility_id=fid, country=state, classification=level,
            status="assigned" if assigned else "new", assignee=assigned,
        )  # fmt: skip
        s.add(alert)
        s.flush()
        s.add(AlertShipment(alert_id=alert.id, shipment_pk=pk))


_BACKENDS = ["sqlite"] + ([pytest.param("postgres", marks=pytest.mark.postgres)] if PG_URL else [])


@pytest.fixture(scope="module", params=_BACKENDS)
def walk_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("walk")
    mp = pytest.MonkeyPatch()
    mp.setenv("PWATCH_DATA_DIR", str(data_dir / "data"))
    url = f"sqlite:///{data_dir / 'walk.db'}" if request.param == "sqlite" else create_pg_database()
    try:
        _build(url, data_dir)
        yield url
    finally:
        from registry import db as registry_db

        for key in [k for k in registry_db._engines if k == url]:
            registry_db._engines.pop(key).dispose()
        if request.param != "sqlite":
            drop_pg_database(url)
        mp.undo()


def _cli(url: str, user: str, *args: str) -> str:
    from ui.cli import app

    res = CliRunner().invoke(
        app, ["--db", url, "--user", user, *args], env={"PWATCH_PASSWORD": PASSWORD}
    )
    assert res.exit_code == 0, res.output
    return res.output


def _check(text: str, user: str, kinds: dict[str, str]) -> list[str]:
    """Every item whose marker's presence in `text` differs from the table: (kind, item)."""
    wrong = []
    for (state, level), (kind, mark) in itertools.product(ITEMS, kinds.items()):
        expected = sees(user, kind, state, level)
        if (marker(mark, state, level) in text) != expected:
            wrong.append(f"{user} {'misses' if expected else 'sees'} {kind} {state} {level}")
    return wrong


def _never(text: str, user: str) -> list[str]:
    """Markers an authority may never see: the other side of a trade, another state's data."""
    out = [f"{user} sees a buyer" for s, lv in ITEMS if marker("BUYER", s, lv) in text]
    if user in STATE:
        other = next(s for s in STATES if s != STATE[user])
        out += [f"{user} sees {other} data" for kind in ("FAC", "DECL", "PARTY", "ALERT", "QUAR", "Q") for lv in LEVELS if marker(kind, other, lv) in text]  # fmt: skip
    return out


CLI_ACTIONS = {
    "alerts": (["alerts", "--format", "csv"], {"alert": "ALERT"}),
    "alerts-json": (["alerts", "--format", "json"], {"alert": "ALERT"}),
    "facilities": (["facilities", "--format", "csv"], {"facility": "FAC", "declaration": "DECL"}),
    "quarantine": (["quarantine", "--format", "csv"], {"quarantine": "QUAR"}),
}


@pytest.mark.parametrize(("user", "action"), list(itertools.product(POLICY, CLI_ACTIONS)))
def test_cli_shows_only_what_the_policy_allows(walk_db: str, user: str, action: str) -> None:
    args, kinds = CLI_ACTIONS[action]
    out = _cli(walk_db, user, *args)
    assert _check(out, user, kinds) + _never(out, user) == []
    if action.startswith("alerts") and user in STATE:
        # an authority's alerts are the requests sent to its state, with what they shared
        shared = user == "nld-auth"
        assert (marker("Q", *SHARED) in out) == shared
        assert (marker("FAC", *SHARED) in out) == shared
        assert (marker("PARTY", *SHARED) in out) == shared
    if action != "alerts-json":  # the CSV header names the column on every row
        assert any(line.split(",")[-1] == "classification" for line in out.splitlines())


# --- the console -------------------------------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))


def _page_text(at: Any) -> str:
    """Everything a page shows as text: titles, Markdown, messages, tables, metrics, options."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code",
                 "info", "warning", "error", "success"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for box in (*at.selectbox, *at.multiselect):
        parts += [str(o) for o in box.options]
    parts += [str(c.label) for c in at.checkbox]
    parts += [str(b.label) for b in at.get("download_button")]
    import re

    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same registry on SQLite for the console (the CLI walk covers PostgreSQL too)."""
    data_dir = tmp_path_factory.mktemp("walk-console")
    mp = pytest.MonkeyPatch()
    mp.setenv("PWATCH_DATA_DIR", str(data_dir / "data"))
    url = f"sqlite:///{data_dir / 'walk.db'}"
    try:
        _build(url, data_dir)
        yield url
    finally:
        mp.undo()


def _login(url: str, user: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import console_factories as cf

    monkeypatch.setenv("PWATCH_DATABASE_URL", url)
    return cf.login(user, PASSWORD)


@pytest.mark.parametrize("user", list(POLICY))
def test_console_pages_show_only_what_the_policy_allows(
    console_url: str, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _login(console_url, user, monkeypatch)
    wrong: list[str] = []
    staff = ROLE[user] != "authority"
    if staff:
        at.switch_page("views/queue.py").run()
        wrong += _check(_page_text(at), user, {"alert": "ALERT"})
        at.switch_page("views/facilities.py").run()
        at.text_input(key="f_search").input("ZQ-FAC").run()
        wrong += _check(_page_text(at), user, {"facility": "FAC"})
    else:
        for page in ("queue", "detail", "facilities"):  # not on an authority's menu at all
            with pytest.raises(ValueError):
                at.switch_page(f"views/{page}.py")
    for page in ("declarations", "clarifications", "account"):
        if page in ("declarations", "clarifications") and ROLE[user] in ("viewer",):
            continue
        if page == "clarifications" and ROLE[user] == "analyst":
            continue
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        text = _page_text(at)
        wrong += _never(text, user)
        if page == "clarifications" and user in STATE:
            assert (marker("Q", *SHARED) in text) == (user == "nld-auth")
    assert wrong == []


@pytest.mark.parametrize("user", [u for u in POLICY if ROLE[u] != "authority"])
def test_alert_pages_and_documents_show_only_what_the_policy_allows(
    console_url: str, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _login(console_url, user, monkeypatch)
    engine = make_engine(console_url)
    with session_scope(engine) as s:
        ids = {
            (state, level): s.query(AlertRow.id).filter(AlertRow.summary.contains(marker("ALERT", state, level))).scalar()
            for state, level in ITEMS
        }  # fmt: skip
    engine.dispose()
    wrong = []
    for (state, level), aid in ids.items():
        at.session_state["alert_id"] = aid
        at.switch_page("views/detail.py").run()
        assert not at.exception, at.exception
        text = _page_text(at)
        expected = sees(user, "alert", state, level)
        for mark in ("ALERT", "PARTY", "BUYER"):
            if (marker(mark, state, level) in text) != expected:
                wrong.append(f"{user} alert page {state} {level}: {mark} shown={not expected}")
        if expected:  # the classification heads the page
            assert f"Classification: {level.replace('_', ' ').upper()}" in text
    assert wrong == []


def test_the_request_document_holds_only_what_was_shared(walk_db: str) -> None:
    """The document the Netherlands downloads: the questions and the evidence shared, its own
    facility and trader, never the buyer or Mexico's data; the classification opens and
    closes it."""
    from registry.clarification_docs import request_markdown
    from registry.clarifications import requests_for
    from registry.users import get_user

    engine = make_engine(walk_db)
    with session_scope(engine) as s:
        nld = get_user(s, "nld-auth")
        (req,) = requests_for(s, nld)
        text = request_markdown(req, "protected")
    engine.dispose()
    lines = text.strip().splitlines()
    assert lines[0] == lines[-1] == "Classification: PROTECTED"
    for mark in ("Q", "FAC", "PARTY"):
        assert marker(mark, *SHARED) in text.replace("\\", "")
    assert _never(text.replace("\\", ""), "nld-auth") == []
