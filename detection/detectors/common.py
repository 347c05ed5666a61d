"""What every detector shares: the alert rows it returns, their evidence, and numbers put in
words without letting one absurd value (infinite, astronomically large) stop the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from detection.catalogue import Entry, format_value
from detection.config import config_json
from detection.prepare import Context
from detection.schema import ALERT_SCHEMA

__all__ = [
    "INTERNAL",
    "chance",
    "empty",
    "finish",
    "kg",
    "listed",
    "pct",
    "relation",
    "score",
    "substance_name",
]

# Columns a detector may add beside ALERT_SCHEMA: the trade relation (for the outlier signal)
# and the highest severity the evidence allows (a likely unit error, a lone missing record).
INTERNAL: dict[str, pl.DataType] = {"_relation": pl.String(), "_max_severity": pl.String()}

# Beyond this a number is shown as a bound: no cast of it can overflow.
_BIG = 1e12


def empty() -> pl.DataFrame:
    """A detector's zero-row result."""
    return pl.DataFrame(schema={**ALERT_SCHEMA, **INTERNAL})


def _finite(frame: pl.DataFrame, cols: list[str]) -> list[pl.Expr]:
    """Float columns with infinities and NaN as null, so the evidence stays valid JSON."""
    out = []
    for c in cols:
        if frame.schema[c] in (pl.Float64(), pl.Float32()):
            out.append(pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c))
        else:
            out.append(pl.col(c))
    return out


def finish(frame: pl.DataFrame, detector: str, cfg: Any, numbers: list[str]) -> pl.DataFrame:
    """Turn a detector's finding frame into alert rows (ALERT_SCHEMA plus INTERNAL); the
    evidence cites the thresholds in force, the numbers named and the records involved."""
    if frame.height == 0:
        return empty()
    evidence = pl.concat_str(
        [
            pl.lit(f'{{"detector":"{detector}","thresholds":{config_json(cfg)},"numbers":'),
            pl.struct(_finite(frame, numbers)).struct.json_encode(),
            pl.lit(',"records":'),
            pl.col("shipment_pks")
            .cast(pl.List(pl.String))
            .list.join(",")
            .map_batches(lambda s: "[" + s + "]", return_dtype=pl.String),
            pl.lit("}"),
        ]
    )
    out = frame.with_columns(
        pl.lit(detector).alias("detector"),
        pl.col("score").fill_nan(0.0).clip(0, 100).round(1),
        evidence.alias("evidence"),
        pl.lit(None, dtype=pl.String).alias("severity"),  # set from the bands after scoring
    )
    schema = {**ALERT_SCHEMA, **INTERNAL}
    for c, t in schema.items():
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=t).alias(c))
    return out.select([pl.col(c).cast(t) for c, t in schema.items()])


def score(cfg: Any, strength: pl.Expr) -> pl.Expr:
    """The detector's score weights applied to a strength in 0..1."""
    return cfg.score_floor + cfg.score_span * strength.fill_nan(0.0).clip(0, 1)


def listed(ctx: Context) -> pl.DataFrame:
    """Consignments of a listed substance whose quantity could be judged."""
    return ctx.consignments.filter(
        pl.col("substance").is_not_null(), pl.col("quantity_kg").is_not_null()
    )


def substance_name(ctx: Context) -> pl.Expr:
    """The listed substance's name for the sentence (its CAS when the name is unknown)."""
    return pl.col("substance_cas").replace_strict(
        ctx.substance_names, default=pl.col("substance_cas")
    )


def relation() -> pl.Expr:
    """The trade relation: exporter entity, importer entity, substance."""
    return pl.concat_str(["exp_key", "imp_key", "substance"], separator="|", ignore_nulls=True)


_KG = Entry("quantity", "kg")
_CHANCE = Entry("chance", "probability")


def _in_words(entry: Entry, drop: str = "") -> Callable[[pl.Series], pl.Series]:
    """A batch function writing each value as the evidence catalogue does for `entry`, with
    the suffix `drop` (a unit the sentence writes itself) left off."""

    def words(s: pl.Series) -> pl.Series:
        return pl.Series(
            [None if v is None else format_value(entry, v).removesuffix(drop) for v in s.to_list()],
            dtype=pl.String,
        )

    return words


def kg(col: str | pl.Expr) -> pl.Expr:
    """A quantity in kg for a sentence, rounded for reading as detection.catalogue does it
    (whole kg with thousands separators from 100 kg up, else one decimal); the sentence
    writes the unit."""
    e = pl.col(col) if isinstance(col, str) else col
    safe = e.cast(pl.Float64).fill_nan(None).clip(-_BIG, _BIG)
    return (
        pl.when(safe.abs() < _BIG)
        .then(safe.map_batches(_in_words(_KG, " kg"), return_dtype=pl.String))
        .otherwise(pl.lit("more than 1e12"))
    )


def pct(ratio: pl.Expr) -> pl.Expr:
    """A ratio as a whole percentage for a sentence ("350"); astronomically large ratios
    (a declaration of almost nothing) read "more than 1000000" instead of failing a cast."""
    x = (ratio * 100).fill_nan(None).clip(-_BIG, _BIG).round(0)
    return (
        pl.when(x.abs() <= 1e6)
        .then(x.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(pl.lit("more than 1000000"))
    )


def chance(col: str) -> pl.Expr:
    """A probability for a sentence as detection.catalogue words it ("about 1 in 52,000")."""
    return pl.col(col).map_batches(_in_words(_CHANCE), return_dtype=pl.String)
