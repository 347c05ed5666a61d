"""Value normalisation: units to kg, countries to ISO alpha-3, dates, company names, CAS, flow.

Scalar functions here work on one value and are applied to the DISTINCT values of a column
(cached across batches), then mapped back onto the frame with polars, so a million-row feed
costs one call per distinct spelling, not per row.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pycountry

from detection.parties import LEGAL_FORMS, company_key
from detection.screening.watchlist import cas_check_digit_ok

__all__ = [
    "ACTIVITIES",
    "COUNTRY_ALIASES",
    "LEGAL_FORMS",
    "MASS_UNITS",
    "VOLUME_UNITS",
    "cas_ok",
    "normalise_activity",
    "normalise_company",
    "normalise_flow",
    "parse_date",
    "to_alpha3",
    "unit_factor",
]

# Factor to kg; keys are lower-case with dots, spaces and accents removed. The three-letter
# codes are UN/ECE Recommendation 20 (customs declarations: KGM, GRM, TNE, LBR, LTR, MLT,
# MTQ...). The words also in Spanish, Portuguese, French, German and Italian, as feeds of
# those authorities write them (kilogramos, quilos, Kilogramm, toneladas, "tm", Tonnen).
# fmt: off
MASS_UNITS: dict[str, float] = {
    **dict.fromkeys(
        [
            "kg", "kgs", "kgr", "kgrs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme",
            "kilogrammes", "kgm", "kilogramm", "kilogramo", "kilogramos", "quilo", "quilos",
            "quilograma", "quilogramas", "kilogrammo", "kilogrammi",
        ],
        1.0,
    ),
    **dict.fromkeys(
        [
            "g", "gr", "grs", "gram", "grams", "gramme", "grammes", "gm", "gms", "grm", "gramm",
            "gramo", "gramos", "grama", "gramas", "grammo", "grammi",
        ],
        1e-3,
    ),
    **dict.fromkeys(
        [
            "mg", "milligram", "milligrams", "milligramme", "milligrammes", "mgm", "milligramm",
            "miligramo", "miligramos", "miligrama", "miligramas",
        ],
        1e-6,
    ),
    **dict.fromkeys(["µg", "μg", "ug", "mcg", "microgram", "micrograms"], 1e-9),
    **dict.fromkeys(["dtn", "quintal", "quintals", "decitonne", "decitonnes"], 100.0),
    **dict.fromkeys(["shortton", "shorttons", "uston", "ustons", "stn"], 907.18474),
    **dict.fromkeys(["longton", "longtons", "ukton", "uktons", "lton"], 1016.0469088),
    **dict.fromkeys(
        [
            "t",
            "mt",
            "ton",
            "tons",
            "tonne",
            "tonnes",
            "tne",
            "metricton",
            "metrictons",
            "metrictonne",
            "metrictonnes",
            "m/t",
            "tm",  # tonelada métrica
            "tonnen",
            "tonelada",
            "toneladas",
            "toneladametrica",
            "toneladasmetricas",
            "tonnellata",
            "tonnellate",
        ],
        1000.0,
    ),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds", "#", "lbr"], 0.45359237),
    **dict.fromkeys(["oz", "ounce", "ounces", "onz"], 0.028349523125),
}
# Factor to litres; a density (kg/L) for the substance turns these into kg.
VOLUME_UNITS: dict[str, float] = {
    **dict.fromkeys(
        [
            "l", "lt", "ltr", "ltrs", "litre", "litres", "liter", "liters", "lts", "litro",
            "litros", "litri",
        ],
        1.0,
    ),
    **dict.fromkeys(
        [
            "ml", "millilitre", "millilitres", "milliliter", "milliliters", "mlt", "mililitro",
            "mililitros", "millilitro", "millilitri",
        ],
        1e-3,
    ),
    **dict.fromkeys(["m3", "cubicmetre", "cubicmeter", "cbm", "mtq"], 1000.0),
    **dict.fromkeys(["gal", "gallon", "gallons", "usgal"], 3.785411784),
}
# fmt: on


# "kg net", "net kg", "kg (net weight)", "N.W. kg": the mass is net, the unit is what is left.
_NET = re.compile(r"\(?\b(?:net(?:\s*weight|\s*wt)?|nw|n\s*w)\b\)?", re.IGNORECASE)


def _unit_key(unit: str) -> str:
    key = re.sub(r"[\s.\-_()\[\]]+", "", unit.strip().casefold())
    if key.isascii():
        return key
    # Accents off (métricas -> metricas); the micro sign stays a mu (µg is in the table).
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def unit_factor(unit: str) -> tuple[str, float] | None:
    """('mass', factor to kg) or ('volume', factor to litres); None for an unknown unit."""
    key = _unit_key(unit)
    if key not in MASS_UNITS and key not in VOLUME_UNITS:
        key = _unit_key(_NET.sub(" ", unit.replace(".", "")))
    if key in MASS_UNITS:
        return ("mass", MASS_UNITS[key])
    if key in VOLUME_UNITS:
        return ("volume", VOLUME_UNITS[key])
    return None


def _country_key(value: str) -> str:
    s = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    s = re.sub(r"[.'’`]", "", s.casefold())
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return re.sub(r"^the ", "", s)


# Keys as produced by _country_key. Only what pycountry.lookup does not already resolve.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "USA",
    "us": "USA",
    "u s": "USA",
    "u s a": "USA",
    "america": "USA",
    "united states of america": "USA",
    "uk": "GBR",
    "u k": "GBR",
    "great britain": "GBR",
    "britain": "GBR",
    "england": "GBR",
    "scotland": "GBR",
    "wales": "GBR",
    "northern ireland": "GBR",
    "holland": "NLD",
    "netherlands": "NLD",
    "the netherlands": "NLD",
    "turkey": "TUR",
    "turkiye": "TUR",
    "republic of turkiye": "TUR",
    "russia": "RUS",
    "russian federation": "RUS",
    "iran": "IRN",
    "persia": "IRN",
    "taiwan": "TWN",
    "republic of china": "TWN",
    "chinese taipei": "TWN",
    "korea": "KOR",
    "south korea": "KOR",
    "korea south": "KOR",
    "korea republic of": "KOR",
    "republic of korea": "KOR",
    "korea rep": "KOR",
    "rok": "KOR",
    "north korea": "PRK",
    "korea north": "PRK",
    "dprk": "PRK",
    "democratic peoples republic of korea": "PRK",
    "vietnam": "VNM",
    "viet nam": "VNM",
    "czech republic": "CZE",
    "czechia": "CZE",
    "slovak republic": "SVK",
    "macedonia": "MKD",
    "fyrom": "MKD",
    "former yugoslav republic of macedonia": "MKD",
    "cape verde": "CPV",
    "ivory coast": "CIV",
    "cote divoire": "CIV",
    "burma": "MMR",
    "swaziland": "SWZ",
    "eswatini": "SWZ",
    "brunei": "BRN",
    "palestine": "PSE",
    "micronesia": "FSM",
    "vatican": "VAT",
    "holy see": "VAT",
    "dr congo": "COD",
    "drc": "COD",
    "democratic republic of the congo": "COD",
    "congo kinshasa": "COD",
    "congo brazzaville": "COG",
    "republic of the congo": "COG",
    "prc": "CHN",
    "p r china": "CHN",
    "pr china": "CHN",
    "peoples republic of china": "CHN",
    "mainland china": "CHN",
    "china mainland": "CHN",
    "hong kong sar": "HKG",
    "hong kong china": "HKG",
    "china hong kong sar": "HKG",
    "macao china": "MAC",
    "china macao sar": "MAC",
    "republic of ireland": "IRL",
    "eire": "IRL",
    "hongkong": "HKG",
    "macau": "MAC",
    "macao sar": "MAC",
    "uae": "ARE",
    "u a e": "ARE",
    "emirates": "ARE",
    "laos": "LAO",
    "lao pdr": "LAO",
    "syria": "SYR",
    "moldova": "MDA",
    "bolivia": "BOL",
    "venezuela": "VEN",
    "tanzania": "TZA",
    "east timor": "TLS",
    "timor leste": "TLS",
    "st lucia": "LCA",
    "st kitts and nevis": "KNA",
    "st vincent and the grenadines": "VCT",
    "trinidad tobago": "TTO",
    "bosnia": "BIH",
    "bosnia herzegovina": "BIH",
    "gambia": "GMB",
    "bahamas": "BHS",
    "kyrgyzstan": "KGZ",
    "russian fed": "RUS",
    "cote d ivoire": "CIV",
    "s korea": "KOR",
    "n korea": "PRK",
    "ksa": "SAU",
    "saudi": "SAU",
    "india": "IND",
    "mexico": "MEX",
    "canada": "CAN",
}


def _endonym_cache() -> Path:
    """Where the built table is kept: per pycountry release and version of this module."""
    import hashlib
    import importlib.metadata
    import os

    try:
        version = importlib.metadata.version("pycountry")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        version = "unknown"
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "precursor-watch" / f"country-endonyms-{version}-{code}.json"


@lru_cache(maxsize=1)
def _endonyms() -> dict[str, str]:
    """Country names in every language pycountry ships (ISO 3166 translations), by key.

    Needed for the first name no other rule resolves. Building it takes about a second, so
    the table is kept in the user's cache directory (keyed by the pycountry release and this
    module's code) and read back in milliseconds; an unwritable cache only costs the build.
    A key that names different countries in different languages is left out, not guessed.
    """
    import json

    cache = _endonym_cache()
    try:
        table = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(table, dict) and table:
            return {str(k): str(v) for k, v in table.items()}
    except (OSError, ValueError):
        pass
    table = _build_endonyms()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass
    return table


def _build_endonyms() -> dict[str, str]:
    import gettext

    found: dict[str, set[str]] = {}
    locales = pycountry.LOCALES_DIR
    for lang in sorted(os.listdir(locales)):
        try:
            tr = gettext.translation("iso3166-1", locales, languages=[lang])
        except OSError:
            continue
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                english = getattr(c, attr, None)
                if english:
                    local = tr.gettext(english)
                    for k in {_country_key(local), " ".join(local.casefold().split())}:
                        found.setdefault(k, set()).add(c.alpha_3)
    return {k: next(iter(v)) for k, v in found.items() if k and len(v) == 1}


@lru_cache(maxsize=65536)
def to_alpha3(value: str) -> str | None:
    """ISO 3166 alpha-3 code of a country given as name, alpha-2, alpha-3 or a common variant."""
    raw = value.strip()
    if not raw:
        return None
    key = _country_key(raw)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    try:
        return str(pycountry.countries.lookup(raw).alpha_3)
    except LookupError:
        pass
    if key and key != raw.casefold():
        try:
            return str(pycountry.countries.lookup(key).alpha_3)
        except LookupError:
            pass
    # A name in another language (Deutschland, Belgique, Brasil, Schweiz...).
    endonyms = _endonyms()
    for k in (key, " ".join(raw.casefold().split())):
        if k in endonyms:
            return endonyms[k]
    # Statistical-agency styles: "Congo, Dem. Rep.", "Korea, Dem. People's Rep.",
    # "Micronesia, Fed. Sts.", "Netherlands (Kingdom of the)": the same words in any order,
    # abbreviations spelled out, "of"/"the" ignored.
    loose = _loose_names().get(_loose_key(raw))
    if loose:
        return loose
    # "Korea, Republic of" style: try the words reversed around the comma.
    if "," in raw:
        a, _, b = raw.partition(",")
        swapped = f"{b.strip()} {a.strip()}"
        return to_alpha3(swapped) if swapped.strip() != raw else None
    # "Hong Kong (China)", "Congo (Brazzaville)": the qualifier first, then the name alone.
    m = re.fullmatch(r"\s*([^()]+?)\s*\(([^()]+)\)\s*", raw)
    if m:
        return to_alpha3(f"{m.group(2)} {m.group(1)}") or to_alpha3(m.group(1))
    # A code and a name together: "DE - Germany", "CHN - China", "CN/China" (both must agree).
    parts = [p for p in re.split(r"\s+[-\u2013\u2014]\s+|\s*[/|]\s*", raw) if p.strip()]
    if len(parts) == 2:
        codes = {to_alpha3(p) for p in parts}
        if len(codes) == 1 and None not in codes:
            return codes.pop()
    # ISO 3166 numeric codes lose their leading zeros in spreadsheets: 36 is 036 (Australia).
    if raw.isdigit() and len(raw) < 3:
        return to_alpha3(raw.zfill(3))
    return None


# Abbreviations of official-name words used by statistical agencies (World Bank, UN
# Comtrade, WTO); "of", "the", "and" and "SAR" carry no identity.
_ABBREVIATIONS = {
    "dem": "democratic",
    "rep": "republic",
    "fed": "federated",
    "sts": "states",
    "is": "islands",
    "isl": "islands",
    "st": "saint",
    "ste": "sainte",
    "pdr": "peoples democratic republic",
    "dpr": "democratic peoples republic",
    "rb": "bolivarian republic",
    "utd": "united",
    "fyr": "former yugoslav republic",
}
_LOOSE_STOPWORDS = frozenset({"of", "the", "and", "sar"})


def _loose_key(value: str) -> str:
    words: list[str] = []
    for w in _country_key(value).split():
        words.extend(_ABBREVIATIONS.get(w, w).split())
    return " ".join(sorted(w for w in words if w not in _LOOSE_STOPWORDS))


@lru_cache(maxsize=1)
def _loose_names() -> dict[str, str]:
    """Every English name pycountry and the alias table know, by loose key (unambiguous only)."""
    found: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                found.setdefault(_loose_key(name), set()).add(c.alpha_3)
    for alias, code in COUNTRY_ALIASES.items():
        found.setdefault(_loose_key(alias), set()).add(code)
    return {k: next(iter(v)) for k, v in found.items() if k and len(v) == 1}


def normalise_company(name: str) -> str:
    """Matching key of a company name: casefolded, accents, punctuation and legal forms removed.
    The one normaliser of ingest and detection (`detection.parties.company_key`, built on the
    OpenSanctions fingerprints package)."""
    return company_key(name)


# Keys casefolded, accents dropped, separators as single spaces ("import/export" ->
# "import export"). English plus the Spanish, Portuguese, French and German words registries
# use for the same four activities.
ACTIVITIES: dict[str, str] = {
    **dict.fromkeys(
        ["production", "produce", "producer", "manufacture", "manufacturer", "manufacturing",
         "synthesis", "prod", "produccion", "productor", "fabricacion", "fabricante",
         "producao", "fabricacao", "fabrication", "fabricant", "producteur", "herstellung",
         "hersteller", "produktion"],
        "production",
    ),
    **dict.fromkeys(
        ["processing", "process", "processor", "formulation", "proc", "procesamiento",
         "transformacion", "formulacion", "processamento", "transformacao", "transformation",
         "verarbeitung", "weiterverarbeitung"],
        "processing",
    ),
    **dict.fromkeys(
        ["trade", "trader", "trading", "distribution", "distributor", "wholesale", "wholesaler",
         "import", "export", "importer", "exporter", "import export", "export import", "broker",
         "brokerage", "comercio", "comercializacion", "comerciante", "distribuidor",
         "distribucion", "importador", "exportador", "comercializacao", "distribuidora",
         "negoce", "commerce", "negociant", "distributeur", "handel", "handler", "haendler",
         "grosshandel", "vertrieb"],
        "trade",
    ),
    **dict.fromkeys(
        ["consumption", "consume", "consumer", "use", "user", "end use", "end user", "research",
         "r and d", "r d", "laboratory", "lab", "consumo", "uso", "usuario", "usuario final",
         "utilizacao", "consommation", "utilisation", "utilisateur", "verbrauch", "verwender",
         "endverbraucher", "forschung"],
        "consumption",
    ),
}  # fmt: skip


def normalise_activity(value: str) -> str | None:
    """production, processing, trade or consumption; None for an activity no rule knows."""
    key = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().casefold()
    key = key.replace("&", " and ")
    return ACTIVITIES.get(" ".join(re.sub(r"[\s/_\-.,;+]+", " ", key).split()))


# Keys casefolded with accents and punctuation dropped: "Exportación" -> "exportacion".
_FLOWS = {
    **dict.fromkeys(
        ["x", "e", "ex", "export", "exports", "exp", "expo", "outbound", "outward", "reexport",
         "reexports", "exportation", "exportations", "exportacion", "exportaciones",
         "exportacao", "exportacoes", "ausfuhr", "ausfuhren", "sortie", "uitvoer",
         "exportrecord", "dispatch", "dispatches", "versendung", "expedition", "expedicion"],
        "X",
    ),
    **dict.fromkeys(
        ["m", "i", "im", "import", "imports", "imp", "impo", "inbound", "inward", "reimport",
         "reimports", "importation", "importations", "importacion", "importaciones",
         "importacao", "importacoes", "einfuhr", "einfuhren", "entree", "invoer",
         "importrecord", "arrival", "arrivals", "eingang", "introduction", "introduccion"],
        "M",
    ),
}  # fmt: skip


def normalise_flow(value: str) -> str | None:
    """X (export) or M (import) from the many ways feeds write a trade flow; None if unknown."""
    key = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _FLOWS.get(re.sub(r"[\s.\-_]+", "", key.casefold()))


# Unambiguous date formats tried when the profile names none (after ISO).
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%B-%Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%y",
    "%d %b %y",
    "%d/%b/%Y",
    "%d.%b.%Y",
    "%d %b, %Y",
    "%b-%d-%Y",
    "%b-%d-%y",
    "%Y-%b-%d",
    "%B %Y %d",
)
_ISO_DT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# A time after a date that is not ISO ("05/01/2025 13:45", "Jan 5, 2025 1:45 PM"): dropped.
_TIME_TAIL = re.compile(
    r"(?<=\d)[ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([ap]\.?m\.?)?\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_ORDINAL = re.compile(r"(?<=\d)(st|nd|rd|th|er|º|°)\b\.?", re.IGNORECASE)
# Month names and abbreviations of the feeds' other languages (accents off, lower case),
# as English abbreviations that strptime's %b reads; the filler words of "5 de enero de
# 2025", "le 5 janvier 2025", "5. Januar 2025" go.
_MONTHS = {
    **dict.fromkeys(["enero", "ene", "janeiro", "janvier", "janv", "januar", "janner", "jaen",
                     "gennaio", "gen"], "jan"),
    **dict.fromkeys(["febrero", "fevereiro", "fev", "fevrier", "fevr", "februar", "febbraio"],
                    "feb"),
    **dict.fromkeys(["marzo", "marco", "mars", "marz", "mrz", "maerz"], "mar"),
    **dict.fromkeys(["abril", "abr", "avril", "avr", "aprile"], "apr"),
    **dict.fromkeys(["mayo", "maio", "mai", "maggio", "mag"], "may"),
    **dict.fromkeys(["junio", "junho", "juin", "juni", "giugno", "giu"], "jun"),
    **dict.fromkeys(["julio", "julho", "juillet", "juil", "juli", "luglio", "lug"], "jul"),
    **dict.fromkeys(["agosto", "ago", "aout"], "aug"),
    **dict.fromkeys(["septiembre", "setiembre", "setembro", "set", "sept", "settembre"], "sep"),
    **dict.fromkeys(["octubre", "outubro", "out", "octobre", "oktober", "okt", "ottobre", "ott"],
                    "oct"),
    **dict.fromkeys(["noviembre", "novembro", "novembre"], "nov"),
    **dict.fromkeys(["diciembre", "dic", "dezembro", "dez", "decembre", "dezember", "dicembre"],
                    "dec"),
}  # fmt: skip
_FILLER = {"de", "del", "do", "da", "of", "the", "le", "den", "el"}
# Spreadsheet day numbers (days since 1899-12-30) from a date column that lost its format:
# only 1990-01-01 to 2069-12-31, five digits, so no other number reads as one.
_SERIAL_RANGE = (32874, 62091)


def _date_text(value: str) -> str:
    """The date part of `value` in a form the formats read: ISO time dropped, another time
    dropped, weekday and ordinal suffix gone, foreign month names as English abbreviations."""
    v = value.strip()
    m = _ISO_DT.match(v)
    if m:
        return m.group(1)
    v = _TIME_TAIL.sub("", v)
    if v.isascii() and not any(c.isalpha() for c in v):
        return v
    v = _ORDINAL.sub("", _WEEKDAY.sub("", v))
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", v.casefold()) if not unicodedata.combining(c)
    )
    words = re.split(r"([^\W\d_]+)", plain)
    out = []
    for i, w in enumerate(words):
        if i % 2 == 1:  # a word
            if w in _FILLER:
                continue
            w = _MONTHS.get(w, w)
        out.append(w)
    v = re.sub(r"(?<=[a-z])\.", "", re.sub(r"\s+", " ", "".join(out))).strip(" ,")
    return re.sub(r"^(\d{1,2})\.\s*(?=[a-z])", r"\1 ", v)  # "5. jan 2025" -> "5 jan 2025"


def _try(value: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value, fmt).date()
    except ValueError:
        return None


def date_order_evidence(values: list[str]) -> set[str]:
    """Which day/month orders the numeric dates among `values` prove: 'dmy' for 13/01/2025,
    'mdy' for 01/13/2025 (both: the column mixes them; none: no date decides)."""
    found: set[str] = set()
    for value in values:
        v = _TIME_TAIL.sub("", value.strip())
        for sep in ("/", "-", "."):
            parts = v.split(sep)
            if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) in (2, 4):
                a, b = int(parts[0]), int(parts[1])
                if 12 < a <= 31 and 1 <= b <= 12:
                    found.add("dmy")
                elif 12 < b <= 31 and 1 <= a <= 12:
                    found.add("mdy")
                break
        if len(found) == 2:
            break
    return found


@lru_cache(maxsize=262144)
def parse_date(
    value: str, date_format: str | None = None, order: str | None = None
) -> tuple[dt.date | None, str | None]:
    """(date, None) or (None, reason). The profile's format first, then ISO and unambiguous forms.

    Day/month-order forms (03/04/2024) are accepted without a profile format only when the
    reading is unambiguous (a part above 12, or both readings equal), or when `order` ('dmy' or
    'mdy', as the other dates of the same feed prove: see date_order_evidence) decides."""
    v = _date_text(value)
    if date_format:
        d = _try(v, date_format)
        if d is None and v != value.strip():
            d = _try(value.strip(), date_format)
        if d is not None:
            return d, None
        iso = _try(v, "%Y-%m-%d")
        if iso is not None:
            return iso, None
        return None, f"impossible or unreadable date '{value[:40]}' (expected {date_format})"
    for fmt in _DATE_FORMATS:
        d = _try(v, fmt)
        if d is not None:
            return d, None
    if len(v) == 5 and v.isdigit() and _SERIAL_RANGE[0] <= int(v) <= _SERIAL_RANGE[1]:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v)), None
    for sep in ("/", "-", "."):
        parts = v.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) in (2, 4):
            yfmt = "%Y" if len(parts[2]) == 4 else "%y"
            dmy = _try(v, f"%d{sep}%m{sep}{yfmt}")
            mdy = _try(v, f"%m{sep}%d{sep}{yfmt}")
            if dmy and mdy and dmy != mdy:
                if order in ("dmy", "mdy"):
                    return (dmy if order == "dmy" else mdy), None
                return None, (
                    f"ambiguous date '{v}' (day/month order unknown): "
                    'set date_format = "%d/%m/%Y" or "%m/%d/%Y" under [options]'
                )
            if dmy or mdy:
                return dmy or mdy, None
    return None, f"impossible or unreadable date '{value[:40]}'"


@lru_cache(maxsize=65536)
def cas_ok(value: str) -> bool:
    """True when the CAS number's check digit is right."""
    return cas_check_digit_ok(value.strip())
