"""Company names and addresses as registries and customs clerks write them, and the
generator's own company-name normaliser (OpenSanctions `fingerprints`).

Every party has a registered name and a fixed set of other spellings (legal form written
another way, upper case, accents or spacing changed, a typo, its Chinese name or a form
without the legal form); every address has a few variants (abbreviations, case, a dropped
postcode). Records pick among them, so one company appears under several spellings the way
it does across national feeds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import fingerprints
import numpy as np
import polars as pl

from sample_data.world import COUNTRIES

__all__ = [
    "N_ADDRESS_VARIANTS",
    "N_NAME_VARIANTS",
    "Company",
    "make_address",
    "make_companies",
    "normalise_company",
    "with_address",
]

# Slots of Company.variants: 0 registered, 1 legal form written another way, 2 upper case,
# 3 respelled (accents, spacing, word order), 4 typo, 5 local script or no legal form.
N_NAME_VARIANTS = 6
N_ADDRESS_VARIANTS = 4

_PINYIN = (
    ("xin", "鑫"), ("hua", "华"), ("kang", "康"), ("tai", "泰"), ("long", "龙"), ("jin", "金"),
    ("ming", "明"), ("an", "安"), ("da", "达"), ("fu", "福"), ("sheng", "盛"), ("rui", "瑞"),
    ("yuan", "源"), ("cheng", "诚"), ("hong", "宏"), ("heng", "恒"), ("bo", "博"), ("tian", "天"),
    ("rong", "荣"), ("yu", "宇"), ("jia", "佳"), ("hao", "浩"), ("wei", "威"), ("feng", "丰"),
    ("chuang", "创"), ("lian", "联"), ("xiang", "祥"), ("de", "德"), ("ke", "科"), ("mei", "美"),
)  # fmt: skip
_ZH_CITY = {"Shanghai": "上海", "Wuhan": "武汉", "Hangzhou": "杭州", "Shijiazhuang": "石家庄",
            "Jinan": "济南", "Nanjing": "南京", "Suzhou": "苏州", "Tianjin": "天津"}  # fmt: skip
_ZH_DESC = (
    ("Chemical", "化工"), ("Pharmaceutical", "医药"), ("Biotechnology", "生物科技"),
    ("Technology", "科技"), ("Trading", "贸易"), ("New Material", "新材料"),
    ("Fine Chemical", "精细化工"), ("Pharmaceutical Technology", "医药科技"),
)  # fmt: skip
_SYL = (
    "ar", "bel", "cor", "dal", "ev", "fin", "gal", "hel", "ion", "jul", "kor", "lum", "mar",
    "nov", "orb", "pra", "quin", "ros", "sol", "ter", "ul", "ver", "wen", "xen", "yor", "zen",
    "al", "bri", "cas", "dor", "el", "fal", "gren", "hal", "is", "kal", "len", "mon", "nor",
    "os", "pel", "ran", "sar", "tal", "val", "wil",
)  # fmt: skip
_SURNAMES = {
    "de": ("Müller", "Schröder", "Köhler", "Weiß", "Brückner", "Hoffmann", "Lange", "Vogt"),
    "nl": ("De Vries", "Van Dijk", "Jansen", "Bakker", "Visser", "Smit", "Van den Berg"),
    "fr": ("Dubois", "Lefèvre", "Peeters", "Janssens", "Mercier"),
    "es": ("Hernández", "García", "Martínez", "López", "Ramírez", "Peña", "Núñez"),
    "pt": ("Gonçalves", "Araújo", "Sousa", "Conceição", "Simões"),
    "hi": ("Shree Balaji", "Sai Krishna", "Ganesh", "Vardhman", "Sudarshan", "Lakshmi", "Om Sai",
           "Mahalaxmi", "Siddhi Vinayak", "Aarti"),
    "ko": ("Hanil", "Daesung", "Samjin", "Dongbang", "Kyungin", "Seongwoo"),
    "vi": ("Viet Phat", "Hoa Minh", "Thanh Long", "Tan An", "Minh Phu"),
}  # fmt: skip
_DESC = {
    "en": ("Chemicals", "Fine Chemicals", "Pharma", "Scientific", "Trading", "Industries",
           "Laboratories", "Materials", "Supply", "Biosciences"),
    "de": ("Chemie", "Feinchemie", "Pharma", "Chemikalien Handel", "Spezialchemie"),
    "nl": ("Chemie", "Chemicals", "Trading", "Pharma"),
    "fr": ("Chimie", "Produits Chimiques", "Pharma", "Chemicals"),
    "es": ("Química", "Químicos", "Farmacéutica", "Distribuidora Química", "Comercializadora"),
    "pt": ("Química", "Farmacêutica", "Comércio de Químicos"),
    "hi": ("Organics", "Fine Chem", "Pharmaceuticals", "Laboratories", "Chemicals",
           "Drugs & Intermediates", "Life Sciences"),
    "ko": ("Chemical", "Fine Chemical", "Pharm", "Chemtech", "Materials"),
    "vi": ("Chemicals", "Pharma", "Trading"),
}  # fmt: skip
_DESC_FIRST = {"es", "fr"}  # "Química Ramírez", "Chimie Dubois"

_STREETS = ("Industrial", "Commerce", "Harbor", "Lake", "Park", "Science", "Gateway", "Cedar",
            "Riverside", "Oak", "Enterprise", "Station")  # fmt: skip
_ABBREV = (
    ("Road", "Rd."), ("Street", "St."), ("Avenue", "Ave."), ("Drive", "Dr."), ("Suite", "Ste."),
    ("Number", "No."), ("straße", "str."), ("strasse", "str."), ("Industrial", "Ind."),
    ("District", "Dist."), ("Building", "Bldg."), ("Avenida", "Av."), ("Colonia", "Col."),
    ("Room", "Rm."), ("Floor", "F"), ("Plot No.", "Plot #"), ("No. ", "No."),
)  # fmt: skip


@dataclass
class Company:
    """One legal entity: its registered name, other spellings and address."""

    name: str
    variants: list[str]  # N_NAME_VARIANTS spellings, slot 0 the registered name
    address: str
    address_variants: list[str]  # N_ADDRESS_VARIANTS
    registry_name: str  # as the declaring state's registry lists it (may add the Chinese name)


def make_companies(
    rng: np.random.Generator, countries: list[str], taken: set[str] | None = None
) -> list[Company]:
    """One new company per country code, each with a root name no other company uses."""
    taken = taken if taken is not None else set()
    out = []
    for code in countries:
        while True:
            c = _company(rng, code)
            key = _root_key(c.name)
            if key not in taken:
                taken.add(key)
                out.append(c)
                break
    return out


def with_address(rng: np.random.Generator, company: Company, address: str) -> Company:
    """The same company registered at another (shared) address."""
    variants = _address_variants(rng, address)
    return Company(company.name, company.variants, address, variants, company.registry_name)


def _root_key(name: str) -> str:
    return fingerprints.generate(fingerprints.remove_types(name)) or name.casefold()


def _company(rng: np.random.Generator, code: str) -> Company:
    country = COUNTRIES[code]
    form, form_alts = country.legal_forms[int(rng.integers(0, len(country.legal_forms)))]
    city = country.cities[int(rng.integers(0, len(country.cities)))]
    address = make_address(rng, code, city=city)
    if country.lang == "zh":
        return _chinese_company(rng, city, form, form_alts, address)
    lang = country.lang
    surnames = _SURNAMES.get(lang)
    if surnames and rng.random() < 0.4:
        root = surnames[int(rng.integers(0, len(surnames)))]
        root += " " + _syllable_root(rng) if rng.random() < 0.5 else ""
    else:
        root = _syllable_root(rng)
    descs = _DESC.get(lang, _DESC["en"])
    desc = descs[int(rng.integers(0, len(descs)))]
    core = f"{desc} {root}" if lang in _DESC_FIRST else f"{root} {desc}"
    name = f"{core} {form}"
    alt_form = form_alts[int(rng.integers(0, len(form_alts)))]
    variants = [
        name,
        f"{core} {alt_form}",
        _ascii(name).upper() if rng.random() < 0.5 else name.upper(),
        _respell(_ascii(f"{core} {form}")),
        f"{_typo(rng, core)} {form}",
        core,
    ]
    return Company(name, variants, address, _address_variants(rng, address), name)


def _chinese_company(
    rng: np.random.Generator, city: str, form: str, form_alts: tuple[str, ...], address: str
) -> Company:
    picks = rng.choice(len(_PINYIN), 2, replace=False)
    py = [_PINYIN[int(i)][0] for i in picks]
    root = "".join(py).capitalize()
    desc_en, desc_zh = _ZH_DESC[int(rng.integers(0, len(_ZH_DESC)))]
    zh = _ZH_CITY[city] + "".join(_PINYIN[int(i)][1] for i in picks) + desc_zh + "有限公司"
    name = f"{city} {root} {desc_en} {form}"
    alt_form = form_alts[int(rng.integers(0, len(form_alts)))]
    variants = [
        name,
        f"{city} {root} {desc_en} {alt_form}",
        f"{city} {root} {desc_en} CO.,LTD".upper(),
        f"{city} {' '.join(p.capitalize() for p in py)} {desc_en} {form}"
        if rng.random() < 0.5
        else f"{root} {desc_en} ({city}) {form}",
        f"{city} {_typo(rng, root)} {desc_en} {form}",
        zh,
    ]
    # Half of the Chinese registrations list the Chinese name beside the English one.
    registry_name = f"{name} ({zh})" if rng.random() < 0.5 else name
    return Company(name, variants, address, _address_variants(rng, address), registry_name)


def _syllable_root(rng: np.random.Generator) -> str:
    k = 2 if rng.random() < 0.7 else 3
    return "".join(_SYL[int(i)] for i in rng.integers(0, len(_SYL), k)).capitalize()


def _typo(rng: np.random.Generator, text: str) -> str:
    """One slip of the keyboard in the first word long enough: two letters swapped or one
    dropped."""
    words = text.split(" ")
    for w, word in enumerate(words):
        if len(word) >= 5 and word.isalpha():
            i = int(rng.integers(1, len(word) - 2))
            if rng.random() < 0.6:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            else:
                word = word[:i] + word[i + 1 :]
            words[w] = word
            break
    return " ".join(words)


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).replace("ß", "ss")


def _respell(text: str) -> str:
    """Punctuation dropped and '&' spelled out, as a clerk retypes a name."""
    return " ".join(text.replace(".", "").replace(",", "").replace("&", "and").split())


# ------------------------------------------------------------------------------ addresses


def make_address(
    rng: np.random.Generator, code: str, *, office: bool = False, city: str | None = None
) -> str:
    """A plausible street address in `code` (in `city`, or one of its cities); `office` puts
    it in a suite of an office building (registered agents, business centres, head offices)."""
    c = COUNTRIES[code]
    city = city or c.cities[int(rng.integers(0, len(c.cities)))]
    n = int(rng.integers(1, 400))
    street = _syllable_root(rng) if rng.random() < 0.6 else _STREETS[int(rng.integers(0, 12))]
    unit = int(rng.integers(2, 30)) * 100 + int(rng.integers(1, 20))
    if code == "CHN":
        dist = _syllable_root(rng)
        base = f"No. {n} {street} Road, {dist} District, {city} {int(rng.integers(100000, 999999))}"
        return f"Room {unit}, {unit // 100} Floor, Building 3, {base}" if office else base
    if code == "IND":
        est = ("GIDC Industrial Estate", "MIDC Industrial Area", "IDA Phase II", "Pharma City")
        return (f"Plot No. {n}, {est[int(rng.integers(0, 4))]}, {city} "
                f"{int(rng.integers(110000, 999999))}")  # fmt: skip
    if code in ("DEU", "CHE"):
        s = "straße" if code == "DEU" else "strasse"
        pre = f"{unit // 100}. OG, " if office else ""
        return f"{pre}{street}{s} {n}, {int(rng.integers(10000, 99999))} {city}"
    if code in ("NLD", "BEL"):
        s = "weg" if code == "NLD" else "straat"
        pc = int(rng.integers(1000, 9999))
        return f"{street}{s} {n}, {pc} {city}" + (f", unit {unit}" if office else "")
    if code in ("USA", "CAN"):
        kind = ("Drive", "Avenue", "Road", "Street")[int(rng.integers(0, 4))]
        zip_ = int(rng.integers(10000, 99999))
        suite = f", Suite {unit}" if office or rng.random() < 0.4 else ""
        return f"{n * 10} {street} {kind}{suite}, {city} {zip_}"
    if code == "GBR":
        return f"Unit {unit % 100}, {street} Business Park, {city} {_uk_postcode(rng)}"
    if code in ("MEX", "COL", "GTM", "HND"):
        suite = f", Oficina {unit}" if office else ""
        return (f"Avenida {street} {n}{suite}, Colonia {_syllable_root(rng)}, "
                f"C.P. {int(rng.integers(10000, 99999))}, {city}")  # fmt: skip
    if code == "BRA":
        suite = f", Sala {unit}" if office else ""
        return f"Rua {street}, {n}{suite} - {_syllable_root(rng)}, {city} - SP"
    if code == "KOR":
        return f"{n}, {street}-ro, {_syllable_root(rng)}-gu, {city}"
    suite = f"Room {unit}, " if office else ""
    return f"{suite}No. {n}, {street} Street, {city}"


def _uk_postcode(rng: np.random.Generator) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    a, b, d = (letters[int(i)] for i in rng.integers(0, len(letters), 3))
    return f"{a}{b}{int(rng.integers(1, 20))} {int(rng.integers(1, 9))}{d}{a}"


def _address_variants(rng: np.random.Generator, address: str) -> list[str]:
    abbreviated = address
    for long, short in _ABBREV:
        abbreviated = abbreviated.replace(long, short)
    parts = [p.strip() for p in address.split(",")]
    shorter = ", ".join(parts[:-1]) if len(parts) > 2 else address
    return [address, abbreviated, _respell(_ascii(abbreviated)).upper(), shorter]


# ----------------------------------------------------------------------------- normaliser


@cache
def _fingerprint(name: str) -> str:
    # Legal forms removed first so "Co., Ltd." and "Company Limited" agree; scripts other
    # than Latin are transliterated by fingerprints (ICU).
    return fingerprints.generate(fingerprints.remove_types(name), keep_order=True) or (
        fingerprints.generate(name, keep_order=True) or name.strip().casefold()
    )


def normalise_company(names: pl.Series) -> pl.Series:
    """The generator's normalised company names: each distinct name fingerprinted once."""
    uniq = names.drop_nulls().unique()
    table = pl.DataFrame(
        {"raw": uniq, "norm": [_fingerprint(n) for n in uniq.to_list()]},
        schema={"raw": pl.String, "norm": pl.String},
    )
    frame = pl.DataFrame({"raw": names.cast(pl.String)})
    return frame.join(table, on="raw", how="left", maintain_order="left")["norm"].alias(names.name)
