"""Value normalisation: countries to ISO alpha-3, company names, CAS, flow and activity.

Scalar functions here work on one value and are applied to the DISTINCT values of a column
(cached across batches), then mapped back onto the frame with polars, so a million-row feed
costs one call per distinct spelling, not per row.
"""

from __future__ import annotations

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
    "cas_ok",
    "normalise_activity",
    "normalise_company",
    "normalise_flow",
    "to_alpha3",
]


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


@lru_cache(maxsize=65536)
def cas_ok(value: str) -> bool:
    """True when the CAS number's check digit is right."""
    return cas_check_digit_ok(value.strip())
