"""Cases: alerts that tell one story, and acting on several alerts under the triage rules.

Two alerts belong to one case when they rest on a shared shipment record, on two records of
one consignment (the same consignment reference), or on the same facility, substance and
year. Cases are the connected groups of that relation; a case is named after its lowest alert
number, so it keeps its name as alerts join it. Acting on a case (or on a selection of
alerts) is `registry.service.act` on each alert, in one transaction, under the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.errors import RegistryError, StaleAlert
from registry.models import AlertRow, AlertShipment, ShipmentRecord, User
from registry.service import ACTIONS, Action, act, available_actions

__all__ = ["Outcome", "act_on_alerts", "action_states", "case_index", "cases_of"]

_INDEX_SCHEMA = {"alert_id": pl.Int64(), "case_id": pl.Int64(), "case_size": pl.UInt32()}


def case_index(session: Session) -> pl.DataFrame:
    """Every alert with its case: (alert_id, case_id, case_size); case_id is the lowest alert
    number of the case, case_size how many alerts it holds."""
    alerts = pl.DataFrame(
        [tuple(r) for r in session.execute(select(AlertRow.id, AlertRow.facility_id, AlertRow.substance_cas))],
        schema=[("alert_id", pl.Int64()), ("facility_id", pl.String()), ("substance_cas", pl.String())],
        orient="row",
    )  # fmt: skip
    if alerts.height == 0:
        return pl.DataFrame(schema=_INDEX_SCHEMA)
    links = pl.DataFrame(
        [
            tuple(r)
            for r in session.execute(
                select(
                    AlertShipment.alert_id,
                    AlertShipment.shipment_pk,
                    ShipmentRecord.consignment_ref,
                    ShipmentRecord.date,
                ).join(ShipmentRecord, ShipmentRecord.id == AlertShipment.shipment_pk)
            )
        ],
        schema=[
            ("alert_id", pl.Int64()),
            ("shipment_pk", pl.Int64()),
            ("consignment_ref", pl.String()),
            ("date", pl.Date()),
        ],
        orient="row",
    )
    years = links.group_by("alert_id").agg(pl.col("date").min().dt.year().alias("year"))
    fsy = (
        alerts.join(years, on="alert_id", how="left")
        .filter(pl.col("facility_id").is_not_null() & pl.col("substance_cas").is_not_null())
        .select(
            "alert_id",
            pl.concat_str(
                [pl.lit("f"), "facility_id", "substance_cas", pl.col("year").cast(pl.String)],
                separator="|",
                ignore_nulls=True,
            ).alias("key"),
        )
    )
    keys = pl.concat(
        [
            links.select("alert_id", ("s|" + pl.col("shipment_pk").cast(pl.String)).alias("key")),
            links.filter(pl.col("consignment_ref").is_not_null()).select(
                "alert_id", ("c|" + pl.col("consignment_ref")).alias("key")
            ),
            fsy,
        ]
    ).unique()
    labels = _components(alerts.select("alert_id"), keys)
    return labels.with_columns(pl.len().over("case_id").alias("case_size")).select(
        [pl.col(c).cast(t) for c, t in _INDEX_SCHEMA.items()]
    )


def _components(alerts: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Connected groups of alerts sharing a key, by label propagation (each alert takes the
    lowest label among the alerts it shares a key with, until nothing changes)."""
    label = alerts.with_columns(pl.col("alert_id").alias("case_id"))
    for _ in range(200):  # each round at least halves nothing: bounded by the longest chain
        per_key = keys.join(label, on="alert_id").group_by("key").agg(pl.col("case_id").min())
        best = (
            keys.join(per_key, on="key")
            .group_by("alert_id")
            .agg(pl.col("case_id").min().alias("_new"))
        )
        moved = label.join(best, on="alert_id", how="left").with_columns(
            pl.min_horizontal("case_id", pl.col("_new").fill_null(pl.col("case_id"))).alias("_new")
        )
        if moved.filter(pl.col("_new") != pl.col("case_id")).height == 0:
            break
        label = moved.select("alert_id", pl.col("_new").alias("case_id"))
    return label


def cases_of(index: pl.DataFrame, alert_ids: list[int]) -> list[int]:
    """The case ids of these alerts, in order of first appearance."""
    found = index.filter(pl.col("alert_id").is_in(alert_ids))
    order = {a: i for i, a in enumerate(alert_ids)}
    pairs = sorted(found.select("alert_id", "case_id").iter_rows(), key=lambda r: order[r[0]])
    return list(dict.fromkeys(c for _, c in pairs))


def action_states(alert: AlertRow, user: User) -> dict[str, str | None]:
    """For each triage action: None when the user can take it on this alert now, else the
    reason in the service layer's own words (the rules are checked there, not here)."""
    from registry.service import _check  # the one place the rules live

    now = set(available_actions(alert, user))
    out: dict[str, str | None] = {}
    for action in ACTIONS:
        if action in now:
            out[action] = None
            continue
        probe = Action(action, reason_code="other", note="x", assignee=user.username)
        try:
            _check(alert, user, probe)
            out[action] = None
        except RegistryError as exc:
            out[action] = str(exc)
    return out


@dataclass(frozen=True)
class Outcome:
    """What happened to one alert of a case or selection."""

    alert_id: int
    done: bool
    status: str
    message: str


def act_on_alerts(
    session: Session,
    user: User,
    seen: dict[int, int],
    req: Action,
) -> list[Outcome]:
    """Apply one action to every alert in `seen` (alert id -> version the user saw) where the
    rules allow it now; the others are left as they are, with the reason. One transaction:
    if any alert changed since the user saw it, StaleAlert is raised and nothing is saved."""
    out: list[Outcome] = []
    for alert_id in sorted(seen):
        row = session.get(AlertRow, alert_id, populate_existing=True)
        if row is None:
            out.append(Outcome(alert_id, False, "", f"there is no alert {alert_id}"))
            continue
        if row.version != seen[alert_id]:
            raise StaleAlert(
                f"alert {alert_id} was changed by someone else while you looked at it "
                f"(now {row.status}, version {row.version}); reload and try again"
            )
        why = action_states(row, user).get(req.action)
        if why is not None:
            out.append(Outcome(alert_id, False, row.status, why))
            continue
        done = act(session, alert_id, user, req, expected_version=seen[alert_id])
        out.append(Outcome(alert_id, True, done.status, ""))
    return out


def case_story(members: list[dict[str, Any]]) -> str:
    """The combined story of a case: each alert's finding, most serious first, one per line."""
    from detection.catalogue import detector_label

    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    ranked = sorted(members, key=lambda m: (order.get(m["severity"], 9), -float(m["score"])))
    return "\n".join(
        f"{detector_label(m['detector'])} (alert {m['alert_id']}): {m['summary']}" for m in ranked
    )
