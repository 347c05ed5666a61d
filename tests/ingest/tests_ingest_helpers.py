"""Factories for ingest tests: tiny shipment and facility feeds written as files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

SHIPMENT_HEADER = [
    "shipment_id",
    "date",
    "exporter",
    "exporter_country",
    "importer",
    "importer_country",
    "product",
    "quantity",
    "unit",
    "cas",
    "flow",
]


def shipment(i: int = 1, **over: Any) -> dict[str, Any]:
    """One good shipment row; override any field."""
    row = {
        "shipment_id": f"S{i}",
        "date": "2024-01-05",
        "exporter": "Hebei Chem Co., Ltd.",
        "exporter_country": "China",
        "importer": "Acme GmbH",
        "importer_country": "Germany",
        "product": "NPP",
        "quantity": "25",
        "unit": "kg",
        "cas": "39742-60-4",
        "flow": "X",
    }
    row.update(over)
    return row


FACILITY_HEADER = [
    "facility_id",
    "name",
    "country",
    "activity",
    "substance",
    "cas",
    "declared_annual_kg",
]


def facility(fid: str = "F1", **over: Any) -> dict[str, Any]:
    row = {
        "facility_id": fid,
        "name": "Hebei Chem Company Limited",
        "country": "CN",
        "activity": "production",
        "substance": "NPP",
        "cas": "39742-60-4",
        "declared_annual_kg": "1000",
    }
    row.update(over)
    return row


def write_csv(
    path: Path,
    rows: list[dict[str, Any]],
    header: list[str] | None = None,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    header = header or list(rows[0])
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])
    return path
