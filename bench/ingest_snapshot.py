"""Snapshot of what ingest stores and reports, to check that a refactoring changes nothing.

    .venv/bin/python bench/ingest_snapshot.py OUT [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Four feeds (the committed sample, generator seed 4242 with 20,000 records, the bench feed of
50,000 rows with 0.5% malformed, and a small messy feed of quarantine reasons, findings and
values) are checked (`check_file`) and loaded twice with their registry into fresh SQLite (and
PostgreSQL) databases; every report and every row of every table and of the `shipments` view
is written to OUT as sorted text (timestamps aside). Run it before and after the change, on
the same machine, and compare the two folders with `diff -r` (surrogate ids of rows inserted
in another order differ; everything else must not).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[1]
_SKIP = {"started_at", "finished_at", "created_at", "screened_at"}


def _inputs(work: Path) -> list[tuple[str, Path, Path]]:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT / "tests" / "ingest"))
    import bench_ingest
    from tests_ingest_helpers import FACILITY_HEADER, SHIPMENT_HEADER, facility, shipment, write_csv

    from sample_data.generate import generate, write_sample

    seed_fac, seed_ship = write_sample(generate(4242, 20000), work / "seed4242")[:2]
    bench_ship, bench_fac = bench_ingest.generate(50000, work / "bench", seed=11)
    messy = work / "messy"
    messy.mkdir()
    rows = [
        shipment(1), shipment(2, quantity="1,500", unit="g", date="13/01/2024"),
        shipment(3, quantity="2", unit="MT", importer_country="Holland", flow="import"),
        shipment(4, quantity="-3"), shipment(5, date="2024-02-30", quantity="abc", unit="x"),
        shipment(6, importer_country="Narnia"), shipment(7, cas="39742-60-5"),
        shipment(8, exporter='=HYPERLINK("x")'), shipment(9, quantity="10 lbs", unit=""),
        shipment(10, quantity="1e309"), shipment(11, date="9999-12-31"),
        shipment(12, value="100", currency="Dollars"), shipment(13, value="EUR 1.000,50"),
        shipment(14, value="$5"), shipment(15, value="2e10", currency="USD"),
        shipment(16, value="500", currency="AED", exporter_address="1 Road"),
        shipment(17, value="7813", currency="RMB", date="2024-01-06", importer_address="2 St"),
        shipment(18, unit="l", product="acetone"), shipment(19, exporter="Hebei Chem Co Ltd"),
        shipment(20, date="02/01/2024"), shipment(21, flow="sideways"),
        shipment(22, exporter="x" * 70000), shipment(23, value="about 5", currency="USD"),
        shipment(24, quantity="25 kg", unit=""), shipment(1, product="dup id"),
    ]  # fmt: skip
    extra = ["value", "currency", "exporter_address", "importer_address"]
    write_csv(messy / "ship.csv", rows, [*SHIPMENT_HEADER, *extra])
    facs = [
        facility("F1"), facility("F2", name="Hebei Chem Co. Limited"),
        facility("F3", country="Narnia"), facility("F4", activity="juggling"),
        facility("F5", declared_annual_kg="-1"), facility("F6", cas="39742-60-5"),
        facility("F1", substance="4-ANPP", cas="21409-26-7"),
    ]  # fmt: skip
    write_csv(messy / "fac.csv", facs, FACILITY_HEADER)
    small = ROOT / "sample_data" / "small"
    return [
        ("small", small / "facilities.csv", small / "shipments.csv"),
        ("seed4242", seed_fac, seed_ship),
        ("bench", bench_fac, bench_ship),
        ("messy", messy / "fac.csv", messy / "ship.csv"),
    ]


def _report(r: Any) -> dict[str, Any]:
    d = dataclasses.asdict(r)
    d.pop("seconds", None)
    d["details"] = r.details()
    return d


def _dump(engine: Engine, out: Path, name: str) -> None:
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in [*sorted(insp.get_table_names()), "shipments"]:
            if table == "alembic_version":
                continue
            cols = [c["name"] for c in insp.get_columns(table) if c["name"] not in _SKIP]
            quoted = ", ".join(f'"{c}"' for c in cols)
            rows = conn.execute(text(f"SELECT {quoted} FROM {table}")).all()
            lines = sorted(json.dumps([str(v) for v in r]) for r in rows)
            (out / f"{name}.{engine.dialect.name}.{table}.txt").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--pg", help="PostgreSQL admin URL (a scratch database per feed)")
    args = ap.parse_args()
    from ingest import check_file, load_file
    from registry.db import init_db, make_engine

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pwatch-snapshot-") as tmp:
        for name, fac, ship in _inputs(Path(tmp)):
            reports: dict[str, Any] = {
                "check": [
                    _report(check_file(fac, "facilities")),
                    _report(check_file(ship, "shipments")),
                ]
            }
            urls = [f"sqlite:///{tmp}/{name}.db"]
            db = f"pwatch_snapshot_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT") if args.pg else None
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{db}"'))
                urls.append(args.pg.rsplit("/", 1)[0] + "/" + db)
            for url in urls:
                engine = make_engine(url)
                init_db(engine)
                loads = [
                    (fac, "facilities"),
                    (ship, "shipments"),
                    (ship, "shipments"),
                    (fac, "facilities"),
                ]
                reports[engine.dialect.name] = [_report(load_file(engine, p, k)) for p, k in loads]
                _dump(engine, args.out, name)
                engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{db}" WITH (FORCE)'))
                admin.dispose()
            text_ = json.dumps(reports, indent=1, default=str, sort_keys=True)
            (args.out / f"{name}.reports.json").write_text(text_)
    print(f"snapshot written to {args.out}")


if __name__ == "__main__":
    main()
