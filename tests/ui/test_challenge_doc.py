"""The challenge-inspection request: Markdown content and PDF rendering (Unicode and Latin-1)."""

from __future__ import annotations

import console_factories as cf
import pytest

from registry import challenge
from registry.db import session_scope
from registry.models import AlertRow


@pytest.fixture
def escalated(sqlite_engine):  # type: ignore[no-untyped-def]
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine, name="Acme | Ltd — 化学")
    pks = cf.make_shipments(sqlite_engine, 3, importer="Buyer *bold* [x](http://e)")
    a = cf.make_alert(sqlite_engine, shipment_pks=pks)
    with session_scope(sqlite_engine) as s:
        row = s.get(AlertRow, a)
        assert row is not None
        row.proposed_by = "ines"
        row.proposed_note = "Over the declaration → inspect."
    return sqlite_engine, a


def test_markdown_lists_facility_grounds_evidence_records_history(escalated) -> None:  # type: ignore[no-untyped-def]
    engine, a = escalated
    with session_scope(engine) as s:
        md = challenge.render_markdown(s, s.get(AlertRow, a), "sara")  # type: ignore[arg-type]
    for part in (
        "# Challenge-inspection request CIR-",
        "## Facility to be inspected",
        "Acme \\| Ltd — 化学",
        "## Grounds",
        "Over the declaration → inspect.",
        "## Evidence",
        "| Shipped in the year | 123 kg | Each consignment counted once. |",
        "| Declared for the year | 100 kg | The facility's declared annual quantity. |",
        "| Shipped against declared | 123% |",
        "## Consignments",
        "3 consignments (3 records), 123 kg, each counted once.",
        "- Approved by: sara",
        "## Triage history",
        "## Requested inspection",
        "Declarations on record",
    ):
        assert part in md, part
    # data cannot inject Markdown links or emphasis
    assert "[x](http" not in md and "\\*bold\\*" in md
    # the body is words: no snake_case keys before the machine-readable appendix
    body = md.split("## Appendix")[0]
    assert "shipped_kg" not in body and "ratio_annual" not in body and "{" not in body


def test_request_counts_each_consignment_once(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """A consignment's export and import records are one consignment (hand-computed case)."""
    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine)
    a = cf.make_alert(sqlite_engine, shipment_pks=cf.mirror_case(sqlite_engine))
    with session_scope(sqlite_engine) as s:
        md = challenge.render_markdown(s, s.get(AlertRow, a), "sara")  # type: ignore[arg-type]
    assert cf.MIRROR_CASE_SENTENCE in md
    assert "6,350" not in md  # the four records added up
    assert "| export record |" in md and "| import record |" in md


@pytest.mark.parametrize("unicode_font", [True, False])
def test_pdf_renders_with_and_without_unicode_font(escalated, monkeypatch, unicode_font) -> None:  # type: ignore[no-untyped-def]
    engine, a = escalated
    if not unicode_font:
        monkeypatch.setattr(challenge, "_font_files", lambda: None)
    elif challenge._font_files() is None:
        pytest.skip("no DejaVu font on this machine")
    with session_scope(engine) as s:
        md = challenge.render_markdown(s, s.get(AlertRow, a), "sara")  # type: ignore[arg-type]
    pdf = challenge.render_pdf(md)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_create_challenge_request_stores_hash(escalated) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    engine, a = escalated
    with session_scope(engine) as s:
        req = challenge.create_challenge_request(s, s.get(AlertRow, a), "sara")  # type: ignore[arg-type]
        s.flush()
        assert req.sha256 == hashlib.sha256(req.markdown.encode()).hexdigest()


def test_approval_note_and_approver_are_in_the_document(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """The supervisor's approval note reaches the request document with their name."""
    from registry.models import ChallengeRequest, User
    from registry.service import Action, act

    cf.standard_users(sqlite_engine)
    cf.make_facility(sqlite_engine)
    a = cf.make_alert(
        sqlite_engine, shipment_pks=cf.make_shipments(sqlite_engine, 2), status="pending_escalation"
    )
    with session_scope(sqlite_engine) as s:
        row = s.get(AlertRow, a)
        assert row is not None
        row.proposed_by, row.proposed_note = "ines", "Shipped twice the declaration."
        sara = s.query(User).filter_by(username="sara").one()
        act(s, a, sara, Action("approve", note="Inspect the warehouse first."),
            expected_version=row.version)  # fmt: skip
    with session_scope(sqlite_engine) as s:
        md = s.query(ChallengeRequest).filter_by(alert_id=a).one().markdown
    assert "Inspect the warehouse first." in md
    assert "- Approved by: sara" in md


def test_every_pdf_page_carries_the_classification() -> None:
    """A document over several pages: the classification heads and foots each one (read
    back from the PDF's page streams; the mark is drawn in a core font, as plain text)."""
    import re
    import zlib

    from registry.clarification_docs import classification_line

    body = "\n".join(f"- line {i} of a long appendix" for i in range(400))
    md = f"{classification_line('highly_protected')}\n\n# A long request\n\n{body}\n"
    pdf = challenge.render_pdf(md)
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 3
    texts = []
    for m in re.finditer(rb"stream\r?\n", pdf):
        try:
            texts.append(zlib.decompressobj().decompress(pdf[m.end() : m.end() + 200_000]))
        except zlib.error:
            continue  # not a compressed stream
    marked = [t for t in texts if b"Classification: HIGHLY PROTECTED" in t]
    assert len(marked) == pages
    assert all(t.count(b"Classification: HIGHLY PROTECTED") == 2 for t in marked)  # head, foot
