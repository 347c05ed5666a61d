"""Thresholds of the screen, each with a description and a default (shown in the console)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["ScreenConfig"]


@dataclass(frozen=True)
class ScreenConfig:
    """Every tunable number of the name and structure screen."""

    fuzzy_min: float = field(
        default=88.0,
        metadata={"help": "Least rapidfuzz ratio (0-100) of a guarded fuzzy name match."},
    )
    similarity_min: float = field(
        default=0.80,
        metadata={"help": "Least Morgan (r=2) Tanimoto to a listed substance for an analogue."},
    )
    ambiguous_candidate_score: float = field(
        default=40.0,
        metadata={"help": "Score of an ambiguous abbreviation (4-AP, NPP) without context."},
    )
    ambiguous_context_score: float = field(
        default=85.0,
        metadata={"help": "Score of an ambiguous abbreviation with supporting context."},
    )
    modified_name_score: float = field(
        default=65.0,
        metadata={"help": "Score of a listed name with a modifying prefix, structure unparsed."},
    )
    stem_score: float = field(
        default=75.0,
        metadata={"help": "Score of a name carrying the fentanyl stem (fentanyl-related)."},
    )
    structure: bool = field(
        default=True,
        metadata={"help": "Parse systematic names with OPSIN (needs Java)."},
    )
    opsin_timeout_s: float | None = field(
        default=None,
        metadata={"help": "Timeout of one OPSIN batch in seconds (default 30 + 10 ms/name)."},
    )

    @staticmethod
    def describe() -> list[tuple[str, str, object]]:
        """(name, help, default) for each setting."""
        return [(f.name, f.metadata.get("help", ""), f.default) for f in fields(ScreenConfig)]
