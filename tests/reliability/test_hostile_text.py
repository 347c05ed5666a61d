"""Hostile names and free text (HTML/JS, Markdown, SQL, spreadsheet formulas, path separators,
1 MB strings, NUL): stored verbatim, neutralised in CSV exports and the challenge request,
inert in the console; uploads stay in their folder.

Documented behaviour for the two values no text column can take as they are, the same on
SQLite and PostgreSQL: a field longer than 65,536 characters, or holding a NUL character
(PostgreSQL text cannot), quarantines its row with a reason naming the field. (A CSV with a NUL
byte in its first 64 KB is refused as a whole as binary.)"""

from __future__ import annotations

import csv
import io
import re
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from reliability_helpers import dispose_cached

from ingest import load_file
from registry.db import session_scope
from registry.models import AlertRow, AlertShipment, Facility, Shipment

pytestmark = pytest.mark.reliability

HOSTILE = {
    "html": '<script>alert("pw")</script><img src=x onerror=alert(1)>',
    "markdown": "**bold** _it_ [click](http://evil.example) ![i](http://evil.example/p.png) # H",
    "sql": "Robert'); DROP TABLE shipments;--",
    "formula": '=HYPERLINK("http://evil.example","ok")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "paths": "../../etc/passwd and C:\\Windows\\system32 and /tmp/x",
    "pipes": "A | B || C \\ `code` <b>",
    "unicode": "Пример 化学品 ‮reversed‬ \u200bzero-width",
    "long": "L" * 60_000,  # under the 65,536 limit: kept whole
}
MEGA = "M" * 1_000_000
NUL = "Acme\x00Chemicals"
SHIP_HEADER = [
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "cas", "flow", "consignment_ref",
]  # fmt: skip
FAC_HEADER = ["facility_id", "name", "country", "activity", "substance", "cas",
              "declared_annual_kg", "address"]  # fmt: skip


def _ship(i: int, value: str, **over: str) -> dict[str, str]:
    row = {
        "shipment_id": f"H{i}-{value[:40]}", "date": "2024-03-01", "exporter": value,
        "exporter_country": "IND", "importer": f"Importer {value}", "importer_country": "MEX",
        "product": f"4-ANPP {value}", "quantity": "10", "unit": "kg", "cas": "21409-26-7",
        "flow": "X", "consignment_ref": value[:150],
    }  # fmt: skip
    row.update(over)
    return row


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r[h] for h in header])
    return path


@pytest.fixture
def hostile_registry(engine: Engine, tmp_path: Path) -> Engine:
    """The registry (both backends) with hostile facilities and shipments loaded by ingest."""
    return _load_hostile(engine, tmp_path)


def _load_hostile(engine: Engine, tmp_path: Path) -> Engine:
    facs = [
        {"facility_id": f"FH{i}", "name": v, "country": "IND", "activity": "trade",
         "substance": "4-ANPP", "cas": "21409-26-7", "declared_annual_kg": "100", "address": v}
        for i, v in enumerate(HOSTILE.values())
    ]  # fmt: skip
    rep = load_file(engine, _write(tmp_path / "fac.csv", FAC_HEADER, facs), "facilities")
    assert rep.rows_loaded == len(facs), rep.top_reasons
    ships = [_ship(i, v) for i, v in enumerate(HOSTILE.values())]
    # The "long" row puts the NUL row beyond the first 64 KB (a NUL there makes the whole
    # file look binary).
    ships += [_ship(100 + i, f"filler {i}") for i in range(50)]
    ships += [_ship(900, "mega", product=MEGA), _ship(901, "nul", exporter=NUL)]
    # A file name a spreadsheet would run: must be neutralised where it is exported.
    path = _write(tmp_path / "=HYPERLINK(1).csv", SHIP_HEADER, ships)
    rep = load_file(engine, path, "shipments", source="hostile")
    assert rep.rows_quarantined == 2 and rep.rows_loaded == len(ships) - 2, rep.top_reasons
    return engine


def test_hostile_text_is_stored_verbatim(hostile_registry: Engine) -> None:
    with session_scope(hostile_registry) as s:
        for i, value in enumerate(HOSTILE.values()):
            fac = s.get(Facility, f"FH{i}")
            assert fac is not None and fac.name == value and fac.address == value
            ship = s.scalars(select(Shipment).where(Shipment.shipment_id == f"H{i}-{value[:40]}"))
            row = ship.one()
            assert (row.exporter, row.importer, row.product, row.consignment_ref) == (
                value,
                f"Importer {value}",
                f"4-ANPP {value}",
                value[:150],
            )
    with hostile_registry.connect() as conn:
        reasons = sorted(
            str(r) for (r,) in conn.execute(text("SELECT reasons FROM quarantined_rows"))
        )
    assert "contains a NUL character" in reasons[0] and "exporter" in reasons[0]
    assert "1000000 characters long" in reasons[1] and "product" in reasons[1]


def _hostile_alert(engine: Engine) -> int:
    """An alert on the hostile records, with hostile summary, note and evidence."""
    with session_scope(engine) as s:
        ships = s.scalars(select(Shipment).where(Shipment.shipment_id.like("H%-%"))).all()
        hostile = [x for x in ships if not x.exporter.startswith("filler")]
        alert = AlertRow(
            fingerprint=uuid.uuid4().hex, detector="declared_quantity_exceeded",
            severity="high", score=90.0, summary=HOSTILE["formula"], facility_id="FH3",
            substance_cas="21409-26-7", country="IND", proposed_by=HOSTILE["html"],
            proposed_note=HOSTILE["markdown"] + "\n# Injected heading\n```\nfenced",
            evidence={"numbers": {"note": HOSTILE["pipes"], "x": "```\n# H"},
                      "records": [{"exporter": HOSTILE["html"]}]},
        )  # fmt: skip
        s.add(alert)
        s.flush()
        for x in hostile:
            s.add(AlertShipment(alert_id=alert.id, shipment_pk=x.id))
        return alert.id


_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _assert_formula_safe(output: str) -> int:
    cells = [c for row in csv.reader(io.StringIO(output)) for c in row]
    for c in cells:
        if _FORMULA.match(c):
            float(c)  # only a plain number may start with + or -
    return len(cells)


def test_csv_exports_neutralise_formulas(hostile_registry: Engine, db_url: str) -> None:
    from ui.cli import app

    _hostile_alert(hostile_registry)
    runner = CliRunner()
    try:
        alerts = runner.invoke(app, ["--db", db_url, "alerts", "--format", "csv"])
        assert alerts.exit_code == 0, alerts.output
        assert "'=HYPERLINK" in alerts.stdout
        quarantine = runner.invoke(app, ["--db", db_url, "quarantine", "--format", "csv"])
        assert quarantine.exit_code == 0, quarantine.output
        assert "'=HYPERLINK(1).csv" in quarantine.stdout
    finally:
        dispose_cached(db_url)
    assert _assert_formula_safe(alerts.stdout) > 10
    assert _assert_formula_safe(quarantine.stdout) > 5


def test_challenge_request_markdown_and_pdf_are_inert(hostile_registry: Engine) -> None:
    from registry.challenge import render_markdown, render_pdf

    alert_id = _hostile_alert(hostile_registry)
    with session_scope(hostile_registry) as s:
        md = render_markdown(s, s.get(AlertRow, alert_id), "supervisor<b>")
    body = md.split("## Appendix")[0]  # the appendix is a fenced JSON block (inert by fence)
    assert not re.search(r"(?<!\\)<", body), "unescaped < in the Markdown"
    assert "](http" not in body.replace("\\](http", "")  # no live link or image
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert not any("Injected" in h for h in headings)
    fences = [line for line in md.splitlines() if line.startswith("```")]
    assert fences == ["```json", "```"]
    # Data pipes are escaped: every row of a table has its header's column count.
    tables: list[list[int]] = []
    previous = ""
    for line in body.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(len(re.findall(r"(?<!\\)\|", line)))
        previous = line
    assert len(tables) >= 3 and all(len(set(t)) == 1 for t in tables), tables
    pdf = render_pdf(md)
    assert pdf.startswith(b"%PDF")


def test_console_renders_no_data_as_html() -> None:
    """No page passes data through unsafe_allow_html, st.html or components.html."""
    ui = Path(__file__).resolve().parents[2] / "ui"
    offenders = []
    for path in ui.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in ("unsafe_allow_html=True", "st.html(", "components.html(", ".v1.html("):
            if pattern in source:
                offenders.append(f"{path.relative_to(ui.parent)}: {pattern}")
    assert not offenders


_TRAVERSAL = [
    "../../x.csv", "..\\..\\x.csv", "/etc/passwd", "C:\\Windows\\x.csv", "x.csv\x00.png",
    "\x00", "", ".", "..", "....//....//x", "~/.bashrc", "a/../../b.csv", "%2e%2e%2fx.csv",
    "\u202e.csv", "con", "x" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("name", _TRAVERSAL)
def test_upload_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    from ui.uploads import save_upload

    folder = tmp_path / "uploads"
    saved = save_upload(folder, name, b"a,b\n1,2\n")
    assert saved.parent == folder.resolve() and saved.read_bytes() == b"a,b\n1,2\n"
    assert not saved.name.startswith(".") and "\x00" not in saved.name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved.name]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(name=st.text(max_size=300))
def test_any_upload_name_stays_in_the_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    from ui.uploads import save_upload

    folder = tmp_path_factory.mktemp("up")
    saved = save_upload(folder, name, b"x")
    assert saved.parent == folder.resolve()


_LIVE_MARKUP = [
    re.compile(r"(?<!\\)<\s*(script|img|b)\b", re.I),  # an HTML tag Markdown would pass on
    re.compile(r"(?<!\\)\]\((?:http|javascript)", re.I),  # a live link or image
    re.compile(r"(?<![\\*])\*\*bold(?<!\\)\*\*"),  # Markdown emphasis from the data
]


def _markdown_texts(at: object) -> list[str]:
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "info",
                 "warning", "error"):  # fmt: skip
        out += [str(e.value) for e in getattr(at, kind)]
    return out


@pytest.mark.slow
def test_console_pages_show_hostile_data_as_text(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queue, detail and facility pages with the hostile records loaded through ingest."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
    import console_factories as cf

    cf.standard_users(sqlite_engine)
    _load_hostile(sqlite_engine, tmp_path)
    alert_id = _hostile_alert(sqlite_engine)
    monkeypatch.setenv("PWATCH_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))

    at = cf.login("ines")
    at.switch_page("views/queue.py").run()
    assert not at.exception, at.exception
    pages = {"queue": _markdown_texts(at)}
    at = cf.open_detail(at, alert_id)
    pages["detail"] = _markdown_texts(at)
    at.switch_page("views/facilities.py").run()
    at.text_input(key="f_search").input("FH0").run()
    assert not at.exception, at.exception
    pages["facility"] = _markdown_texts(at)
    # The hostile text is on the pages, as text.
    assert any("HYPERLINK" in t for t in pages["detail"]), pages["detail"]
    assert any("script" in t for t in pages["facility"]), pages["facility"]
    for page, texts in pages.items():
        for t in texts:
            for pattern in _LIVE_MARKUP:
                assert not pattern.search(t), f"{page}: live markup in {t[:200]!r}"
