"""The frame contracts between the registry and detection: column names and dtypes."""

from __future__ import annotations

import polars as pl

__all__ = [
    "ALERT_SCHEMA",
    "DECLARATION_SCHEMA",
    "SEVERITIES",
    "SHIPMENT_SCHEMA",
    "empty_frame",
]

# One row per stored shipment record, as the registry hands it to detection.
SHIPMENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),  # registry primary key; alerts link to shipments by it
    "source": pl.String(),  # the feed/authority the record came from
    "shipment_id": pl.String(),  # the source's own id, verbatim
    "date": pl.Date(),
    "exporter": pl.String(),  # raw text
    "exporter_norm": pl.String(),  # normalised for matching
    "exporter_country": pl.String(),  # ISO 3166 alpha-3
    "importer": pl.String(),
    "importer_norm": pl.String(),
    "importer_country": pl.String(),
    "product": pl.String(),  # free text as declared
    "cas": pl.String(),  # CAS as given (may be null or invalid)
    "hs_code": pl.String(),
    "quantity_kg": pl.Float64(),
    "flow": pl.String(),  # "X" export record, "M" import record, null unknown
    "consignment_ref": pl.String(),
    "transit_countries": pl.String(),
    "value": pl.Float64(),  # declared customs value, in `currency`
    "currency": pl.String(),  # ISO 4217 code of `value`
    "value_usd": pl.Float64(),  # `value` in US dollars at the record date's exchange rate
    "exporter_address": pl.String(),  # raw text
    "importer_address": pl.String(),  # raw text
    "exporter_facility_id": pl.String(),  # declared facility linked at ingest, or null
    "importer_facility_id": pl.String(),
    "batch_id": pl.Int64(),
}

# One row per facility and declared substance (and year, where the registry has one).
DECLARATION_SCHEMA: dict[str, pl.DataType] = {
    "facility_id": pl.String(),
    "name": pl.String(),
    "name_norm": pl.String(),
    "country": pl.String(),
    "activity": pl.String(),  # production, processing, trade, consumption
    "substance": pl.String(),  # as declared
    "substance_cas": pl.String(),  # CAS of the listed free base when known
    "declared_annual_kg": pl.Float64(),
    "declaration_year": pl.Int64(),  # null = standing declaration for every year
}

SEVERITIES = ("low", "medium", "high", "critical")

# What every detector returns. The registry turns (detector, key) into the alert's stable
# fingerprint, so `key` must depend only on the identity of the finding (facility, substance,
# year, relation, consignment...), never on quantities that change as evidence grows.
ALERT_SCHEMA: dict[str, pl.DataType] = {
    "detector": pl.String(),
    "key": pl.String(),
    "severity": pl.String(),  # one of SEVERITIES
    "score": pl.Float64(),  # 0-100
    "summary": pl.String(),  # one plain sentence with the numbers that made it fire
    "evidence": pl.String(),  # JSON object: numbers, thresholds in force, records involved
    "shipment_pks": pl.List(pl.Int64()),  # registry ids of the shipments involved
    "facility_id": pl.String(),
    "substance_cas": pl.String(),
    "country": pl.String(),  # alpha-3 of the party under suspicion, when there is one
}


def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A zero-row frame with exactly the given columns and dtypes."""
    return pl.DataFrame(schema=schema)
