"""Property: whatever malformed CSV arrives, every data row ends loaded, quarantined or duplicate."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from tests_ingest_helpers import SHIPMENT_HEADER, shipment

from ingest import load_file
from registry.models import QuarantinedRow, Shipment

_junk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_values = {
    "shipment_id": st.one_of(st.sampled_from(["S1", "S2", "S3", ""]), _junk),
    "date": st.sampled_from(["2024-01-05", "2024-02-30", "05/01/2024", "13/01/2024", "", "x"]),
    "exporter": st.one_of(st.just("Hebei Chem Co., Ltd."), _junk, st.just('=HYPERLINK("x")')),
    "exporter_country": st.sampled_from(["China", "CN", "Narnia", "", "Viet Nam", "usa"]),
    "importer": st.one_of(st.just("Acme GmbH"), _junk),
    "importer_country": st.sampled_from(["DE", "Holland", "Atlantis", "", "KOR"]),
    "product": st.one_of(st.just("NPP"), _junk),
    "quantity": st.one_of(
        st.sampled_from(["25", "-3", "abc", "1,500", "1.234,5", "", "nan", "inf", "2 kg", "1e3"]),
        _junk,
    ),
    "unit": st.sampled_from(["kg", "KGS", "lbs", "L", "furlongs", "", "t"]),
    "cas": st.sampled_from(["39742-60-4", "39742-60-5", "", "junk"]),
    "flow": st.sampled_from(["X", "M", "export", "Q", ""]),
}
_row = st.fixed_dictionaries(_values)


@st.composite
def _csv_rows(draw: st.DrawFn) -> list[list[str]]:
    rows = draw(st.lists(_row, min_size=1, max_size=25))
    out = []
    for r in rows:
        cells = [r[h] for h in SHIPMENT_HEADER]
        shape = draw(st.sampled_from(["ok", "ok", "ok", "short", "long"]))
        if shape == "short":
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
        elif shape == "long":
            cells = [*cells, *draw(st.lists(_junk, min_size=1, max_size=6))]
        out.append(cells)
    return out


def _count(engine: Engine, model: type, batch_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(model).where(model.batch_id == batch_id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def _check_every_row_accounted_for(engine: Engine, tmp_path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SHIPMENT_HEADER)
    w.writerows(rows)
    # A unique good row makes every example a new file (same content = already loaded).
    marker = shipment(1, shipment_id=uuid.uuid4().hex)
    w.writerow([marker[h] for h in SHIPMENT_HEADER])
    # A row of empty fields (or a lone "") reads as a blank line: nothing in it to load.
    blankish = sum(1 for r in rows if not any(c.strip() for c in r))
    expected = 1 + len(rows)
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    rep = load_file(engine, path, "shipments", source=path.stem)
    assert rep.status == "loaded"
    assert expected - blankish <= rep.rows_total <= expected
    assert rep.rows_loaded + rep.rows_quarantined + rep.rows_duplicate == rep.rows_total
    assert _count(engine, Shipment, rep.batch_id or 0) == rep.rows_loaded
    assert _count(engine, QuarantinedRow, rep.batch_id or 0) == rep.rows_quarantined


_SETTINGS = {
    "deadline": None,
    "derandomize": True,  # the suite is deterministic: same examples on every run
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=15, **_SETTINGS)  # type: ignore[arg-type]
@given(rows=_csv_rows())
def test_every_row_is_accounted_for(
    sqlite_engine: Engine, tmp_path: Path, rows: list[list[str]]
) -> None:
    _check_every_row_accounted_for(sqlite_engine, tmp_path, rows)


@pytest.mark.slow
@settings(max_examples=150, **_SETTINGS)  # type: ignore[arg-type]
@given(rows=_csv_rows())
def test_every_row_is_accounted_for_many(
    sqlite_engine: Engine, tmp_path: Path, rows: list[list[str]]
) -> None:
    _check_every_row_accounted_for(sqlite_engine, tmp_path, rows)


def test_a_known_good_row_survives_its_bad_neighbours(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    good = shipment(1, exporter="Hebei")
    lines = [",".join(SHIPMENT_HEADER), ",".join(good[h] for h in SHIPMENT_HEADER), "S9,,,,,,,,,,"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = load_file(sqlite_engine, path, "shipments")
    assert rep.rows_loaded == 1 and rep.rows_quarantined == 1
