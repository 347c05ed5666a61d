"""Russian (Cyrillic) chemical names read by their parts into English.

Russian substitutive names spell the IUPAC parts in Cyrillic ("N-фенетил-4-пиперидон",
"4-анилино-N-фенетилпиперидин"), so a sourced table of those parts (data/morphemes_ru.toml)
turns them into the English names the lexical and structure layers screen.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from pathlib import Path

__all__ = ["CYRILLIC_PATTERN", "read_cyrillic"]

CYRILLIC_PATTERN = r"[\x{0400}-\x{04ff}]"
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# English drops a parent's final "e" before a vowel suffix: piperidine-4-one -> piperidin-4-one.
_ELIDE_RE = re.compile(r"ine(-[\d,]+-)(one|ol|yl|amine)\b")
# "гидрохлорид 4-пиперидона": the genitive parent after a salt word is that parent's salt.
_LEFTOVER_RE = re.compile(r"[\u0400-\u04ff]+")


def _data_path() -> Path:
    return Path(str(resources.files("detection.screening") / "data" / "morphemes_ru.toml"))


@functools.lru_cache(maxsize=1)
def _table() -> tuple[re.Pattern[str], dict[str, str]]:
    with open(_data_path(), "rb") as fh:
        data = tomllib.load(fh)
    entries = data["morphemes"]
    table = {k: v["en"] for k, v in entries.items()}
    keys = sorted(table, key=len, reverse=True)
    alternation = "|".join(
        (r"(?<=\d-)" if entries[k].get("after_locant") else "") + re.escape(k) for k in keys
    )
    return re.compile(alternation, re.IGNORECASE), table


def read_cyrillic(text: str) -> str:
    """The English reading of a name with Cyrillic letters; the text unchanged without them."""
    if not _CYRILLIC_RE.search(text):
        return text
    rx, table = _table()
    out = rx.sub(lambda m: table[m.group(0).lower()], text)
    out = _ELIDE_RE.sub(r"in\1\2", out)
    # Cyrillic left over is no chemical part (a company or packing word): a word boundary.
    return re.sub(r"\s+", " ", _LEFTOVER_RE.sub(" ", out)).strip()
