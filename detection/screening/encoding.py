"""Mojibake: text whose UTF-8 bytes were decoded with the wrong encoding, repaired or reported.

"å“Œå•¶é…®" is 哌啶酮 (4-piperidone's 哌啶酮) read as cp1252; "鍝屽暥閰" is the same read
as GBK. Where the repair is unambiguous (ftfy for Latin-1/cp1252; a strict GBK -> UTF-8
round trip for GBK) the name is screened as repaired; where bytes were lost or the repair
is partial, the name is unreadable: the screen says so rather than calling it clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy
from ftfy import badness

from detection.screening.chinese import HAN_PATTERN, HAN_RE

__all__ = ["SUSPECT_PATTERN", "Repair", "repair_mojibake"]

# Characters mojibake is made of (Latin-1 and cp1252 letters and punctuation, the
# replacement character) or hides in (Han characters for GBK): only such text is examined.
SUSPECT_PATTERN = (
    r"[\x{00c0}-\x{00ff}\x{0152}\x{0153}\x{0160}\x{0161}\x{0178}\x{017d}\x{017e}\x{0192}"
    r"\x{02c6}\x{02dc}\x{2013}\x{2014}\x{2018}-\x{201e}\x{2020}-\x{2022}\x{2026}\x{2030}"
    rf"\x{{2039}}\x{{203a}}\x{{20ac}}\x{{2122}}\x{{fffd}}]|{HAN_PATTERN}"
)
_LATIN_TRACE_RE = re.compile(
    r"[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2018-\u201e]"
)
_ENCODING_NAMES = {"sloppy-windows-1252": "cp1252", "latin-1": "Latin-1", "windows-1252": "cp1252"}


@dataclass(frozen=True)
class Repair:
    """The text to screen, what was repaired (a phrase) and why it cannot be read, if so."""

    text: str
    note: str | None = None
    unreadable: str | None = None


def _from_gbk(text: str) -> Repair | None:
    """UTF-8 read as GBK: a strict round trip repairs it; a lossy one shows it is damaged."""
    if not HAN_RE.search(text):
        return None
    try:
        fixed = text.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        fixed = None
    if fixed is not None and fixed != text and HAN_RE.search(fixed):
        return Repair(fixed, "repaired from UTF-8 text read as GBK")
    # Genuine GBK text decodes to replacement characters; mojibake mostly to Han again.
    lossy = text.encode("gbk", errors="replace").decode("utf-8", errors="replace")
    han, lost = len(HAN_RE.findall(lossy)), lossy.count("\ufffd")
    if han >= 2 and han >= 2 * lost:
        return Repair(
            text,
            unreadable="it looks like UTF-8 text read as GBK with bytes lost, so it cannot "
            "be repaired unambiguously",
        )
    return None


def repair_mojibake(text: str) -> Repair:
    """The text repaired where that is unambiguous; otherwise marked unreadable if it shows
    mojibake or lost bytes; otherwise unchanged."""
    fixed, steps = ftfy.fix_encoding_and_explain(text)
    if fixed != text:
        partial = any(step[1] == "decode_inconsistent_utf8" for step in steps or [])
        encodings = [_ENCODING_NAMES.get(s[1], s[1]) for s in steps or [] if s[0] == "encode"]
        read_as = " or ".join(dict.fromkeys(encodings)) or "a single-byte encoding"
        if (partial and _LATIN_TRACE_RE.search(fixed)) or badness.is_bad(fixed):
            return Repair(
                text,
                unreadable=f"it looks like UTF-8 text read as {read_as} and could be "
                "repaired only in part",
            )
        return Repair(fixed, f"repaired from UTF-8 text read as {read_as}")
    gbk = _from_gbk(text)
    if gbk is not None:
        return gbk
    if "\ufffd" in text:
        return Repair(
            text,
            unreadable="it holds replacement characters (�): bytes were lost when it was decoded",
        )
    if badness.is_bad(text):
        return Repair(text, unreadable="it looks like text decoded with the wrong encoding")
    return Repair(text)
