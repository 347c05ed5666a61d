"""Tiny factories for registry rows used by the registry tests."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from registry.models import AlertRow, AlertShipment, Facility, IngestBatch, User
from registry.shipments import write_shipments
from registry.users import add_user

_seq = itertools.count(1)


def make_user(session: Session, role: str, name: str | None = None) -> User:
    """An account with password 'password-123' (an authority's state: the Netherlands)."""
    state = "NLD" if role == "authority" else None
    return add_user(session, name or f"{role}{next(_seq)}", role, "password-123", state=state)


def make_alert(session: Session, *, severity: str = "high", with_shipment: bool = True) -> AlertRow:
    """An alert in status new, optionally resting on one shipment of a declared facility."""
    n = next(_seq)
    alert = AlertRow(
        fingerprint=f"fp-{n}",
        detector="declared_quantity_exceeded",
        severity=severity,
        score=80.0,
        summary=f"Facility F{n} shipped 1,200 kg of ANPP against 1,000 kg declared.",
        evidence={"declared_kg": 1000, "shipped_kg": 1200},
        substance_cas="21409-26-7",
    )
    session.add(alert)
    session.flush()
    if with_shipment:
        batch = IngestBatch(kind="shipments", file_name="f.csv", file_hash=f"h{n}")
        fac = Facility(facility_id=f"F{n}", name=f"Acme {n}", name_norm=f"acme {n}", country="IND")
        session.add_all([batch, fac])
        session.flush()
        (ship_id,) = write_shipments(
            session.connection(),
            [
                {
                    "source": "test", "shipment_id": f"S{n}", "date": dt.date(2025, 3, 1),
                    "exporter": "Acme", "exporter_norm": "acme", "exporter_country": "IND",
                    "importer": "Beta", "importer_norm": "beta", "importer_country": "MEX",
                    "product": "ANPP", "quantity": 1200.0, "unit": "kg", "quantity_kg": 1200.0,
                    "batch_id": batch.id, "row_number": 1,
                }
            ],
        )  # fmt: skip
        alert.facility_id = fac.facility_id
        session.add(AlertShipment(alert_id=alert.id, shipment_pk=ship_id))
        session.flush()
    return alert
