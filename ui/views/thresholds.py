"""Detector thresholds (supervisors): each threshold in words, with its meaning, its value and
its default; a change applies to the next detection run and is audited."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from detection.catalogue import CATALOGUE, OUTLIER, detector_label, format_value
from detection.run import configs
from registry.db import session_scope
from registry.errors import RegistryError
from registry.queries import detector_settings
from registry.service import set_detector_setting
from ui.console import current_user, engine, esc, flash
from ui.show import table, when


def _words(detector: str) -> Any:
    return OUTLIER if detector == "outlier" else CATALOGUE.get(detector)


def _label(detector: str) -> str:
    return OUTLIER.label if detector == "outlier" else detector_label(detector)


def _input(f: dataclasses.Field, current: Any, label: str) -> Any:
    default = f.default
    help_text = f.metadata.get("description", "")
    if isinstance(default, bool):
        return st.checkbox(label, value=bool(current), help=help_text)
    if isinstance(default, int):
        return int(st.number_input(label, value=int(current), step=1, help=help_text))
    if isinstance(default, float):
        return float(st.number_input(label, value=float(current), format="%g", help=help_text))
    return st.text_input(label, value=str(current), help=help_text)


def _page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    st.title("Detector thresholds")
    st.caption(
        "Every threshold is a typed setting with a default. A supervisor's change applies to the "
        "next detection run and is recorded in the audit trail."
    )
    cfgs = configs()
    with session_scope(engine()) as session:
        saved = detector_settings(session)
    detector = st.selectbox("Detector", list(cfgs), format_func=_label, key="th_detector")
    cfg = cfgs[detector]
    words = _words(detector)
    overrides, by, at = saved.get(detector, ({}, None, None))
    if words is not None:
        st.markdown(f"*{esc(words.meaning)}*")
    if by:
        st.caption(f"Last changed by {esc(by)} on {when(at)} UTC")
    fields = dataclasses.fields(cfg)
    entries = words.thresholds if words is not None else {}
    labels = {
        f.name: entries[f.name].label
        if f.name in entries
        else f.name.replace("_", " ").capitalize()
        for f in fields
    }

    def shown(f: dataclasses.Field, value: Any) -> str:
        entry = entries.get(f.name)
        return format_value(entry, value) if entry is not None else str(value)

    table(
        {
            "threshold": labels[f.name],
            "in force": shown(f, overrides.get(f.name, f.default)),
            "default": shown(f, f.default),
            "meaning": f.metadata.get("description", ""),
        }
        for f in fields
    )
    with st.form(f"th_form_{detector}"):
        new_values = {
            f.name: _input(f, overrides.get(f.name, f.default), labels[f.name]) for f in fields
        }
        submitted = st.form_submit_button("Save thresholds", type="primary")
    if submitted:
        changed = {k: v for k, v in new_values.items() if v != getattr(cfg, k, None)}
        try:
            with session_scope(engine()) as session:
                set_detector_setting(session, user, detector, changed)
        except RegistryError as exc:
            st.error(f"Not allowed: {esc(exc)}")
        else:
            flash(
                "success",
                f"Thresholds of {_label(detector)} saved ({len(changed)} differ from the default).",
            )
            st.rerun()


_page()
