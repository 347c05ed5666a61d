"""Dates as feeds write them: ISO, the profile's format, unambiguous forms, month names in
five languages, spreadsheet day numbers; day/month order only when the feed proves it."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

__all__ = ["date_order_evidence", "parse_date"]

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
