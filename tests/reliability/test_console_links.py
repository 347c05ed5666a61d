"""A bare URL or e-mail address in feed data or a note never becomes a live link in the
console. Streamlit's Markdown (remark-gfm) links bare `https://...`, `www.` and addresses
after backslash escapes are resolved, so escaping alone let them through; ui.console.esc
breaks the patterns with an invisible word joiner. Checked three ways: esc against the
patterns Streamlit's bundle uses, the console's pages through AppTest, and the rendered
page in a real browser (no <a> pointing at the data's host)."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
import console_factories as cf

from registry.db import session_scope
from registry.models import AlertRow
from registry.service import Action, act
from registry.users import get_user
from ui.console import esc

pytestmark = pytest.mark.reliability

# The GFM autolink-literal patterns of mdast-util-gfm-autolink-literal, as shipped in
# Streamlit's StreamlitMarkdown bundle: /(https?:\/\/|www(?=\.))([-.\w]+)([^ \t\r\n]*)/gi
# and /(?<=^|\s|\p{P}|\p{S})([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)/gu (JavaScript \w is ASCII).
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE | re.ASCII)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)

HOSTILE = [
    "see https://evil.example/steal?x=1 now",
    "HTTP://EVIL.EXAMPLE",
    "www.evil.example/login",
    "write to mallory@evil.example",
    "<https://evil.example>",
    "[click](https://evil.example) ![img](https://evil.example/x.png)",
    "mailto:mallory@evil.example",
    "a `code` *bold* # heading | pipe",
]


def _as_rendered(markdown: str) -> str:
    """The text remark sees once backslash escapes and entities are resolved."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown))


def _live_links(markdown: str) -> list[str]:
    text = _as_rendered(markdown)
    return [m.group() for m in _URL.finditer(text)] + [m.group() for m in _EMAIL.finditer(text)]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_has_no_autolink_and_reads_the_same(text: str) -> None:
    out = esc(text)
    assert _live_links(out) == [], out
    assert _as_rendered(out).replace("\u2060", "") == text


@pytest.fixture
def linky(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A registry whose alert summary and inspector's grounds carry links; the alert waits
    for a supervisor's approval."""
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine, name="Acme https://evil.example/facility")
    alert_id = cf.make_alert(
        sqlite_engine, summary="Shipped to https://evil.example/a " + HOSTILE[3]
    )
    with session_scope(sqlite_engine) as s:
        ines = get_user(s, "ines")
    for step, kw in [("claim", {}), ("start_review", {}), ("note", {"note": HOSTILE[2]}),
                     ("escalate", {"note": "grounds: see www.evil.example and " + HOSTILE[0]})]:  # fmt: skip
        with session_scope(sqlite_engine) as s:
            seen = s.get(AlertRow, alert_id).version  # type: ignore[union-attr]
            act(s, alert_id, ines, Action(step, **kw), expected_version=seen)  # type: ignore[arg-type]
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))
    return alert_id


def _markdown(at) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "info",
                 "warning", "error"):  # fmt: skip
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.value) for m in at.get("metric")]
    return out


def test_console_pages_render_no_link_from_the_data(linky: int) -> None:
    at = cf.open_detail(cf.login("sara"), linky)
    pages = {"detail": _markdown(at)}
    at.switch_page("views/approvals.py").run()
    pages["approvals"] = _markdown(at)
    for page, texts in pages.items():
        shown = " ".join(_as_rendered(t).replace("\u2060", "") for t in texts)
        assert "evil.example/a" in shown, page  # the data is on the page, as text
        for t in texts:
            assert _live_links(t) == [], (page, t)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(linky: int, sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    port = _free_port()
    exe = Path(sys.executable).with_name("pwatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli"]
    log = open(tmp_path / "console.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            *cmd,
            "--db",
            str(sqlite_engine.url),
            "console",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        env=dict(os.environ, PWATCH_DATA_DIR=str(tmp_path / "data")),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError((tmp_path / "console.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.browser
def test_a_real_browser_shows_no_link_from_the_data(served: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(served)
        page.locator(".st-key-login_user input").fill("sara")
        page.locator(".st-key-login_password input").fill(cf.PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
        for link, shown in (("Approvals", "evil.example/a"), ("Alert queue", None)):
            page.get_by_role("link", name=link).click()
            page.wait_for_timeout(500)
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
            if shown:
                expect(page.get_by_text(re.compile(r"evil\.example")).first).to_be_visible()
            assert page.locator("a[href*='evil']").count() == 0, link
            assert page.locator("a[href^='mailto']").count() == 0, link
        page.locator(".st-key-q_open_btn button").last.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Alert \d+$"))).to_be_visible()
        page.wait_for_timeout(1000)
        expect(page.get_by_text(re.compile(r"evil\.example")).first).to_be_visible()
        assert page.locator("a[href*='evil']").count() == 0
        assert page.locator("a[href^='mailto']").count() == 0
        browser.close()
