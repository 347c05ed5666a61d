"""A national authority's declarations: its state's facilities and what each declares for a
year, submitted in the console (a form) or by file, each submission a revision kept whole
(the rows as submitted), with the year's deadline and a flag when late.

A submission is one transaction: the rows are shaped as a facilities load shapes them
(ingest.read_rows), every row must name a facility of the authority's own state, then the
facilities are written, the year's declarations of the state replaced by the new set, the
shipment parties relinked, and the revision and its audited event stored; any bad row and
nothing is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from registry.audit import append_event, canonical_json
from registry.errors import RegistryError
from registry.models import Declaration, Facility, IngestBatch, User, utcnow
from registry.models_states import DeclarationDeadline, DeclarationSubmission
from registry.settings import get_settings
from registry.vocab import CLASSIFICATIONS

__all__ = [
    "FORM_COLUMNS",
    "deadline",
    "set_deadline",
    "state_declarations",
    "submissions",
    "submit_file",
]

# The columns of a declaration, as the form shows them and a file gives them.
FORM_COLUMNS = (
    "facility_id",
    "name",
    "activity",
    "substance",
    "cas",
    "declared_annual_kg",
    "address",
)
_KEPT = (*FORM_COLUMNS, "country", "substance_cas", "lat", "lon")
_MAX_SHOWN = 3


def deadline(session: Session, year: int) -> dt.date:
    """The deadline of a year's declarations: a supervisor's, else the configured month-day."""
    row = session.get(DeclarationDeadline, int(year))
    if row is not None:
        return row.due
    return dt.date.fromisoformat(f"{int(year)}-{get_settings().declaration_due}")


def set_deadline(session: Session, user: User, year: int, due: dt.date) -> None:
    """A supervisor sets the deadline of a declaration year; audited."""
    from registry.service import acting_user, require_role

    user = acting_user(session, user)
    require_role(user, "set_declaration_deadline")
    _check_year(year)
    row = session.get(DeclarationDeadline, int(year))
    before = deadline(session, year)
    if row is None:
        session.add(DeclarationDeadline(year=int(year), due=due, set_by=user.username))
    else:
        row.due, row.set_by, row.set_at = due, user.username, utcnow()
    session.flush()
    append_event(
        session,
        actor=user.username,
        action="declaration_deadline_set",
        note=f"declarations of {year} due {due.isoformat()} (was {before.isoformat()})",
        subject=f"declarations:{year}",
        payload={"year": int(year), "due": due.isoformat()},
    )


def _check_year(year: int) -> None:
    if not 1990 <= int(year) <= 2100:
        raise RegistryError(f"{year} is not a declaration year (1990 to 2100)")


def _refuse(problems: list[str], what: str) -> None:
    if problems:
        more = len(problems) - _MAX_SHOWN
        raise RegistryError(
            f"{what}: "
            + "; ".join(problems[:_MAX_SHOWN])
            + (f"; and {more} more" if more > 0 else "")
            + "; nothing was stored"
        )


def _checked_rows(session: Session, good: Any, state: str, year: int) -> list[dict[str, Any]]:
    """The shaped rows as dicts, refused unless each names a facility of `state` for `year`."""
    from registry.words import country_name

    rows = [
        {k: r.get(k) for k in (*_KEPT, "declaration_year", "row_number")} for r in good.to_dicts()
    ]
    own = country_name(state)
    problems = []
    for r in rows:
        where = f"row {r['row_number']}"
        if r["declaration_year"] is not None and int(r["declaration_year"]) != year:
            problems.append(f"{where} declares the year {r['declaration_year']}, not {year}")
        if r["country"] != state:
            problems.append(
                f"{where} names a facility in {country_name(r['country'])}: a declaration of "
                f"{own} may only name facilities in {own}"
            )
    ids = sorted({r["facility_id"] for r in rows})
    foreign = set(
        session.scalars(
            select(Facility.facility_id).where(
                Facility.facility_id.in_(ids), Facility.country != state
            )
        )
    )
    problems += [
        f"row {r['row_number']}: facility {r['facility_id']} is not a facility in {own}"
        for r in rows
        if r["facility_id"] in foreign
    ]
    _refuse(problems, f"the declaration of {own} for {year} was refused")
    return rows


def submit_file(
    session: Session,
    user: User,
    path: str | Path,
    year: int,
    *,
    via: str = "file",
    file_name: str | None = None,
    classification: str = "protected",
    note: str | None = None,
) -> DeclarationSubmission:
    """An authority submits (or revises) its state's declarations for `year` from a file in
    the facilities format (a form's rows are written to one first)."""
    from ingest import read_rows
    from registry.service import acting_user, require_role

    user = acting_user(session, user)
    require_role(user, "submit_declarations")
    state = user.state or ""
    _check_year(year)
    year = int(year)
    if classification not in CLASSIFICATIONS:
        raise RegistryError(f"unknown classification {classification!r}")
    good, quarantined = read_rows(path, "facilities")
    _refuse(
        [f"row {row}: {'; '.join(why)}" for row, why in quarantined],
        "the declaration has rows that cannot be read",
    )
    if good.height == 0:
        raise RegistryError("the declaration has no rows; nothing was stored")
    rows = _checked_rows(session, good, state, year)
    return _store(
        session, user, rows, year, via, file_name or Path(path).name, classification, note
    )


def _store(
    session: Session,
    user: User,
    rows: list[dict[str, Any]],
    year: int,
    via: str,
    file_name: str,
    classification: str,
    note: str | None,
) -> DeclarationSubmission:
    """The checked rows written, the revision kept whole, the event appended."""
    state = user.state or ""
    revision = 1 + int(
        session.scalar(
            select(func.max(DeclarationSubmission.revision)).where(
                DeclarationSubmission.state == state, DeclarationSubmission.year == year
            )
        )
        or 0
    )
    stored = [{k: r[k] for k in _KEPT} for r in rows]
    digest = hashlib.sha256(canonical_json(stored).encode("utf-8")).hexdigest()
    now = utcnow()
    batch = IngestBatch(
        kind="facilities",
        source=f"declaration {state} {year}",
        file_name=file_name,
        file_hash=hashlib.sha256(f"{digest}|{state}|{year}|{revision}".encode()).hexdigest(),
        loaded_by=user.username,
        classification=classification,
        state=state,
        rows_total=len(rows),
        rows_loaded=len(rows),
        started_at=now,
        finished_at=now,
    )
    session.add(batch)
    session.flush()
    _write(session, rows, state, year, batch.id, classification)
    from ingest import relink_shipments

    relink_shipments(session.connection(), batch.id)
    due = deadline(session, year)
    sub = DeclarationSubmission(
        state=state,
        year=year,
        revision=revision,
        submitted_by=user.username,
        submitted_at=now,
        due=due,
        late=now.date() > due,
        via=via,
        file_name=file_name,
        sha256=digest,
        rows=stored,
        note=(note or "").strip() or None,
        classification=classification,
        batch_id=batch.id,
    )
    session.add(sub)
    session.flush()
    append_event(
        session,
        actor=user.username,
        action="declarations_submitted",
        note=f"{state} declarations for {year}, revision {revision}: {len(rows)} rows"
        + (f", late (due {due.isoformat()})" if sub.late else ""),
        subject=f"declarations:{state}:{year}",
        payload={"revision": revision, "rows": len(rows), "sha256": digest, "late": sub.late},
    )
    return sub


def _write(
    session: Session,
    rows: list[dict[str, Any]],
    state: str,
    year: int,
    batch_id: int,
    classification: str,
) -> None:
    """The facilities as declared (the last row of each gives its record), then the state's
    declarations for the year replaced by this revision's."""
    from ingest.normalise import normalise_company

    for r in {r["facility_id"]: r for r in rows}.values():
        fac = session.get(Facility, r["facility_id"])
        if fac is None:
            fac = Facility(facility_id=r["facility_id"])
            session.add(fac)
        fac.name, fac.name_norm = r["name"], normalise_company(r["name"]) or r["name"].lower()
        fac.country, fac.address = state, r["address"]
        fac.lat, fac.lon = r["lat"], r["lon"]
        fac.batch_id, fac.classification = batch_id, classification
    session.flush()
    session.execute(
        delete(Declaration)
        .where(
            Declaration.declaration_year == year,
            Declaration.facility_id.in_(
                select(Facility.facility_id).where(Facility.country == state)
            ),
        )
        .execution_options(synchronize_session=False)
    )
    latest = {(r["facility_id"], r["substance"], r["activity"]): r for r in rows}
    for r in latest.values():
        session.add(
            Declaration(
                facility_id=r["facility_id"],
                activity=r["activity"],
                substance=r["substance"],
                cas=r["cas"],
                substance_cas=r["substance_cas"],
                declared_annual_kg=r["declared_annual_kg"],
                declaration_year=year,
                batch_id=batch_id,
                row_number=r["row_number"],
                classification=classification,
            )
        )
    session.flush()


def submissions(
    session: Session, user: User | None, *, state: str | None = None, year: int | None = None
) -> list[DeclarationSubmission]:
    """Declaration revisions this user may see (an authority: its own state's), newest first."""
    from registry.access import ACCESS, ALL, OWN_STATE

    stmt = select(DeclarationSubmission)
    if user is not None:
        rules = ACCESS.get(user.role, {}).get("declaration", {})
        if user.role == "authority":
            levels = [c for c, s in rules.items() if s == OWN_STATE]
            stmt = stmt.where(DeclarationSubmission.state == user.state)
        else:
            levels = [c for c, s in rules.items() if s == ALL]
        stmt = stmt.where(DeclarationSubmission.classification.in_(levels))
    if state:
        stmt = stmt.where(DeclarationSubmission.state == state)
    if year is not None:
        stmt = stmt.where(DeclarationSubmission.year == int(year))
    order = (
        DeclarationSubmission.state,
        DeclarationSubmission.year.desc(),
        DeclarationSubmission.revision.desc(),
    )
    return list(session.scalars(stmt.order_by(*order)))  # fmt: skip


def state_declarations(session: Session, state: str, year: int) -> list[dict[str, Any]]:
    """The state's current declarations for a year, one row per facility and substance, in
    the form's columns (what a revision starts from)."""
    stmt = (
        select(
            Facility.facility_id,
            Facility.name,
            Declaration.activity,
            Declaration.substance,
            Declaration.cas,
            Declaration.declared_annual_kg,
            Facility.address,
        )
        .join(Facility, Facility.facility_id == Declaration.facility_id)
        .where(Facility.country == state, Declaration.declaration_year == int(year))
        .order_by(Facility.facility_id, Declaration.substance)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]
