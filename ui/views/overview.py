"""Overview for policymakers (read-only): the findings first, then what was declared, what
moved, what was caught and where it went; refreshed whenever the data changes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from detection.catalogue import detector_label
from registry.db import session_scope
from registry.overview import (
    load_snapshot,
    overview_summary,
    partial_years,
    save_snapshot,
    snapshot_path,
)
from registry.queries import data_version
from registry.words import country_name, status_word
from ui.console import engine, settings
from ui.show import when
from ui.worldmap import flow_map


@st.cache_resource
def _store() -> dict[str, Any]:
    """The figures per (database, data version), shared by every session of the server."""
    return {"lock": threading.Lock(), "ready": {}, "latest": {}, "running": {}}


def _snapshot_path(url: str) -> Path:
    return snapshot_path(Path(settings().data_dir), url)


def _compute(store: dict[str, Any], url: str, version: tuple[Any, ...]) -> None:
    try:
        with session_scope(engine()) as session:
            result: Any = overview_summary(session)
        save_snapshot(_snapshot_path(url), version, result)
    except Exception as exc:  # shown by the page that waits for it
        result = exc
    with store["lock"]:
        store["ready"][(url, version)] = result
        if not isinstance(result, Exception):
            store["latest"][url] = result
        store["running"].pop(url, None)
        for key in [k for k in store["ready"] if k[0] == url and k[1] != version]:
            del store["ready"][key]  # keep the newest figures only


def _summary(url: str, version: tuple[Any, ...]) -> tuple[dict[str, Any], bool]:
    """(figures, whether they are of the current data). Recomputed when the data changes (the
    version is the key), never on a timer; meanwhile the previous figures are shown, so the
    page stays quick after a load or a detection run (the first figures are waited for)."""
    store = _store()
    with store["lock"]:
        if url not in store["latest"]:  # a server started later: the figures kept on disk
            kept = load_snapshot(_snapshot_path(url))
            if kept is not None:
                store["latest"][url] = kept[1]
                if tuple(kept[0]) == tuple(version):
                    store["ready"][(url, version)] = kept[1]
        ready = store["ready"].get((url, version))
        previous = store["latest"].get(url)
        running = store["running"].get(url)
        if ready is None and (running is None or running[0] != version):
            thread = threading.Thread(target=_compute, args=(store, url, version), daemon=True)
            store["running"][url] = (version, thread)
            thread.start()
            running = store["running"][url]
    if ready is None and previous is None and running is not None:
        with st.spinner("Summarising the registry…"):
            running[1].join()
        ready = store["ready"].get((url, version))
    if isinstance(ready, Exception):
        raise ready
    if ready is not None:
        return ready, True
    return previous, False


def _year_label(year: int, partial: dict[int, str]) -> str:
    return f"{year} ({partial[year]})" if year in partial else str(year)


def findings(data: dict[str, Any], cells: pl.DataFrame) -> None:
    alerts = pl.DataFrame(data["alerts"], schema={"detector": pl.String, "status": pl.String, "severity": pl.String, "alerts": pl.Int64})  # fmt: skip
    open_ = alerts.filter(pl.col("status").is_in(["new", "assigned", "in_review", "pending_escalation", "pending_dismissal"]))  # fmt: skip
    critical = int(open_.filter(pl.col("severity") == "critical")["alerts"].sum())
    escalated = int(alerts.filter(pl.col("status") == "escalated")["alerts"].sum())
    pending = int(alerts.filter(pl.col("status") == "pending_escalation")["alerts"].sum())
    flagged_t = sum(c["open_kg"] for c in data["caught"]) / 1000
    m = st.columns(4)
    m[0].metric(
        "Open critical alerts",
        f"{critical:,}",
        help=f"of {int(open_['alerts'].sum()):,} open alerts",
    )
    m[1].metric(
        "Challenge inspections",
        f"{escalated:,}",
        help=f"{pending:,} more await a second official's approval",
    )
    m[2].metric(
        "Tonnes flagged",
        f"{flagged_t:,.1f}",
        help="Consignments that open alerts rest on (export side, each counted once)",
    )
    m[3].metric(
        "States concerned",
        f"{len(data['concerned']):,}",
        help="Countries of the parties in open alerts",
    )
    if data["concerned"]:
        st.caption(
            "States concerned by open alerts: "
            + ", ".join(sorted(country_name(c) for c in data["concerned"]))
        )
    exp = cells.filter(pl.col("export_side"))
    c = st.columns(4)
    c[0].metric("Declared facilities", f"{data['facilities']:,}")
    c[1].metric(
        "Consignments",
        f"{int(exp['records'].sum()):,}",
        help="Each counted once, by its export record",
    )
    if data["screened"]:
        c[2].metric(
            "Listed precursors moved (t)",
            f"{exp['listed_kg'].sum() / 1000:,.1f}",
            help=f"of {exp['kg'].sum() / 1000:,.1f} t of all chemicals in the feeds, each consignment counted once",
        )
    else:
        c[2].metric(
            "All chemicals moved (t)",
            f"{exp['kg'].sum() / 1000:,.1f}",
            help="Run detection to tell listed precursors apart",
        )
    imports = cells.filter(~pl.col("export_side"))["kg"].sum() / 1000
    c[3].metric(
        "Import records, the check (t)",
        f"{imports:,.1f}",
        help="What the importing countries recorded of the same consignments; not added to the totals",
    )


def yearly(data: dict[str, Any], cells: pl.DataFrame, partial: dict[int, str]) -> None:
    st.subheader("Declared, moved and caught, per year")
    value = "listed_kg" if data["screened"] else "kg"
    exp = cells.filter(pl.col("export_side"))
    moved = exp.group_by(pl.col("month").str.slice(0, 4).cast(pl.Int64).alias("year")).agg(
        pl.col(value).sum().alias("kg")
    )
    caught = pl.DataFrame(
        data["caught"],
        schema={"month": pl.String, "records": pl.Int64, "kg": pl.Float64, "open_kg": pl.Float64},
    )
    caught = caught.group_by(pl.col("month").str.slice(0, 4).cast(pl.Int64).alias("year")).agg(
        pl.col("kg").sum()
    )
    declared = pl.DataFrame(data["declared"], schema={"year": pl.Int64, "kg": pl.Float64})
    years = pl.concat([
        declared.with_columns(pl.lit("declared").alias("measure")),
        moved.with_columns(pl.lit("moved").alias("measure")),
        caught.with_columns(pl.lit("caught").alias("measure")),
    ]).with_columns(
        (pl.col("kg") / 1000).alias("tonnes"),
        pl.col("year").map_elements(lambda y: _year_label(int(y), partial), return_dtype=pl.String).alias("year"),
    )  # fmt: skip
    order = ["declared", "moved", "caught"]
    base = alt.Chart(years).encode(
        x=alt.X("year:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("measure:N", sort=order),
        y=alt.Y("tonnes:Q", title="tonnes"),
        tooltip=["year", "measure", alt.Tooltip("tonnes:Q", format=",.1f")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "measure:N",
            sort=order,
            title=None,
            scale=alt.Scale(domain=order, range=["#4c78a8", "#9ecae9", "#e45756"]),
        )
    )
    labels = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("tonnes:Q", format=",.1f"))
    st.altair_chart((bars + labels).properties(height=260), width="stretch")
    imports_t = cells.filter(~pl.col("export_side"))[value].sum() / 1000
    st.caption(
        "Declared: the facilities' declared annual quantities. Moved: "
        + ("listed precursors (by the screen, whatever name they travel under)" if data["screened"] else "every chemical (run detection to tell listed precursors apart)")
        + ", each consignment counted once by its export record. Caught: consignments an alert rests on. "
        + f"The importing countries' own records of the same period add up to {imports_t:,.1f} t (the check, not added)."
        + (" Years marked with dates are covered only in part." if partial else "")
    )  # fmt: skip


def flows(data: dict[str, Any], cells: pl.DataFrame) -> None:
    value = "listed_kg" if data["screened"] else "kg"
    n = "listed_records" if data["screened"] else "records"
    f = (
        cells.filter(pl.col("export_side") & (pl.col(value) > 0))
        .group_by("from", "to")
        .agg((pl.col(value).sum() / 1000).alias("tonnes"), pl.col(n).sum().alias("consignments"))
        .sort("tonnes", descending=True)
        .head(60)
        .with_columns(
            pl.col("from").map_elements(country_name, return_dtype=pl.String).alias("from_name"),
            pl.col("to").map_elements(country_name, return_dtype=pl.String).alias("to_name"),
        )
    )
    st.subheader("Where listed precursors went" if data["screened"] else "Where chemicals went")
    if f.height == 0:
        st.info("No shipments loaded yet.")
        return
    st.vega_lite_chart(flow_map(f), width="stretch")
    st.caption(f"The {f.height} largest flows between countries, export side, each consignment counted once; line width by tonnes. Map: country outlines and points from the countryinfo package (Natural Earth boundaries), drawn offline.")  # fmt: skip


def alerts_chart(data: dict[str, Any]) -> None:
    st.subheader("Alerts by what was found and where they stand")
    alerts = pl.DataFrame(data["alerts"], schema={"detector": pl.String, "status": pl.String, "severity": pl.String, "alerts": pl.Int64})  # fmt: skip
    if alerts.height == 0:
        st.info("No alerts yet.")
        return
    shown = alerts.group_by("detector", "status").agg(pl.col("alerts").sum()).with_columns(
        pl.col("detector").map_elements(detector_label, return_dtype=pl.String).alias("what was found"),
        pl.col("status").map_elements(status_word, return_dtype=pl.String).alias("status"),
    )  # fmt: skip
    st.altair_chart(
        alt.Chart(shown)
        .mark_bar()
        .encode(
            y=alt.Y("what was found:N", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("alerts:Q", title="alerts"),
            color=alt.Color("status:N", title="status"),
            tooltip=["what was found", "status", "alerts"],
        )
        .properties(height=300),
        width="stretch",
    )


def _requests() -> None:
    """Requests for clarification sent to states: how many await an answer, how many are
    overdue (computed on every view: a deadline passes without any change of data)."""
    from registry.clarifications import open_count, overdue_requests

    with session_scope(engine()) as session:
        waiting = open_count(session)
        overdue = sum(len(v) for v in overdue_requests(session, None).values())
    c = st.columns(4)
    c[0].metric("Requests for clarification awaiting an answer", f"{waiting:,}")
    c[1].metric(
        "Requests overdue",
        f"{overdue:,}",
        help="Sent to a state and not answered by the deadline (10 days unless configured)",
    )
    if overdue:
        st.error(f"{overdue} request(s) for clarification are overdue.")


def _page() -> None:
    st.title("Overview")
    with session_scope(engine()) as session:
        version = data_version(session)
    data, fresh = _summary(settings().database_url, version)
    if not fresh:
        st.info(
            "New data arrived: the figures below are being brought up to date; reload the page in a moment."
        )
    first, last = data["period"]
    partial = partial_years(first, last)
    st.caption(
        (f"Shipments from {when(first)} to {when(last)}" if first else "No shipments loaded yet")
        + f" · figures as of {when(data['detected_at']) or 'no detection run yet'} UTC (last detection)"
        + (f" · last load {when(data['loaded_at'])} UTC" if data["loaded_at"] else "")
    )
    cells = pl.DataFrame(data["cells"], schema={"month": pl.String, "from": pl.String, "to": pl.String, "export_side": pl.Boolean, "records": pl.Int64, "kg": pl.Float64, "listed_kg": pl.Float64, "listed_records": pl.Int64})  # fmt: skip
    findings(data, cells)
    _requests()
    flows(data, cells)
    yearly(data, cells, partial)
    alerts_chart(data)
    with st.expander("How the regime works"):
        st.markdown(
            "States declare the facilities that produce, process or trade listed fentanyl "
            "precursors and how much they expect to handle each year. Customs records and "
            "pre-export notifications flow in from national authorities. The system reconciles "
            "each export with its arrival, compares what moves with what was declared, screens "
            "product names and structures for disguised or designer precursors, and raises an "
            "alert with the numbers behind it. Inspectors triage each alert on the record; when "
            "the grounds hold, a second official approves a challenge-inspection request to the "
            "facility, as under the Chemical Weapons Convention."
        )


_page()
