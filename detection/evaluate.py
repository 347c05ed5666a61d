"""Score alerts against a sample's answer key: recall per pattern, precision@K, alerts per 10k.

An alert finds an anomaly when they share a shipment record, or (for a declared quantity
anomaly) when the alert is about the same facility and substance.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    per_pattern: pl.DataFrame  # pattern, injected, found, recall
    injected: int
    alerts: int
    records: int
    precision_at_k: float
    alerts_per_10k: float
    matches: pl.DataFrame  # alert index -> anomaly_id

    def table(self) -> str:
        """A Markdown table of the figures."""
        lines = ["| pattern | injected | found | recall |", "|---|---:|---:|---:|"]
        for r in self.per_pattern.iter_rows(named=True):
            lines.append(f"| {r['pattern']} | {r['injected']} | {r['found']} | {r['recall']:.2f} |")
        lines.append(
            f"\nalerts: {self.alerts} over {self.records} records "
            f"({self.alerts_per_10k:.1f} per 10,000); precision among the top {self.injected}: "
            f"{self.precision_at_k:.2f}"
        )
        return "\n".join(lines)


def evaluate(alerts: pl.DataFrame, shipments: pl.DataFrame, answer_key: pl.DataFrame) -> Evaluation:
    """`alerts` in ALERT_SCHEMA (sorted by score), `shipments` with id and shipment_id."""
    a = alerts.with_row_index("alert").select(
        "alert", "detector", "shipment_pks", "facility_id", "substance_cas", "score"
    )
    ids = shipments.select(pl.col("id"), pl.col("shipment_id"))
    by_ship = (
        a.select("alert", pl.col("shipment_pks").alias("id"))
        .explode("id")
        .join(ids, on="id")
        .join(
            answer_key.select(
                "anomaly_id", pl.col("shipment_ids").str.split(";").alias("shipment_id")
            ).explode("shipment_id"),
            on="shipment_id",
        )
        .select("alert", "anomaly_id")
    )
    dqe = answer_key.filter(pl.col("pattern") == "declared_quantity_exceeded")
    by_fac = (
        a.filter(pl.col("detector") == "declared_quantity_exceeded")
        .join(
            dqe.select("anomaly_id", "facility_id", "substance_cas"),
            on=["facility_id", "substance_cas"],
        )
        .select("alert", "anomaly_id")
    )
    matches = pl.concat([by_ship, by_fac]).unique()
    found = matches.select("anomaly_id").unique().with_columns(pl.lit(True).alias("hit"))
    per = (
        answer_key.join(found, on="anomaly_id", how="left")
        .group_by("pattern")
        .agg(pl.len().alias("injected"), pl.col("hit").fill_null(False).sum().alias("found"))
        .with_columns((pl.col("found") / pl.col("injected")).alias("recall"))
        .sort("pattern")
    )
    k = answer_key.height
    top = a.sort("score", descending=True, maintain_order=True).head(k)["alert"]
    true_alerts = set(matches["alert"].to_list())
    p_at_k = sum(1 for x in top.to_list() if x in true_alerts) / max(1, min(k, len(top)))
    n = shipments.height
    return Evaluation(per, k, alerts.height, n, p_at_k, alerts.height / max(1, n) * 10_000, matches)
