"""Challenge-inspection requests: the document generated when an escalation is approved."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AlertRow, AlertShipment, ChallengeRequest, Facility, Shipment, utcnow

__all__ = ["create_challenge_request", "render_markdown"]


def render_markdown(session: Session, alert: AlertRow, approver: str) -> str:
    """The request as Markdown: facility, grounds, evidence, records."""
    facility = session.get(Facility, alert.facility_id) if alert.facility_id else None
    ships = list(
        session.scalars(
            select(Shipment)
            .join(AlertShipment, AlertShipment.shipment_pk == Shipment.id)
            .where(AlertShipment.alert_id == alert.id)
            .order_by(Shipment.date)
        )
    )
    lines = [
        f"# Challenge-inspection request — alert {alert.id}",
        "",
        f"- Generated: {utcnow().isoformat(timespec='seconds')} UTC",
        f"- Approved by: {approver}; proposed by: {alert.proposed_by or 'n/a'}",
        f"- Detector: {alert.detector}; severity {alert.severity}; score {alert.score:.0f}",
        "",
        "## Facility",
    ]
    if facility is not None:
        lines += [
            f"- {facility.name} ({facility.facility_id}), {facility.country}",
            f"- Address: {facility.address or 'not declared'}",
        ]
    else:
        lines.append("- No declared facility is linked to this alert.")
    lines += ["", "## Grounds", "", alert.summary, ""]
    if alert.proposed_note:
        lines += [f"Inspector's grounds: {alert.proposed_note}", ""]
    lines += [
        "## Evidence",
        "",
        "```json",
        json.dumps(alert.evidence, indent=2, default=str),
        "```",
    ]
    lines += ["", "## Records", ""]
    if ships:
        lines.append("| source | shipment id | date | exporter | importer | product | kg |")
        lines.append("|---|---|---|---|---|---|---|")
        for s in ships:
            cells = [s.source, s.shipment_id, str(s.date), s.exporter, s.importer, s.product]
            cells = [c.replace("|", "\\|") for c in cells]
            lines.append("| " + " | ".join(cells) + f" | {s.quantity_kg:,.1f} |")
    else:
        lines.append("No shipment records are attached.")
    return "\n".join(lines) + "\n"


def create_challenge_request(session: Session, alert: AlertRow, approver: str) -> ChallengeRequest:
    """Generate and store the request document for an approved escalation."""
    md = render_markdown(session, alert, approver)
    req = ChallengeRequest(
        alert_id=alert.id,
        facility_id=alert.facility_id,
        created_by=approver,
        markdown=md,
        sha256=hashlib.sha256(md.encode("utf-8")).hexdigest(),
    )
    session.add(req)
    return req
