"""Declarations: a national authority submits and revises its state's declarations for a year
(a form over the current declarations, or a file), sees the year's deadline and every
revision; the body's staff see each state's submissions with late ones flagged, and
supervisors set a year's deadline."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from registry.db import session_scope
from registry.declarations import (
    FORM_COLUMNS,
    deadline,
    set_deadline,
    state_declarations,
    submissions,
    submit_file,
)
from registry.errors import RegistryError
from registry.service import allowed
from registry.vocab import CLASSIFICATIONS
from registry.words import country_name
from ui.confidential import word
from ui.console import current_user, engine, flash
from ui.show import kg, table, when
from ui.uploads import save_upload

_HEADINGS = {
    "facility_id": "facility id",
    "name": "facility name",
    "activity": "activity (production, processing, trade, consumption)",
    "substance": "substance",
    "cas": "CAS number",
    "declared_annual_kg": "declared kg per year",
    "address": "address",
}


def _history(rows: list[Any], staff: bool) -> None:
    table(
        (
            {
                **({"state": country_name(r.state)} if staff else {}),
                "year": str(r.year),
                "revision": r.revision,
                "submitted": f"{when(r.submitted_at)} UTC",
                "by": r.submitted_by,
                "due": r.due,
                "late": "LATE" if r.late else "on time",
                "how": r.via,
                "facilities and substances": len(r.rows),
                "classification": word(r.classification),
            }
            for r in rows
        ),
        empty="No declarations submitted yet.",
    )


def _submit(user: Any, year: int, path: Path, via: str, name: str, level: str, note: str) -> None:
    try:
        with session_scope(engine()) as session:
            sub = submit_file(
                session, user, path, year, via=via, file_name=name, classification=level, note=note
            )
            revision, late = sub.revision, sub.late
    except (RegistryError, ValueError) as exc:
        flash("error", f"Not submitted: {exc}")
    else:
        flash(
            "warning" if late else "success",
            f"Declarations for {year} submitted as revision {revision}"
            + (" after the deadline: it is flagged late." if late else "."),
        )
    st.rerun()


def _form(user: Any, year: int, level: str, note: str) -> None:
    with session_scope(engine()) as session:
        current = state_declarations(session, user.state, year)
    st.caption(
        "Edit the rows (add a row at the bottom, delete one with its checkbox); submitting "
        f"replaces {year}'s declarations of {country_name(user.state)} with these rows."
    )
    # The editor's columns are the words a person reads; mapped back to fields on submit.
    edited = st.data_editor(
        [{_HEADINGS[c]: r.get(c) for c in FORM_COLUMNS} for r in current]
        or [{_HEADINGS[c]: None for c in FORM_COLUMNS}],
        num_rows="dynamic",
        key=f"decl_editor_{year}",
        width="stretch",
    )
    rows = [{c: r.get(_HEADINGS[c]) for c in FORM_COLUMNS} for r in _records(edited)]
    if st.button("Submit these declarations", key="decl_submit_form", type="primary"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"declaration-{user.state}-{year}.csv"
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow([*FORM_COLUMNS, "country", "declaration_year"])
                for r in rows:
                    if any(str(r.get(c) or "").strip() for c in FORM_COLUMNS):
                        writer.writerow([r.get(c) or "" for c in FORM_COLUMNS] + [user.state, year])
            _submit(user, year, path, "form", "form", level, note)


def _records(edited: Any) -> list[dict[str, Any]]:
    """The editor's rows as dicts, whatever container Streamlit hands back."""
    if hasattr(edited, "to_dicts"):
        return list(edited.to_dicts())
    if hasattr(edited, "to_dict"):
        return list(edited.to_dict("records"))
    return [dict(r) for r in edited]


def _upload(user: Any, year: int, level: str, note: str) -> None:
    from ui.console import settings

    up = st.file_uploader(
        "Declaration file (the facilities format: facility_id, name, activity, substance, cas, "
        "declared_annual_kg; country optional)",
        type=["csv", "tsv", "txt", "xlsx", "json", "ndjson"],
        key="decl_file",
    )
    if up is not None and st.button("Submit the file", key="decl_submit_file", type="primary"):
        folder = Path(settings().data_dir) / "uploads" / "declarations"
        path = save_upload(folder, up.name, up.getvalue())
        _submit(user, year, path, "file", up.name, level, note)


def _authority(user: Any) -> None:
    st.caption(f"The declared facilities of {country_name(user.state)} and what each declares.")
    this_year = dt.date.today().year
    year = int(
        st.number_input(
            "Declaration year", min_value=1990, max_value=2100, value=this_year, key="decl_year"
        )
    )
    with session_scope(engine()) as session:
        due = deadline(session, year)
        history = submissions(session, user, year=year)
    late = dt.date.today() > due
    (st.warning if late and not history else st.info)(
        f"Declarations for {year} are due on {due.isoformat()}"
        + (" (passed: a submission now is flagged late)." if late else ".")
    )
    c1, c2 = st.columns(2)
    level = c1.selectbox(
        "Classification", list(CLASSIFICATIONS), index=1, format_func=word, key="decl_level"
    )
    note = c2.text_input("Note with this revision (optional)", key="decl_note")
    tab_form, tab_file, tab_history, tab_facilities = st.tabs(
        ["Form", "File", "Revisions", "Your facilities"]
    )
    with tab_form:
        _form(user, year, level, note)
    with tab_file:
        _upload(user, year, level, note)
    with tab_history:
        _history(history, staff=False)
        for r in history[:10]:
            with st.expander(f"Revision {r.revision} of {year}, {when(r.submitted_at)} UTC"):
                table(
                    {
                        "facility": f"{x['name']} ({x['facility_id']})",
                        "substance": x["substance"],
                        "activity": x["activity"],
                        "declared per year": kg(x["declared_annual_kg"]),
                    }
                    for x in r.rows
                )
    with tab_facilities:
        _facilities(user)


def _facilities(user: Any) -> None:
    """The state's declared facilities and every declaration on record (all years)."""
    from registry.registry_reads import facilities_frame

    with session_scope(engine()) as session:
        frame = facilities_frame(session, user)
    table(
        (
            {
                "facility": f"{r['name']} ({r['facility_id']})",
                "substance": r["substance"] or "",
                "activity": r["activity"] or "",
                "year": str(r["declaration_year"])
                if r["declaration_year"]
                else ("every year" if r["substance"] else ""),
                "declared per year": kg(r["declared_annual_kg"]),
                "classification": word(r["classification"]),
            }
            for r in frame.iter_rows(named=True)
        ),
        empty="No declared facility of your state yet.",
    )


def _staff(user: Any) -> None:
    st.caption("Declarations submitted by the states' national authorities, revision by revision.")
    with session_scope(engine()) as session:
        rows = submissions(session, user)
    _history(rows, staff=True)
    if allowed(user.role, "set_declaration_deadline"):
        with st.expander("Set the deadline of a declaration year"):
            c1, c2 = st.columns(2)
            year = int(c1.number_input("Year", 1990, 2100, dt.date.today().year, key="dl_year"))
            due = c2.date_input("Due on", key="dl_due")
            if st.button("Set the deadline", key="dl_set") and isinstance(due, dt.date):
                try:
                    with session_scope(engine()) as session:
                        set_deadline(session, user, year, due)
                except RegistryError as exc:
                    flash("error", f"Not set: {exc}")
                else:
                    flash("success", f"Declarations of {year} are due on {due.isoformat()}.")
                st.rerun()


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Declarations")
    if user.role == "authority":
        _authority(user)
    else:
        _staff(user)


_page()
