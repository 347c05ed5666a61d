"""Benchmark: detection through the local engine and through Spark local mode, same registry.

Loads a feed into two SQLite registries (the committed sample through ingest, or a generated
feed of N records straight from the generator), runs `run_detection` on one with the local
engine and on the other with Spark, and checks the stored alerts are identical (ids, scores,
severities, summaries, evidence, linked records).

    python bench/bench_spark.py --committed                 # sample_data/small
    python bench/bench_spark.py --shipments 100000          # a generated feed, seed 7
    python bench/bench_spark.py --shipments 100000 --master local[2]

Prints a Markdown table row. Spark's session start (JVM) is timed apart from detection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _stored(eng):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from registry.db import session_scope
    from registry.models import AlertRow, AlertShipment

    with session_scope(eng) as s:
        rows = s.execute(
            select(AlertRow.id, AlertRow.fingerprint, AlertRow.score, AlertRow.severity,
                   AlertRow.summary, AlertRow.evidence)
        ).all()  # fmt: skip
        links = sorted(s.execute(select(AlertShipment.alert_id, AlertShipment.shipment_pk)).all())
    return [
        (i, f, sc, sv, su, json.dumps(ev, sort_keys=True)) for i, f, sc, sv, su, ev in sorted(rows)
    ], links


def _load(folder: Path, args: argparse.Namespace) -> tuple[str, int]:
    """A loaded registry file in `folder`; its label and record count."""
    from registry.db import init_db, make_engine

    eng = make_engine(f"sqlite:///{folder / 'a.db'}")
    init_db(eng)
    if args.committed:
        from ingest import load_file

        small = ROOT / "sample_data" / "small"
        load_file(eng, small / "facilities.csv", "facilities")
        rep = load_file(eng, small / "shipments.csv", "shipments")
        label, n = "committed sample (sample_data/small)", rep.rows_loaded
    else:
        from sample_data.generate import generate
        from sample_data.registry_load import load_facilities, load_shipments

        sample = generate(args.seed, args.shipments)
        load_facilities(eng, sample)
        load_shipments(eng, sample.registry_shipments)
        label, n = f"generated, seed {args.seed}", sample.registry_shipments.height
    eng.dispose()
    shutil.copy(folder / "a.db", folder / "b.db")
    return label, n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--committed", action="store_true", help="the committed sample")
    p.add_argument("--shipments", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="2g", help="spark.driver.memory")
    args = p.parse_args()
    from detection.engines.spark import SparkDetectors, spark_session
    from registry.db import make_engine
    from registry.detect_store import run_detection

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        label, n = _load(folder, args)
        load_s = time.perf_counter() - t0
        local_eng = make_engine(f"sqlite:///{folder / 'a.db'}")
        spark_eng = make_engine(f"sqlite:///{folder / 'b.db'}")
        local = run_detection(local_eng)
        t0 = time.perf_counter()
        session = spark_session(args.master, {"spark.driver.memory": args.driver_memory})
        start_s = time.perf_counter() - t0
        runner = SparkDetectors(session=session)
        on_spark = run_detection(spark_eng, runner=runner)
        same = _stored(local_eng) == _stored(spark_eng)
        session.stop()
    print(
        f"| {label} | {n:,} | {local.new:,} | {load_s:.1f} | {local.seconds:.1f} "
        f"({local.phases.get('detect', 0):.1f}) | {on_spark.seconds:.1f} "
        f"({on_spark.phases.get('detect', 0):.1f}, of it Spark {runner.phases['spark']:.1f}) "
        f"| {start_s:.1f} | {'yes' if same else 'NO'} | "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} |"
    )
    print(
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Spark {args.master}; columns: feed, records, alerts, load s, local detect s "
        "(detectors), Spark detect s (detectors, Spark stage), session start s, identical, "
        "driver peak MB)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
