"""The watchlist of controlled precursors: parse the sourced TOML data file into typed records."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = [
    "Form",
    "Substance",
    "cas_check_digit_ok",
    "load_trivial_names",
    "load_watchlist",
    "watchlist_path",
]


@dataclass(frozen=True)
class Form:
    """A salt, hydrate or other form of a listed substance, with its own CAS number."""

    cas: str
    name: str
    form: str  # "salt", "hydrate", "salt hydrate"
    smiles: str | None = None


@dataclass(frozen=True)
class Substance:
    """One listed precursor, identified by the CAS number of its free base."""

    cas: str
    name: str  # the short name inspectors use (e.g. "ANPP")
    preferred_name: str
    systematic_name: str
    smiles: str
    hs_codes: tuple[str, ...]
    instrument: str
    listed_on: dt.date | None
    source: str
    abbreviations: tuple[str, ...] = ()
    ambiguous_abbreviations: tuple[str, ...] = ()  # collide with benign chemicals (4-AP, NPP)
    synonyms: tuple[str, ...] = ()
    forms: tuple[Form, ...] = field(default_factory=tuple)

    def all_names(self) -> list[tuple[str, str]]:
        """Every name form as (name, kind)."""
        out = [(self.name, "short"), (self.preferred_name, "preferred")]
        out.append((self.systematic_name, "systematic"))
        out += [(a, "abbreviation") for a in self.abbreviations]
        out += [(a, "ambiguous_abbreviation") for a in self.ambiguous_abbreviations]
        out += [(s, "synonym") for s in self.synonyms]
        out += [(f.name, "form") for f in self.forms]
        return out


def watchlist_path() -> Path:
    """The committed watchlist data file."""
    return Path(str(resources.files("detection.screening") / "data" / "watchlist.toml"))


def cas_check_digit_ok(cas: str) -> bool:
    """True when `cas` is NNNNNNN-NN-N with a correct check digit."""
    parts = cas.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    a, b, c = parts
    if not (2 <= len(a) <= 7 and len(b) == 2 and len(c) == 1):
        return False
    digits = (a + b)[::-1]
    total = sum((i + 1) * int(d) for i, d in enumerate(digits))
    return total % 10 == int(c)


def load_watchlist(path: Path | None = None) -> list[Substance]:
    """Parse the watchlist file (default: the committed one)."""
    with open(path or watchlist_path(), "rb") as fh:
        data = tomllib.load(fh)
    out: list[Substance] = []
    for entry in data.get("substance", []):
        forms = tuple(
            Form(cas=f["cas"], name=f["name"], form=f.get("form", "salt"), smiles=f.get("smiles"))
            for f in entry.get("forms", [])
        )
        listed = entry.get("listed_on")
        out.append(
            Substance(
                cas=entry["cas"],
                name=entry["name"],
                preferred_name=entry.get("preferred_name", entry["name"]),
                systematic_name=entry["systematic_name"],
                smiles=entry["smiles"],
                hs_codes=tuple(entry.get("hs_codes", [])),
                instrument=entry.get("instrument", ""),
                listed_on=listed if isinstance(listed, dt.date) else None,
                source=entry.get("source", ""),
                abbreviations=tuple(entry.get("abbreviations", [])),
                ambiguous_abbreviations=tuple(entry.get("ambiguous_abbreviations", [])),
                synonyms=tuple(entry.get("synonyms", [])),
                forms=forms,
            )
        )
    return out


def load_trivial_names(path: Path | None = None) -> dict[str, str]:
    """Trivial names written in other scripts (芬太尼 -> fentanyl), from the watchlist file."""
    with open(path or watchlist_path(), "rb") as fh:
        data = tomllib.load(fh)
    return {entry["zh"]: entry["en"] for entry in data.get("trivial_name", [])}
