"""Writing a sample: the registry, the answer key, and the shipment feed in the shape a
national authority might send it (STYLES), with a mapping profile beside a feed that needs one.

| style | columns | dates | numbers | quantity | value | countries |
|---|---|---|---|---|---|---|
| canonical | the canonical field names | ISO | 1234.5 | quantity + unit as recorded | as recorded (USD, CNY, EUR, INR...) | as recorded |
| eu | English customs headers (Consignor, Net Mass (kg), Customs Value...) | 31/12/2024 | 1234,5 | kg in the header | EUR | alpha-2 |
| eu-de | German (Versender, Eigenmasse (kg), Zollwert, Währung...) | 31.12.2024 | 1234,5 | kg in the header | EUR | alpha-2 |
| eu-fr | French (Expéditeur, Masse nette (kg), Valeur en douane, Devise...) | 31/12/2024 | 1234,5 | kg in the header | EUR | alpha-2 |
| latam | Spanish (Exportador, Cantidad, Unidad de medida, Valor en aduana, Moneda...) | 31/12/2024 | 1234.5 | kilogramos, toneladas, gramos | USD | Spanish names |

The EU feeds are semicolon-separated. A pound figure typed into a kilogram field stays what
it is in every style (that noise is the authority's, not the format's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sample_data.world import COUNTRIES, START, usd_rate

if TYPE_CHECKING:
    from sample_data.generate import Sample

__all__ = ["STYLES", "Style", "feed_in_style", "profile_text", "write_sample"]

_FIELDS = (
    "shipment_id", "date", "exporter", "exporter_country", "importer", "importer_country",
    "product", "quantity", "unit", "cas", "hs_code", "flow", "consignment_ref",
    "transit_countries", "value", "currency", "exporter_address", "importer_address", "source",
)  # fmt: skip


@dataclass(frozen=True)
class Style:
    """The shape of one kind of national feed."""

    headers: tuple[str, ...]  # one per _FIELDS entry ("" = the feed has no such column)
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    flows: tuple[str, str] = ("X", "M")
    currency: str | None = None  # values converted into it
    countries: str = "as recorded"  # or "alpha2", "es"
    units: tuple[tuple[str, str], ...] = ()  # kg/t/g written in the feed's language

    def columns(self) -> dict[str, str]:
        return {f: h for f, h in zip(_FIELDS, self.headers, strict=True) if h}


STYLES: dict[str, Style] = {
    "canonical": Style(_FIELDS),
    "eu": Style(
        ("Declaration No.", "Acceptance Date", "Consignor", "Country of Dispatch", "Consignee",
         "Country of Destination", "Description of Goods", "Net Mass (kg)", "", "CAS No.",
         "CN Code", "Flow", "PEN Reference", "Transit Countries", "Customs Value", "Currency",
         "Consignor Address", "Consignee Address", "Reporting Authority"),
        ";", "%d/%m/%Y", True, ("Export", "Import"), "EUR", "alpha2",
    ),
    "eu-de": Style(
        ("Anmeldenummer", "Annahmedatum", "Versender", "Versendungsland", "Empfänger",
         "Bestimmungsland", "Warenbezeichnung", "Eigenmasse (kg)", "", "CAS-Nummer",
         "Warennummer", "Verkehrsrichtung", "PEN-Referenz", "Durchfuhrländer", "Zollwert",
         "Währung", "Anschrift Versender", "Anschrift Empfänger", "Meldende Behörde"),
        ";", "%d.%m.%Y", True, ("Ausfuhr", "Einfuhr"), "EUR", "alpha2",
    ),
    "eu-fr": Style(
        ("Numéro de déclaration", "Date d'acceptation", "Expéditeur", "Pays d'expédition",
         "Destinataire", "Pays de destination", "Désignation des marchandises",
         "Masse nette (kg)", "", "Numéro CAS", "Code NC", "Flux", "Référence PEN",
         "Pays de transit", "Valeur en douane", "Devise", "Adresse de l'expéditeur",
         "Adresse du destinataire", "Autorité déclarante"),
        ";", "%d/%m/%Y", True, ("Exportation", "Importation"), "EUR", "alpha2",
    ),
    "latam": Style(
        ("Número de declaración", "Fecha", "Exportador", "País exportador", "Importador",
         "País de destino", "Descripción de la mercancía", "Cantidad", "Unidad de medida",
         "Número CAS", "Fracción arancelaria", "Tipo de operación", "Número PEN",
         "Países de tránsito", "Valor en aduana", "Moneda", "Dirección del exportador",
         "Dirección del importador", "Autoridad informante"),
        ",", "%d/%m/%Y", False, ("Exportación", "Importación"), "USD", "es",
        (("kg", "kilogramos"), ("t", "toneladas"), ("g", "gramos")),
    ),
}  # fmt: skip


def feed_in_style(sample: Sample, style: str) -> pl.DataFrame:
    """The sample's shipment feed with the columns and conventions of `style`."""
    st = STYLES[style]
    feed = sample.shipments
    if style == "canonical":
        return feed
    reg = sample.registry_shipments
    day = (reg["date"].to_numpy() - np.datetime64(START)).astype("timedelta64[D]").astype(np.int64)
    out = feed.with_columns(
        pl.when(reg["flow"] == "X").then(pl.lit(st.flows[0])).otherwise(pl.lit(st.flows[1])).alias("flow"),
        _countries(reg["exporter_country"], st.countries).alias("exporter_country"),
        _countries(reg["importer_country"], st.countries).alias("importer_country"),
    )  # fmt: skip
    if st.currency is not None:
        usd = reg["value_usd"].to_numpy()
        rate = usd_rate(np.full(len(usd), st.currency, dtype=object), day)
        out = out.with_columns(
            pl.Series("value", np.round(usd * rate, 2)).fill_nan(None),
            pl.when(reg["value_usd"].is_null()).then(None).otherwise(pl.lit(st.currency)).alias("currency"),
        )  # fmt: skip
    # Quantities in kg as the record states them: a pound figure under "kg" stays as it is.
    kg = reg["quantity_kg"]
    if st.units:
        big = kg >= 1000
        small = kg < 1
        words = dict(st.units)
        out = out.with_columns(
            pl.when(big).then(kg / 1000).when(small).then(kg * 1000).otherwise(kg).round(3).alias("quantity"),
            pl.when(big).then(pl.lit(words["t"])).when(small).then(pl.lit(words["g"]))
            .otherwise(pl.lit(words["kg"])).alias("unit"),
        )  # fmt: skip
    else:
        out = out.with_columns(kg.round(3).alias("quantity"))
    return out.select(pl.col(f).alias(h) for f, h in st.columns().items())


def _countries(alpha3: pl.Series, how: str) -> pl.Series:
    if how == "alpha2":
        table = {c: v.alpha2 for c, v in COUNTRIES.items()}
    elif how == "es":
        table = {c: v.es for c, v in COUNTRIES.items()}
    else:
        return alpha3
    return alpha3.replace_strict(table, default=alpha3)


def profile_text(style: str) -> str:
    """The mapping profile (TOML) a feed of `style` loads with."""
    st = STYLES[style]
    lines = [
        f"# Mapping profile of the '{style}' sample feed (sample_data/feeds.py).",
        'kind = "shipments"',
        "",
        "[columns]",
        *[f'{f} = "{h}"' for f, h in st.columns().items()],
        "",
        "[options]",
        f'date_format = "{st.date_format}"',
        f'delimiter = "{st.delimiter}"',
    ]
    if st.decimal_comma:
        lines.append("decimal_comma = true")
    if "unit" not in st.columns():
        lines.append('default_unit = "kg"  # the quantity header names the unit')
    return "\n".join(lines) + "\n"


def write_sample(
    sample: Sample, out: Path, *, style: str = "canonical", noise_log: bool = False
) -> list[Path]:
    """Write facilities.csv, shipments.csv (in `style`) and answer_key.csv into `out`, in that
    order; then shipments.toml (the profile) for a non-canonical style and noise.csv when
    `noise_log` is set."""
    if style not in STYLES:
        raise ValueError(f"unknown feed style {style!r}; styles: {', '.join(STYLES)}")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "facilities.csv", out / "shipments.csv", out / "answer_key.csv"]
    sample.facilities.write_csv(paths[0])
    st = STYLES[style]
    feed_in_style(sample, style).write_csv(
        paths[1], separator=st.delimiter, date_format=st.date_format, decimal_comma=st.decimal_comma
    )
    sample.answer_key.write_csv(paths[2])
    if style != "canonical":
        paths.append(out / "shipments.toml")
        paths[-1].write_text(profile_text(style), encoding="utf-8")
    if noise_log:
        paths.append(out / "noise.csv")
        sample.noise.write_csv(paths[-1])
    return paths
