"""Load data (analysts): upload a feed under a stable source name, check the whole file (counts,
not a box per row), load it, see the first rows as stored, then run detection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from detection.catalogue import flow_word
from registry.db import session_scope
from registry.errors import PermissionDenied
from registry.registry_reads import (
    batch_rows,
    quarantine_report,
    recent_batches,
    source_overlap,
    sources,
)
from registry.service import allowed, require_role
from registry.words import country_name
from ui.console import current_user, engine, esc, flash, settings
from ui.show import kg, table, when
from ui.uploads import save_upload

_PROFILE_NONE = "(none: the file's own column names)"
_PROFILE_WRITE = "(write one below)"


def _profile_text() -> str:
    data_dir = Path(settings().data_dir)
    folder = data_dir / "profiles"
    profiles = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    import ingest

    profiles += sorted((Path(ingest.__file__).parent / "profiles").glob("*.toml"))
    choice = st.selectbox(
        "Mapping profile",
        [_PROFILE_NONE, _PROFILE_WRITE, *map(str, profiles)],
        key="ld_profile_choice",
    )
    if choice == _PROFILE_WRITE:
        return str(
            st.text_area(
                "Profile (TOML)",
                value='kind = "shipments"\n\n[columns]\nshipment_id = "Decl No"\ndate = "Date"\n\n[options]\ndate_format = "%d/%m/%Y"\n',
                height=220,
                key="ld_profile_text",
            )
        )
    if choice.endswith(".toml"):
        text = Path(choice).read_text(encoding="utf-8")
        st.code(text, language="toml")
        return text
    return ""


def _source(profile: Any, upload_name: str, known: list[str]) -> str:
    """The stable name of the feed's source: the profile's, else asked (a previous one or new)."""
    if profile is not None and profile.options.get("source"):
        st.caption(f"Source (from the profile): **{esc(profile.options['source'])}**")
        return str(profile.options["source"]).strip()
    default = Path(upload_name).stem.split(".")[0]
    c1, c2 = st.columns(2)
    picked = c1.selectbox(
        "Source of the feed",
        ["(a new source)", *known],
        key="ld_source_pick",
        help="The authority or feed this file comes from. Records are identified by (source, shipment id): a file loaded again under the same source adds only its new records.",
    )
    if picked != "(a new source)":
        return str(picked)
    return str(c2.text_input("New source name", value=default, key="ld_source_new")).strip()


def check(path: Path, kind: str, profile: Any, source: str) -> None:
    """The whole file read, mapped and validated as a load would: counts, not a box per row."""
    from ingest import check_file, preview

    report = check_file(path, kind, profile=profile, source=source or None)
    frame, mapping, problems = preview(path, kind, profile=profile, rows=5000)
    st.session_state["ld_checked"] = {
        "summary": f"{report.rows_total:,} rows: {report.rows_loaded:,} would load, {report.rows_quarantined:,} would be quarantined",
        "reasons": report.top_reasons,
        "unused": report.unused_columns,
        "by_name": report.mapped_by_synonym,
        "mapping": mapping,
        "file_level": [p for p in problems if not p.startswith("row ")],
        "ids": frame["shipment_id"].cast(str).to_list() if "shipment_id" in frame.columns else [],
        "head": frame.head(10).to_dicts(),
        "converted": preview(path, kind, profile=profile, rows=10, converted=True)[0].to_dicts(),
    }


def show_check(kind: str, source: str) -> None:
    done = st.session_state.get("ld_checked")
    if not done:
        return
    st.success(f"Whole file checked: {done['summary']}.")
    if done["reasons"]:
        table(({"reason": r, "rows": n} for r, n in done["reasons"]))
    for problem in done["file_level"]:
        st.warning(esc(problem))
    if kind == "shipments" and done["ids"]:
        with session_scope(engine()) as session:
            overlap = source_overlap(session, source, done["ids"])
        for other, n in overlap:
            st.warning(
                f"{n:,} of the file's first {len(done['ids']):,} shipment ids are already loaded from source '{esc(other)}'. If this is an update of that feed, choose that source: under a new name every record would load again."
            )
    st.caption("Columns used (canonical field ← column of the file)")
    table(
        {
            "field": k.replace("_", " "),
            "column of the file": v,
            "read as": done["by_name"].get(v, ""),
        }
        for k, v in done["mapping"].items()
    )
    if done["unused"]:
        st.caption("Not loaded (no field takes them): " + esc(", ".join(done["unused"])))
    if done["converted"]:
        st.caption(
            "First rows as they will be stored: dates read, countries as codes, quantities in kg, customs values in US dollars."
        )
        table(_converted_rows(done["converted"], kind))
    with st.expander("First rows as written in the file"):
        table(done["head"])


def _converted_rows(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    if kind == "facilities":
        return [
            {
                "row": r["row_number"], "facility": f"{r.get('name')} ({country_name(r.get('country'))})",
                "activity": r.get("activity"), "substance": r.get("substance"),
                "declared per year": kg(r.get("declared_annual_kg")), "year": r.get("declaration_year") or "every year",
            }
            for r in rows
        ]  # fmt: skip
    out = []
    for r in rows:
        usd = r.get("value_usd")
        given = (
            f"{r['value']:,.2f} {r.get('currency') or ''}".strip()
            if r.get("value") is not None
            else ""
        )
        out.append(
            {
                "row": r["row_number"], "shipment id": r.get("shipment_id"), "date": r.get("date"),
                "record": flow_word(r.get("flow")),
                "exporter": f"{r.get('exporter')} ({country_name(r.get('exporter_country'))})",
                "importer": f"{r.get('importer')} ({country_name(r.get('importer_country'))})",
                "product": r.get("product"), "as given": f"{r.get('quantity'):g} {r.get('unit') or ''}".strip() if r.get("quantity") is not None else "",
                "in kg": kg(r.get("quantity_kg")), "customs value": given,
                "in US dollars": f"{usd:,.0f}" if usd is not None else "",
            }
        )  # fmt: skip
    return out


def load(path: Path, kind: str, profile: Any, source: str, user: Any) -> None:
    from ingest import load_file

    try:
        require_role(user, "ingest")
        report = load_file(
            engine(), path, kind, profile=profile, source=source or None, loaded_by=user.username
        )
    except PermissionDenied as exc:
        st.error(f"Not allowed: {esc(exc)}")
        return
    except Exception as exc:
        st.error(f"Not loaded: {esc(exc)}")
        return
    st.session_state["ld_batch"] = report.batch_id
    st.session_state["ld_loaded_kind"] = kind
    st.session_state.pop("ld_checked", None)
    flash("success", f"Loaded {path.name}: {report.summary()}")
    for warning in report.warnings:  # e.g. how the file's charset was decided
        flash("warning", warning)
    st.rerun()


def after_load(user: Any) -> None:
    """The load's last rows as stored (converted), and detection for a shipments load."""
    batch = st.session_state.get("ld_batch")
    if not batch:
        return
    with session_scope(engine()) as session:
        rows = batch_rows(session, int(batch))
    if rows:
        st.subheader("The load's last rows, as stored")
        st.caption("Dates, countries, quantities in kg and sides as the registry reads them.")
        table(
            {
                "row": r["row_number"], "shipment id": r["shipment_id"], "date": r["date"], "record": flow_word(r["flow"]),
                "exporter": f"{r['exporter']} ({country_name(r['exporter_country'])})",
                "importer": f"{r['importer']} ({country_name(r['importer_country'])})",
                "product": r["product"], "as given": f"{r['quantity']:g} {r['unit']}", "in kg": kg(r["quantity_kg"]),
            }
            for r in rows
        )  # fmt: skip
    if st.session_state.get("ld_loaded_kind") == "shipments":
        st.info(
            "New shipments are screened and checked when detection runs; until then the queue does not change."
        )
        if st.button("Run detection now", type="primary", key="ld_detect"):
            detect()


def detect() -> None:
    from registry.detect_store import run_detection

    bar = st.progress(0.0, text="Reading the registry…")
    steps = [0]

    def progress(step: str, count: int, seconds: float) -> None:
        steps[0] += 1
        bar.progress(
            min(steps[0] / 10, 1.0), text=f"{step.replace('_', ' ')}: {count:,} ({seconds:.1f} s)"
        )

    summary = run_detection(engine(), progress=progress)
    bar.progress(1.0, text="Done")
    flash(
        "success",
        f"Detection finished in {summary.seconds:.1f} s: {summary.new:,} new alerts, {summary.updated:,} updated, over {summary.shipments:,} shipment records.",
    )
    st.session_state.pop("ld_batch", None)
    st.rerun()


def history() -> None:
    with session_scope(engine()) as session:
        batches = recent_batches(session, user=current_user())
    st.subheader("Recent loads")
    if not batches:
        st.info("Nothing has been loaded yet.")
        return
    table({"load": b["id"], "kind": b["kind"], "source": b["source"], "file": b["file_name"], "when (UTC)": when(b["started_at"]), "rows": b["rows_total"], "loaded": b["rows_loaded"], "already there": b["rows_duplicate"], "quarantined": b["rows_quarantined"], "by": b["loaded_by"] or ""} for b in batches)  # fmt: skip
    ids = [b["id"] for b in batches]
    newest = st.session_state.get("ld_batch")
    pick = st.selectbox(
        "Quarantine report of load",
        ids,
        index=ids.index(newest) if newest in ids else 0,
        key=f"ld_batch_pick_{newest}",
    )
    with session_scope(engine()) as session:
        quarantine = quarantine_report(session, int(pick))
    if quarantine:
        table(
            {"row": q["row"], "reasons": q["reasons"], "as written": str(q["raw"])}
            for q in quarantine
        )
    else:
        st.success("No row of this load was quarantined.")


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Load data")
    st.caption(
        "Load a declared-facility registry or a shipment feed in the authority's own columns. Rows that fail validation are quarantined with every reason, never silently dropped."
    )
    if not allowed(user.role, "ingest"):
        st.warning(f"A {user.role} may not load data; analysts and supervisors can.")
    kind = st.radio("Kind of file", ["shipments", "facilities"], horizontal=True, key="ld_kind")
    up = st.file_uploader(
        "Feed file (CSV, TSV, Parquet, Excel, JSON, NDJSON; .gz allowed)",
        type=["csv", "tsv", "txt", "parquet", "xlsx", "xls", "json", "ndjson", "jsonl", "gz"],
        key="ld_file",
    )
    profile_text = _profile_text()
    if up is not None:
        from ingest import read_profile

        saved_key = f"ld_saved_{getattr(up, 'file_id', up.name)}"
        if saved_key not in st.session_state:
            st.session_state[saved_key] = str(
                save_upload(Path(settings().data_dir) / "uploads", up.name, up.getvalue())
            )
            st.session_state.pop("ld_checked", None)
        path = Path(st.session_state[saved_key])
        st.caption(f"Saved as {esc(path.name)} in the upload folder.")
        try:
            profile = read_profile(profile_text) if profile_text.strip() else None
        except ValueError as exc:
            st.error(f"The profile cannot be used: {esc(exc)}")
            return
        with session_scope(engine()) as session:
            known = sources(session)
        source = _source(profile, up.name, known) if kind == "shipments" else ""
        c1, c2 = st.columns(2)
        if c1.button("Check the whole file", key="ld_preview"):
            try:
                check(path, kind, profile, source)
            except ValueError as exc:
                st.session_state.pop("ld_checked", None)
                st.error(f"Cannot read it: {esc(exc)}")
        show_check(kind, source)
        if c2.button(
            "Load",
            type="primary",
            key="ld_load",
            disabled=not allowed(user.role, "ingest") or (kind == "shipments" and not source),
        ):
            load(path, kind, profile, source, user)
    after_load(user)
    history()


_page()
