"""A national authority's declarations: by file, per year, revisions kept, late ones flagged,
another state's facility refused with nothing stored; both backends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from registry.db import session_scope
from registry.declarations import set_deadline, state_declarations, submissions, submit_file
from registry.errors import PermissionDenied, RegistryError
from registry.models import Declaration, Facility, IngestBatch, TriageEvent
from registry.models_states import DeclarationSubmission
from registry.users import add_user

HEADER = "facility_id,name,country,activity,substance,cas,declared_annual_kg\n"


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def people(engine: Engine) -> dict:
    with session_scope(engine) as s:
        return {
            "nld": add_user(s, "nld-auth", "authority", "password-123", state="NLD"),
            "mex": add_user(s, "mex-auth", "authority", "password-123", state="MEX"),
            "sup": add_user(s, "sup", "supervisor", "password-123"),
            "ins": add_user(s, "ins", "inspector", "password-123"),
        }


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with session_scope(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Facility)) or 0,
            s.scalar(select(func.count()).select_from(Declaration)) or 0,
            s.scalar(select(func.count()).select_from(DeclarationSubmission)) or 0,
            s.scalar(select(func.count()).select_from(IngestBatch)) or 0,
        )


def test_submit_revise_and_history(engine: Engine, people: dict, tmp_path: Path) -> None:
    first = _file(
        tmp_path,
        "nld-2026.csv",
        [
            "NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,39742-60-4,100",
            "NL-2,Rotterdam Pharma BV,Netherlands,processing,4-piperidone,41661-47-6,2000",
        ],
    )
    with session_scope(engine) as s:
        sub = submit_file(s, people["nld"], first, 2026)
        assert (sub.state, sub.year, sub.revision) == ("NLD", 2026, 1)
    with session_scope(engine) as s:
        rows = state_declarations(s, "NLD", 2026)
        assert [(r["facility_id"], r["declared_annual_kg"]) for r in rows] == [
            ("NL-1", 100.0),
            ("NL-2", 2000.0),
        ]
    second = _file(tmp_path, "nld-2026b.csv", ["NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,,150"])
    with session_scope(engine) as s:
        assert submit_file(s, people["nld"], second, 2026).revision == 2
    with session_scope(engine) as s:
        rows = state_declarations(s, "NLD", 2026)
        # the revision replaces the year's set: NL-2 is no longer declared for 2026
        assert [(r["facility_id"], r["declared_annual_kg"]) for r in rows] == [("NL-1", 150.0)]
        history = submissions(s, people["nld"], year=2026)
        assert [h.revision for h in history] == [2, 1]
        assert len(history[1].rows) == 2  # each revision kept whole
        assert submissions(s, people["mex"]) == []  # another state's revisions: none
        events = s.scalars(
            select(TriageEvent).where(TriageEvent.action == "declarations_submitted")
        ).all()
        assert [json.loads(e.payload or "{}")["revision"] for e in events] == [1, 2]


def test_late_declarations_are_flagged(engine: Engine, people: dict, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        set_deadline(s, people["sup"], 2026, dt.date(2025, 1, 31))  # long past
        set_deadline(s, people["sup"], 2099, dt.date(2099, 3, 31))
    path = _file(tmp_path, "a.csv", ["NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,,100"])
    with session_scope(engine) as s:
        assert submit_file(s, people["nld"], path, 2026).late is True
        assert submit_file(s, people["nld"], path, 2099).late is False


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["MX-9,Monterrey Quimica SA,MEX,trade,NPP,,100"], "may only name facilities in Netherlands"),
        (["NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,,100",
          "MX-1,Impostor BV,NLD,trade,NPP,,5"],
         "facility MX-1 is not a facility in Netherlands"),
        (["NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,,lots"], "cannot be read"),
    ],
)  # fmt: skip
def test_bad_declarations_store_nothing(
    engine: Engine, people: dict, tmp_path: Path, rows: list[str], message: str
) -> None:
    mex = _file(tmp_path, "mex.csv", ["MX-1,Monterrey Quimica SA,MEX,trade,NPP,,100"])
    with session_scope(engine) as s:
        submit_file(s, people["mex"], mex, 2026)
    before = _counts(engine)
    path = _file(tmp_path, "bad.csv", rows)
    with pytest.raises(RegistryError, match=message) as err, session_scope(engine) as s:
        submit_file(s, people["nld"], path, 2026)
    assert "nothing was stored" in str(err.value)
    assert _counts(engine) == before
    with session_scope(engine) as s:
        fac = s.get(Facility, "MX-1")
        assert fac is not None and fac.name == "Monterrey Quimica SA" and fac.country == "MEX"


def test_only_authorities_submit(engine: Engine, people: dict, tmp_path: Path) -> None:
    path = _file(tmp_path, "a.csv", ["NL-1,Delft Fine Chemicals BV,NLD,trade,NPP,,100"])
    refused = pytest.raises(PermissionDenied, match="an inspector may not submit declarations")
    with refused, session_scope(engine) as s:
        submit_file(s, people["ins"], path, 2026)
