"""Detector thresholds (supervisors): each threshold with its description; changes are audited."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import select

from registry.db import session_scope
from registry.errors import RegistryError
from registry.models import DetectorSetting
from registry.service import set_detector_setting
from ui.console import current_user, engine, esc, flash

user = current_user()
if user is None:  # pragma: no cover
    st.stop()
assert user is not None

st.title("Detector thresholds")
st.caption(
    "Every threshold is a typed setting with a default. A supervisor's change applies to the next "
    "`pwatch detect` run and is recorded in the audit trail."
)


def _configs() -> dict[str, Any]:
    """detector name -> default config object, from the detection package as far as it exists."""
    try:
        from detection.run import configs as detection_configs

        return dict(detection_configs())
    except ImportError:  # pragma: no cover - detection not installed
        pass
    try:
        from detection import config as cfgmod
    except ImportError:  # pragma: no cover
        return {}
    out = {}
    for name in getattr(cfgmod, "__all__", []):
        cls = getattr(cfgmod, name)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and name.endswith("Config"):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name[: -len("Config")]).lower()
            out[snake] = cls()
    return out


configs = _configs()
with session_scope(engine()) as session:
    saved = {
        r.detector: (dict(r.values), r.updated_by, r.updated_at)
        for r in session.scalars(select(DetectorSetting))
    }

if not configs and not saved:
    st.info("No detector configuration is available.")
    st.stop()

names = sorted(set(configs) | set(saved))
detector = st.selectbox("Detector", names, key="th_detector")
cfg = configs.get(detector)
overrides, by, at = saved.get(detector, ({}, None, None))
try:
    from detection.detectors import DETECTORS

    about = {d.name: d.description for d in DETECTORS}
except ImportError:  # pragma: no cover
    about = {}
if about.get(detector):
    st.markdown(f"*{esc(about[detector])}*")
if by:
    st.caption(f"Last changed by {esc(by)} on {at:%Y-%m-%d %H:%M} UTC")

fields = dataclasses.fields(cfg) if cfg is not None and dataclasses.is_dataclass(cfg) else []
new_values: dict[str, Any] = {}
if fields:
    rows = []
    for f in fields:
        default = getattr(cfg, f.name)
        current = overrides.get(f.name, default)
        rows.append(
            {
                "threshold": f.name,
                "current": current,
                "default": default,
                "description": f.metadata.get("description", ""),
            }
        )
    st.dataframe(pd.DataFrame(rows).astype(str), hide_index=True, width="stretch")
    with st.form(f"th_form_{detector}"):
        for f in fields:
            default = getattr(cfg, f.name)
            current = overrides.get(f.name, default)
            help_text = f.metadata.get("description", "")
            if isinstance(default, bool):
                new_values[f.name] = st.checkbox(f.name, value=bool(current), help=help_text)
            elif isinstance(default, int):
                new_values[f.name] = int(
                    st.number_input(f.name, value=int(current), step=1, help=help_text)
                )
            elif isinstance(default, float):
                new_values[f.name] = float(
                    st.number_input(f.name, value=float(current), format="%g", help=help_text)
                )
            else:
                new_values[f.name] = st.text_input(f.name, value=str(current), help=help_text)
        submitted = st.form_submit_button("Save thresholds", type="primary")
else:
    with st.form(f"th_form_{detector}"):
        raw = st.text_area(
            "Overrides (JSON object)",
            value=json.dumps(overrides, indent=1),
            key=f"th_json_{detector}",
        )
        submitted = st.form_submit_button("Save thresholds", type="primary")
    try:
        new_values = json.loads(raw) if submitted else {}
    except json.JSONDecodeError as exc:
        st.error(f"Not valid JSON: {esc(exc)}")
        submitted = False

if submitted:
    changed = {k: v for k, v in new_values.items() if cfg is None or v != getattr(cfg, k, None)}
    try:
        with session_scope(engine()) as session:
            set_detector_setting(session, user, detector, changed)
    except RegistryError as exc:
        st.error(f"Not allowed: {esc(exc)}")
    else:
        flash(
            "success", f"Thresholds of {detector} saved ({len(changed)} differ from the default)."
        )
        st.rerun()
