"""Early warning: analogue sightings become records; a supervisor's promotion makes them controlled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from detection.screening import screen_names


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    from registry.db import init_db, make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'ew.sqlite'}")
    init_db(eng)
    return eng


def _sightings() -> pl.DataFrame:
    names = ["1-benzyl-4-piperidone 99%", "1-Benzyl-4-piperidone, 25 kg drum", "acetone"]
    res = screen_names(names)
    return pl.concat(
        [
            res,
            pl.DataFrame(
                {
                    "date": [dt.date(2026, 1, 5), dt.date(2026, 3, 1), dt.date(2026, 2, 1)],
                    "quantity_kg": [25.0, 50.0, 1000.0],
                    "shipment_id": ["S1", "S2", "S3"],
                    "exporter": ["Acme Chem", "Beta Pharma", "Gamma"],
                    "importer": ["Delta Trading", "Delta Trading", "Eps"],
                    "exporter_country": ["CHN", "IND", "DEU"],
                    "importer_country": ["MEX", "MEX", "FRA"],
                }
            ),
        ],
        how="horizontal",
    )


@pytest.mark.slow
@pytest.mark.java
def test_record_and_promote(engine) -> None:  # type: ignore[no-untyped-def]
    from registry.db import session_scope
    from registry.early_warning import promote, promoted_substances, record_early_warnings
    from registry.errors import PermissionDenied
    from registry.models import EarlyWarning
    from registry.users import add_user

    rows = _sightings()
    with session_scope(engine) as s:
        assert record_early_warnings(s, rows) == 1
        assert record_early_warnings(s, rows) == 1  # idempotent on rerun
        add_user(s, "sup", "supervisor", "a-long-enough-password-1")
        add_user(s, "insp", "inspector", "a-long-enough-password-2")
    with session_scope(engine) as s:
        (ew,) = s.query(EarlyWarning).all()
        assert ew.shipment_count == 2 and ew.total_kg == 75.0
        assert ew.first_seen == dt.date(2026, 1, 5) and ew.last_seen == dt.date(2026, 3, 1)
        assert ew.countries == ["CHN", "IND", "MEX"]
        assert ew.nearest_cas == "39742-60-4" and ew.smiles
        ew_id = ew.id
        with pytest.raises(PermissionDenied):
            promote(s, ew_id, "insp")
    with session_scope(engine) as s:
        row = promote(s, ew_id, "sup")
        assert row.origin == "promoted"
    with session_scope(engine) as s:
        extra = promoted_substances(s)
    assert [e.cas for e in extra] == [f"EW-{ew_id:06d}"]
    res = screen_names(
        ["1-benzyl-4-piperidone", "1-benzylpiperidin-4-one", "N-Cbz-4-piperidone"], extra=extra
    )
    assert res["verdict"].to_list() == ["controlled", "controlled", "analogue"]
