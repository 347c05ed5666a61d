"""Load, then detect: a stable source name, the whole file checked (counts, not a box per
row), a warning when the ids are already loaded under another source, the rows as stored,
and detection run from the page."""

from __future__ import annotations

import console_factories as cf
from sqlalchemy import func, select

from registry.db import session_scope
from registry.models import ShipmentRecord

HEADER = "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit,flow\n"


def _feed(n: int) -> bytes:
    """n export records; dates day-first, ambiguous (02/03/2026) until the last row proves the
    order (25/03/2026): a look at the first rows alone would call them ambiguous."""
    rows = [
        f"S-{i},0{1 + i % 9}/03/2026,Acme Fine Chemicals Ltd,NL,Blue Harbour Trading,MX,"
        f"N-phenethyl-4-piperidone,0.{i + 1},t,export\n"
        for i in range(n - 1)
    ]
    rows.append(
        f"S-{n - 1},25/03/2026,Acme Fine Chemicals Ltd,NL,Blue Harbour Trading,MX,NPP,40,kg,X\n"
    )
    return (HEADER + "".join(rows)).encode()


def _upload(at, name: str, data: bytes, source: str | None = None, pick: str | None = None):  # type: ignore[no-untyped-def]
    at.file_uploader[0].upload(name, data, "text/csv")
    at.run()
    if pick:
        at.selectbox(key="ld_source_pick").set_value(pick).run()
    elif source:
        at.text_input(key="ld_source_new").input(source).run()
    assert not at.exception, at.exception
    return at


def test_load_check_overlap_and_detect(console_db) -> None:  # type: ignore[no-untyped-def]
    engine, _ = console_db
    at = cf.login("ana")
    at.switch_page("views/load_data.py").run()
    _upload(at, "nld-march.csv", _feed(25), source="NL-customs")
    at.button(key="ld_preview").click().run()
    msgs = cf.messages(at)
    assert "Whole file checked: 25 rows: 25 would load, 0 would be quarantined." in msgs, msgs
    assert not any("ambiguous" in m for m in msgs), msgs
    # before loading, the first rows as they will be stored: tonnes in kg, dates read day-first
    before = next(d.value for d in at.dataframe if "in kg" in d.value.columns)
    assert list(before["in kg"])[:2] == ["100 kg", "200 kg"], before
    assert list(before["date"])[:2] == ["2026-03-01", "2026-03-02"], before
    assert set(before["record"]) == {"export record"}
    at.button(key="ld_load").click().run()
    assert any("25 loaded, 0 duplicate" in m for m in cf.messages(at)), cf.messages(at)
    # the load's last rows as stored: tonnes in kg, ISO dates, countries by name
    stored = at.dataframe[0].value
    assert (
        list(stored["in kg"])[:2] == ["160 kg", "170 kg"] and list(stored["in kg"])[-1] == "40.0 kg"
    )
    assert list(stored["date"])[:2] == ["2026-03-07", "2026-03-08"]  # 07/03, 08/03 read day-first
    assert set(stored["exporter"]) == {"Acme Fine Chemicals Ltd (Netherlands)"}

    # the updated feed (two more records) under a new source name: warned before loading
    _upload(at, "nld-march-v2.csv", _feed(27), source="nld")
    at.button(key="ld_preview").click().run()
    assert any(
        "already loaded from source 'NL-customs'" in m and m.startswith("25 of")
        for m in cf.messages(at)
    ), cf.messages(at)
    # ... so the analyst picks the feed's source: only the new records load
    at.selectbox(key="ld_source_pick").set_value("NL-customs").run()
    at.button(key="ld_load").click().run()
    assert any("2 loaded, 25 duplicate" in m for m in cf.messages(at)), cf.messages(at)
    with session_scope(engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ShipmentRecord)
                .where(ShipmentRecord.source == "NL-customs")
            )
            == 27
        )

    at.button(key="ld_detect").click().run()
    assert not at.exception, at.exception
    assert any(m.startswith("Detection finished") and "new alerts" in m for m in cf.messages(at)), (
        cf.messages(at)
    )
