"""Canonical fields of each feed kind: which are required, and their length limits."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "FieldSpec", "fields_of", "required_of"]

KINDS = ("facilities", "shipments")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    required: bool
    max_len: int | None = None  # database column length; longer values quarantine the row


_SHIPMENTS = (
    FieldSpec("shipment_id", True, 200),
    FieldSpec("date", True),
    FieldSpec("exporter", True),
    FieldSpec("exporter_country", True),
    FieldSpec("importer", True),
    FieldSpec("importer_country", True),
    FieldSpec("product", True),
    FieldSpec("quantity", True),
    FieldSpec("unit", True),  # optional when options.default_unit is set
    FieldSpec("cas", False, 64),
    FieldSpec("hs_code", False, 32),
    FieldSpec("flow", False),
    FieldSpec("consignment_ref", False, 200),
    FieldSpec("transit_countries", False),
    FieldSpec("source", False, 200),  # per-row reporting authority, when a feed carries one
)

_FACILITIES = (
    FieldSpec("facility_id", True, 100),
    FieldSpec("name", True),
    FieldSpec("country", True),
    FieldSpec("activity", True),
    FieldSpec("substance", True),
    FieldSpec("cas", False, 32),
    FieldSpec("declared_annual_kg", True),
    FieldSpec("address", False),
    FieldSpec("declaration_year", False),
    FieldSpec("lat", False),
    FieldSpec("lon", False),
)


def fields_of(kind: str) -> tuple[FieldSpec, ...]:
    """The canonical fields of `kind` ('facilities' or 'shipments')."""
    if kind == "shipments":
        return _SHIPMENTS
    if kind == "facilities":
        return _FACILITIES
    raise ValueError(f"unknown kind {kind!r}: use facilities or shipments")


def required_of(kind: str) -> list[str]:
    return [f.name for f in fields_of(kind) if f.required]
