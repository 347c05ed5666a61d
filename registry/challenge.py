"""Challenge-inspection requests: the document generated when an escalation is approved,
as Markdown (stored, hashed) and as PDF (rendered from that Markdown on demand)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import (
    AlertRow,
    AlertShipment,
    ChallengeRequest,
    Declaration,
    Facility,
    Shipment,
    SubstanceRow,
    TriageEvent,
    utcnow,
)

__all__ = ["create_challenge_request", "document_sha256", "render_markdown", "render_pdf"]

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)


def _cell(value: Any) -> str:
    """A table cell: data text made inert (no pipes, newlines or Markdown markup)."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    for ch in "\\|*_`[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text


def _rounded(value: Any) -> Any:
    """Evidence for the appendix: floats to at most 4 decimals, structure kept."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _evidence_lines(session: Session, alert: AlertRow) -> list[str]:
    """The evidence in words and units (the detector catalogue), then the thresholds."""
    import dataclasses

    from detection.catalogue import explain_evidence
    from detection.run import configs
    from registry.queries import substance_names

    cfg = configs().get(alert.detector)
    meanings = (
        {f.name: f.metadata.get("description", "") for f in dataclasses.fields(cfg)} if cfg else {}
    )
    parts = explain_evidence(
        alert.detector, dict(alert.evidence or {}), substance_names(session), meanings
    )
    lines = ["## Evidence", ""]
    found = parts["numbers"] + parts["outlier"]
    if found:
        lines += _table(
            ["finding", "value", "meaning"], [[e.label, e.value, e.meaning] for e in found]
        )
    else:
        lines.append("The detector recorded no evidence figures.")
    if parts["thresholds"]:
        lines += ["", "Thresholds in force when the alert was raised:", ""]
        lines += _table(
            ["threshold", "value", "meaning"],
            [[e.label, e.value, e.meaning] for e in parts["thresholds"]],
        )
    return lines


def _consignment_lines(session: Session, ships: list[Shipment]) -> list[str]:
    """The consignments, each counted once (export record, import record as its check), then
    the records as each authority reported them."""
    from detection.catalogue import flow_word
    from registry.consignments import consignment_frame, totals
    from registry.queries import SHIPMENT_COLUMNS
    from registry.words import country_name

    lines = ["## Consignments", ""]
    if not ships:
        return [*lines, "No shipment records are attached."]
    records = [{c: getattr(s, c) for c in SHIPMENT_COLUMNS} for s in ships]
    cons = consignment_frame(session, records)
    lines += _table(
        ["date", "exporter", "importer", "product", "quantity (counted)", "import record says", "records held"],
        [
            [
                r["date"],
                f"{r['exporter']} ({country_name(r['exporter_country'])})",
                f"{r['importer']} ({country_name(r['importer_country'])})",
                r["product"] or "",
                f"{r['quantity_kg']:,.1f} kg",
                f"{r['import_kg']:,.1f} kg" if r["import_kg"] is not None else "",
                r["sides"],
            ]
            for r in cons.iter_rows(named=True)
        ],
    )  # fmt: skip
    lines += ["", totals(cons).sentence(), "", "## Records as the authorities reported them", ""]
    lines += _table(
        ["source", "shipment id", "record", "date", "quantity", "consignment ref"],
        [
            [s.source, s.shipment_id, flow_word(s.flow), s.date, f"{s.quantity_kg:,.1f} kg", s.consignment_ref or ""]
            for s in ships
        ],
    )  # fmt: skip
    return lines


def _facility_lines(session: Session, facility: Facility | None) -> list[str]:
    from registry.words import country_name

    if facility is None:
        return [
            "- No declared facility is linked to this alert; the request names the "
            "parties in the records below."
        ]
    lines = [
        f"- Name: {_cell(facility.name)}",
        f"- Declared facility id: {_cell(facility.facility_id)}",
        f"- Country: {_cell(country_name(facility.country))}",
        f"- Address: {_cell(facility.address or 'not declared')}",
    ]
    if facility.lat is not None and facility.lon is not None:
        lines.append(f"- Coordinates: {facility.lat:.4f}, {facility.lon:.4f}")
    decls = list(
        session.scalars(
            select(Declaration)
            .where(Declaration.facility_id == facility.facility_id)
            .order_by(Declaration.substance, Declaration.declaration_year)
        )
    )
    if decls:
        lines += ["", "Declarations on record:", ""]
        lines += _table(
            ["substance", "CAS", "activity", "year", "declared per year"],
            [
                [d.substance, d.substance_cas or d.cas or "", d.activity, d.declaration_year or "every year", f"{d.declared_annual_kg:,.0f} kg"]
                for d in decls
            ],
        )  # fmt: skip
    return lines


def render_markdown(
    session: Session, alert: AlertRow, approver: str, approval_note: str | None = None
) -> str:
    """The request as Markdown for people to read: facility, grounds, evidence in words and
    units, consignments counted once, records, history, next steps; the machine-readable
    evidence in an appendix. The document's sha256 is printed on its PDF and in the console."""
    from detection.catalogue import detector_label
    from registry.access import classification_of
    from registry.clarification_docs import classification_line
    from registry.words import action_word, country_name, reason_word, status_word

    now = utcnow()
    level = classification_of(session, "alert", alert.id) or "protected"
    facility = session.get(Facility, alert.facility_id) if alert.facility_id else None
    listed = session.get(SubstanceRow, alert.substance_cas) if alert.substance_cas else None
    ships = list(
        session.scalars(
            select(Shipment)
            .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
            .where(AlertShipment.alert_id == alert.id)
            .order_by(Shipment.date, Shipment.id)
        )
    )
    events = list(
        session.scalars(
            select(TriageEvent).where(TriageEvent.alert_id == alert.id).order_by(TriageEvent.id)
        )
    )
    ref = f"CIR-{now:%Y}-{alert.id:06d}"
    substance = (
        f"{_cell(listed.name)} (CAS {listed.cas})"
        if listed
        else _cell(alert.substance_cas or "not identified")
    )
    lines = [
        classification_line(level),
        "",
        f"# Challenge-inspection request {ref}",
        "",
        f"- Alert {alert.id}: {_cell(detector_label(alert.detector))}, severity {alert.severity}, "
        f"score {alert.score:.0f} of 100",
        f"- Generated: {now:%Y-%m-%d %H:%M} UTC",
        f"- Proposed by: {_cell(alert.proposed_by or 'not recorded')}",
        f"- Approved by: {_cell(approver)}"
        + (f", with the note: {_cell(approval_note)}" if approval_note else ""),
        f"- Substance: {substance}",
        f"- Country of the party under suspicion: {_cell(country_name(alert.country) or 'not known')}",
        "",
        "## Facility to be inspected",
        "",
    ]
    lines += _facility_lines(session, facility)
    lines += ["", "## Grounds", "", _cell(alert.summary), ""]
    if alert.proposed_note:
        lines += [f"Inspector's grounds: {_cell(alert.proposed_note)}", ""]
    lines += _evidence_lines(session, alert)
    lines += ["", *_consignment_lines(session, ships)]
    lines += _clarification_lines(session, alert.id)
    lines += ["", "## Triage history", ""]
    if events:
        lines += _table(
            ["time (UTC)", "who", "did", "from", "to", "reason", "note"],
            [
                [f"{e.created_at:%Y-%m-%d %H:%M}", e.actor, action_word(e.action), status_word(e.from_status), status_word(e.to_status), reason_word(e.reason_code), e.note or ""]
                for e in events
            ],
        )  # fmt: skip
    else:
        lines.append("No events recorded.")
    lines += [*_closing_lines(alert), "", classification_line(level)]
    return "\n".join(lines) + "\n"


def _closing_lines(alert: AlertRow) -> list[str]:
    """What the inspection asks for, then the evidence as the detector recorded it."""
    return [
        "",
        "## Requested inspection",
        "",
        "- Notice to the inspected state: no earlier than 12 hours before arrival.",
        "- Transfer of the team to the site: within 36 hours of arrival at the point of entry.",
        "- Agreement on the perimeter: within 72 hours; managed access applies.",
        "- Scope: books and records of the listed substance, stock on hand, production and "
        "shipping records for the records cited above.",
        "",
        "## Appendix: the evidence as the detector recorded it",
        "",
        "```json",
        json.dumps(_rounded(alert.evidence), indent=2, default=str, ensure_ascii=False),
        "```",
    ]


def _clarification_lines(session: Session, alert_id: int) -> list[str]:
    """The requests for clarification sent about the alert, with the answers on record."""
    from registry.models_states import ClarificationRequest
    from registry.words import country_name

    reqs = session.scalars(
        select(ClarificationRequest)
        .where(
            ClarificationRequest.alert_id == alert_id,
            ClarificationRequest.status.notin_(("pending_approval", "rejected")),
        )
        .order_by(ClarificationRequest.id)
    ).all()
    if not reqs:
        return []
    lines = ["", "## Requests for clarification", ""]
    for r in reqs:
        lines.append(
            f"- Request {r.id} to {_cell(country_name(r.state))}, sent "
            f"{r.decided_at:%Y-%m-%d}"
            + (f", due {r.deadline_at:%Y-%m-%d}" if r.deadline_at else "")
        )
        lines.append(f"  - Questions: {_cell(r.questions)}")
        lines.append(
            f"  - Answer ({r.answered_at:%Y-%m-%d}, {_cell(r.answered_by)}): {_cell(r.answer)}"
            if r.answer is not None
            else "  - No answer by the deadline"
        )
    return lines


def document_sha256(markdown: str) -> str:
    """The digest a request document is stored and audited with."""
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def create_challenge_request(
    session: Session, alert: AlertRow, approver: str, approval_note: str | None = None
) -> ChallengeRequest:
    """Generate and store the request document for an approved escalation, with the
    approver's note. The caller puts its id and sha256 in the approval's audit event, so a
    rewritten document is noticed."""
    md = render_markdown(session, alert, approver, approval_note)
    req = ChallengeRequest(
        alert_id=alert.id,
        facility_id=alert.facility_id,
        created_by=approver,
        markdown=md,
        sha256=document_sha256(md),
    )
    session.add(req)
    session.flush()  # the id goes into the audit event
    return req


# --- PDF -------------------------------------------------------------------------------


def _font_files() -> dict[str, Path] | None:
    for folder in _FONT_DIRS:
        files = {
            "": folder / "DejaVuSans.ttf",
            "B": folder / "DejaVuSans-Bold.ttf",
            "mono": folder / "DejaVuSansMono.ttf",
        }
        if all(p.is_file() for p in files.values()):
            return files
    return None


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _split_row(line: str) -> list[str]:
    cells, cur, i = [], [], 0
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cur.append(body[i : i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append(_unescape("".join(cur)).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append(_unescape("".join(cur)).strip())
    return cells


# A table row cannot break across pages: a long cell is cut here (the Markdown keeps it all).
_PDF_CELL_CHARS = 300


def _pdf_cell(text: str) -> str:
    if len(text) <= _PDF_CELL_CHARS:
        return text
    return f"{text[:_PDF_CELL_CHARS]}... ({len(text):,} characters; in full in the Markdown)"


def _classification_of(markdown: str) -> str | None:
    first = markdown.split("\n", 1)[0]
    prefix = "Classification: "
    return (
        first[len(prefix) :].strip().lower().replace(" ", "_") if first.startswith(prefix) else None
    )


def _classified_pdf(mark: str | None) -> Any:
    """An A4 FPDF that prints the classification at the top and bottom of every page."""
    from fpdf import FPDF

    class _Classified(FPDF):
        def header(self) -> None:  # every page, before its content
            if mark:
                self.set_font("Helvetica", "B", 9)
                self.cell(0, 6, f"Classification: {mark}", align="C")
                self.ln(8)

        def footer(self) -> None:
            if mark:
                self.set_y(-12)
                self.set_font("Helvetica", "B", 8)
                self.cell(0, 6, f"Classification: {mark} - page {self.page_no()}", align="C")

    return _Classified(format="A4")


def render_pdf(markdown: str, classification: str | None = None) -> bytes:
    """A document as PDF (DejaVu for full Unicode when installed, else Latin-1), with its
    classification (given, else the document's first line) at the top of every page."""
    from fpdf.enums import XPos, YPos

    level = classification or _classification_of(markdown)
    pdf = _classified_pdf(level.replace("_", " ").upper() if level else None)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title("Challenge-inspection request")
    fonts = _font_files()
    if fonts is not None:
        pdf.add_font("body", "", str(fonts[""]))
        pdf.add_font("body", "B", str(fonts["B"]))
        pdf.add_font("mono", "", str(fonts["mono"]))
        body, mono = "body", "mono"

        def clean(t: str) -> str:
            return t
    else:
        body, mono = "Helvetica", "Courier"

        def clean(t: str) -> str:
            t = t.replace("—", "-").replace("→", "->").replace("…", "...")
            return t.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, size: float = 10, style: str = "", font: str | None = None) -> None:
        pdf.set_font(font or body, style, size)
        pdf.multi_cell(width, size * 0.5, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            para("\n".join(block), size=7, font=mono)
        elif line.startswith("# "):
            para(_unescape(line[2:]), size=15, style="B")
            pdf.ln(2)
        elif line.startswith("## "):
            pdf.ln(2)
            para(_unescape(line[3:]), size=12, style="B")
            pdf.ln(1)
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i].replace("|", "").strip()) <= {"-", ":", " "}:
                    rows.append([clean(_pdf_cell(c)) for c in _split_row(lines[i])])
                i += 1
            i -= 1
            size = 9.0 if len(rows[0]) <= 3 else 8.0 if len(rows[0]) <= 5 else 7.0
            pdf.set_font(body, "", size)
            with pdf.table(
                width=width, line_height=size * 0.5, text_align="LEFT", first_row_as_headings=True
            ) as table:
                for r in rows:
                    row = table.row()
                    for c in r:
                        row.cell(c)
            pdf.ln(2)
        elif line.startswith("- "):
            para("• " + _unescape(line[2:]) if fonts else "- " + _unescape(line[2:]))
        elif line.strip():
            para(_unescape(line))
        else:
            pdf.ln(2)
        i += 1
    # The document's fingerprint, as the console and the audit trail give it.
    pdf.ln(4)
    digest = hashlib.sha256(markdown.encode("utf-8")).hexdigest()
    para(f"Document sha256 (of its Markdown text): {digest}", size=8, font=mono)
    return bytes(pdf.output())
