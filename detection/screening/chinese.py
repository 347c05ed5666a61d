"""Chinese chemical names read by their parts and put into an English systematic name.

"N-苯乙基-4-哌啶酮" reads N- 苯乙基 (phenethyl) -4- 哌啶 (piperidine) 酮 (-one), that is
"N-phenethyl-4-piperidinone", which the lexical and structure layers then screen like any
English name, so an unseen analogue gets a structure and a verdict too. Traditional
characters are first folded to simplified with OpenCC (Taiwan phrases included: 丙醯胺 ->
丙酰胺); the morphemes are sourced data (data/morphemes_zh.toml), the trivial names
(芬太尼) come from the watchlist. Characters that are no chemical morpheme (company names,
packing words) separate the parts they stand between.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from detection.screening.watchlist import load_trivial_names

__all__ = ["HAN_PATTERN", "HAN_RE", "read_chinese"]

# Han characters (CJK unified ideographs and extension A), in polars' regex syntax too.
HAN_PATTERN = r"[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}]"
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LOCANT_END_RE = re.compile(r"-[\dA-Za-z,']+-$")
_ELIDE_RE = re.compile(r"e(-[\dA-Za-z,']+-)?$")


@dataclass(frozen=True)
class _Morpheme:
    en: str
    kind: str  # prefix | parent | suffix | multiplier | word | carbon | locant
    en_after_locant: str | None = None
    en_alone: str | None = None


def _data_path() -> Path:
    return Path(str(resources.files("detection.screening") / "data" / "morphemes_zh.toml"))


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[str, _Morpheme], int]:
    with open(_data_path(), "rb") as fh:
        data = tomllib.load(fh)
    table = {
        m["zh"]: _Morpheme(m["en"], m["kind"], m.get("en_after_locant"), m.get("en_alone"))
        for m in data["morpheme"]
    }
    for zh, en in load_trivial_names().items():
        table[zh] = _Morpheme(en, "prefix")
    return table, max(len(k) for k in table)


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    # Taiwan phrases too: 醯 (acyl) is a valid simplified character, only tw2sp maps 丙醯胺.
    return opencc.OpenCC("tw2sp")


def _tokens(text: str) -> list[tuple[str, str, _Morpheme | None]]:
    """(kind, text, morpheme) by longest morpheme match; non-Han characters pass through."""
    table, longest = _table()
    out: list[tuple[str, str, _Morpheme | None]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if not HAN_RE.match(ch):
            out.append(("ascii" if ch.isascii() else "sep", ch, None))
            i += 1
            continue
        for size in range(min(longest, len(text) - i), 0, -1):
            m = table.get(text[i : i + size])
            if m is not None:
                out.append((m.kind, text[i : i + size], m))
                i += size
                break
        else:
            out.append(("sep", ch, None))  # not a chemical morpheme: a word boundary
            i += 1
    return out


_CHEMICAL_NEXT = {"prefix", "parent", "carbon", "locant", "multiplier", "suffix", "word"}
_VOWEL_SUFFIXES = ("one", "ol", "amine")


def _reading(parts: list[tuple[str, str, _Morpheme | None]], n: int, chemical: bool) -> str:
    """The English of morpheme n in its context, or "" where it means nothing chemical."""
    kind, _, m = parts[n]
    assert m is not None
    nxt = parts[n + 1][2] if n + 1 < len(parts) else None
    nxt_kind = parts[n + 1][0] if nxt is not None else ""
    if kind in ("carbon", "locant", "multiplier") and nxt_kind not in _CHEMICAL_NEXT:
        return ""  # 甲, 对, 二 outside a name (中间体, 三聚...) say nothing
    if kind == "carbon":
        if nxt_kind in ("prefix", "parent"):
            return m.en + "yl"  # 甲苯: methylbenzene
        if nxt is not None and nxt.en in _VOWEL_SUFFIXES:
            return m.en + "an"  # 丙酮: propanone, 乙醇: ethanol
    if m.en_alone and not chemical:
        return m.en_alone
    return m.en


def _join(parts: list[tuple[str, str, _Morpheme | None]]) -> str:
    chemical = any(m is not None and kind != "word" for kind, _, m in parts)
    out = ""
    prev = ""
    for n, (kind, raw, m) in enumerate(parts):
        if m is None:
            out += raw if kind == "ascii" else " "
            prev = kind
            continue
        en = _reading(parts, n, chemical)
        if m.en_after_locant and _LOCANT_END_RE.search(out):
            en = m.en_after_locant
        nxt = parts[n + 1][0] if n + 1 < len(parts) else ""
        starts_word = kind == "word" or (kind == "multiplier" and nxt == "word")
        if en and ((starts_word and prev != "multiplier") or (prev == "word" and kind != "word")):
            out = out.rstrip() + " " if out.strip() and not out.endswith("(") else out
        if kind == "suffix":
            out = _ELIDE_RE.sub(lambda mm: mm.group(1) or "", out)
        out += en
        prev = kind if en else prev
    # "(2-苯乙基)" is 2-phenylethyl: "phenethyl" already carries the 2-position.
    out = out.replace("(2-phenethyl)", "(2-phenylethyl)")
    return re.sub(r"\s+", " ", out).strip()


def read_chinese(text: str) -> tuple[str, bool]:
    """The English reading of a name with Han characters, and whether traditional characters
    were folded; the text unchanged when it has none."""
    if not HAN_RE.search(text):
        return text, False
    simplified = _converter().convert(text)
    folded = simplified != text
    return _join(_tokens(simplified)), folded
