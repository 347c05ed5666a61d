"""The data the screening layers pass along: one distinct description and its decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from detection.screening.text import compact, tokens
from detection.screening.watchlist import Substance

if TYPE_CHECKING:
    from detection.screening.lexical import NameForm

__all__ = ["MAX_TOKENS", "Decision", "Unit"]

# Longer token lists are cut: no product name has more words that matter, and the window
# search of the exact layer grows with the square of the count.
MAX_TOKENS = 24


@dataclass(frozen=True)
class Decision:
    """What a layer concluded; `matched` is the listed name form it matched, if any."""

    verdict: str  # controlled | analogue | clear
    substance: Substance | None
    score: float
    method: str
    explanation: str
    matched: NameForm | None = None


@dataclass
class Unit:
    """Working state of one distinct cleaned description (trade and salt words removed).

    Each layer reads what earlier layers left here and writes its own findings as data;
    the first layer that decides sets `decision`.
    """

    cleaned: str
    hs_support: bool
    salts: list[str]

    key: str = ""
    toks: list[str] = field(default_factory=list)
    tok_keys: list[str] = field(default_factory=list)
    decision: Decision | None = None
    smiles: str | None = None
    similarity: float | None = None
    candidate: Substance | None = None
    modified: tuple[NameForm, str] | None = None
    structure_tried: bool = False
    no_ring_word: bool = False
    structure_down: str | None = None

    @classmethod
    def of(cls, cleaned: str, hs_support: bool, salts: list[str]) -> Unit:
        """A unit with its compact key and tokens computed."""
        toks = tokens(cleaned)[:MAX_TOKENS]
        return cls(
            cleaned,
            hs_support,
            salts,
            key=compact(cleaned),
            toks=toks,
            tok_keys=[compact(t) for t in toks],
        )

    def decide(
        self,
        verdict: str,
        sub: Substance | None,
        score: float,
        method: str,
        why: str,
        matched: NameForm | None = None,
    ) -> None:
        self.decision = Decision(verdict, sub, float(score), method, why, matched)

    def salt_note(self) -> str:
        """The salt and hydrate words read as the free base, as a bracketed phrase."""
        if not self.salts:
            return ""
        words = ", ".join(dict.fromkeys(s.lower() for s in self.salts))
        return f" (salt/hydrate words '{words}' read as the free base)"
