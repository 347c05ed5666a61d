"""The registered detectors on Apache Spark: a task per few listed substances, polars inside.

The context is prepared once (detection.prepare: reference date, screening of distinct
texts, entity clustering across substances, mirror pairing, consignments, each importing
country's coverage): these are the whole feed's statistics. The detectors whose findings
depend only on one listed substance's consignments, their records and their mirror pairs
then run on Spark, grouped by substance, a few to a task (`applyInArrow`, each group an Arrow table turned
into a polars context), with the small whole-feed frames (declarations, coverage, entities)
shipped to every task in the function's closure. Every other detector, and any detector
this module does not name, needs the whole feed and runs here on the driver. The findings
meet in `detection.run.combine_findings`, as the local engine's do, so the alerts are the
same (tests/detection/test_spark_engine.py). pyspark is imported only when used.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import polars as pl

from detection.detectors import DETECTORS, Detector
from detection.detectors.common import INTERNAL
from detection.prepare import Context
from detection.run import combine_findings, configs
from detection.schema import ALERT_SCHEMA

__all__ = ["BY_SUBSTANCE", "SparkDetectors", "spark_session"]

# Detectors whose findings for one listed substance read only that substance's consignments
# (`listed`), their records and their mirror pairs, plus the declarations and the reference
# date. The others read the whole feed (a party's trade in every substance, texts used for
# other goods, an importer's misses across substances, prices of every product) and run on
# the driver; so does a detector added to the registry until it is named here.
BY_SUBSTANCE = frozenset(
    {
        "declared_quantity_exceeded",
        "unusual_shipment_size",
        "shipment_burst",
        "split_series",
        "mirror_quantity_gap",
        "end_user_reexport",
        "shared_address_network",
        "diverted_consignment",
    }
)

_FRAMES = ("consignments", "pairs", "shipments")  # what one substance's task receives
_OUT: dict[str, pl.DataType] = {**ALERT_SCHEMA, **INTERNAL, "_detector_index": pl.Int64()}
_SPARK_TYPES = {pl.String(): "string", pl.Float64(): "double", pl.Int64(): "bigint"}


def spark_session(
    master: str = "local[2]",
    conf: Mapping[str, str] | None = None,
    app_name: str = "precursor-watch detect",
) -> Any:
    """A Spark session on `master` (local[N] or a cluster URL) with the settings in `conf`
    (e.g. spark.driver.memory, which counts only before Spark's JVM starts); its workers run
    this Python (local mode) or must have precursor-watch installed (a cluster)."""
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    if master.startswith("local"):
        # Local workers are this interpreter, so they import the same detection package.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _portable(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns Spark's Arrow reader takes: unsigned integers as Int64, null-typed as text,
    categoricals as text (each is cast back to its dtype inside the task)."""
    out = []
    for c, t in frame.schema.items():
        if t.is_unsigned_integer():
            out.append(pl.col(c).cast(pl.Int64))
        elif t in (pl.Null(), pl.Categorical()) or isinstance(t, pl.Enum):
            out.append(pl.col(c).cast(pl.String))
        else:
            out.append(pl.col(c))
    return frame.select(out)


def _arrow(frame: pl.DataFrame) -> Any:
    """The frame as an Arrow table with plain (not large, not view) strings and lists."""
    import pyarrow as pa

    def plain(t: Any) -> Any:
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pa.string()
        if pa.types.is_large_list(t) or pa.types.is_list(t):
            return pa.list_(plain(t.value_type))
        return t

    table = frame.to_arrow()
    schema = pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema])
    return table.cast(schema)


def _buckets(cons: pl.DataFrame) -> pl.DataFrame:
    """Each listed substance's task (`_part`): substances two (or three) to a task, the
    largest with the smallest. Never one alone unless the feed has one: polars divides by a
    column that a one-row frame joined in through its reciprocal (one ulp off a true
    division), so a task of one substance would round some evidence numbers differently
    from the whole feed, whose per-substance frames have a row per substance."""
    counts = cons.group_by("substance").agg(pl.len().alias("_n")).sort(["_n", "substance"])
    n = counts.height
    pair = [min(i, n - 1 - i) for i in range(n)]
    if n % 2 and n > 1:
        pair[n // 2] -= 1  # the middle one joins a pair
    return counts.select("substance", pl.Series("_part", pair, dtype=pl.Int64))


def _packed(ctx: Context) -> tuple[pl.DataFrame, dict[str, dict[str, pl.DataType]]]:
    """The listed consignments, their mirror pairs and their records in one long frame keyed
    by task (`_part`), each frame's columns prefixed, `_row` its order in the context."""
    cons = ctx.consignments.filter(pl.col("substance").is_not_null())
    cons = cons.join(_buckets(cons), on="substance", how="left", maintain_order="left")
    part = cons.select("cons_id", "_part")
    frames = {
        "consignments": cons,
        "pairs": ctx.pairs.join(
            part.rename({"cons_id": "x_id"}), on="x_id", how="inner", maintain_order="left"
        ),
        "shipments": ctx.shipments.join(part, on="cons_id", how="inner", maintain_order="left"),
    }
    schemas: dict[str, dict[str, pl.DataType]] = {}
    long = []
    for name, f in frames.items():
        schemas[name] = dict(f.drop("_part").schema)
        long.append(
            _portable(f.drop("_part"))
            .select(pl.all().name.prefix(f"{name}__"))
            .with_columns(
                f["_part"],
                pl.lit(name).alias("_frame"),
                pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
            )
        )
    return pl.concat(long, how="diagonal_relaxed"), schemas


def _task(
    ctx: Context,
    detectors: list[tuple[int, Detector]],
    cfgs: Mapping[str, Any],
    schemas: dict[str, dict[str, pl.DataType]],
) -> Callable[[Any], Any]:
    """The function one substance's group runs: unpack its frames into a context (the
    whole-feed frames from the closure) and run the detectors on it."""
    base = replace(
        ctx, shipments=ctx.shipments.clear(), consignments=ctx.consignments.clear(),
        pairs=ctx.pairs.clear(),
    )  # fmt: skip

    def run(table: Any) -> Any:
        long = pl.from_arrow(table)
        assert isinstance(long, pl.DataFrame)
        own = {}
        for name in _FRAMES:
            prefix = f"{name}__"
            f = long.filter(pl.col("_frame") == name).sort("_row")
            own[name] = f.select(
                pl.col(prefix + c).cast(t).alias(c) for c, t in schemas[name].items()
            )
        part = replace(
            base,
            consignments=own["consignments"],
            pairs=own["pairs"],
            shipments=own["shipments"],
        )
        found = [
            d.run(part, cfgs[d.name]).with_columns(pl.lit(i, dtype=pl.Int64).alias("_detector_index"))
            for i, d in detectors
        ]  # fmt: skip
        out = pl.concat(found) if found else pl.DataFrame(schema=_OUT)
        return _arrow(out.select(pl.col(c).cast(t) for c, t in _OUT.items()))

    return run


def _out_ddl() -> str:
    cols = [
        f"`{c}` {'array<bigint>' if c == 'shipment_pks' else _SPARK_TYPES[t]}"
        for c, t in _OUT.items()
    ]
    return ", ".join(cols)


class SparkDetectors:
    """`run_detectors` on Spark: same arguments, same alert frame. One session per instance
    (started on first use on `master`, or the one given)."""

    mode = "spark"  # what the registry records as the detection run's mode

    def __init__(
        self, master: str = "local[2]", session: Any = None, conf: Mapping[str, str] | None = None
    ) -> None:
        self.master = master
        self.conf = dict(conf or {})
        self._session = session
        self.phases: dict[str, float] = {}

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = spark_session(self.master, self.conf)
        return self._session

    def __call__(
        self,
        ctx: Context,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        detectors: tuple[Detector, ...] = DETECTORS,
        progress: Callable[[str, int, float], None] | None = None,
        notes: list[pl.DataFrame] | None = None,
    ) -> pl.DataFrame:
        cfgs = configs(overrides)
        spread = [(i, d) for i, d in enumerate(detectors) if d.name in BY_SUBSTANCE]
        parts: list[pl.DataFrame | None] = [None] * len(detectors)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # pyspark's note on pandas 3, which this never uses
            warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
            found = self._on_spark(ctx, spread, cfgs) if spread else pl.DataFrame(schema=_OUT)
        self.phases["spark"] = time.perf_counter() - t0
        if progress and spread:
            progress(f"spark stage ({len(spread)} detectors by substance)", found.height, self.phases["spark"])  # fmt: skip
        for i, _ in spread:
            # A task's findings in a stable order: the same rows whatever task ran them.
            parts[i] = found.filter(pl.col("_detector_index") == i).drop("_detector_index")
            parts[i] = parts[i].sort("key")  # type: ignore[union-attr]
        for i, d in enumerate(detectors):
            if parts[i] is None:
                t1 = time.perf_counter()
                parts[i] = d.run(ctx, cfgs[d.name])
                if progress:
                    progress(d.name, parts[i].height, time.perf_counter() - t1)  # type: ignore[union-attr]
        return combine_findings(ctx, [p for p in parts if p is not None], cfgs, notes=notes)

    def _on_spark(
        self, ctx: Context, spread: Iterable[tuple[int, Detector]], cfgs: Mapping[str, Any]
    ) -> pl.DataFrame:
        long, schemas = _packed(ctx)
        if long.height == 0:
            return pl.DataFrame(schema=_OUT)
        sdf = self.session.createDataFrame(_arrow(long))
        run = _task(ctx, list(spread), cfgs, schemas)
        result = sdf.groupBy("_part").applyInArrow(run, schema=_out_ddl()).toArrow()
        out = pl.from_arrow(result)
        assert isinstance(out, pl.DataFrame)
        return out.select(pl.col(c).cast(t) for c, t in _OUT.items())
