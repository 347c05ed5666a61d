"""One company-name normaliser for ingest and detection, built on OpenSanctions' `fingerprints`,
and the address key of a party (OpenSanctions' `rigour`).

`company_key` is what `*_norm` means everywhere: ingest stores it for each party, linking to
declared facilities compares it, and detection keys parties and entities on it. It extends
`fingerprints`: the legal forms its type table knows in many languages and scripts
("Gesellschaft mit beschränkter Haftung", "общество с ограниченной ответственностью",
"Company Limited") are taken off the end of a name as one phrase, next to a local list of
forms and abbreviations written in customs feeds; names in Cyrillic, Chinese or Japanese keep
their letters (a key must not merge every such party into one empty name), with forms written
first (OOO, PT, JSC) or run into the name (有限公司) taken off too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import polars as pl
from fingerprints import clean_name_ascii, clean_name_light
from fingerprints.types.data import TYPES
from rigour.addresses import address_fingerprint

__all__ = [
    "LEGAL_FORMS",
    "address_key",
    "business_key",
    "compact_key",
    "company_key",
    "name_tokens",
    "normalise_address",
    "normalise_party",
]

# Legal-form tokens removed from the END of a company name (after dots are dropped, so
# "S.A." -> "sa", "Co.,Ltd." -> "co ltd"), beside the forms the fingerprints package knows.
LEGAL_FORMS = frozenset(
    [
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "srls",
        "spa",
        "sl",
        "sau",
        "sca",
        "bv",
        "nv",
        "vof",
        "pvt",
        "private",
        "pte",
        "pty",
        "ltda",
        "cv",
        "ab",
        "oy",
        "oyj",
        "as",
        "asa",
        "aps",
        "kk",
        "jsc",
        "ojsc",
        "pjsc",
        "cjsc",
        "oao",
        "ooo",
        "zao",
        "ao",
        "sro",
        "spzoo",
        "zoo",
        "kft",
        "bhd",
        "sdn",
        "tbk",
        "pt",
        "se",
        "eirl",
        "est",
        "sp",  # sp. z o.o. (Poland)
        "oo",
        "s",  # s. de r.l. de c.v., s. en c. (Mexico and Latin America)
        "rl",
        "sapi",
        "sab",
        # spelled-out forms: Limitada (Ltda.), Sociedad/Société Anónyme (S.A.), Limitée (Ltée),
        # Kabushiki Kaisha (K.K.), Proprietary (Pty)
        "limitada",
        "limitee",
        "ltee",
        "anonima",
        "anonyme",
        "sociedad",
        "sociedade",
        "societe",
        "kabushiki",
        "kaisha",
        "proprietary",
        # UAE free-zone forms (Jebel Ali, Dubai Multi Commodities Centre...)
        "fze",
        "fzco",
        "fzc",
        "fzllc",
        "dmcc",
        # Cyrillic (ООО, АО, ПАО...), as the first or last word
        "ооо",
        "оао",
        "зао",
        "пао",
        "ао",
        "тов",
    ]
)
# Legal forms written before the name: OOO Khimprom, PT Kimia Farma, ПАО ...
_PREFIX_FORMS = frozenset(
    {"ooo", "oao", "zao", "pao", "ao", "jsc", "ojsc", "pjsc", "cjsc", "pt", "cv", "ооо", "оао",
     "зао", "пао", "ао", "тов"}
)  # fmt: skip
# Chinese and Japanese legal forms (no spaces to split on): taken off the start or the end.
_CJK_FORMS = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "株式会社", "有限会社",
              "合同会社", "公司")  # fmt: skip
_BUSINESS_WORDS: dict[str, str] = {
    **dict.fromkeys(["chem", "chems", "chemical", "chemicals", "chemie", "chemistry", "chimie", "chimica",
         "quimica", "quimicas", "quimico", "quimicos"], "chemical"),
    **dict.fromkeys(
        ["pharm", "pharma", "pharmaceutical", "pharmaceuticals", "pharmaceutica", "farma",
         "farmaceutica", "farmaceutico", "farmaceuticos", "pharmazie"], "pharmaceutical"
    ),
    **dict.fromkeys(["tech", "techn", "technology", "technologies", "technological"], "technology"),
    **dict.fromkeys(["ind", "inds", "indus", "industry", "industries", "industrial"], "industrial"),
    **dict.fromkeys(["intl", "int", "internat", "international", "inter"], "international"),
    **dict.fromkeys(["trading", "trade", "traders", "trd"], "trading"),
    **dict.fromkeys(["mfg", "manufacturing", "manufacturer", "manufacturers", "mfr"], "manufacturing"),
    **dict.fromkeys(["lab", "labs", "laboratory", "laboratories", "lab."], "laboratory"),
    **dict.fromkeys(["bio", "biotech", "biotechnology"], "biotechnology"),
    **dict.fromkeys(["sci", "science", "sciences", "scientific"], "science"),
    **dict.fromkeys(["dev", "development", "developments"], "development"),
    **dict.fromkeys(["imp", "import", "imports", "importers"], "import"),
    **dict.fromkeys(["exp", "export", "exports", "exporters"], "export"),
    **dict.fromkeys(["grp", "group"], "group"),
    **dict.fromkeys(["mat", "mats", "material", "materials"], "materials"),
    **dict.fromkeys(["pdts", "prods", "product", "products"], "products"),
}  # fmt: skip


def _join_letters(tokens: list[str]) -> list[str]:
    """Runs of single Latin letters are one abbreviation: "S. A. de C. V." -> "sa de cv"."""
    out: list[str] = []
    run = ""
    for t in tokens:
        if len(t) == 1 and t.isascii() and t.isalpha():
            run += t
            continue
        if run:
            out.append(run)
            run = ""
        out.append(t)
    if run:
        out.append(run)
    return out


# Chinese business words in the English that registries write them in, so a name in Chinese
# compares with its registered English name ("杭州佳博生物科技" ~ "Hangzhou Jiabo Biotechnology");
# longest first. The rest of the name is read in pinyin (fingerprints' transliteration).
_CJK_BUSINESS = dict(
    sorted(
        {
            "生物科技": " biotechnology ", "精细化工": " fine chemical ", "化工": " chemical ",
            "化学": " chemical ", "科技": " technology ", "技术": " technology ", "生物": " bio ",
            "医药": " pharmaceutical ", "制药": " pharmaceutical ", "药业": " pharmaceutical ",
            "精细": " fine ", "贸易": " trading ", "实业": " industrial ", "工业": " industrial ",
            "材料": " materials ", "国际": " international ", "发展": " development ",
            "进出口": " import export ", "集团": " group ",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)  # fmt: skip
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@lru_cache(maxsize=262144)
def compact_key(norm: str, business: bool = True) -> str:
    """A company norm as one run of Latin letters, for matching across scripts and spacing:
    "上海诚博化工" and "Shanghai Chengbo Chemical" both read "shanghaichengbochemical". With
    `business`, business words are spelled one way too ("Beta Pharma" reads
    "betapharmaceutical"); without, only the Chinese ones are put in English (a typo in a
    business word, "Chemm", then stays a small difference)."""
    return "".join(name_tokens(norm, business))


def name_tokens(norm: str, business: bool = True) -> list[str]:
    """The words of `compact_key` before they are joined (Chinese script read syllable by
    syllable, its business words in English: "上海诚博化工" gives shang, hai, cheng, bo, chemical)."""
    s = norm
    if _CJK_RE.search(s):
        for zh, en in _CJK_BUSINESS.items():
            s = s.replace(zh, en)
    s = clean_name_ascii(s) or s
    return (business_key(s) if business else s).split()


def business_key(norm: str) -> str:
    """A company norm with one spelling per business word, for linking: "Chem."/"Chemicals",
    "Pharm."/"Pharmaceutical", "Intl"/"International" name the same company. The long form,
    so that a typo in the distinctive part of a name stays a small share of it."""
    return " ".join(_BUSINESS_WORDS.get(t, t) for t in norm.split())


_TAIL_FORMS = ("ltd", "limited", "llc", "inc", "co", "corp", "gmbh", "ag", "sa", "bv", "pte",
               "plc", "srl", "spa", "fze", "fzco", "dmcc")  # fmt: skip
# Words of a legal form only when a legal form follows them ("Limited Liability Company",
# "S.A. de C.V.", "Joint Stock Company").
_LEGAL_JOINERS = frozenset(
    {"de", "and", "y", "et", "und", "z", "en", "liability", "stock", "joint", "public"}
)


def _fold(name: str) -> str:
    """Accents off; Latin letters as ASCII (ß, ø and the like go, as they always have: stored
    norms stay comparable); letters of other scripts (Cyrillic, Chinese...) kept."""
    out = []
    for c in unicodedata.normalize("NFKD", name):
        if c.isascii():
            out.append(c)
        elif unicodedata.combining(c):
            continue
        elif c.isalnum() and not unicodedata.name(c, "").startswith("LATIN"):
            out.append(c)
    return "".join(out)


# Types in the fingerprints table that are not legal forms (business words, places, or
# short words that end ordinary names): never taken off a name.
_NOT_LEGAL = frozenset(
    {"intl", "imp", "exp", "imp and", "exp corp", "uk", "hk", "ent", "ii", "im", "is", "up", "ok",
     "na", "eu", "tu", "ju", "np", "nl", "san", "ins", "et", "ep", "pe", "os", "ps", "pr", "rp",
     "dp", "cp", "ed", "ei", "ev", "fa", "gs", "hf", "ik", "jp", "ks", "lo", "ry", "sb", "sf",
     "sp", "tk", "ud", "uu", "xk", "xt", "yu", "zs"}
)  # fmt: skip


def _legal_phrases() -> list[str]:
    out = set(LEGAL_FORMS)
    for t in TYPES["types"]:
        main = clean_name_ascii(t["main"])
        if main is None or main in _NOT_LEGAL:
            continue
        for form in (t["main"], *t["forms"]):
            # Both spellings: as written (Cyrillic stays Cyrillic) and transliterated.
            for clean in (clean_name_light(_fold(form).casefold()), clean_name_ascii(form)):
                if clean and len(clean) > 1:
                    out.add(clean)
    return sorted(out, key=lambda p: (-len(p), p))


_LEGAL_RE = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in _legal_phrases()) + r")(?!\w)")
# Every word of a legal form, and the joining words: a run of words that holds another word
# cannot be legal forms alone, so it needs no look with the regex above.
_LEGAL_WORDS = frozenset(w for p in _legal_phrases() for w in p.split()) | _LEGAL_JOINERS


_EDGE_JOINERS = frozenset({"de", "and", "y", "et", "und", "z", "en"})


def _only_legal(tokens: list[str]) -> bool:
    """True when these words are nothing but legal forms (joined by 'de', 'and'...)."""
    # "Banco de", "Smith and": a name's own joining word is not a legal form.
    if tokens[0] in _EDGE_JOINERS or tokens[-1] in _EDGE_JOINERS:
        return False
    rest = _LEGAL_RE.sub(" ", " ".join(tokens)).split()
    return all(t in _LEGAL_JOINERS for t in rest)


@lru_cache(maxsize=262144)
def company_key(name: str) -> str:
    """Matching key of a company name: casefolded, accents, punctuation and legal forms removed."""
    s = _fold(name).casefold().replace("&", " and ")
    s = re.sub(r"(?<=\b\w)\.(?=\w\b)", "", s)  # s.a. -> sa, b.v. -> bv
    s = re.sub(r"\b(\w)/(\w)\b", r"\1\2", s)  # a/s -> as, s/a -> sa
    s = s.replace(".", "")
    # "Acme Ltd. (HK)": a place in brackets after the legal form is not part of the name.
    s = re.sub(r"\b(" + "|".join(_TAIL_FORMS) + r")\s*\([^()]*\)\s*$", r"\1", s)
    s = re.sub(r"[^\w]+|_", " ", s)
    for form in _CJK_FORMS:
        if s.endswith(form) and len(s.strip()) > len(form):
            s = s[: -len(form)]
        if s.startswith(form) and len(s.strip()) > len(form):
            s = s[len(form) :]
    tokens = _join_letters(s.split())
    if not tokens:
        return ""
    stripped = list(tokens)
    if len(stripped) > 1 and stripped[0] in _PREFIX_FORMS:
        stripped.pop(0)
    # The longest run of legal forms at the end, one word kept ("AG" alone stays "ag").
    first = len(stripped)  # where the last run of words that could be legal forms begins
    while first > 1 and stripped[first - 1] in _LEGAL_WORDS:
        first -= 1
    cut = next((j for j in range(first, len(stripped)) if _only_legal(stripped[j:])), len(stripped))
    stripped = stripped[:cut]
    if len(stripped) > 1 and stripped[0] == "the":  # "The Acme Company" -> "acme"
        stripped.pop(0)
    # A name that is nothing but legal forms keeps its tokens rather than becoming empty.
    return " ".join(stripped or tokens)[:500]


def normalise_party(col: str | pl.Expr) -> pl.Expr:
    """`company_key` of a name column, computed once per distinct name."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.map_batches(_map_distinct(company_key), return_dtype=pl.String)


@lru_cache(maxsize=262144)
def address_key(address: str) -> str:
    """Matching key of an address (rigour's address fingerprint: casefolded, transliterated,
    street words shortened one way: "Road"/"Rd.", "Building"/"Bldg"), or "" when it says nothing."""
    key = address_fingerprint(address) or ""
    return " ".join(key.split())[:500]


def normalise_address(col: str | pl.Expr) -> pl.Expr:
    """`address_key` of an address column, computed once per distinct address; null if empty."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.map_batches(_map_distinct(address_key), return_dtype=pl.String).replace("", None)


def _map_distinct(fn: Callable[[str], str]) -> Callable[[pl.Series], pl.Series]:
    """A batch function applying `fn` to each distinct non-null string once."""

    def run(s: pl.Series) -> pl.Series:
        s = s.cast(pl.String)
        uniq = s.drop_nulls().unique()
        table = {v: fn(v) for v in uniq.to_list()}
        return s.replace_strict(table, default=None, return_dtype=pl.String)

    return run
