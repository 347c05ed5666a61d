"""Loading into the registry: counts, quarantine, idempotency, atomicity, provenance, linking.

The `engine` fixture runs these on SQLite, and on PostgreSQL too when
PWATCH_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests_ingest_helpers import FACILITY_HEADER, SHIPMENT_HEADER, facility, shipment

from ingest import LinkConfig, load_file, preview, read_profile
from registry.models import (
    AmbiguousLink,
    DataQualityFinding,
    Declaration,
    Facility,
    IngestBatch,
    Party,
    QuarantinedRow,
    Shipment,
)


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _shipments(engine: Engine) -> dict[str, Shipment]:
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return {r.shipment_id: r for r in s.scalars(select(Shipment))}


def test_main_load(engine: Engine, feed: Callable[..., Path]) -> None:
    rows = [
        shipment(1),
        shipment(2, quantity="1,500", unit="g", exporter_country="CN", date="13/01/2024"),
        shipment(3, quantity="2", unit="MT", importer_country="Holland", flow="import"),
        shipment(4, quantity="-3"),
        shipment(5, date="2024-02-30", quantity="abc", unit="furlongs"),
        shipment(6, importer_country="Narnia"),
        shipment(7, cas="39742-60-5"),  # invalid check digit: loads, with a finding
        shipment(8, exporter='=HYPERLINK("http://evil")'),
        shipment(9, quantity="10 lbs", unit=""),
    ]
    path = feed(rows, header=SHIPMENT_HEADER)
    report = load_file(engine, path, "shipments")
    assert report.status == "loaded"
    assert (report.rows_total, report.rows_loaded, report.rows_quarantined) == (9, 6, 3)
    assert report.rows_duplicate == 0
    got = _shipments(engine)
    assert set(got) == {"S1", "S2", "S3", "S7", "S8", "S9"}
    s2 = got["S2"]
    assert s2.quantity == 1500.0 and s2.unit == "g" and s2.quantity_kg == pytest.approx(1.5)
    assert s2.exporter_country == "CHN" and str(s2.date) == "2024-01-13"
    assert got["S3"].quantity_kg == 2000.0 and got["S3"].importer_country == "NLD"
    assert got["S3"].flow == "M"
    assert got["S1"].exporter == "Hebei Chem Co., Ltd." and got["S1"].exporter_norm == "hebei chem"
    assert got["S8"].exporter == '=HYPERLINK("http://evil")'  # verbatim in the registry
    assert got["S9"].quantity_kg == pytest.approx(4.5359237) and got["S9"].unit == "lbs"
    assert got["S7"].cas == "39742-60-5"
    # Provenance.
    assert all(s.batch_id == report.batch_id for s in got.values())
    assert all(s.file_hash == report.file_hash for s in got.values())
    assert got["S1"].row_number == 1 and got["S9"].row_number == 9
    assert got["S1"].source == "ship"
    with engine.connect() as conn:
        q = {
            r.row_number: r
            for r in conn.execute(select(QuarantinedRow).order_by(QuarantinedRow.row_number))
        }
        findings = conn.execute(select(DataQualityFinding)).all()
    assert set(q) == {4, 5, 6}
    assert q[4].reasons == ["negative quantity '-3'"]
    assert q[5].raw["shipment_id"] == "S5"
    assert len(q[5].reasons) == 3  # every reason, not the first
    assert any("unknown unit 'furlongs'" in r for r in q[5].reasons)
    assert any("2024-02-30" in r for r in q[5].reasons)
    assert q[6].reasons == ["unknown country 'Narnia' in importer_country"]
    assert [(f.row_number, f.field, f.value) for f in findings] == [(7, "cas", "39742-60-5")]
    assert dict(report.top_reasons)["negative quantity"] == 1


def test_same_file_twice_is_a_noop(engine: Engine, feed: Callable[..., Path]) -> None:
    path = feed([shipment(1), shipment(2)])
    first = load_file(engine, path, "shipments")
    again = load_file(engine, path, "shipments")
    assert again.status == "already_loaded" and again.batch_id == first.batch_id
    assert again.rows_loaded == 2
    assert _count(engine, Shipment) == 2 and _count(engine, IngestBatch) == 1


def test_overlapping_file_adds_only_new_records(engine: Engine, tmp_path: Path) -> None:
    from tests_ingest_helpers import write_csv

    a = write_csv(tmp_path / "jan.csv", [shipment(1), shipment(2), shipment(3)])
    b = write_csv(tmp_path / "feb.csv", [shipment(3), shipment(4), shipment(4)])
    load_file(engine, a, "shipments", source="CN-customs")
    rep = load_file(engine, b, "shipments", source="CN-customs")
    assert (rep.rows_loaded, rep.rows_duplicate) == (1, 2)
    got = _shipments(engine)
    assert sorted(got) == ["S1", "S2", "S3", "S4"]
    assert got["S3"].batch_id != rep.batch_id  # the first load keeps the record


def test_source_from_profile_and_column(engine: Engine, feed: Callable[..., Path]) -> None:
    rows = [shipment(1, source="MX-SAT"), shipment(2, source="")]
    path = feed(rows)
    load_file(engine, path, "shipments")
    got = _shipments(engine)
    assert got["S1"].source == "MX-SAT" and got["S2"].source == "ship"
    path2 = feed([shipment(1)], name="other.csv")
    load_file(engine, path2, "shipments", profile=read_profile('[options]\nsource = "MX-SAT"'))
    assert _count(engine, Shipment) == 2  # (MX-SAT, S1) was there already


def test_failure_mid_load_leaves_nothing(
    engine: Engine, feed: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.bulk_postgres import PostgresWriter
    from ingest.bulk_sqlite import SqliteWriter

    writer = PostgresWriter if engine.dialect.name == "postgresql" else SqliteWriter
    path = feed([shipment(i) for i in range(1, 30)] + [shipment(99, quantity="-1")])
    real = writer.write
    calls = {"n": 0}

    def exploding(self, good):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(self, good)

    monkeypatch.setattr(writer, "write", exploding)
    with pytest.raises(RuntimeError):
        load_file(engine, path, "shipments", chunk_size=10)
    assert calls["n"] == 2
    for model in (Shipment, IngestBatch, QuarantinedRow, DataQualityFinding):
        assert _count(engine, model) == 0
    monkeypatch.setattr(writer, "write", real)
    rep = load_file(engine, path, "shipments", chunk_size=10)  # and it can be retried
    assert (rep.rows_loaded, rep.rows_quarantined) == (29, 1)


def test_litres_need_a_density(engine: Engine, feed: Callable[..., Path], tmp_path: Path) -> None:
    rows = [
        shipment(1, product="Acetone", cas="67-64-1", quantity="100", unit="L"),
        shipment(2, product="Toluene", cas="108-88-3", quantity="100", unit="litres"),
    ]
    path = feed(rows)
    prof = tmp_path / "p.toml"
    prof.write_text('kind = "shipments"\n[densities]\nacetone = 0.79\n')
    rep = load_file(engine, path, "shipments", profile=prof)
    assert (rep.rows_loaded, rep.rows_quarantined) == (1, 1)
    assert _shipments(engine)["S1"].quantity_kg == pytest.approx(79.0)
    with engine.connect() as conn:
        reasons = conn.execute(select(QuarantinedRow.reasons)).scalar_one()
    assert "needs a density for 'Toluene'" in reasons[0]


def test_profile_with_foreign_columns(engine: Engine, tmp_path: Path) -> None:
    text = (
        "Decl No;Fecha;Exportador;Pais Exp;Importador;Pais Imp;Producto;Cantidad\n"
        "D-1;05/01/2024;Química Alfa S.A. de C.V.;México;Acme GmbH;Alemania;NPP;12,5\n"
        "D-2;06/01/2024;Química Alfa S.A. de C.V.;MX;Acme GmbH;DE;NPP;1.234,5\n"
    )
    path = tmp_path / "mx.csv"
    path.write_text(text.replace("Alemania", "Germany"), "latin-1")
    prof = tmp_path / "mx.toml"
    prof.write_text(
        'kind = "shipments"\n[columns]\nshipment_id = "Decl No"\ndate = "Fecha"\n'
        'exporter = "Exportador"\nexporter_country = "Pais Exp"\nimporter = "Importador"\n'
        'importer_country = "Pais Imp"\nproduct = "Producto"\nquantity = "Cantidad"\n'
        '[options]\ndate_format = "%d/%m/%Y"\ndelimiter = ";"\nencoding = "latin-1"\n'
        'default_unit = "kg"\ndecimal_comma = true\nsource = "MX"\n'
    )
    rep = load_file(engine, path, "shipments", profile=prof)
    assert rep.rows_loaded == 2, rep
    got = _shipments(engine)
    assert got["D-1"].exporter == "Química Alfa S.A. de C.V."
    assert got["D-1"].exporter_norm == "quimica alfa"
    assert str(got["D-1"].date) == "2024-01-05" and got["D-1"].quantity_kg == 12.5
    assert got["D-2"].quantity_kg == 1234.5 and got["D-2"].source == "MX"


# --- facilities and linking ---------------------------------------------------------------


def test_facilities_load_and_redeclare(engine: Engine, tmp_path: Path) -> None:
    from tests_ingest_helpers import write_csv

    first = write_csv(
        tmp_path / "reg1.csv",
        [
            facility("F1"),
            facility("F1", substance="4-ANPP", cas="21409-26-7"),
            facility("F2", name="Acme GmbH", country="Germany", activity="Trader"),
            facility("F3", country="Atlantis"),
            facility("F4", cas="39742-60-5"),
        ],
        header=FACILITY_HEADER,
    )
    rep = load_file(engine, first, "facilities")
    assert (rep.rows_loaded, rep.rows_quarantined, rep.findings) == (4, 1, 1)
    second = write_csv(
        tmp_path / "reg2.csv",
        [facility("F1", name="Hebei Chem Co Ltd (new name)", declared_annual_kg="2000")],
        header=FACILITY_HEADER,
    )
    rep2 = load_file(engine, second, "facilities")
    assert rep2.rows_updated == 1
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        f1 = s.get(Facility, "F1")
        assert f1 is not None and f1.name == "Hebei Chem Co Ltd (new name)"
        decls = {(d.facility_id, d.substance): d for d in s.scalars(select(Declaration))}
    assert decls[("F1", "NPP")].declared_annual_kg == 2000.0
    assert decls[("F1", "NPP")].substance_cas == "39742-60-4"
    assert decls[("F1", "4-ANPP")].substance_cas == "21409-26-7"
    assert decls[("F2", "NPP")].activity == "trade"
    assert len(decls) == 4


def test_linking_exact_fuzzy_ambiguous_and_relink(engine: Engine, tmp_path: Path) -> None:
    from tests_ingest_helpers import write_csv

    ships = write_csv(
        tmp_path / "s.csv",
        [
            shipment(1),  # exporter exact after normalisation, importer unknown
            shipment(2, exporter="Hebei Chemm Co Ltd"),  # fuzzy
            shipment(3, exporter="Twin Chem Ltd", exporter_country="India"),  # ambiguous
            shipment(4, exporter="Hebei Chem Ltd", exporter_country="India"),  # other country
        ],
    )
    # Shipments first: nothing to link to yet.
    load_file(engine, ships, "shipments")
    assert all(s.exporter_facility_id is None for s in _shipments(engine).values())
    fac = write_csv(
        tmp_path / "f.csv",
        [
            facility("F1"),
            facility("T1", name="Twin Chem Pvt Ltd", country="IN"),
            facility("T2", name="Twin Chem Limited", country="IN"),
            facility("A1", name="Acme GmbH & Co. KG", country="DE"),
        ],
        header=FACILITY_HEADER,
    )
    rep = load_file(engine, fac, "facilities")  # relinks the loaded shipments
    assert rep.linked >= 3
    got = _shipments(engine)
    assert (got["S1"].exporter_facility_id, got["S1"].exporter_link_method) == ("F1", "exact")
    assert got["S1"].exporter_link_score == 100.0
    assert got["S1"].importer_facility_id == "A1"
    assert got["S2"].exporter_facility_id == "F1" and got["S2"].exporter_link_method == "fuzzy"
    assert 90 <= (got["S2"].exporter_link_score or 0) < 100
    assert got["S3"].exporter_facility_id is None
    assert got["S4"].exporter_facility_id is None
    with engine.connect() as conn:
        amb = conn.execute(select(AmbiguousLink)).all()
    assert [(a.role, a.party_norm, a.country) for a in amb] == [("exporter", "twin chem", "IND")]
    assert {c["facility_id"] for c in amb[0].candidates} == {"T1", "T2"}
    # Shipments loaded after the facilities are linked at load time.
    later = write_csv(tmp_path / "s2.csv", [shipment(10, exporter="HEBEI CHEM CO LTD")])
    rep2 = load_file(engine, later, "shipments")
    assert rep2.linked == 2
    assert _shipments(engine)["S10"].exporter_facility_id == "F1"


def test_parties_are_stored_once_and_relinked_in_place(engine: Engine, tmp_path: Path) -> None:
    """Each (raw name, country) is one party row, shared by exporters and importers and by
    later loads; the stored records carry only party ids; a facilities load relinks by
    updating parties, which every record (old and new) then shows through the view."""
    from sqlalchemy import inspect, text
    from tests_ingest_helpers import write_csv

    rows = [
        shipment(1),
        shipment(2),  # the same two parties again
        shipment(3, exporter="HEBEI CHEM CO LTD"),  # another spelling: its own party
        shipment(4, exporter="Acme GmbH", exporter_country="Germany",
                 importer="Hebei Chem Co., Ltd.", importer_country="China"),  # roles swapped
    ]  # fmt: skip
    load_file(engine, write_csv(tmp_path / "a.csv", rows), "shipments")
    load_file(engine, write_csv(tmp_path / "b.csv", [shipment(5)]), "shipments")
    with engine.connect() as conn:
        parties = conn.execute(
            text("SELECT name, country, facility_id FROM parties ORDER BY id")
        ).all()
        cols = {c["name"] for c in inspect(conn).get_columns("shipment_records")}
        assert (
            conn.execute(
                text("SELECT COUNT(DISTINCT exporter_party_id) FROM shipment_records")
            ).scalar_one()
            == 3
        )
    assert [(n, c) for n, c, _ in parties] == [
        ("Hebei Chem Co., Ltd.", "CHN"),
        ("HEBEI CHEM CO LTD", "CHN"),
        ("Acme GmbH", "DEU"),
    ]
    assert all(f is None for _, _, f in parties)
    assert not cols & {"exporter", "exporter_norm", "importer_country", "file_hash"}
    assert {"exporter_party_id", "importer_party_id"} <= cols
    fac = write_csv(tmp_path / "f.csv", [facility("F1")], header=FACILITY_HEADER)
    rep = load_file(engine, fac, "facilities")
    assert rep.linked == 1  # one (normalised name, country): both spellings at once
    got = _shipments(engine)
    assert {k: v.exporter_facility_id for k, v in got.items()} == {
        "S1": "F1", "S2": "F1", "S3": "F1", "S4": None, "S5": "F1",
    }  # fmt: skip
    assert got["S4"].importer_facility_id == "F1"
    assert (
        got["S1"].exporter == "Hebei Chem Co., Ltd." and got["S3"].exporter == "HEBEI CHEM CO LTD"
    )
    assert got["S1"].file_hash and got["S1"].file_hash != got["S5"].file_hash
    assert _count(engine, Party) == 3


def test_fuzzy_threshold_is_configurable(engine: Engine, tmp_path: Path) -> None:
    from tests_ingest_helpers import write_csv

    load_file(engine, write_csv(tmp_path / "f.csv", [facility("F1")]), "facilities")
    path = write_csv(tmp_path / "s.csv", [shipment(1, exporter="Hebei Chemm Co Ltd")])
    load_file(engine, path, "shipments", link_config=LinkConfig(min_score=99.5))
    assert _shipments(engine)["S1"].exporter_facility_id is None


def test_preview_without_database(tmp_path: Path) -> None:
    from tests_ingest_helpers import write_csv

    path = write_csv(tmp_path / "s.csv", [shipment(1), shipment(2, quantity="-1")])
    frame, mapping, problems = preview(path, "shipments")
    assert frame.height == 2 and "quantity" in frame.columns
    assert mapping["quantity"] == "quantity"
    assert problems == ["row 2: negative quantity '-1'"]


def test_failure_with_deferred_indexes_restores_them(
    engine: Engine, feed: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big loads drop and rebuild the secondary indexes (and, on PostgreSQL, the foreign
    keys) inside the load's transaction; a failure must give them back with everything else,
    and a load that finishes restores them, checked."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import IntegrityError

    import ingest.bulk as bulk

    def indexes() -> set[str]:
        insp = inspect(engine)
        found = {str(ix["name"]) for ix in insp.get_indexes("shipment_records")}
        return found | {
            f"fk {fk['referred_table']} {fk['constrained_columns']}"
            for fk in insp.get_foreign_keys("shipment_records")
        }

    before = indexes()
    assert "ix_shipment_records_exporter" in before
    assert "fk parties ['exporter_party_id']" in before
    monkeypatch.setattr(bulk, "_DEFER_INDEX_MIN_ROWS", 1)
    path = feed([shipment(i) for i in range(1, 30)])
    real = bulk.ShipmentWriter.finish

    def exploding(self):  # type: ignore[no-untyped-def]
        assert self._deferred  # the indexes were dropped for this load
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk.ShipmentWriter, "finish", exploding)
    with pytest.raises(KeyboardInterrupt):
        load_file(engine, path, "shipments", chunk_size=10)
    assert indexes() == before and _count(engine, Shipment) == 0
    monkeypatch.setattr(bulk.ShipmentWriter, "finish", real)
    assert load_file(engine, path, "shipments", chunk_size=10).rows_loaded == 29
    assert indexes() == before
    # the restored keys are enforced
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as conn:
        conn.execute(text("UPDATE shipment_records SET exporter_party_id = 999999"))


def test_staged_load_in_many_segments(
    engine: Engine, feed: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SQLite loads go through scratch files (ADBC) copied by INSERT ... SELECT in the load's
    transaction: more chunks than attachable files, in-file and registry duplicates, row order
    (the first occurrence wins) and no scratch file left behind."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    rows = [shipment(i, quantity=str(i)) for i in range(1, 120)]
    rows += [shipment(5, quantity="999"), shipment(200, quantity="-1")]  # duplicate, bad
    path = feed(rows)
    rep = load_file(engine, path, "shipments", chunk_size=7)  # 18 chunks
    assert (rep.rows_total, rep.rows_loaded, rep.rows_duplicate, rep.rows_quarantined) == (
        121,
        119,
        1,
        1,
    )
    got = _shipments(engine)
    assert got["S5"].quantity == 5.0 and got["S5"].row_number == 5
    assert {s.batch_id for s in got.values()} == {rep.batch_id}
    assert {s.file_hash for s in got.values()} == {rep.file_hash}
    again = feed([shipment(i, quantity=str(i)) for i in range(110, 130)], name="more.csv")
    rep2 = load_file(engine, again, "shipments", source="ship", chunk_size=3)
    assert (rep2.rows_loaded, rep2.rows_duplicate) == (10, 10)
    assert _count(engine, Shipment) == 129
    assert list((tmp_path / "scratch").iterdir()) == []


def test_field_limit_counts_characters_not_bytes(engine: Engine, feed: Callable[..., Path]) -> None:
    from ingest.transform import MAX_FIELD_CHARS

    wide = "é" * (MAX_FIELD_CHARS - 10)  # more bytes than the limit, fewer characters
    rows = [shipment(1, product=wide), shipment(2, product="x" * (MAX_FIELD_CHARS + 1))]
    rows += [shipment(3)]
    rep = load_file(engine, feed(rows), "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (2, 1)
    got = _shipments(engine)
    assert set(got) == {"S1", "S3"} and got["S1"].product == wide
    assert got["S1"].row_number == 1 and got["S3"].row_number == 3


def test_scratch_left_by_a_killed_load_is_removed(
    sqlite_engine: Engine,
    feed: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Scratch staging files exist only for SQLite loads."""
    import os
    import tempfile

    engine = sqlite_engine
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    dead = scratch / "pwatch-stage-999999999-abc"  # no such process
    alive = scratch / f"pwatch-stage-{os.getppid()}-abc"  # a live process: left alone
    for d in (dead, alive):
        d.mkdir()
        (d / "stage1.db").write_bytes(b"x")
    load_file(engine, feed([shipment(1)]), "shipments")
    assert sorted(p.name for p in scratch.iterdir()) == [alive.name]


def test_two_loads_at_once_share_parties_without_duplicates(engine: Engine, tmp_path: Path) -> None:
    """Two shipment loads naming the same new parties, started together: both complete, and
    each (raw name, country) is still one party (the second load waits for the first)."""
    import threading

    from sqlalchemy import text
    from tests_ingest_helpers import write_csv

    files = [
        write_csv(
            tmp_path / f"feed{k}.csv",
            [shipment(i, exporter=f"Party {i % 7} Chemicals Ltd") for i in range(k * 500, k * 500 + 400)],
        )
        for k in (1, 2)
    ]  # fmt: skip
    errors: list[BaseException] = []

    def load(path: Path) -> None:
        try:
            load_file(engine, path, "shipments")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM shipments")).scalar_one() == 800
        dup = conn.execute(
            text("SELECT name, country FROM parties GROUP BY name, country HAVING COUNT(*) > 1")
        ).all()
        assert dup == []
        assert conn.execute(text("SELECT COUNT(*) FROM parties")).scalar_one() == 8


def test_ambiguous_parties_are_recorded_in_the_same_order_each_time(
    tmp_path: Path, feed: Callable[..., Path]
) -> None:
    """Two loads of the same files into two registries record the same ambiguous parties under
    the same ids (they were recorded in the order of a hash grouping, which varies by run)."""
    from tests_ingest_helpers import write_csv

    from registry.db import init_db, make_engine

    facs = [
        facility(f"F{i}{form}", name=f"Party{i:03d} Chem {form}")
        for i in range(60)
        for form in ("Ltd", "Co")
    ]
    fac_path = write_csv(tmp_path / "fac.csv", facs, FACILITY_HEADER)
    rows = [shipment(i, exporter=f"Party{i % 60:03d} Chem GmbH") for i in range(1, 301)]
    ship_path = feed(rows, header=SHIPMENT_HEADER)
    seen = []
    for run in range(2):
        engine = make_engine(f"sqlite:///{tmp_path / f'r{run}.db'}")
        init_db(engine, load_watchlist=False)
        load_file(engine, fac_path, "facilities")
        load_file(engine, ship_path, "shipments")
        with engine.connect() as conn:
            seen.append(
                conn.execute(
                    select(AmbiguousLink.id, AmbiguousLink.party, AmbiguousLink.shipment_count)
                    .where(AmbiguousLink.batch_id == 2)
                    .order_by(AmbiguousLink.id)
                ).all()
            )
        engine.dispose()
    assert len(seen[0]) == 60 and all(n == 5 for _, _, n in seen[0])
    assert seen[0] == seen[1]


@pytest.mark.parametrize("chunk_size", [1_000, 2])
def test_day_first_proven_anywhere_reads_every_chunk(
    engine: Engine, tmp_path: Path, chunk_size: int
) -> None:
    """02/01/2024 is ambiguous alone; 13/01/2024 in the last row proves the feed writes the day
    first. The whole file's evidence is known before the first chunk, so the answer does not
    depend on the chunk size (chunks of 2 rows put the proof in the last chunk), and the
    preview of the first rows reads them as the load will."""
    from tests_ingest_helpers import write_csv

    rows = [shipment(i, date=f"0{i}/01/2024") for i in range(1, 6)]
    path = write_csv(tmp_path / "dayfirst.csv", [*rows, shipment(6, date="13/01/2024")])
    report = load_file(engine, path, "shipments", chunk_size=chunk_size)
    assert (report.rows_loaded, report.rows_quarantined) == (6, 0)
    dates = {k: str(v.date) for k, v in _shipments(engine).items()}
    assert dates["S2"] == "2024-01-02" and dates["S6"] == "2024-01-13"
    frame, _, problems = preview(path, "shipments", rows=3, converted=True)
    assert frame["date"].to_list() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert frame["quantity_kg"].to_list() == [25.0, 25.0, 25.0] and problems == []


def test_a_revision_later_in_the_same_file_is_in_force(engine: Engine, tmp_path: Path) -> None:
    """A registry file that declares F1's NPP twice revises it: the later row (1,500 kg) is in
    force, and the load says the earlier one was replaced rather than calling it a duplicate."""
    from tests_ingest_helpers import write_csv

    path = write_csv(
        tmp_path / "revised.csv",
        [facility("F1"), facility("F2"), facility("F1", declared_annual_kg="1500")],
        header=FACILITY_HEADER,
    )
    rep = load_file(engine, path, "facilities")
    assert (rep.rows_loaded, rep.rows_duplicate) == (2, 1)
    assert "2 loaded, 1 replaced by a later row, 0 quarantined of 3 rows" in rep.summary()
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        kg = {d.facility_id: d.declared_annual_kg for d in s.scalars(select(Declaration))}
    assert kg == {"F1": 1500.0, "F2": 1000.0}
