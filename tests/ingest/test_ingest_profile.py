"""Mapping profiles: parsing, automatic mapping, and one-line errors naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.profile import ProfileError, canonical_key, read_profile, resolve_mapping

SHIP_COLS = [
    "shipment_id",
    "date",
    "exporter",
    "exporter_country",
    "importer",
    "importer_country",
    "product",
    "quantity",
    "unit",
]

PROFILE = """
kind = "shipments"

[columns]
shipment_id = "Decl No"
date = "Date"
quantity = "Net Qty"
unit = "UoM"

[options]
date_format = "%d/%m/%Y"
delimiter = ";"
encoding = "latin-1"
default_unit = "kg"
source = "CN-customs"

[densities]
"Acetone" = 0.79
"""


def test_read_profile_from_text_and_path(tmp_path: Path) -> None:
    prof = read_profile(PROFILE)
    assert prof.kind == "shipments"
    assert prof.columns["quantity"] == "Net Qty"
    assert prof.options["source"] == "CN-customs"
    assert prof.densities == {"acetone": 0.79}
    path = tmp_path / "cn.toml"
    path.write_text(PROFILE)
    from_path = read_profile(path)
    assert from_path.path == str(path) and from_path.stem == "cn"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('kind = "alerts"', "not facilities or shipments"),
        ("kind = ", "not valid TOML"),
        ('kind = "shipments"\n[columns]\nfoo = "X"', "'foo', which is not a shipments field"),
        (
            'kind = "shipments"\n[columns]\ndate = "D"\nshipment_id = "D"',
            'source column "D" is mapped twice',
        ),
        ('[options]\ncolour = "red"', "unknown option 'colour'"),
        ("[densities]\nacetone = -1", "positive number"),
        ("[mystery]\na = 1", "unknown section"),
    ],
)
def test_bad_profiles_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        read_profile(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_canonical_key_ignores_case_spaces_underscores() -> None:
    assert canonical_key(" Exporter Country ") == canonical_key("exporter_country")
    assert canonical_key("SHIPMENT-ID") == canonical_key("shipment_id")


def test_automatic_mapping_by_canonical_names() -> None:
    cols = [
        "Shipment ID",
        "DATE",
        "Exporter",
        "Exporter Country",
        "importer",
        "Importer_Country",
        "Product",
        "Quantity",
        "Unit",
        "Extra",
    ]
    mapping = resolve_mapping(cols, "shipments", None)
    assert mapping["shipment_id"] == "Shipment ID"
    assert mapping["exporter_country"] == "Exporter Country"
    assert "cas" not in mapping


def test_missing_required_column_names_the_profile_line() -> None:
    cols = [c for c in SHIP_COLS if c != "quantity"]
    prof = read_profile('kind = "shipments"\n[columns]\n')
    with pytest.raises(ProfileError) as err:
        resolve_mapping(cols, "shipments", prof)
    assert str(err.value).startswith(
        'missing column for "quantity": add quantity = "<source column>" under [columns] in profile.toml'
    )


def test_default_unit_makes_unit_optional() -> None:
    cols = [c for c in SHIP_COLS if c != "unit"]
    with pytest.raises(ProfileError, match="default_unit"):
        resolve_mapping(cols, "shipments", None)
    prof = read_profile('[options]\ndefault_unit = "kg"')
    assert "unit" not in resolve_mapping(cols, "shipments", prof)


def test_profile_of_wrong_kind() -> None:
    prof = read_profile('kind = "facilities"')
    with pytest.raises(ProfileError, match="is for facilities, not shipments"):
        resolve_mapping(SHIP_COLS, "shipments", prof)


def test_profile_maps_absent_column() -> None:
    prof = read_profile('[columns]\nquantity = "net qty"')
    cols = [*SHIP_COLS[:7], "Net Qty", "unit"]
    with pytest.raises(ProfileError, match='not in the file \\(the file has "Net Qty"\\)'):
        resolve_mapping(cols, "shipments", prof)


def test_two_columns_matching_one_field() -> None:
    with pytest.raises(ProfileError, match="both match date"):
        resolve_mapping([*SHIP_COLS, "Date"], "shipments", None)


@pytest.mark.parametrize("name", ["example_shipments.toml", "example_facilities.toml"])
def test_example_profiles_parse(name: str) -> None:
    import ingest

    prof = read_profile(Path(ingest.__file__).parent / "profiles" / name)
    assert prof.kind in ("shipments", "facilities") and prof.columns


def test_profile_of_wrong_kind_is_refused_even_for_a_file_already_loaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ingest import load_file
    from registry.db import init_db, make_engine

    feed = tmp_path / "feed.csv"
    feed.write_text(
        ",".join(SHIP_COLS) + "\n" + "S1,2025-01-02,A Ltd,CHN,B SA,MEX,acetone,5,kg\n",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    assert load_file(engine, feed, "shipments").rows_loaded == 1
    with pytest.raises(ProfileError, match="is for facilities, not shipments"):
        load_file(engine, feed, "shipments", profile=read_profile('kind = "facilities"'))
    engine.dispose()
