"""Ingest benchmark: N shipment rows from CSV into SQLite (and PostgreSQL), time and peak memory.

    .venv/bin/python bench/bench_ingest.py --rows 1000000          # SQLite (+ PostgreSQL if --pg)
    .venv/bin/python bench/bench_ingest.py --quick                  # 50,000 rows, smoke run
    .venv/bin/python bench/bench_ingest.py --rows 1000000 --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_ingest.py --rows 1000000 --floor   # + SQLite's own share

--floor adds a run that shapes the whole file first (not timed) and then times only what
SQLite itself must do with the shaped rows, the way the loader does it: write them to a
scratch file (ADBC), copy them into `shipment_records` in one transaction, rebuild the secondary
indexes, commit. That is the floor under any loader that keeps this schema, its indexes and
one transaction per load.

The feed is generated here (seeded): mixed country spellings, units and company legal forms,
customs values in five currencies (converted to US dollars at the ECB rate of each date) and
the parties' addresses, 0.5% malformed rows, and a declared-facility registry so party
linking does real work.
Each measurement runs in a fresh child process so its peak RSS (VmHWM) is its own.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl
from peak import peak_mb

_COUNTRIES = [
    ("China", "CN", "CHN"),
    ("India", "IN", "IND"),
    ("Mexico", "MX", "MEX"),
    ("United States", "USA", "USA"),
    ("Germany", "DE", "DEU"),
    ("Netherlands", "Holland", "NLD"),
    ("Viet Nam", "VN", "VNM"),
    ("Republic of Korea", "KR", "KOR"),
    ("Canada", "CA", "CAN"),
    ("Türkiye", "TR", "TUR"),
]
_FORMS = ["Co., Ltd.", "GmbH", "Pvt. Ltd.", "S.A.", "LLC", "Inc.", "B.V.", "Limited", "Corp."]
_UNITS = [("kg", 1.0), ("KGS", 1.0), ("g", 0.001), ("t", 1000.0), ("lbs", 0.45359237)]
_CURRENCIES = [("USD", 1.0), ("EUR", 0.92), ("CNY", 7.2), ("INR", 83.0), ("MXN", 17.5)]
_CURRENCY_SHARE = [0.6, 0.15, 0.1, 0.1, 0.05]
_PRODUCTS = [
    ("NPP", "39742-60-4"),
    ("4-ANPP", "21409-26-7"),
    ("4-piperidone", "41661-47-6"),
    ("1-boc-4-piperidone", "79099-07-3"),
    ("acetone", "67-64-1"),
    ("toluene", "108-88-3"),
    ("sodium chloride", "7647-14-5"),
    ("piperidine", "110-89-4"),
]


def generate(rows: int, out_dir: Path, seed: int = 7, *, plain: bool = False) -> tuple[Path, Path]:
    """Write shipments.csv (rows rows) and facilities.csv; return their paths. `plain`: without
    the customs values and addresses (the feed of the figures before issue #12)."""
    rng = np.random.default_rng(seed)
    n_parties = 4000
    party_country = rng.integers(0, len(_COUNTRIES), n_parties)
    party_form = rng.integers(0, len(_FORMS), n_parties)
    party_names = [f"Party{i:05d} Chemical {_FORMS[party_form[i]]}" for i in range(n_parties)]
    # Facilities: every 4th party is declared (name spelled with another legal form).
    fac_ids = list(range(0, n_parties, 4))
    facilities = pl.DataFrame(
        {
            "facility_id": [f"F{i:05d}" for i in fac_ids],
            "name": [
                f"Party{i:05d} Chemical {_FORMS[(party_form[i] + 1) % len(_FORMS)]}"
                for i in fac_ids
            ],
            "country": [_COUNTRIES[party_country[i]][2] for i in fac_ids],
            "activity": ["production"] * len(fac_ids),
            "substance": [_PRODUCTS[i % 4][0] for i in fac_ids],
            "cas": [_PRODUCTS[i % 4][1] for i in fac_ids],
            "declared_annual_kg": [1000.0] * len(fac_ids),
        }
    )
    exp = rng.integers(0, n_parties, rows)
    imp = rng.integers(0, n_parties, rows)
    spelling_e = rng.integers(0, 3, rows)
    spelling_i = rng.integers(0, 3, rows)
    names = np.array(party_names, dtype=object)
    cnames = np.array([[c[k] for k in range(3)] for c in _COUNTRIES], dtype=object)
    prod = rng.integers(0, len(_PRODUCTS), rows)
    unit = rng.integers(0, len(_UNITS), rows)
    qty_kg = np.round(rng.lognormal(3, 1.2, rows), 2)
    qty = qty_kg / np.array([u[1] for u in _UNITS])[unit]
    cur = rng.choice(len(_CURRENCIES), rows, p=_CURRENCY_SHARE)
    usd = qty_kg * rng.lognormal(3.5, 0.8, rows)
    value = np.round(usd * np.array([c[1] for c in _CURRENCIES])[cur], 2)
    addresses = np.array(
        [f"{i % 97 + 1} Industrial Road, Zone {i % 311}, City {i % 53}" for i in range(n_parties)],
        dtype=object,
    )
    days = rng.integers(0, 3 * 365, rows)
    dates = (np.datetime64("2022-01-01") + days).astype(str)
    frame = pl.DataFrame(
        {
            "shipment_id": [f"SH{i:08d}" for i in range(rows)],
            "date": dates,
            "exporter": names[exp],
            "exporter_country": cnames[party_country[exp], spelling_e],
            "importer": names[imp],
            "importer_country": cnames[party_country[imp], spelling_i],
            "product": np.array([p[0] for p in _PRODUCTS], dtype=object)[prod],
            "cas": np.array([p[1] for p in _PRODUCTS], dtype=object)[prod],
            "quantity": np.round(qty, 3).astype(str),
            "unit": np.array([u[0] for u in _UNITS], dtype=object)[unit],
            "hs_code": np.where(prod < 2, "2933.37", "2933.39"),
            "flow": np.where(rng.random(rows) < 0.5, "X", "M"),
            "consignment_ref": [f"PEN-{i // 2:07d}" for i in range(rows)],
            "Customs Value": value.astype(str),
            "Currency": np.array([c[0] for c in _CURRENCIES], dtype=object)[cur],
            "Shipper Address": addresses[exp],
            "Consignee Address": addresses[imp],
        }
    )
    if plain:
        frame = frame.drop("Customs Value", "Currency", "Shipper Address", "Consignee Address")
    frame = _spoil(frame, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    ship = out_dir / f"shipments_{rows}.csv"
    fac = out_dir / "facilities.csv"
    frame.write_csv(ship)
    facilities.write_csv(fac)
    return ship, fac


def _spoil(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """0.5% malformed rows: a negative quantity, an impossible date or an unknown country."""
    rows = frame.height
    bad = rng.random(rows) < 0.005
    kind = rng.integers(0, 3, rows)
    return frame.with_columns(
        pl.when(pl.Series(bad & (kind == 0)))
        .then(pl.lit("-5"))
        .otherwise(pl.col("quantity"))
        .alias("quantity"),
        pl.when(pl.Series(bad & (kind == 1)))
        .then(pl.lit("2023-02-30"))
        .otherwise(pl.col("date"))
        .alias("date"),
        pl.when(pl.Series(bad & (kind == 2)))
        .then(pl.lit("Atlantis"))
        .otherwise(pl.col("importer_country"))
        .alias("importer_country"),
    )


def _child(mode: str, url: str, path: str, fac: str) -> None:
    """Runs in a fresh process: one measurement, printed as JSON."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    out: dict[str, object] = {}
    if mode == "read_csv":
        df = pl.read_csv(path, infer_schema=False)
        out["rows"] = df.height
    elif mode == "floor":
        out.update(_floor(url, path, fac))
    else:
        from ingest import load_file
        from registry.db import init_db, make_engine

        engine = make_engine(url)
        init_db(engine)
        load_file(engine, fac, "facilities")
        t0 = time.perf_counter()
        c0 = time.process_time()
        rep = load_file(engine, path, "shipments")
        out.update(
            rows=rep.rows_total,
            loaded=rep.rows_loaded,
            quarantined=rep.rows_quarantined,
            duplicate=rep.rows_duplicate,
            linked=rep.linked,
        )
        engine.dispose()
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = time.process_time() - c0  # this process only (not the DB server)
    out["maxrss_mb"] = peak_mb()
    print(json.dumps(out))


def _shaped_rows(url: str, path: str, fac: str) -> pl.DataFrame:
    """The feed shaped as a load would, and its parties stored (not timed)."""
    from ingest import load_file
    from ingest.load import _context
    from ingest.profile import resolve_mapping
    from ingest.readers import open_source
    from ingest.relink import load_link_index
    from ingest.transform import shape
    from registry.db import init_db, make_engine
    from registry.shipments import PartyBook

    engine = make_engine(url)
    init_db(engine)
    load_file(engine, fac, "facilities")
    with open_source(path, None) as src:
        ctx = _context(
            src,
            "shipments",
            resolve_mapping(src.columns, "shipments", None),
            None,
            Path(path),
            None,
        )
        with engine.connect() as conn:
            ctx.link_index = load_link_index(conn)
        wide = pl.concat([shape(c, ctx).good for c in src.batches(250_000)])
    with engine.begin() as conn:  # the parties, stored before the timed part
        book = PartyBook(conn)
        good, new = book.assign(wide)
        book.store(conn, new)
    engine.dispose()
    return good


def _floor(url: str, path: str, fac: str) -> dict[str, object]:
    """SQLite's own time for already-shaped rows: stage, copy, index rebuild, commit."""
    import sqlite3

    import adbc_driver_sqlite.dbapi as adbc

    from registry.shipments import RECORD_COLUMNS

    good = _shaped_rows(url, path, fac)
    db = url.removeprefix("sqlite:///")
    stage = Path(db).with_name("floor_stage.db")
    times: dict[str, object] = {"rows": good.height}
    t = time.perf_counter()
    s = adbc.connect(str(stage), autocommit=True)
    cur = s.cursor()
    cur.execute("PRAGMA journal_mode = OFF")
    cur.adbc_ingest("t", good.select(RECORD_COLUMNS).to_arrow(compat_level=pl.CompatLevel.oldest()))
    cur.close()
    s.close()
    times["stage_s"] = time.perf_counter() - t
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA cache_size = -524288")
    conn.execute("PRAGMA threads = 2")
    batch = conn.execute(
        "INSERT INTO ingest_batches (kind, source, file_name, file_hash, profile, started_at, "
        "rows_total, rows_loaded, rows_duplicate, rows_quarantined) "
        "VALUES ('shipments', 's', 'f', 'h', '{}', '2026-01-01 00:00:00', 0, 0, 0, 0)"
    ).lastrowid
    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    idx = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'shipment_records' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in idx:
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute("ATTACH DATABASE ? AS st", (str(stage),))
    cols = ", ".join(c for c in RECORD_COLUMNS if c != "batch_id")
    conn.execute(
        f"INSERT INTO shipment_records ({cols}, batch_id) SELECT {cols}, {int(batch)} FROM st.t WHERE true "
        "ON CONFLICT (source, shipment_id) DO NOTHING"
    )
    times["copy_s"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute("PRAGMA cache_size = -2048")  # as the loader: the sorter runs in parallel
    for _, sql in idx:
        conn.execute(sql)
    times["indexes_s"] = time.perf_counter() - t
    times["indexes"] = len(idx)
    t = time.perf_counter()
    conn.execute("COMMIT")
    times["commit_s"] = time.perf_counter() - t
    conn.execute("DETACH DATABASE st")
    conn.close()
    times["bytes_per_row"] = Path(db).stat().st_size / max(good.height, 1)
    return times


def _run_child(mode: str, url: str, path: Path, fac: Path) -> dict:
    res = subprocess.run(
        [sys.executable, __file__, "--_child", mode, url, str(path), str(fac)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise SystemExit(f"{mode} failed: {res.stderr.strip().splitlines()[-1:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _pg_database(admin_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"pwatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def _pg_drop(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        _child(*sys.argv[2:6])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="50,000 rows")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--pg",
        default=os.environ.get("PWATCH_BENCH_POSTGRES_URL"),
        help="PostgreSQL admin URL (a scratch database is created and dropped)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument(
        "--plain",
        action="store_true",
        help="a feed without customs values and addresses (as the figures before issue #12)",
    )
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also time SQLite's own share for the shaped rows (stage, copy, indexes, commit)",
    )
    args = ap.parse_args()
    rows = 50_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="pwatch-bench-") as tmp:
        work = Path(tmp)
        ship, fac = generate(rows, work, args.seed, plain=args.plain)
        size_mb = ship.stat().st_size / 1e6
        results = [("polars.read_csv (bare)", _run_child("read_csv", "", ship, fac))]
        results.append(
            ("load_file -> SQLite", _run_child("load", f"sqlite:///{work / 'b.db'}", ship, fac))
        )
        floor = None
        if args.floor:
            floor = _run_child("floor", f"sqlite:///{work / 'f.db'}", ship, fac)
        if args.pg:
            url, name = _pg_database(args.pg)
            try:
                results.append(("load_file -> PostgreSQL", _run_child("load", url, ship, fac)))
            finally:
                _pg_drop(args.pg, name)
        bare = results[0][1]["seconds"]
        load = os.getloadavg()
        print(
            f"\n{rows:,} shipment rows, {size_mb:.0f} MB CSV, {os.cpu_count()} CPUs, "
            f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)\n"
        )
        print(
            "| step | seconds | rows/s | CPU s (client) | peak RSS MB | x bare read_csv "
            "| loaded | quarantined |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, r in results:
            print(
                f"| {label} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | "
                f"{r['cpu_seconds']:.1f} | {r['maxrss_mb']:.0f} | {r['seconds'] / bare:.1f} | "
                f"{r.get('loaded', '')} | {r.get('quarantined', '')} |"
            )
        if floor is not None:
            sqlite_own = sum(float(floor[k]) for k in ("copy_s", "indexes_s", "commit_s"))
            print(
                f"\nSQLite's own share for {floor['rows']:,} shaped rows "
                f"({floor['bytes_per_row']:.0f} bytes per row on disk): "
                f"stage {floor['stage_s']:.2f} s, copy {floor['copy_s']:.2f} s, "
                f"{floor['indexes']} indexes {floor['indexes_s']:.2f} s, "
                f"commit {floor['commit_s']:.2f} s; without staging "
                f"{sqlite_own:.2f} s = at most {int(floor['rows']) / sqlite_own:,.0f} rows/s "
                "before any reading or normalising"
            )
        if args.keep:
            keep = Path("var/bench")
            keep.mkdir(parents=True, exist_ok=True)
            for p in (ship, fac):
                p.replace(keep / p.name)


if __name__ == "__main__":
    main()
