"""Load data (analysts): upload a feed, choose or write a mapping profile, preview, load, quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from registry.db import session_scope
from registry.errors import PermissionDenied
from registry.service import allowed, require_role
from ui.console import current_user, engine, esc, flash, settings
from ui.queries import quarantine_report, recent_batches
from ui.uploads import save_upload

user = current_user()
if user is None:  # pragma: no cover
    st.stop()
assert user is not None

st.title("Load data")
st.caption(
    "Load a declared-facility registry or a shipment feed in the authority's own columns. "
    "A mapping profile names, for each canonical field, the source column; rows that fail "
    "validation are quarantined with every reason, never silently dropped."
)
if not allowed(user.role, "ingest"):
    st.warning(f"A {user.role} may not load data; analysts and supervisors can.")

try:
    import ingest as _ingest
except ImportError:  # pragma: no cover
    _ingest = None  # type: ignore[assignment]
load_file = getattr(_ingest, "load_file", None)
preview_fn = getattr(_ingest, "preview", None)
read_profile = getattr(_ingest, "read_profile", None)
if read_profile is None:
    try:
        from ingest.profile import read_profile
    except ImportError:  # pragma: no cover
        read_profile = None

data_dir = Path(settings().data_dir)
upload_dir = data_dir / "uploads"
profile_dir = data_dir / "profiles"

kind = st.radio("Kind of file", ["shipments", "facilities"], horizontal=True, key="ld_kind")
up = st.file_uploader(
    "Feed file (CSV, TSV, Parquet, Excel, JSON, NDJSON; .gz allowed)",
    type=["csv", "tsv", "txt", "parquet", "xlsx", "xls", "json", "ndjson", "jsonl", "gz"],
    key="ld_file",
)

profiles = sorted(profile_dir.glob("*.toml")) if profile_dir.is_dir() else []
try:
    import sample_data

    profiles += sorted(Path(sample_data.__file__).parent.glob("**/*.toml"))
except ImportError:  # pragma: no cover
    pass
choice = st.selectbox(
    "Mapping profile",
    [
        "(none: columns named as the canonical fields)",
        "(write one below)",
        *[str(p) for p in profiles],
    ],
    key="ld_profile_choice",
)
profile_text = ""
if choice == "(write one below)":
    profile_text = st.text_area(
        "Profile (TOML)",
        value='kind = "shipments"\n\n[columns]\nshipment_id = "Decl No"\ndate = "Date"\n\n[options]\ndate_format = "%d/%m/%Y"\n',
        height=220,
        key="ld_profile_text",
    )
elif choice.endswith(".toml"):
    profile_text = Path(choice).read_text(encoding="utf-8")
    st.code(profile_text, language="toml")


def _profile() -> Any:
    if not profile_text.strip():
        return None
    if read_profile is None:
        raise ValueError("mapping profiles are not available in this version")
    return read_profile(profile_text)


if up is not None:
    saved_key = f"ld_saved_{up.file_id}" if hasattr(up, "file_id") else f"ld_saved_{up.name}"
    if saved_key not in st.session_state:
        st.session_state[saved_key] = str(save_upload(upload_dir, up.name, up.getvalue()))
    path = Path(st.session_state[saved_key])
    st.caption(f"Saved as {esc(path.name)} in the upload folder.")
    c1, c2 = st.columns(2)
    if c1.button("Preview mapped columns", key="ld_preview"):
        if preview_fn is None:
            st.error(
                "Preview is not available in this version (the ingest package has not landed)."
            )
        else:
            try:
                st.session_state["ld_preview_result"] = preview_fn(path, kind, profile=_profile())
            except Exception as exc:
                st.session_state.pop("ld_preview_result", None)
                st.error(f"Cannot preview: {esc(exc)}")
    result = st.session_state.get("ld_preview_result")
    if result is not None:
        frame, mapping, problems = result
        st.caption("Mapping used (canonical field ← source column)")
        st.dataframe(
            pd.DataFrame([{"field": k, "source column": v} for k, v in mapping.items()]),
            hide_index=True,
            width="stretch",
        )
        for problem in problems:
            st.warning(esc(problem))
        st.caption("First rows, mapped")
        st.dataframe(
            frame.to_pandas() if hasattr(frame, "to_pandas") else frame,
            hide_index=True,
            width="stretch",
        )
    if c2.button("Load", type="primary", key="ld_load"):
        if load_file is None:
            st.error(
                "Loading is not available in this version (the ingest package has not landed)."
            )
        else:
            try:
                require_role(user, "ingest")
                report = load_file(
                    engine(), path, kind, profile=_profile(), loaded_by=user.username
                )
            except PermissionDenied as exc:
                st.error(f"Not allowed: {esc(exc)}")
            except Exception as exc:
                st.error(f"Not loaded: {esc(exc)}")
            else:
                st.session_state["ld_batch"] = report.batch_id
                summary = report.summary() if hasattr(report, "summary") else str(report)
                flash("success", f"Loaded {up.name}: {summary}")
                for warning in getattr(report, "warnings", []):
                    flash("warning", warning)
                st.rerun()

with session_scope(engine()) as session:
    batches = recent_batches(session)

st.subheader("Recent loads")
if not batches:
    st.info("Nothing has been loaded yet.")
    st.stop()
st.dataframe(pd.DataFrame(batches), hide_index=True, width="stretch")
ids = [b["id"] for b in batches]
newest = st.session_state.get("ld_batch")
pick = st.selectbox(
    "Quarantine report of load",
    ids,
    index=ids.index(newest) if newest in ids else 0,
    key=f"ld_batch_pick_{newest}",  # a new load selects its own report
)
with session_scope(engine()) as session:
    quarantine = quarantine_report(session, int(pick))
if quarantine:
    st.dataframe(
        pd.DataFrame([{**q, "raw": str(q["raw"])} for q in quarantine]),
        hide_index=True,
        width="stretch",
    )
else:
    st.success("No row of this load was quarantined.")
