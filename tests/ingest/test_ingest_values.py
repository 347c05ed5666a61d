"""Customs values, currencies and addresses: header names, currency reading, conversion to US
dollars at the ECB rate of the record's date, storage on both backends, and what a value
problem does (the row still loads).

The expected US-dollar amounts are worked out by hand from the ECB's published reference
rates (one euro in each currency), which never change once published:
2024-01-05 USD 1.0921, CNY 7.813, INR 90.81, MXN 18.6066; 2024-01-04 USD 1.0953, CNY 7.833.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests_ingest_helpers import SHIPMENT_HEADER, shipment

from ingest import load_file, read_profile
from ingest.currency import normalise_currency, usd_rates
from ingest.profile import resolve_mapping, value_header_currency
from registry.models import DataQualityFinding, QuarantinedRow, Shipment

BASE = [
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("US$", "USD"),
        ("840", "USD"),  # ISO 4217 numeric
        ("US Dollar", "USD"),
        ("Dólar estadounidense", "USD"),  # ISO name in Spanish
        ("€", "EUR"),
        ("euros", "EUR"),
        ("RMB", "CNY"),
        ("Yuan Renminbi", "CNY"),
        ("Peso mexicano", "MXN"),
        ("R$", "BRL"),
        ("₹", "INR"),
        ("AED", "AED"),
        # Shared by several currencies: refused, not guessed.
        ("$", None),
        ("Dollars", None),
        ("¥", None),
        ("rupees", None),
        ("pesos", None),
        ("XYZ", None),
        ("", None),
    ],
)
def test_currency_reading(text: str, code: str | None) -> None:
    assert normalise_currency(text) == code


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Value (USD)", "USD"),
        ("FOB USD", "USD"),
        ("USD value", "USD"),
        ("Value_USD", "USD"),
        ("Customs Value (EUR)", "EUR"),
        ("FOB Value in USD", "USD"),
        ("Valor FOB (US$)", "USD"),
        ("Valor en aduana MXN", "MXN"),
        ("Valeur en douane (EUR)", "EUR"),
        ("Zollwert in EUR", "EUR"),
        ("Value", None),  # no currency named
        ("Total value ($)", None),  # "$" names no one currency
        ("Exporter (USD)", None),  # not a value header
        ("Net Weight (kg)", None),
    ],
)
def test_value_headers_that_name_their_currency(header: str, code: str | None) -> None:
    assert value_header_currency(header) == code


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Customs Value", "Currency", "Shipper Address", "Consignee Address"],
         {"value": "Customs Value", "currency": "Currency", "exporter_address": "Shipper Address",
          "importer_address": "Consignee Address"}),
        (["FOB Value", "Curr", "Exporter Address", "Importer Address"],
         {"value": "FOB Value", "currency": "Curr", "exporter_address": "Exporter Address",
          "importer_address": "Importer Address"}),
        (["CIF Value", "CCY"], {"value": "CIF Value", "currency": "CCY"}),
        (["Invoice Value", "Currency"], {"value": "Invoice Value", "currency": "Currency"}),
        (["Valor en aduana", "Moneda", "Dirección del exportador", "Dirección del importador"],
         {"value": "Valor en aduana", "currency": "Moneda",
          "exporter_address": "Dirección del exportador",
          "importer_address": "Dirección del importador"}),
        (["Valor FOB", "Moeda", "Endereço do exportador", "Endereço do importador"],
         {"value": "Valor FOB", "currency": "Moeda", "exporter_address": "Endereço do exportador",
          "importer_address": "Endereço do importador"}),
        (["Valeur en douane", "Devise", "Adresse de l'exportateur", "Adresse de l'importateur"],
         {"value": "Valeur en douane", "currency": "Devise",
          "exporter_address": "Adresse de l'exportateur",
          "importer_address": "Adresse de l'importateur"}),
        (["Zollwert", "Währung", "Anschrift des Ausführers", "Anschrift des Empfängers"],
         {"value": "Zollwert", "currency": "Währung",
          "exporter_address": "Anschrift des Ausführers",
          "importer_address": "Anschrift des Empfängers"}),
        (["Value (USD)"], {"value": "Value (USD)"}),
        (["FOB USD"], {"value": "FOB USD"}),
        # Two value columns: neither is guessed; a bare address names no party.
        (["FOB Value", "CIF Value", "Address"], {}),
        # A bare "FOB" may be a column of Incoterms: not a value without a currency.
        (["FOB"], {}),
    ],
)  # fmt: skip
def test_value_and_address_headers_map_without_a_profile(
    headers: list[str], expected: dict[str, str]
) -> None:
    mapping = resolve_mapping([*BASE, *headers], "shipments", None)
    new = {k: v for k, v in mapping.items() if k not in BASE}
    assert new == expected


def _pairs(*rows: tuple[dt.date, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"__date": [d for d, _ in rows], "__cur": [c for _, c in rows]},
        schema={"__date": pl.Date(), "__cur": pl.String()},
    )


def test_rate_of_the_date_or_the_nearest_earlier_publication_day() -> None:
    got = usd_rates().convert(
        _pairs(
            (dt.date(2024, 1, 5), "CNY"),  # a Friday: its own rate
            (dt.date(2024, 1, 6), "CNY"),  # Saturday: Friday's
            (dt.date(2024, 1, 4), "CNY"),
            (dt.date(2024, 1, 5), "EUR"),
            (dt.date(2024, 1, 5), "USD"),
            (dt.date(2024, 1, 5), "AED"),  # not published by the ECB
            (dt.date(2023, 3, 1), "RUB"),  # the ECB stopped RUB after 2022-03-01
            (dt.date(2012, 5, 4), "ISK"),  # not published between 2008 and 2018
            (dt.date(1998, 6, 1), "USD"),
            (dt.date(1998, 6, 1), "CNY"),  # before the first ECB rate (1999-01-04)
        ),
        max_gap_days=10,
    )
    rate = {(d, c): (r, rd) for d, c, r, rd in got.iter_rows()}
    assert rate[(dt.date(2024, 1, 5), "CNY")] == (
        pytest.approx(1.0921 / 7.813),
        dt.date(2024, 1, 5),
    )
    assert rate[(dt.date(2024, 1, 6), "CNY")] == (
        pytest.approx(1.0921 / 7.813),
        dt.date(2024, 1, 5),
    )
    assert rate[(dt.date(2024, 1, 4), "CNY")] == (
        pytest.approx(1.0953 / 7.833),
        dt.date(2024, 1, 4),
    )
    assert rate[(dt.date(2024, 1, 5), "EUR")][0] == pytest.approx(1.0921)
    assert rate[(dt.date(2024, 1, 5), "USD")][0] == 1.0
    assert rate[(dt.date(1998, 6, 1), "USD")][0] == 1.0
    for key in [
        (dt.date(2024, 1, 5), "AED"),
        (dt.date(2023, 3, 1), "RUB"),
        (dt.date(2012, 5, 4), "ISK"),
        (dt.date(1998, 6, 1), "CNY"),
    ]:
        assert rate[key] == (None, None), key


def test_after_the_newest_rate_the_newest_rate_is_used() -> None:
    from currency_converter import CURRENCY_FILE

    with zipfile.ZipFile(CURRENCY_FILE) as zf:
        text = zf.read(zf.namelist()[0]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    newest = max(rows, key=lambda r: r["Date"])  # the oracle: the shipped file itself
    last = dt.date.fromisoformat(newest["Date"])
    later = last + dt.timedelta(days=40)
    got = usd_rates().convert(_pairs((later, "INR"), (later, "RUB")), max_gap_days=10)
    rate = {c: (r, rd) for _, c, r, rd in got.iter_rows()}
    assert rate["INR"] == (pytest.approx(float(newest["USD"]) / float(newest["INR"])), last)
    assert rate["RUB"] == (None, None)  # its series ended before the table's


def _rows(engine: Engine) -> dict[str, Shipment]:
    with Session(engine) as s:
        return {r.shipment_id: r for r in s.scalars(select(Shipment))}


def test_values_and_addresses_are_stored_and_read_by_detection(
    engine: Engine, feed: Callable[..., Path]
) -> None:
    header = [*SHIPMENT_HEADER, "Customs Value", "Curr", "Shipper Address", "Consignee Address"]
    rows = [
        shipment(1, **{"Customs Value": "1,000.50", "Curr": "USD",
                       "Shipper Address": "1 Road, Shijiazhuang",
                       "Consignee Address": "Hauptstr. 5, Berlin"}),
        shipment(2, date="2024-01-06", **{"Customs Value": "7813", "Curr": "RMB"}),
        shipment(3, **{"Customs Value": "90.81", "Curr": "INR"}),
        shipment(4, **{"Customs Value": "EUR 2,000.00"}),  # the currency written with it
        shipment(5, **{"Customs Value": "500", "Curr": "AED"}),
        shipment(6),  # no value at all
        shipment(7, **{"Customs Value": "$250", "Curr": "USD"}),  # "$" read by the column
    ]  # fmt: skip
    report = load_file(engine, feed(rows, header=header), "shipments")
    assert (report.rows_loaded, report.rows_quarantined, report.findings) == (7, 0, 0)
    assert report.mapped_by_synonym["Customs Value"] == "value"
    assert report.notes == {
        "values in AED kept without a US-dollar amount: no ECB reference rate for AED on or "
        "shortly before their dates": 1
    }
    got = _rows(engine)
    s1 = got["S1"]
    assert (s1.value, s1.currency, s1.value_usd) == (1000.5, "USD", 1000.5)
    assert s1.exporter_address == "1 Road, Shijiazhuang"
    assert s1.importer_address == "Hauptstr. 5, Berlin"
    assert (got["S2"].value, got["S2"].currency) == (7813.0, "CNY")
    assert got["S2"].value_usd == pytest.approx(1092.1)  # 7813 / 7.813 * 1.0921 (Friday's rate)
    assert got["S3"].value_usd == pytest.approx(1.0921)  # 90.81 INR = 1 EUR
    assert (got["S4"].value, got["S4"].currency) == (2000.0, "EUR")
    assert got["S4"].value_usd == pytest.approx(2184.2)
    assert (got["S5"].value, got["S5"].currency, got["S5"].value_usd) == (500.0, "AED", None)
    assert (got["S7"].value, got["S7"].currency, got["S7"].value_usd) == (250.0, "USD", 250.0)
    s6 = got["S6"]
    assert (s6.value, s6.currency, s6.value_usd, s6.exporter_address) == (None, None, None, None)

    from registry.detect_store import load_shipments

    with Session(engine) as s:
        frame = load_shipments(s).sort("shipment_id")
    assert frame["value"].to_list()[:2] == [1000.5, 7813.0]
    assert frame["currency"].to_list()[:2] == ["USD", "CNY"]
    assert frame["value_usd"][1] == pytest.approx(1092.1)
    assert frame["exporter_address"][0] == "1 Road, Shijiazhuang"
    assert frame["importer_address"][0] == "Hauptstr. 5, Berlin"


@pytest.mark.parametrize(
    ("value", "currency", "finding"),
    [
        ("100", "Dollars", "unknown currency 'Dollars'; the row loaded without its value"),
        ("100", "$", "unknown currency '$'; the row loaded without its value"),
        ("$100", "", "unknown currency '$'; the row loaded without its value"),
        ("about 100", "USD", "value 'about 100' is not a number; the row loaded without its value"),
        (
            "EUR 100",
            "USD",
            "value 'EUR 100' is in EUR but its currency is given as 'USD'; the row loaded without "
            "its value",
        ),
    ],
)
def test_a_value_problem_leaves_the_value_empty_and_loads_the_row(
    engine: Engine, feed: Callable[..., Path], value: str, currency: str, finding: str
) -> None:
    header = [*SHIPMENT_HEADER, "value", "currency"]
    report = load_file(
        engine, feed([shipment(1, value=value, currency=currency)], header=header), "shipments"
    )
    assert (report.rows_loaded, report.rows_quarantined, report.findings) == (1, 0, 1)
    s1 = _rows(engine)["S1"]
    assert (s1.value, s1.value_usd) == (None, None)
    with engine.connect() as conn:
        found = conn.execute(
            select(DataQualityFinding.row_number, DataQualityFinding.field, DataQualityFinding.value,
                   DataQualityFinding.finding)
        ).all()  # fmt: skip
        assert conn.execute(select(QuarantinedRow)).first() is None
    assert [tuple(f) for f in found] == [(1, "value", value, finding)]


def test_a_header_currency_gives_every_value_its_currency(
    engine: Engine, feed: Callable[..., Path]
) -> None:
    header = [*SHIPMENT_HEADER, "Value (USD)"]
    rows = [shipment(1, **{"Value (USD)": "250"}), shipment(2, **{"Value (USD)": "1.5e3"})]
    report = load_file(engine, feed(rows, header=header), "shipments")
    assert report.mapped_by_synonym["Value (USD)"] == "value (currency USD from the header)"
    got = _rows(engine)
    assert [(got[k].value, got[k].currency, got[k].value_usd) for k in ("S1", "S2")] == [
        (250.0, "USD", 250.0),
        (1500.0, "USD", 1500.0),
    ]


def test_a_value_without_any_currency_is_kept_unconverted(
    engine: Engine, feed: Callable[..., Path]
) -> None:
    report = load_file(
        engine, feed([shipment(1, value="250")], header=[*SHIPMENT_HEADER, "value"]), "shipments"
    )
    assert report.notes == {
        "values without a currency: kept as given, not converted to US dollars": 1
    }
    s1 = _rows(engine)["S1"]
    assert (s1.value, s1.currency, s1.value_usd) == (250.0, None, None)


def test_the_example_profile_loads_a_feed_written_for_it(tmp_path: Path, engine: Engine) -> None:
    import ingest

    prof = read_profile(Path(ingest.__file__).parent / "profiles" / "example_shipments.toml")
    header = list(prof.columns.values())
    values = {
        "Decl No": "D-1", "Fecha": "05/01/2024", "Exportador": "Química Sur S.A. de C.V.",
        "Pais Origen": "México", "Importador": "Acme GmbH", "Pais Destino": "Alemania",
        "Mercancia": "acetona", "Cantidad": "1.234,5", "Unidad": "kg", "CAS": "67-64-1",
        "Fraccion": "2914.11", "Regimen": "X", "PEN": "PEN-1", "Valor Aduana": "18.606,6",
        "Moneda": "", "Domicilio Exportador": "Av. Reforma 1, CDMX",
        "Domicilio Importador": "Hauptstr. 5, Berlin",
    }  # fmt: skip
    path = tmp_path / "mx.csv"
    with open(path, "w", encoding="latin-1", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        w.writerow([values[h] for h in header])
    report = load_file(engine, path, "shipments", profile=prof)
    assert (report.rows_loaded, report.rows_quarantined) == (1, 0)
    d1 = _rows(engine)["D-1"]
    assert (d1.quantity_kg, d1.exporter_country, str(d1.date)) == (1234.5, "MEX", "2024-01-05")
    # 18,606.6 MXN (default_currency) = 1,000 EUR on 2024-01-05 = 1,092.10 USD.
    assert (d1.value, d1.currency) == (18606.6, "MXN")
    assert d1.value_usd == pytest.approx(1092.1)
    assert d1.exporter_address == "Av. Reforma 1, CDMX"


@pytest.mark.parametrize(
    ("texts", "currency", "expected"),
    [
        (["1000.50", "7"], "USD", [1000.5, 7.0]),
        (["1,234.50", "1.234"], "USD", [1234.5, 1.234]),  # the feed's dots are decimals
        (["1.234,50", "1.234"], "EUR", [1234.5, 1234.0]),  # the feed's commas are decimals
        (["USD 1,234.50", "1234 USD"], None, [1234.5, 1234.0]),
        (["1.234,50 €", "€ 12"], None, [1234.5, 12.0]),
        (["US$1,000", "R$ 10"], None, [1000.0, 10.0]),
    ],
)
def test_value_texts(texts: list[str], currency: str | None, expected: list[float]) -> None:
    from ingest.values import shape_values

    proved: set[str] = set()

    def decimal_comma(evidence: set[str]) -> bool:
        proved.update(evidence)
        return proved == {"comma"}

    frame = pl.DataFrame(
        {
            "__row": list(range(1, len(texts) + 1)),
            "__date": ["2024-01-05"] * len(texts),
            "value": texts,
            "currency": [currency] * len(texts),
        },
        schema={"__row": pl.Int64, "__date": pl.String, "value": pl.String, "currency": pl.String},
    )
    out, findings, _ = shape_values(frame, None, decimal_comma, 10)
    assert findings == []
    assert out["__value"].to_list() == expected
