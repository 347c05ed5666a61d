"""Feeds without a profile whose headers use the usual names of national feeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.profile import ProfileError, resolve_mapping

USUAL = [
    "Record ID", "Ship Date", "Shipper", "Shipper Country", "Consignee", "Consignee Country",
    "Description of goods", "Qty", "UoM", "CAS #", "HTS", "Direction", "B/L No", "Remarks",
]  # fmt: skip


def test_usual_header_names_map_to_canonical_fields() -> None:
    m = resolve_mapping(USUAL, "shipments", None)
    assert m["exporter"] == "Shipper" and m["importer"] == "Consignee"
    assert m["importer_country"] == "Consignee Country" and m["cas"] == "CAS #"
    assert m["consignment_ref"] == "B/L No" and m["unit"] == "UoM" and m["flow"] == "Direction"
    assert "Remarks" not in m.values()


def test_a_column_of_the_canonical_name_wins_over_a_usual_name() -> None:
    cols = ["shipment_id", "date", "exporter", "Shipper", "exporter_country", "importer",
            "importer_country", "product", "quantity", "unit"]  # fmt: skip
    assert resolve_mapping(cols, "shipments", None)["exporter"] == "exporter"


def test_two_candidate_columns_are_not_guessed() -> None:
    cols = ["shipment_id", "date", "Shipper", "Consignor", "exporter_country", "importer",
            "importer_country", "product", "quantity", "unit"]  # fmt: skip
    with pytest.raises(ProfileError, match='missing column for "exporter"'):
        resolve_mapping(cols, "shipments", None)
    opt = [*cols[:2], "exporter", *cols[4:], "CAS No", "CAS Number"]
    assert "cas" not in resolve_mapping(opt, "shipments", None)


def test_facility_registry_headers() -> None:
    cols = ["Licence No", "Company Name", "Country", "Activity", "Chemical", "CAS No",
            "Declared kg", "Year", "Latitude", "Longitude"]  # fmt: skip
    m = resolve_mapping(cols, "facilities", None)
    assert m == {
        "facility_id": "Licence No", "name": "Company Name", "country": "Country",
        "activity": "Activity", "substance": "Chemical", "cas": "CAS No",
        "declared_annual_kg": "Declared kg", "declaration_year": "Year",
        "lat": "Latitude", "lon": "Longitude",
    }  # fmt: skip


def test_cli_reports_usual_names_and_unloaded_columns(tmp_path: Path) -> None:
    from ui.cli import app

    feed = tmp_path / "feed.csv"
    feed.write_text(
        ",".join(USUAL) + "\n"
        "A1,2025-01-02,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,25,kg,41661-47-6,2933.39,X,PEN-1,hi\n",
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    res = runner.invoke(app, ["--db", db, "ingest", "shipments", str(feed)])
    assert res.exit_code == 0, res.output
    assert "1 loaded" in res.stderr
    assert "'Consignee' as importer" in res.stderr
    assert "columns not loaded (no canonical field): 'Remarks'" in res.stderr


def test_check_reports_without_writing_anything(tmp_path: Path) -> None:
    from ui.cli import app

    feed = tmp_path / "feed.csv"
    feed.write_text(
        ",".join(USUAL) + "\n"
        "A1,2025-01-02,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,25,kg,41661-47-6,2933.39,X,PEN-1,\n"
        "A2,2025-02-30,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,-3,kg,41661-47-6,2933.39,X,PEN-2,\n",
        encoding="utf-8",
    )
    db = tmp_path / "never.db"
    res = CliRunner().invoke(
        app, ["--db", f"sqlite:///{db}", "ingest", "shipments", str(feed), "--check"]
    )
    assert res.exit_code == 0, res.output
    assert "1 would load, 1 would be quarantined of 2 rows" in res.stderr
    assert "impossible or unreadable date '2025-02-30'" in res.stderr
    assert "'Consignee' as importer" in res.stderr
    assert not db.exists()  # no database was created or written


def test_preview_names_the_columns_it_will_not_load(tmp_path: Path) -> None:
    from ingest import preview

    feed = tmp_path / "feed.csv"
    feed.write_text(
        ",".join(USUAL) + "\n"
        "A1,2025-01-02,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,25,kg,41661-47-6,2933.39,X,PEN-1,hi\n",
        encoding="utf-8",
    )
    _, mapping, problems = preview(feed, "shipments")
    assert mapping["importer"] == "Consignee"
    assert problems == ["not loaded (no canonical field): 'Remarks'"]


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("Net Weight (kg)", "kg"),
        ("Quantity (kg)", "kg"),
        ("Qty_KG", "KG"),
        ("Quantity in tonnes", "tonnes"),
        ("Net weight [lbs]", "lbs"),
        ("Gross Weight (kg)", None),  # gross weight is not the substance's mass
        ("Weight", None),
        ("Price (USD)", None),
        ("Value (kg)", None),
    ],
)
def test_quantity_headers_that_name_their_unit(header: str, unit: str | None) -> None:
    from ingest.profile import quantity_header_unit

    assert quantity_header_unit(header) == unit


def test_a_quantity_header_with_a_unit_loads_without_a_unit_column(tmp_path: Path) -> None:
    """ "Net Weight (kg)" and no unit column: every row in kg; tonnes in the header convert."""
    from sqlalchemy import text

    from ingest import load_file
    from registry.db import init_db, make_engine
    from ui.cli import app

    cols = ["Declaration No", "Date of Shipment", "Shipper", "Shipper Country", "Consignee",
            "Consignee Country", "Description of Goods"]  # fmt: skip
    row = "D{},2025-01-0{},Hebei Chem Co Ltd,China,Acme GmbH,Germany,NPP,{}\n"
    kg = tmp_path / "kg.csv"
    kg.write_text(",".join([*cols, "Net Weight (kg)"]) + "\n" + row.format(1, 1, "25"))
    tonnes = tmp_path / "t.csv"
    tonnes.write_text(",".join([*cols, "Quantity in tonnes"]) + "\n" + row.format(2, 2, "1.5"))
    res = CliRunner().invoke(app, ["ingest", "shipments", str(kg), "--check"])
    assert res.exit_code == 0, res.output
    assert "'Net Weight (kg)' as quantity (unit kg from the header)" in res.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    assert load_file(engine, kg, "shipments").rows_loaded == 1
    assert load_file(engine, tonnes, "shipments").rows_loaded == 1
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT shipment_id, quantity_kg FROM shipments")).all())
    assert got == {"D1": 25.0, "D2": 1500.0}
    # a unit column, when there is one, still gives each row's unit
    both = tmp_path / "both.csv"
    both.write_text(
        ",".join([*cols, "Net Weight (kg)", "UoM"]) + "\n" + row.format(3, 3, "2").strip() + ",t\n"
    )
    assert load_file(engine, both, "shipments").rows_loaded == 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT quantity_kg FROM shipments WHERE shipment_id = 'D3'")
            ).scalar_one()
            == 2000.0
        )
    engine.dispose()


def test_a_declared_quantity_header_with_a_unit_converts_to_kg(tmp_path: Path) -> None:
    """A registry declaring "Declared Quantity (t/year)": stored in kg; the load says so."""
    from sqlalchemy import text

    from ingest import load_file
    from ingest.profile import declared_header_factor
    from registry.db import init_db, make_engine

    assert declared_header_factor("Declared Quantity (t/year)") == 1000.0
    assert declared_header_factor("Annual Quantity (kg)") == 1.0
    assert declared_header_factor("Annual quantity (L)") is None  # a volume: not guessed
    reg = tmp_path / "reg.csv"
    reg.write_text(
        "Licence No,Company Name,Country,Activity,Chemical,CAS No,Declared Quantity (t/year)\n"
        'L1,Hebei Chem Co Ltd,CN,production,NPP,39742-60-4,"1,5"\n'
        "L2,Acme GmbH,DE,trade,NPP,39742-60-4,2\n"
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    rep = load_file(engine, reg, "facilities")
    assert rep.rows_loaded == 2
    assert "x 1000 to kg" in rep.mapped_by_synonym["Declared Quantity (t/year)"]
    with engine.connect() as conn:
        got = dict(
            conn.execute(text("SELECT facility_id, declared_annual_kg FROM declarations")).all()
        )
    assert got == {"L1": 1500.0, "L2": 2000.0}
    engine.dispose()


def test_spanish_and_german_headers_map_without_a_profile(tmp_path: Path) -> None:
    """A Spanish customs extract and a German registry, headed in their own languages
    (accents ignored), load without a profile; the country of origin is still not guessed."""
    from sqlalchemy import text

    from ingest import load_file
    from registry.db import init_db, make_engine

    es = tmp_path / "es.csv"
    es.write_text(
        "Número de declaración,Fecha,Exportador,País exportador,Importador,País de destino,"
        "Descripción de la mercancía,Cantidad,Unidad,Número CAS,Código arancelario,Flujo\n"
        "D-1,05/01/2025,Química del Norte S.A. de C.V.,México,Acme GmbH,Alemania,"
        "N-fenetil-4-piperidona,25,kilogramos,39742-60-4,2933.39,Exportación\n"
        "D-2,13/01/2025,Química del Norte S.A. de C.V.,México,Acme GmbH,Alemania,"
        "clorhidrato de 4-piperidona,1,toneladas,,2933.39,Exportación\n",
        encoding="utf-8",
    )
    de = tmp_path / "de.csv"
    de.write_text(
        "Genehmigungsnummer;Firmenname;Land;Tätigkeit;Stoff;CAS-Nummer;Jahresmenge (t)\n"
        "G-1;Chemie Werk GmbH;Deutschland;Herstellung;4-Piperidon;41661-47-6;1,5\n",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    rep = load_file(engine, es, "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (2, 0)
    assert rep.mapped_by_synonym["País de destino"] == "importer_country"
    assert rep.unused_columns == []
    fac = load_file(engine, de, "facilities")
    assert (fac.rows_loaded, fac.rows_quarantined, fac.unused_columns) == (1, 0, [])
    with engine.connect() as conn:
        ships = conn.execute(
            text("SELECT shipment_id, exporter_country, importer_country, quantity_kg, flow, cas "
                 "FROM shipments ORDER BY shipment_id")
        ).all()  # fmt: skip
        decl = conn.execute(
            text("SELECT activity, declared_annual_kg, cas FROM declarations")
        ).one()
    assert [tuple(r) for r in ships] == [
        ("D-1", "MEX", "DEU", 25.0, "X", "39742-60-4"),
        ("D-2", "MEX", "DEU", 1000.0, "X", None),
    ]
    assert tuple(decl) == ("production", 1500.0, "41661-47-6")
    engine.dispose()
    origin = ["Número de declaración", "Fecha", "Exportador", "País de origen", "Importador",
              "País de destino", "Descripción", "Cantidad", "Unidad"]  # fmt: skip
    with pytest.raises(ProfileError, match='missing column for "exporter_country"'):
        resolve_mapping(origin, "shipments", None)
