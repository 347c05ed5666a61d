"""Text normalisation for screening: Unicode folding, the CAS pattern, trade-word stripping, keys.

There is one cleaner, written as polars expressions (`sanitized`, `cleaned`, `salt_words`):
the pipeline runs it over whole columns, and `sanitize`/`clean_text` run the same
expressions over a single name for callers outside the screen.
"""

from __future__ import annotations

import re
from collections import Counter

import polars as pl

__all__ = [
    "CAS_SPAN_PATTERN",
    "CLEAN_STEPS",
    "CONTROL_NOTE",
    "EDGE_PUNCT",
    "FOREIGN_PATTERN",
    "MAX_NAME_CHARS",
    "TRUNCATION_NOTE",
    "chem_stems",
    "clean_text",
    "clean_texts",
    "cleaned",
    "compact",
    "digit_groups",
    "end_class",
    "had_control",
    "is_cas_number",
    "locants_compatible",
    "ring_stems",
    "salt_words",
    "sanitize",
    "sanitized",
    "tokens",
]

# Longer inputs are truncated before screening: no real product name is this long, and a
# bounded length keeps every layer's cost bounded (100 KB names must not hang the screen).
MAX_NAME_CHARS = 500
TRUNCATION_NOTE = "name is {} characters; only the first {} were screened"
CONTROL_NOTE = "control characters were removed"

_CONTROL_PATTERN = r"[\x00-\x1f\x7f-\x9f\x{200b}-\x{200f}\x{2028}\x{2029}\x{feff}]"
_DASH_PATTERN = r"[\x{2010}-\x{2015}\x{2212}\x{fe58}\x{fe63}\x{ff0d}]"

# The CAS number pattern, and the same with its boundary characters: polars' regex engine
# has no look-around, so a span carries the character before and after it.
_CAS_CORE = r"\d{2,7}-\d{2}-\d"
CAS_SPAN_PATTERN = rf"(?:^|[^\d-]){_CAS_CORE}(?:[^\d-]|$)"
_CAS_RE = re.compile(_CAS_CORE)


def is_cas_number(text: str) -> bool:
    """True when `text` is shaped like a CAS number (NNNNNNN-NN-N); the check digit aside."""
    return _CAS_RE.fullmatch(text) is not None


# Purity, grade, form and packaging words: they say how a product is sold, not what it is.
_TRADE_PATTERN = (
    r"(?i)"
    r"\b\d+(?:[.,]\d+)?\s*(?:%|percent|pct)(?:\s*(?:min|max|minimum|purity|pure|assay))?"
    r"|\b(?:min|max)\.?\s*\d+(?:[.,]\d+)?\s*%?"
    r"|\b\d+(?:[.,]\d+)?\s*(?:kgs?|g|mg|mt|t|tons?|tonnes?|l|ml|lbs?|litres?|liters?)\b(?:\s*/\s*\w+)?"
    r"|\b(?:hs|hts)\s*(?:code)?\s*:?\s*\d{4}(?:\.\d{2}){0,2}\b"
    r"|\b(?:cas\s*(?:no|number|rn|#)?\.?\s*:?|cas#)"
    r"|\b(?:purity|pure|assay|grade|industrial|technical|tech|reagent|analytical|lab|laboratory"
    r"|pharma|pharmaceutical|usp|bp|ep|high|quality|best|price|factory|supply|supplier|offers?"
    r"|powder|crystals?|crystalline|solid|liquid|white|off-white|yellowish|colou?rless|oil"
    r"|drums?|bags?|cartons?|bottles?|fiber|fibre|cardboard|barrels?|ibc|jerrycans?|cans?|pails?"
    r"|sacks?|boxe?s|packed|packing|packaging|net|gross|sample|samples|free\s+base|base"
    r"|intermediates?|raw\s+material|chemicals?|item|lot|batch|product|stock|in)\b"
)
# Bare numbers of three or more digits (lot numbers, quantities); locants are shorter.
_NUMBER_PATTERN = r"(?:^|[\s(/])\d{3,}(?:[\s)/,;]|$)"

# Salt, hydrate and solvate words: a salt or hydrate of a listed substance is that substance.
_SALT_PATTERN = (
    r"(?i)"
    r"\b(?:mono|di|tri|sesqui|hemi)?(?:hydro)?(?:chloride|bromide|iodide)s?\b"
    r"|\b\d?\s*h(?:cl|br|i)\b|\bh2o\b|\b\d?\s*h2so4\b"
    r"|\b(?:mono|di|tri|sesqui|hemi)?hydrates?\b|\banhydrous\b|\bsolvate\b"
    r"|\b(?:mono|di)?(?:citrate|oxalate|tartrate|sulfate|sulphate|hydrogensulfate|bisulfate"
    r"|phosphate|acetate|trifluoroacetate|tfa|fumarate|maleate|mesylate|methanesulfonate"
    r"|tosylate|besylate|succinate|malonate|nitrate|perchlorate|hydrobromide|hydroiodide"
    r"|salicylate|benzoate|lactate|formate|camsylate)\b"
    r"|\bsalt\b|\bmonohydrochloride\b"
)
_SALT_SUFFIX_PATTERN = r"(?i)(?:\.|;)\s*(?:\d?\s*h(?:cl|br)|\d?hcl|hcl)\s*$"
_EMPTY_BRACKETS_PATTERN = r"\(\s*[,;/]*\s*\)|\[\s*[,;/]*\s*\]"

# Names written in Spanish, Portuguese, French or German (feeds of Latin American and
# European authorities): accents dropped and the name-building morphemes put into English, so
# "clorhidrato de N-fenetil-4-piperidona" reads "hydrochloride N-phenethyl-4-piperidone" and
# "4-(fenilamino)piperidina-1-carboxilato de terc-butilo" reads "tert-butyl
# 4-(phenylamino)piperidine-1-carboxylate". Only non-English morphemes match, so English
# names pass unchanged. Replacements use polars' ${n} group syntax (converted for `re`).
_ACCENT_STEPS: tuple[tuple[str, str], ...] = (
    (r"[éèêëÉÈÊË]", "e"),
    (r"[áàâäãÁÀÂÄÃ]", "a"),
    (r"[íìîïÍÌÎÏ]", "i"),
    (r"[óòôöõÓÒÔÖÕ]", "o"),
    (r"[úùûüÚÙÛÜ]", "u"),
    (r"[ñÑ]", "n"),
    (r"[çÇ]", "c"),
)
_FOREIGN_STEPS: tuple[tuple[str, str], ...] = (
    (r"(?i)clorhidrato|cloridrato|chlorhydrate|hidrocloruro|hydrochlorid\b", "hydrochloride"),
    (r"(?i)hidrato", "hydrate"),
    (r"(?i)fentanilo?\b", "fentanyl"),
    (r"(?i)feniletil", "phenylethyl"),
    (r"(?i)fenetil", "phenethyl"),
    (r"(?i)fenil", "phenyl"),
    (r"(?i)bencil", "benzyl"),
    (r"(?i)propionil", "propionyl"),
    (r"(?i)acetil", "acetyl"),
    (r"(?i)metil", "methyl"),
    (r"(?i)etil", "ethyl"),
    (r"(?i)propil", "propyl"),
    (r"(?i)butil", "butyl"),
    (r"(?i)oxicarbonil", "oxycarbonyl"),
    (r"(?i)carbonil", "carbonyl"),
    (r"(?i)carboxil", "carboxyl"),
    (r"(?i)\bterc-", "tert-"),
    (r"(?i)(yl)[oe]\b", "${1}"),
    (r"(?i)piperidinona\b", "piperidinone"),
    (r"(?i)piperidona\b", "piperidone"),
    (r"(?i)piperidina\b", "piperidine"),
    (r"(?i)anilina\b", "aniline"),
    (r"(?i)amina\b", "amine"),
    (r"(?i)-ona\b", "-one"),
)
# Does a name carry any of those morphemes (then its explanation says how it was read)?
FOREIGN_PATTERN = r"(?i)[éèêëáàâäãíìîïóòôöõúùûüñç]|" + "|".join(
    p.removeprefix("(?i)") for p, _ in _FOREIGN_STEPS if "${" not in _
)
# "X-carboxilato de terc-butilo" (Spanish/Portuguese/French ester order) -> "tert-butyl X-carboxylate".
_ESTER_STEPS: tuple[tuple[str, str], ...] = (
    # CAS index names put the parent first: "4-Piperidinone, 1-(phenylmethyl)-" is
    # 1-(phenylmethyl)-4-piperidinone, "Piperidine, 4-anilino-" is 4-anilinopiperidine.
    (r"^\s*([^,]+?)\s*,\s*([^,]+-)\s*$", "${2}${1}"),
    (r"(?i)^\s*(\S+?at)[oe]?\s+de\s+(\S+?)\s*$", "${2} ${1}e"),
    (r"(?i)\b(?:de|del|do|da|du|des)\b", " "),
)

# The cleaning steps, in order, as (pattern, replacement in polars' ${n} syntax).
CLEAN_STEPS: tuple[tuple[str, str], ...] = (
    *_ACCENT_STEPS,
    *_FOREIGN_STEPS,
    (CAS_SPAN_PATTERN, " "),
    (_TRADE_PATTERN, " "),
    (_NUMBER_PATTERN, " "),
    (_NUMBER_PATTERN, " "),
    (_SALT_SUFFIX_PATTERN, " "),
    (_SALT_PATTERN, " "),
    (_EMPTY_BRACKETS_PATTERN, " "),
    (r"\s+", " "),
    *_ESTER_STEPS,
    (r"\s+", " "),
)
EDGE_PUNCT = " ,;/|:-_.+*#"
_TOKEN_SPLIT_RE = re.compile(r"[\s,;/|]+")
_COMPACT_RE = re.compile(r"[^0-9a-z]+")
_DIGITS_RE = re.compile(r"\d+")


def _head(raw: pl.Expr) -> pl.Expr:
    # A full-width bracket right after a name opens an aside ("4-ANPP（4-苯胺基...）"), not
    # a substituent (those follow a hyphen, a bracket or a locant: "1-（2-苯乙基）"); NFKC
    # makes both "(", so the aside gets its space first.
    head = raw.fill_null("").str.slice(0, MAX_NAME_CHARS)
    aside = head.str.replace_all(r"([^\s\-(\[（\d])（", "${1} （")
    full_width = head.str.contains("（", literal=True)
    return pl.when(full_width).then(aside).otherwise(head).str.normalize("NFKC")


def sanitized(raw: pl.Expr) -> pl.Expr:
    """Printable NFKC text of at most MAX_NAME_CHARS: controls removed, dashes and spaces folded."""
    return (
        _head(raw)
        .str.replace_all(_CONTROL_PATTERN, " ")
        .str.replace_all(_DASH_PATTERN, "-")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def had_control(raw: pl.Expr) -> pl.Expr:
    """Whether the screened part of the text held control or invisible formatting characters."""
    return _head(raw).str.contains(_CONTROL_PATTERN)


def _ascii_words(pattern: str) -> str:
    # ASCII word boundaries let polars' regex engine use its DFA (much faster).
    return pattern.replace(r"\b", r"(?-u:\b)")


def cleaned(text: pl.Expr) -> pl.Expr:
    """Sanitised text with CAS numbers, trade, purity, packaging and salt words removed, and
    Spanish/Portuguese/French/German morphemes put into English."""
    out = text
    for pattern, repl in CLEAN_STEPS:
        out = out.str.replace_all(_ascii_words(pattern), repl)
    return out.str.strip_chars(EDGE_PUNCT)


def salt_words(text: pl.Expr) -> pl.Expr:
    """The salt and hydrate words `cleaned` removes from sanitised text, as a list (named in
    explanations)."""
    return text.str.extract_all(_ascii_words(f"{_SALT_PATTERN}|{_SALT_SUFFIX_PATTERN}"))


def truncation_note(length: int) -> str:
    return TRUNCATION_NOTE.format(length, MAX_NAME_CHARS)


def sanitize(raw: object) -> tuple[str, list[str]]:
    """One name through `sanitized`, and notes on what was changed."""
    value = None if raw is None else str(raw)
    row = (
        pl.DataFrame({"raw": [value]}, schema={"raw": pl.String()})
        .select(
            text=sanitized(pl.col("raw")),
            length=pl.col("raw").str.len_chars().fill_null(0),
            control=had_control(pl.col("raw")),
        )
        .row(0)
    )
    notes = [truncation_note(row[1])] if row[1] > MAX_NAME_CHARS else []
    if row[2]:
        notes.append(CONTROL_NOTE)
    return row[0], notes


def clean_texts(texts: list[str]) -> list[str]:
    """`cleaned` over a list of texts (one polars pass)."""
    series = pl.Series("t", texts, dtype=pl.String())
    return series.to_frame().select(cleaned(pl.col("t")))["t"].to_list()


def clean_text(text: str) -> tuple[str, list[str]]:
    """Text with CAS numbers, trade words and salt words removed; and the salt words found."""
    frame = pl.DataFrame({"t": [text]}, schema={"t": pl.String()})
    row = frame.select(c=cleaned(pl.col("t")), s=salt_words(pl.col("t"))).row(0)
    return row[0], [s.strip() for s in row[1]]


def compact(text: str) -> str:
    """Lower-case letters and digits only: folds spacing, hyphenation and punctuation."""
    return _COMPACT_RE.sub("", text.lower())


def tokens(text: str) -> list[str]:
    """Whitespace/separator tokens, with brackets and edge punctuation trimmed."""
    out = []
    for tok in _TOKEN_SPLIT_RE.split(text):
        tok = tok.strip(EDGE_PUNCT + "()[]{}\"'")
        if tok:
            out.append(tok)
    return out


def digit_groups(key: str) -> list[str]:
    """The digit runs of a compact key: locants, ring sizes, multipliers."""
    return _DIGITS_RE.findall(key)


def locants_compatible(query_key: str, name_key: str) -> bool:
    """True when the digits agree; a missing '1' (the ring nitrogen's locant) is tolerated.

    A changed or extra digit is a different compound (1-boc-3-AP is not 1-boc-4-AP,
    2-piperidone is not 4-piperidone); a dropped position-4 locant is ambiguous.
    """
    q, n = Counter(digit_groups(query_key)), Counter(digit_groups(name_key))
    if q - n:
        return False
    missing = n - q
    return all(d == "1" for d in missing.elements())


# Functional-group endings: a one-letter change between these is a different compound
# (piperidone / piperidine / piperidinol), not a typo.
_END_CLASSES = (
    ("ketone", re.compile(r"(?:one|onum)$")),
    ("alcohol", re.compile(r"(?:ol|diol)$")),
    ("amine", re.compile(r"(?:amine|ine)$")),
    ("amide", re.compile(r"(?:amide|anilide)$")),
    ("ester", re.compile(r"(?:ate|ester)$")),
    ("acid", re.compile(r"(?:acid|oic)$")),
    ("alkane", re.compile(r"(?:ane|ene|yne)$")),
    ("alkyl", re.compile(r"yl$")),
)


def end_class(key: str) -> str | None:
    """The functional-group class of a compact key's ending, if it has a recognised one."""
    for cls, rx in _END_CLASSES:
        if rx.search(key):
            if cls == "amine" and _OXO_RING_RE.search(key):
                return "ketone"  # 4-oxopiperidine is the ketone 4-piperidone, not an amine
            return cls
    return None


_OXO_RING_RE = re.compile(r"oxo[a-z]*ine$")


_RINGS = (
    "piperidin",
    "piperazin",
    "pyridin",
    "pyrrolidin",
    "morpholin",
    "quinazolin",
    "quinolin",
    "pyrimidin",
    "pyrazin",
    "azepan",
    "piperidon",
    "pyridon",
    "pyrrol",
)
_SUBSTITUENTS = (
    "phenethyl",
    "phenylethyl",
    "phenyl",
    "benzyloxycarbonyl",
    "benzyl",
    "benz",
    "methyl",
    "ethyl",
    "propyl",
    "butyl",
    "pentyl",
    "fluor",
    "chlor",
    "brom",
    "iod",
    "methoxy",
    "ethoxy",
    "butoxy",
    "hydroxy",
    "nitro",
    "amino",
    "anilino",
    "acetyl",
    "acet",
    "propionyl",
    "propanoyl",
    "butanoyl",
    "butyryl",
    "cbz",
    "fmoc",
    "tosyl",
    "thienyl",
    "thiophen",
    "furan",
    "cyclo",
    "carbethoxy",
    "carbonyl",
    "dimethyl",
    "diethyl",
    "dioxa",
    "ketal",
    "acetal",
    "oxime",
    "spiro",
    "carboxamide",
    "propan",
    "butan",
    "pentan",
    "hexan",
    "ethan",
    "methan",
    "aza",
    "oxa",
    "oxo",
    "tert",
    "boc",
    "nor",
    "desmethyl",
    "amine",
    "amide",
    "ol",
)


def ring_stems(key: str) -> frozenset[str]:
    """Ring-name stems present in a compact key."""
    return frozenset(r for r in _RINGS if r in key)


def chem_stems(key: str) -> frozenset[str]:
    """Substituent stems present in a compact key, longest first (phenethyl hides ethyl)."""
    found = []
    rest = key
    for stem in sorted(_SUBSTITUENTS, key=len, reverse=True):
        if stem in rest:
            found.append(stem)
            rest = rest.replace(stem, "|")
    return frozenset(found)
