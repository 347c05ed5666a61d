"""The generator's world: countries (spellings, legal forms, currencies, customs id formats),
the sample period and the exchange rates its customs values are written in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

__all__ = [
    "COUNTRIES",
    "DAYS",
    "END",
    "START",
    "Country",
    "date_text",
    "day_of",
    "shipment_ids",
    "usd_rate",
]

START = dt.date(2024, 1, 1)
END = dt.date(2025, 9, 30)  # the current year is partial: declarations are checked pro rata
DAYS = (END - START).days + 1


def date_text(day: object) -> str:
    """A day number of the sample period as an ISO date."""
    return (START + dt.timedelta(days=int(day))).isoformat()  # type: ignore[call-overload]


def day_of(date: dt.date) -> int:
    """Day number of `date` in the sample period (0 = START)."""
    return (date - START).days


@dataclass(frozen=True)
class Country:
    """How feeds write a country and the customs habits of its authority."""

    code: str  # ISO 3166 alpha-3
    alpha2: str
    names: tuple[str, ...]  # English names and variants feeds write
    es: str  # Spanish name (Latin-American feeds)
    de: str
    fr: str
    reports_imports: bool  # some states never report imports: a missing mirror is no evidence
    lat: float
    lon: float
    # Legal forms: (the registered form, the other ways the same form is written)
    legal_forms: tuple[tuple[str, tuple[str, ...]], ...]
    currency: str  # currency of its customs values (USD for most exporters' statistics)
    lang: str  # language of company names
    cities: tuple[str, ...]


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("CHN", "CN", ("China", "People's Republic of China", "P.R. China", "PRC", "中国"),
                "China", "China", "Chine", True, 31.2, 121.5,
                (("Co., Ltd.", ("Company Limited", "CO.,LTD", "Co Ltd", "Co.,Ltd.")),),
                "USD", "zh", ("Shanghai", "Wuhan", "Hangzhou", "Shijiazhuang", "Jinan",
                              "Nanjing", "Suzhou", "Tianjin")),
        Country("IND", "IN", ("India", "Republic of India"), "India", "Indien", "Inde", True,
                19.1, 72.9, (("Pvt. Ltd.", ("Private Limited", "Pvt Ltd", "PVT. LTD.")),
                             ("Ltd.", ("Limited", "LTD"))),
                "INR", "hi", ("Mumbai", "Hyderabad", "Ahmedabad", "Vapi", "Ankleshwar", "Pune")),
        Country("DEU", "DE", ("Germany", "Deutschland", "Federal Republic of Germany"),
                "Alemania", "Deutschland", "Allemagne", True, 50.1, 8.7,
                (("GmbH", ("G.m.b.H.", "Gmbh", "GMBH")), ("AG", ("A.G.", "Aktiengesellschaft"))),
                "EUR", "de", ("Ludwigshafen", "Frankfurt am Main", "Leverkusen", "Darmstadt",
                              "Marl")),
        Country("NLD", "NL", ("Netherlands", "The Netherlands", "Holland", "Netherlands (the)"),
                "Países Bajos", "Niederlande", "Pays-Bas", True, 51.9, 4.5,
                (("B.V.", ("BV", "B.V", "Besloten Vennootschap")),),
                "EUR", "nl", ("Rotterdam", "Amsterdam", "Geleen", "Delfzijl")),
        Country("KOR", "KR", ("Republic of Korea", "South Korea", "Korea, Rep.", "Korea"),
                "Corea del Sur", "Südkorea", "Corée du Sud", True, 37.5, 127.0,
                (("Co., Ltd.", ("Company Limited", "CO.,LTD", "Co Ltd")),),
                "USD", "ko", ("Seoul", "Ulsan", "Incheon", "Yeosu")),
        Country("USA", "US", ("United States", "United States of America", "U.S.A.", "US"),
                "Estados Unidos", "Vereinigte Staaten", "États-Unis", True, 40.7, -74.0,
                (("Inc.", ("Incorporated", "INC", "Inc")), ("LLC", ("L.L.C.", "Llc"))),
                "USD", "en", ("Newark, NJ", "Houston, TX", "St. Louis, MO", "Raleigh, NC",
                              "Chicago, IL")),
        Country("BEL", "BE", ("Belgium", "Belgique", "België"), "Bélgica", "Belgien", "Belgique",
                True, 51.2, 4.4, (("S.A.", ("SA", "N.V./S.A.")), ("BV", ("B.V.", "BVBA"))),
                "EUR", "fr", ("Antwerpen", "Bruxelles", "Gent", "Liège")),
        Country("CHE", "CH", ("Switzerland", "Schweiz", "Suisse", "Swiss Confederation"),
                "Suiza", "Schweiz", "Suisse", True, 47.4, 8.5,
                (("AG", ("A.G.", "SA", "Ltd")),), "CHF", "de", ("Basel", "Zürich", "Visp")),
        Country("MEX", "MX", ("Mexico", "México", "United Mexican States"), "México", "Mexiko",
                "Mexique", True, 19.4, -99.1,
                (("S.A. de C.V.", ("SA de CV", "S.A. DE C.V.", "S. A. de C. V.")),),
                "USD", "es", ("Ciudad de México", "Guadalajara", "Monterrey", "Toluca")),
        Country("CAN", "CA", ("Canada",), "Canadá", "Kanada", "Canada", True, 43.7, -79.4,
                (("Inc.", ("Incorporated", "Inc")), ("Ltd.", ("Limited", "Ltée"))),
                "CAD", "en", ("Toronto, ON", "Montréal, QC", "Mississauga, ON")),
        Country("GBR", "GB", ("United Kingdom", "UK", "Great Britain", "U.K."), "Reino Unido",
                "Vereinigtes Königreich", "Royaume-Uni", True, 51.5, -0.1,
                (("Ltd.", ("Limited", "LTD")), ("PLC", ("plc", "Public Limited Company"))),
                "GBP", "en", ("London", "Manchester", "Runcorn", "Cambridge")),
        Country("VNM", "VN", ("Viet Nam", "Vietnam"), "Vietnam", "Vietnam", "Viêt Nam", True,
                10.8, 106.7, (("Co., Ltd.", ("Company Limited", "Co Ltd")),),
                "USD", "vi", ("Ho Chi Minh City", "Hanoi", "Binh Duong")),
        Country("BRA", "BR", ("Brazil", "Brasil"), "Brasil", "Brasilien", "Brésil", True, -23.5,
                -46.6, (("Ltda.", ("Limitada", "LTDA")), ("S.A.", ("SA", "S/A"))),
                "USD", "pt", ("São Paulo", "Campinas", "Rio de Janeiro")),
        Country("COL", "CO", ("Colombia",), "Colombia", "Kolumbien", "Colombie", True, 4.7, -74.1,
                (("S.A.S.", ("SAS", "S A S")),), "USD", "es", ("Bogotá", "Medellín", "Cali")),
        # States that never report their imports.
        Country("GTM", "GT", ("Guatemala",), "Guatemala", "Guatemala", "Guatemala", False, 14.6,
                -90.5, (("S.A.", ("Sociedad Anónima", "SA")),), "USD", "es",
                ("Ciudad de Guatemala", "Escuintla")),
        Country("NGA", "NG", ("Nigeria",), "Nigeria", "Nigeria", "Nigéria", False, 6.5, 3.4,
                (("Ltd.", ("Limited", "Nigeria Limited")),), "USD", "en", ("Lagos", "Ikeja")),
        Country("MMR", "MM", ("Myanmar", "Burma"), "Myanmar", "Myanmar", "Myanmar", False, 16.8,
                96.2, (("Co., Ltd.", ("Company Limited", "Co Ltd")),), "USD", "en", ("Yangon",)),
        Country("HND", "HN", ("Honduras",), "Honduras", "Honduras", "Honduras", False, 14.1, -87.2,
                (("S. de R.L.", ("S de RL", "S. de R.L. de C.V.")),), "USD", "es",
                ("Tegucigalpa", "San Pedro Sula")),
    )
}  # fmt: skip

# Units of each currency per US dollar, monthly, January 2024 to September 2025: rounded
# monthly levels of the ECB euro reference rates crossed with the US dollar, as remembered
# by the generator's author. They make customs values plausible; they are not a conversion
# source (ingest ships its own dated table).
_FX: dict[str, tuple[float, ...]] = {
    "EUR": (0.917, 0.926, 0.922, 0.933, 0.924, 0.929, 0.922, 0.907, 0.899, 0.916, 0.945, 0.957,
            0.964, 0.960, 0.925, 0.889, 0.886, 0.866, 0.857, 0.861, 0.853),
    "CNY": (7.17, 7.19, 7.20, 7.24, 7.23, 7.26, 7.26, 7.17, 7.08, 7.10, 7.22, 7.29,
            7.30, 7.28, 7.25, 7.30, 7.21, 7.18, 7.17, 7.18, 7.12),
    "INR": (83.1, 83.0, 83.0, 83.4, 83.4, 83.5, 83.6, 83.9, 83.8, 84.0, 84.4, 84.9,
            86.3, 87.0, 86.6, 85.6, 85.2, 85.9, 85.9, 87.5, 88.3),
    "GBP": (0.787, 0.792, 0.786, 0.799, 0.791, 0.787, 0.777, 0.776, 0.757, 0.767, 0.787, 0.790,
            0.808, 0.797, 0.774, 0.762, 0.750, 0.737, 0.738, 0.744, 0.740),
    "CHF": (0.86, 0.88, 0.89, 0.91, 0.91, 0.89, 0.89, 0.86, 0.85, 0.86, 0.88, 0.89,
            0.91, 0.90, 0.88, 0.83, 0.83, 0.81, 0.80, 0.80, 0.80),
    "CAD": (1.34, 1.35, 1.355, 1.37, 1.37, 1.37, 1.37, 1.36, 1.355, 1.38, 1.40, 1.42,
            1.44, 1.43, 1.43, 1.40, 1.39, 1.37, 1.37, 1.38, 1.38),
    "KRW": (1323, 1331, 1330, 1367, 1365, 1380, 1384, 1355, 1334, 1361, 1394, 1435,
            1455, 1445, 1457, 1444, 1395, 1365, 1376, 1389, 1393),
    "MXN": (17.1, 17.1, 16.8, 16.8, 16.8, 18.2, 18.1, 19.1, 19.5, 19.7, 20.3, 20.3,
            20.5, 20.5, 20.2, 20.0, 19.4, 19.0, 18.7, 18.7, 18.5),
}  # fmt: skip


def usd_rate(currency: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Units of `currency` per US dollar in the month of each day number (USD = 1)."""
    month = np.clip(_month_index(day), 0, 20)
    out = np.ones(len(currency))
    for cur, rates in _FX.items():
        mask = currency == cur
        out[mask] = np.asarray(rates)[month[mask]]
    return out


def _month_index(day: np.ndarray) -> np.ndarray:
    dates = np.datetime64(START) + day.astype("timedelta64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64)
    return months - np.datetime64(START, "M").astype(np.int64)


def shipment_ids(
    src: np.ndarray, flow_x: np.ndarray, day: np.ndarray, seq: np.ndarray
) -> list[str]:
    """Each record's id in its authority's own format (unique through `seq`): Chinese
    declaration numbers, US entry numbers, EU/UK movement reference numbers, Indian shipping
    bills and bills of entry, Mexican pedimentos, and a generic national form elsewhere."""
    year = (np.datetime64(START) + day.astype("timedelta64[D]")).astype("datetime64[Y]")
    yy = (year.astype(np.int64) + 1970) % 100
    out: list[str] = []
    for c, x, y, s in zip(src.tolist(), flow_x.tolist(), yy.tolist(), seq.tolist(), strict=True):
        out.append(_one_id(c, x, y, s))
    return out


def _one_id(c: str, x: bool, y: int, s: int) -> str:
    if c == "CHN":
        return f"2200{2000 + y}{0 if x else 1}{s:09d}"
    if c == "USA":
        return f"{'EXP' if x else 'B7Q'}-{s:07d}-{s % 7}"
    if c in ("DEU", "NLD", "BEL", "GBR"):
        return f"{y:02d}{COUNTRIES[c].alpha2}{s:012d}{'E' if x else 'I'}{s % 10}"
    if c == "IND":
        return f"{'SB' if x else 'BE'}/{s:07d}/{y:02d}"
    if c == "MEX":
        return f"{y:02d} {47 if x else 16} 3429 {s:07d}"
    return f"{COUNTRIES[c].alpha2}{y:02d}{'X' if x else 'M'}{s:08d}"
