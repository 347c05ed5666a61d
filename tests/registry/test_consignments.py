"""Each consignment counted once: the export record, with the import record as its check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.consignments import consignment_frame, totals
from registry.db import session_scope
from registry.models import Shipment
from registry.queries import SHIPMENT_COLUMNS

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
import console_factories as cf


def _records(engine, pks):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
        rows = [dict(r) for r in s.execute(select(*cols).where(Shipment.id.in_(pks))).mappings()]
        return rows, totals(consignment_frame(s, rows))


def test_mirror_case_counts_three_consignments(engine) -> None:  # type: ignore[no-untyped-def]
    cf.make_facility(engine)
    pks = cf.mirror_case(engine)
    rows, t = _records(engine, pks)
    assert sum(r["quantity_kg"] for r in rows) == 6350.0  # what adding the records gives
    assert (t.consignments, t.records, t.kg) == (3, 4, 3600.0)  # 2,800 + 500 + 300
    assert (t.with_import, t.import_kg, t.export_kg_checked, t.import_only) == (
        1,
        2750.0,
        2800.0,
        1,
    )
    assert t.sentence() == cf.MIRROR_CASE_SENTENCE


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # one export record alone
        ([{"flow": "X", "quantity_kg": 10.0}], (1, 10.0, 0)),
        # two sides without a flow column, one reference, same countries: one consignment
        (
            [
                {"flow": None, "quantity_kg": 10.0, "consignment_ref": "T-1"},
                {"flow": None, "quantity_kg": 9.0, "consignment_ref": "T-1", "day": 5},
            ],
            (1, 10.0, 1),
        ),
        # an import record paired with its export by parties and date (no reference)
        (
            [
                {"flow": "X", "quantity_kg": 40.0},
                {"flow": "M", "quantity_kg": 38.0, "day": 9, "source": "MEX-customs"},
            ],
            (1, 40.0, 1),
        ),
    ],
)
def test_consignments_as_detection_forms_them(sqlite_engine, rows, expected) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    cf.make_facility(sqlite_engine)
    pks = cf.make_records(
        sqlite_engine,
        [
            {
                **{k: v for k, v in r.items() if k != "day"},
                "date": dt.date(2026, 3, 1) + dt.timedelta(days=r.get("day", 0)),
            }
            for r in rows
        ],
    )
    _, t = _records(sqlite_engine, pks)
    assert (t.consignments, t.kg, t.with_import) == expected
