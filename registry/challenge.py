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


def _flat(evidence: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in evidence.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flat(value, name + ".")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append((name, f"{len(value)} records (see appendix)"))
        elif isinstance(value, list):
            out.append((name, ", ".join(map(str, value))))
        elif isinstance(value, float):
            out.append((name, f"{value:,.2f}"))
        else:
            out.append((name, "" if value is None else str(value)))
    return out


def render_markdown(session: Session, alert: AlertRow, approver: str) -> str:
    """The request as Markdown: facility, grounds, evidence, records, history, next steps."""
    now = utcnow()
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
    lines = [
        f"# Challenge-inspection request {ref}",
        "",
        f"- Alert: {alert.id} (detector {_cell(alert.detector)}, severity {alert.severity}, "
        f"score {alert.score:.0f})",
        f"- Generated: {now.isoformat(timespec='seconds')} UTC",
        f"- Proposed by: {_cell(alert.proposed_by or 'n/a')}; approved by: {_cell(approver)}",
        f"- Substance: {_cell(listed.name) + ' (CAS ' + listed.cas + ')' if listed else _cell(alert.substance_cas or 'not identified')}",
        f"- Country of the party under suspicion: {_cell(alert.country or 'n/a')}",
        "",
        "## Facility to be inspected",
        "",
    ]
    if facility is not None:
        lines += [
            f"- Name: {_cell(facility.name)}",
            f"- Declared facility id: {_cell(facility.facility_id)}",
            f"- Country: {_cell(facility.country)}",
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
            lines += [
                "",
                "Declarations on record:",
                "",
                "| substance | CAS | activity | year | declared kg/year |",
                "|---|---|---|---|---|",
            ]
            for d in decls:
                lines.append(
                    f"| {_cell(d.substance)} | {_cell(d.substance_cas or d.cas)} | "
                    f"{_cell(d.activity)} | {d.declaration_year or 'standing'} | "
                    f"{d.declared_annual_kg:,.1f} |"
                )
    else:
        lines.append(
            "- No declared facility is linked to this alert; the request names the "
            "parties in the records below."
        )
    lines += ["", "## Grounds", "", _cell(alert.summary), ""]
    if alert.proposed_note:
        lines += [f"Inspector's grounds: {_cell(alert.proposed_note)}", ""]
    evidence = dict(alert.evidence or {})
    if isinstance(evidence.get("numbers"), dict):
        # Detector evidence: the numbers first, then the thresholds in force.
        flat = _flat(evidence["numbers"])
        flat += [(f"threshold {k}", v) for k, v in _flat(evidence.get("thresholds") or {})]
        skip = {"numbers", "thresholds", "records", "detector"}
        flat += _flat({k: v for k, v in evidence.items() if k not in skip})
    else:
        flat = _flat(evidence)
    lines += ["## Evidence", ""]
    if flat:
        lines += ["| finding | value |", "|---|---|"]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in flat]
    else:
        lines.append("The detector recorded no evidence figures.")
    lines += ["", "## Records", ""]
    if ships:
        lines.append(
            "| source | shipment id | date | flow | exporter | importer | product | kg | consignment |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for s in ships:
            lines.append(
                f"| {_cell(s.source)} | {_cell(s.shipment_id)} | {s.date} | {_cell(s.flow or '')} | "
                f"{_cell(s.exporter)} ({s.exporter_country}) | {_cell(s.importer)} "
                f"({s.importer_country}) | {_cell(s.product)} | {s.quantity_kg:,.1f} | "
                f"{_cell(s.consignment_ref or '')} |"
            )
        lines.append("")
        lines.append(f"{len(ships)} records, {sum(s.quantity_kg for s in ships):,.1f} kg in all.")
    else:
        lines.append("No shipment records are attached.")
    lines += ["", "## Triage history", ""]
    if events:
        lines += ["| time (UTC) | actor | action | from | to | note |", "|---|---|---|---|---|---|"]
        for e in events:
            lines.append(
                f"| {e.created_at:%Y-%m-%d %H:%M} | {_cell(e.actor)} | {_cell(e.action)} | "
                f"{_cell(e.from_status or '')} | {_cell(e.to_status or '')} | {_cell(e.note or '')} |"
            )
    else:
        lines.append("No events recorded.")
    lines += [
        "",
        "## Requested inspection",
        "",
        "- Notice to the inspected state: no earlier than 12 hours before arrival.",
        "- Transfer of the team to the site: within 36 hours of arrival at the point of entry.",
        "- Agreement on the perimeter: within 72 hours; managed access applies.",
        "- Scope: books and records of the listed substance, stock on hand, production and "
        "shipping records for the records cited above.",
        "",
        "## Appendix: evidence as recorded",
        "",
        "```json",
        json.dumps(alert.evidence, indent=2, default=str, ensure_ascii=False),
        "```",
    ]
    return "\n".join(lines) + "\n"


def document_sha256(markdown: str) -> str:
    """The digest a request document is stored and audited with."""
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def create_challenge_request(session: Session, alert: AlertRow, approver: str) -> ChallengeRequest:
    """Generate and store the request document for an approved escalation. The caller puts
    its id and sha256 in the approval's audit event, so a rewritten document is noticed."""
    md = render_markdown(session, alert, approver)
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


def render_pdf(markdown: str) -> bytes:
    """The request document as PDF (DejaVu for full Unicode when installed, else Latin-1)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
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
            size = 8 if len(rows[0]) <= 4 else 6.5
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
    return bytes(pdf.output())
