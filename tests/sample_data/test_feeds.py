"""The feed styles: documented column names, read back with their profile to the same records,
and loaded as written by the real ingest."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine

from sample_data.feeds import STYLES
from sample_data.generate import Sample, generate, write_sample
from sample_data.world import COUNTRIES, START, usd_rate

# Header names a national feed of each style uses for the fields issue #12 added.
DOCUMENTED = {
    "canonical": ("value", "currency", "exporter_address", "importer_address"),
    "eu": ("Customs Value", "Currency", "Consignor Address", "Consignee Address", "Net Mass (kg)"),
    "eu-de": ("Zollwert", "Währung", "Anschrift Versender", "Anschrift Empfänger", "Eigenmasse (kg)"),
    "eu-fr": ("Valeur en douane", "Devise", "Adresse de l'expéditeur", "Adresse du destinataire",
              "Masse nette (kg)"),
    "latam": ("Valor en aduana", "Moneda", "Dirección del exportador", "Dirección del importador",
              "Unidad de medida"),
}  # fmt: skip
_UNIT = {"kg": 1.0, "KGS": 1.0, "KG": 1.0, "Kilogram": 1.0, "g": 0.001, "t": 1000.0,
         "tonnes": 1000.0, "MT": 1000.0, "lb": 0.45359237, "LBS": 0.45359237,
         "kilogramos": 1.0, "toneladas": 1000.0, "gramos": 0.001}  # fmt: skip
_COUNTRY = {v: c for c, x in COUNTRIES.items() for v in (c, x.alpha2, x.es)}


@pytest.fixture(scope="module")
def sample() -> Sample:
    return generate(41, 1500)


def _read(folder: Path, style: str) -> tuple[pl.DataFrame, dict[str, str], dict[str, object]]:
    """The feed as a user reads it with the profile beside it: (frame in canonical names,
    the profile's columns, its options)."""
    profile = folder / "shipments.toml"
    conf = tomllib.loads(profile.read_text("utf-8")) if profile.exists() else {}
    columns: dict[str, str] = conf.get("columns", {})
    options: dict[str, object] = conf.get("options", {})
    raw = pl.read_csv(
        folder / "shipments.csv", separator=str(options.get("delimiter", ",")), infer_schema=False
    )
    if columns:
        assert set(columns.values()) == set(raw.columns)
        raw = raw.rename({v: k for k, v in columns.items()})
    return raw, columns, options


@pytest.mark.parametrize("style", list(STYLES))
def test_headers_are_the_documented_ones(sample: Sample, style: str, tmp_path: Path) -> None:
    write_sample(sample, tmp_path, style=style)
    header = pl.read_csv(
        tmp_path / "shipments.csv", separator=STYLES[style].delimiter, n_rows=0
    ).columns
    assert set(DOCUMENTED[style]) <= set(header)
    assert (tmp_path / "shipments.toml").exists() == (style != "canonical")


@pytest.mark.parametrize("style", list(STYLES))
def test_a_styled_feed_reads_back_to_the_same_records(
    sample: Sample, style: str, tmp_path: Path
) -> None:
    write_sample(sample, tmp_path, style=style)
    feed, _, options = _read(tmp_path, style)
    reg = sample.registry_shipments
    assert feed["shipment_id"].to_list() == reg["shipment_id"].to_list()
    dates = feed["date"].str.to_date(str(options.get("date_format", "%Y-%m-%d")))
    assert dates.to_list() == reg["date"].to_list()

    def number(col: str) -> np.ndarray:
        text = feed[col]
        if options.get("decimal_comma"):
            text = text.str.replace(",", ".", literal=True)
        return text.cast(pl.Float64).fill_null(np.nan).to_numpy()

    unit = feed["unit"] if "unit" in feed.columns else pl.Series(["kg"] * feed.height)
    kg = number("quantity") * unit.replace_strict(_UNIT).to_numpy()
    assert np.allclose(kg, reg["quantity_kg"].to_numpy(), rtol=2e-3)
    for side in ("exporter_country", "importer_country"):
        if style != "canonical":
            assert feed[side].replace_strict(_COUNTRY).to_list() == reg[side].to_list()
    currency = feed["currency"].to_numpy().astype(object)
    day = (reg["date"].to_numpy() - np.datetime64(START)).astype("timedelta64[D]").astype(int)
    has = feed["currency"].is_not_null().to_numpy()
    usd = number("value")[has] / usd_rate(currency[has], day[has])
    assert np.allclose(usd, reg["value_usd"].to_numpy()[has], rtol=1e-3, atol=0.02)


@pytest.mark.parametrize("style", list(STYLES))
def test_the_ingest_loads_a_styled_feed_as_written(
    sample: Sample, style: str, tmp_path: Path, sqlite_engine: Engine
) -> None:
    import ingest
    from ingest.fields import fields_of

    paths = write_sample(sample, tmp_path, style=style)
    profile = None
    if style != "canonical":
        conf = tomllib.loads(paths[3].read_text("utf-8"))
        # Map what this ingest knows; a field it does not know yet is not loaded, not an error.
        known = {f.name for f in fields_of("shipments")}
        columns = {k: v for k, v in conf["columns"].items() if k in known}
        lines = ['kind = "shipments"', "[columns]", *[f'{k} = "{v}"' for k, v in columns.items()]]
        lines += ["[options]", *[f"{k} = {v!r}".replace("True", "true").replace("'", '"')
                                 for k, v in conf["options"].items()]]  # fmt: skip
        profile = tmp_path / "known.toml"
        profile.write_text("\n".join(lines) + "\n", "utf-8")
    fac = ingest.load_file(sqlite_engine, paths[0], "facilities")
    assert fac.rows_quarantined == 0
    report = ingest.load_file(sqlite_engine, paths[1], "shipments", profile=profile)
    assert report.rows_quarantined == 0
    assert report.rows_loaded == sample.shipments.height
    # ... and reads what the generator meant: dates, flows, countries, kilograms.
    cols = ["shipment_id", "date", "flow", "exporter_country", "importer_country", "quantity_kg"]
    with sqlite_engine.connect() as conn:
        stored = pl.read_database(f"SELECT {', '.join(cols)} FROM shipments", conn)
    truth = sample.registry_shipments.select(cols)
    both = truth.join(stored.with_columns(pl.col("date").str.to_date()), on="shipment_id")
    assert both.height == truth.height
    for c in cols[1:5]:
        assert (both[c] == both[f"{c}_right"]).all(), c
    assert np.allclose(both["quantity_kg"], both["quantity_kg_right"], rtol=2e-3)
