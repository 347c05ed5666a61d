"""End to end in a real browser: `pwatch console` on a demo database, driven by Playwright
through Debian's Chromium. Every role walks every page of its menu (and an alert, its case
and the load page's check) at 1440x900, with a screenshot of each in test-artifacts/, and no
visible table or metric shows a snake_case key, "None", "nan" or a number with more than 4
decimals. An inspector proposes dismissing the top alert, a supervisor approves it; the queue
and the audit trail show it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _pwatch() -> list[str]:
    exe = Path(sys.executable).with_name("pwatch")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _build_database(tmp: Path) -> tuple[str, dict[str, tuple[str, str]]]:
    """A demo-like database: the real demo pipeline when it exists, else the test factories."""
    url = f"sqlite:///{tmp / 'demo.db'}"
    env = dict(os.environ, PWATCH_DATA_DIR=str(tmp / "data"))
    try:
        from ui.cli.demo_cmd import DEMO_ACCOUNTS
    except ImportError:
        DEMO_ACCOUNTS = []
    if DEMO_ACCOUNTS:
        subprocess.run(
            [*_pwatch(), "--db", url, "demo", "--no-serve"],
            check=True,
            env=env,
            cwd=tmp,
            capture_output=True,
            timeout=900,
        )
        from ui.cli.demo_cmd import DEMO_AUTHORITIES

        by_role: dict[str, tuple[str, str]] = {}
        for name, role, password in DEMO_ACCOUNTS:
            by_role.setdefault(role, (name, password))
        for name, code, password in DEMO_AUTHORITIES:
            by_role[f"authority:{code}"] = (name, password)
        by_role["authority"] = by_role[f"authority:{DEMO_AUTHORITIES[0][1]}"]
        return url, by_role
    import console_factories as cf

    from registry.db import init_db, make_engine

    engine = make_engine(url)
    init_db(engine)
    cf.demo(engine)
    engine.dispose()
    return url, {
        "inspector": ("ines", cf.PASSWORD),
        "supervisor": ("sara", cf.PASSWORD),
        "analyst": ("ana", cf.PASSWORD),
        "viewer": ("vera", cf.PASSWORD),
    }


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict, str]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("browser")
    url, accounts = _build_database(tmp)
    port = _free_port()
    env = dict(os.environ, PWATCH_DATA_DIR=str(tmp / "data"))
    log = open(tmp / "console.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*_pwatch(), "--db", url, "console", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError((tmp / "console.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield base, accounts, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.copy(tmp / "console.log", ARTIFACTS / "console.log") if ARTIFACTS.exists() else None


def _login(page, base: str, user: str, password: str, landing: str = "Alert queue") -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(base)
    expect(page.locator(".st-key-login_user input")).to_be_visible(timeout=60_000)
    page.locator(".st-key-login_user input").fill(user)
    page.locator(".st-key-login_password input").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=landing)).to_be_visible(timeout=60_000)


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def _click_key(page, key: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f".st-key-{key} button").last.click()  # the newest copy while rerunning
    _settle(page)


_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
_LONG_DECIMALS = re.compile(r"\d\.\d{5,}")


def _visible_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Table headers and cells (the grid's accessible copy) and metrics as the reader sees them."""
    texts = page.locator('[data-testid="stDataFrame"] th, [data-testid="stDataFrame"] td')
    metrics = page.locator('[data-testid="stMetric"]')
    found = [*texts.all_inner_texts(), *metrics.all_inner_texts()]
    out = []
    for text in found:
        for part in (p.strip() for p in text.splitlines()):
            bad = part in ("None", "nan", "NaN", "null") or _SNAKE.match(part)
            if bad or (_LONG_DECIMALS.search(part) and "http" not in part):
                out.append(part)
    return out


def _shoot(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    _settle(page)
    page.wait_for_timeout(1200)  # grids and charts finish drawing
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    return [f"{name}: {p}" for p in _visible_problems(page)]


def _menu(page) -> list[str]:  # type: ignore[no-untyped-def]
    links = page.locator('[data-testid="stSidebarNav"] a')
    return [links.nth(i).inner_text().splitlines()[-1] for i in range(links.count())]


_RFC = "Requests for clarification"
ROLE_MENUS = {
    "viewer": ["Alert queue", "Alert detail", "Facilities", "Early warning", "Overview", "Your account"],
    "analyst": [
        "Alert queue", "Alert detail", "Facilities", "Early warning", "Load data", "Declarations",
        "Overview", "Your account",
    ],
    "inspector": [
        "Alert queue", "Alert detail", _RFC, "Facilities", "Early warning", "Declarations",
        "Overview", "Your account",
    ],
    "supervisor": [
        "Alert queue", "Alert detail", "Approvals", _RFC, "Facilities", "Early warning",
        "Load data", "Declarations", "Overview", "Detector thresholds", "Audit trail",
        "Your account",
    ],
    "authority": [_RFC, "Declarations", "Your account"],
}  # fmt: skip
LANDINGS = {"viewer": "Overview", "authority": _RFC}


@pytest.mark.parametrize("role", list(ROLE_MENUS))
def test_every_role_walks_every_page_in_words(console, role) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, accounts, _ = console
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=60_000)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(60_000)
        landing = LANDINGS.get(role, "Alert queue")
        _login(page, base, *accounts[role], landing=landing)
        assert _menu(page) == ROLE_MENUS[role]
        for title in ROLE_MENUS[role]:
            page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
            problems += _shoot(page, f"{role}-{title.lower().replace(' ', '-')}")
        if role == "authority":  # no queue, no alerts: the requests sent to its state
            browser.close()
            assert problems == []
            return
        # the top alert, each of its tabs, then its case
        page.locator('[data-testid="stSidebarNav"] a', has_text="Alert queue").first.click()
        _settle(page)
        _click_key(page, "q_open_btn")
        expect(page.get_by_role("heading", name=re.compile(r"^Alert \d+$"))).to_be_visible()
        problems += _shoot(page, f"{role}-alert")
        for tab in ("Consignments", "Charts", "History"):
            page.get_by_role("tab", name=tab).click()
            problems += _shoot(page, f"{role}-alert-{tab.lower()}")
        if page.locator(".st-key-d_case button").count():
            _click_key(page, "d_case")
            expect(page.get_by_role("heading", name=re.compile(r"^Case \d+$"))).to_be_visible()
            problems += _shoot(page, f"{role}-case")
        browser.close()
    assert problems == []


def test_inspector_proposes_supervisor_approves(console) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, accounts, db_url = console
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=60_000)  # a shared CI machine can be slow
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)

        # --- the inspector opens the top alert and proposes dismissal -------------------
        _login(page, base, *accounts["inspector"])
        _settle(page)
        expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
        expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()
        page.wait_for_timeout(1500)  # the grid draws its rows
        page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
        _click_key(page, "q_open_btn")
        heading = page.get_by_role("heading", name=re.compile(r"^Alert \d+$"))
        expect(heading).to_be_visible()
        alert_id = int(heading.inner_text().split()[1])
        _settle(page)
        page.get_by_role("tab", name="Charts").click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "detail.png"), full_page=True)

        _click_key(page, f"t_claim_{alert_id}")
        expect(page.get_by_text("Claim recorded")).to_be_visible()
        _click_key(page, f"t_start_review_{alert_id}")
        expect(page.get_by_text("Start review recorded")).to_be_visible()
        # While Streamlit reruns, a stale copy of a widget can sit beside the new one for a
        # moment: always act on the newest (last) copy.
        _settle(page)
        # the dismissal fields open once the review has started (greyed out before)
        expect(page.locator(f".st-key-t_reason_{alert_id} input").last).to_be_enabled()
        reason = page.locator(f".st-key-t_reason_{alert_id}").last
        reason.click()
        page.get_by_role("option", name=re.compile("Data error in the feed")).click()
        _settle(page)
        expect(reason.locator("input").last).to_have_value(re.compile("Data error in the feed"))
        _type(page, f"t_dnote_{alert_id}", "Duplicate rows in the feed; the authority confirmed.")
        note = page.locator(f".st-key-t_dnote_{alert_id} textarea").last
        page.get_by_role("heading", name="Triage").click()  # blur: the note is sent
        _settle(page)
        expect(note).to_have_value("Duplicate rows in the feed; the authority confirmed.")
        _click_key(page, f"t_dismiss_{alert_id}")
        try:
            expect(page.get_by_text("Dismiss recorded")).to_be_visible()
        except AssertionError:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        expect(page.get_by_text("Dismiss recorded")).to_be_visible()
        status = page.locator('[data-testid="stMetric"]').filter(has_text="Status")
        expect(status).to_contain_text(re.compile("dismissal pending|dismissed"))
        four_eyes = "dismissal pending" in status.inner_text()
        page.get_by_role("button", name="Log out").click()

        # --- a supervisor approves ---------------------------------------------------
        _login(page, base, *accounts["supervisor"])
        if four_eyes:
            page.get_by_role("link", name="Approvals").click()
            _settle(page)
            expect(page.get_by_text(f"Alert {alert_id}", exact=False).first).to_be_visible()
            _click_key(page, f"ap_approve_{alert_id}")
            expect(page.get_by_text("Approve recorded")).to_be_visible()

        # --- the queue shows it dismissed ---------------------------------------------
        page.get_by_role("link", name="Alert queue").click()
        _settle(page)
        dismissed = page.locator('[data-testid="stMetric"]').filter(has_text="dismissed")
        expect(dismissed).not_to_contain_text(re.compile(r"^\s*dismissed\s*0\s*$"))

        # --- the audit trail verifies and lists the events -----------------------------
        page.get_by_role("link", name="Audit trail").click()
        _settle(page)
        _click_key(page, "audit_verify")
        expect(page.get_by_text("Audit chain intact")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)

        # --- the overview for policymakers ---------------------------------------------
        page.get_by_role("link", name="Overview").click()
        _settle(page)
        expect(page.get_by_role("heading", name="Where listed precursors went")).to_be_visible()
        page.wait_for_timeout(1500)  # charts finish drawing
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
        browser.close()

    from sqlalchemy import create_engine, text

    eng = create_engine(db_url)
    with eng.connect() as conn:
        status_now = conn.execute(
            text("SELECT status FROM alerts WHERE id = :i"), {"i": alert_id}
        ).scalar()
        actions = [
            r[0]
            for r in conn.execute(
                text("SELECT action FROM triage_events WHERE alert_id = :i ORDER BY id"),
                {"i": alert_id},
            )
        ]
    eng.dispose()
    assert status_now == "dismissed"
    assert actions[-4:] == ["claim", "start_review", "dismiss", "approve"] or actions[-3:] == [
        "claim",
        "start_review",
        "dismiss",
    ]


def _open_as(page, base: str, user: str, password: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a link to a page as a logged-out user: the login form, then the page (a new
    address is a new Streamlit session, so every link is opened this way)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/{path}")
    expect(page.locator(".st-key-login_user input")).to_be_visible(timeout=60_000)
    page.locator(".st-key-login_user input").fill(user)
    page.locator(".st-key-login_password input").fill(password)
    page.get_by_role("button", name="Log in").click()
    _settle(page)


def _type(page, key: str, text: str, kind: str = "textarea") -> None:  # type: ignore[no-untyped-def]
    """Type into a Streamlit text field and send it (Ctrl+Enter, then wait for the rerun).

    A rerun still under way can replace the field just typed into (the text then never reaches
    the server, as for a person typing during a rerun): type again, up to three times."""
    for _ in range(3):
        box = page.locator(f".st-key-{key} {kind}").last
        box.fill(text)
        box.press("Control+Enter")
        _settle(page)
        if page.locator(f".st-key-{key} {kind}").last.input_value() == text:
            return


def test_a_request_for_clarification_end_to_end(console, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two browsers: an inspector drafts a request to a state on an alert, sharing evidence
    field by field; a supervisor approves it; that state's authority (its own browser) sees it
    with its deadline and answers with an attachment; the inspector reads the answer and
    closes it."""
    from playwright.sync_api import expect, sync_playwright

    base, accounts, db_url = console
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=60_000)
    from sqlalchemy import bindparam, create_engine, text

    eng = create_engine(db_url)
    states = [k.split(":", 1)[1] for k in accounts if k.startswith("authority:")]
    with eng.connect() as conn:  # a released alert on a state that has a demo authority
        alert_id, code = conn.execute(
            text(
                "SELECT id, country FROM alerts WHERE classification = 'restricted' "
                "AND country IN :states ORDER BY id"
            ).bindparams(bindparam("states", expanding=True)),
            {"states": states},
        ).first()
    authority = accounts[f"authority:{code}"]
    attachment = tmp_path / "export-licence.txt"
    attachment.write_text(f"Licence {code}-2024-118, end use: pharmaceutical synthesis.\n")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        body = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        state = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        for page in (body, state):
            page.set_default_timeout(60_000)

        # --- the inspector drafts the request from the alert ----------------------------
        _open_as(body, base, *accounts["inspector"], f"detail?alert={alert_id}")
        expect(body.get_by_role("heading", name=f"Alert {alert_id}")).to_be_visible()
        body.get_by_text("Draft a request to the state concerned").click()
        _settle(body)
        _type(body, f"rq_q_a{alert_id}", "Who bought the consignments split below the threshold?")
        body.get_by_text("What the monitoring found", exact=False).first.click()
        _settle(body)
        _click_key(body, f"rq_draft_a{alert_id}")
        expect(body.get_by_text("drafted: a supervisor other than you approves it")).to_be_visible()
        request_id = int(
            eng.connect().execute(text("SELECT MAX(id) FROM clarification_requests")).scalar()
        )
        body.get_by_role("button", name="Log out").click()

        # --- a supervisor approves: the request goes to Korea, its deadline starts --------
        _open_as(body, base, *accounts["supervisor"], f"clarifications?request={request_id}")
        expect(body.get_by_text(f"Request {request_id}", exact=False).first).to_be_visible()
        _click_key(body, f"cl_approve_{request_id}")
        expect(body.get_by_text("Approved: sent to the state")).to_be_visible()
        body.get_by_role("button", name="Log out").click()

        # --- Korea's authority, in its own browser, answers with an attachment -----------
        _open_as(state, base, *authority, f"clarifications?request={request_id}")
        expect(state.get_by_text("answer due", exact=False).first).to_be_visible()
        expect(state.get_by_text("Who bought the consignments split").first).to_be_visible()
        _shoot(state, "authority-request")
        state.locator(f".st-key-cl_answer_{request_id} textarea").fill(
            "Sold to a licensed pharmaceutical maker; the licence is attached."
        )
        state.locator(f".st-key-cl_files_{request_id} input[type=file]").set_input_files(
            str(attachment)
        )
        _settle(state)
        state.get_by_role("button", name="Send the answer").click()
        _settle(state)
        expect(
            state.get_by_text(f"Your answer to request {request_id} was recorded")
        ).to_be_visible()

        # --- the inspector reads the answer and closes the request ---------------------------
        _open_as(body, base, *accounts["inspector"], f"clarifications?request={request_id}")
        expect(body.get_by_text("Sold to a licensed pharmaceutical maker").first).to_be_visible()
        expect(body.get_by_role("button", name=re.compile("export-licence.txt"))).to_be_visible()
        _type(body, f"cl_why_{request_id}", "The licence matches the quantities.")
        _click_key(body, f"cl_follow_{request_id}")
        expect(body.get_by_text("Recorded: Close")).to_be_visible()
        _shoot(body, "request-closed")
        browser.close()

    with eng.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM clarification_requests WHERE id = :i"), {"i": request_id}
        ).scalar()
        actions = [
            r[0]
            for r in conn.execute(
                text("SELECT action FROM triage_events WHERE subject = :s ORDER BY id"),
                {"s": f"clarification:{request_id}"},
            )
        ]
        files = (
            conn.execute(
                text("SELECT file_name FROM clarification_attachments WHERE request_id = :i"),
                {"i": request_id},
            )
            .scalars()
            .all()
        )
    eng.dispose()
    assert status == "closed"
    assert actions == [
        "clarification_drafted",
        "clarification_approved",
        "clarification_answered",
        "clarification_closed",
    ]
    assert files == ["export-licence.txt"]
