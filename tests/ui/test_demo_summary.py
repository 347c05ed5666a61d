"""`pwatch demo`'s summary counts each consignment once (export record; import record its check)."""

from __future__ import annotations

from pathlib import Path

from ingest import load_file
from ui.cli.demo_cmd import _counts

HEADER = "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit,flow,consignment_ref\n"


def test_summary_counts_each_consignment_once(sqlite_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hand-computed: PEN-1 reported by both sides (100 kg exported, 98 kg recorded on
    arrival) and PEN-2 by the exporter only (50 kg): 2 consignments, 150 kg, 3 records."""
    feed = tmp_path / "feed.csv"
    feed.write_text(
        HEADER
        + "X1,2025-03-01,Acme Fine Chemicals Ltd,NL,Blue Harbour Trading,MX,NPP,100,kg,X,PEN-1\n"
        + "M1,2025-03-09,Acme Fine Chemicals Ltd,NL,Blue Harbour Trading,MX,NPP,98,kg,M,PEN-1\n"
        + "X2,2025-04-01,Acme Fine Chemicals Ltd,NL,Blue Harbour Trading,MX,NPP,50,kg,X,PEN-2\n"
    )
    load_file(sqlite_engine, feed, "shipments")
    counts = _counts(sqlite_engine)
    assert (counts["shipments"], counts["consignments"]) == (3, 2)
    assert counts["shipped_kg"] == 150.0
