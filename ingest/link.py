"""Linking shipment parties (name, country) to declared facilities: exact, then fuzzy, never guessed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from detection.parties import business_key, compact_key

__all__ = ["Link", "LinkConfig", "LinkIndex"]


@dataclass(frozen=True)
class LinkConfig:
    """Thresholds of party-to-facility linking."""

    min_score: float = 90.0  # token_sort_ratio (0-100) a fuzzy link needs
    margin: float = 3.0  # a runner-up within this many points makes the match ambiguous


@dataclass(frozen=True)
class Link:
    facility_id: str | None
    score: float | None
    method: str | None  # exact | fuzzy | None
    candidates: tuple[dict[str, Any], ...] = ()  # set when ambiguous (left unlinked)

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)


_NONE = Link(None, None, None)


@dataclass
class LinkIndex:
    """Declared facilities blocked by country, with a cache of party -> link decisions."""

    facilities: list[tuple[str, str, str, str]]  # (facility_id, name, name_norm, country)
    config: LinkConfig = field(default_factory=LinkConfig)

    def __post_init__(self) -> None:
        self._by_country: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self._exact: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self._exact_key: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self._exact_compact: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for fid, name, norm, country in self.facilities:
            self._by_country[country].append((fid, name, norm))
            self._exact[(norm, country)].append((fid, name))
            self._exact_key[(business_key(norm), country)].append((fid, name))
            self._exact_compact[(compact_key(norm), country)].append((fid, name))
        self._cache: dict[tuple[str, str], Link] = {}

    def __bool__(self) -> bool:
        return bool(self.facilities)

    def link_many(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Link]:
        """Decide the link of each DISTINCT (party_norm, country) pair (cached)."""
        todo = [p for p in dict.fromkeys(pairs) if p not in self._cache]
        fuzzy_by_country: dict[str, list[str]] = defaultdict(list)
        for norm, country in todo:
            if not norm or country not in self._by_country:
                self._cache[(norm, country)] = _NONE
                continue
            # Exact after normalisation; else exact once "Chem."/"Chemicals" and the like
            # are spelled one way (a pair of facilities may differ only there: "exact" wins).
            # Then exact as one run of Latin letters: a name written in Chinese reads in pinyin
            # with its business words in English ("上海诚博化工" = "Shanghai Chengbo Chemical"),
            # and spacing goes ("S. A." = "S.A.").
            exact = (
                self._exact.get((norm, country))
                or self._exact_key.get((business_key(norm), country))
                or self._exact_compact.get((compact_key(norm), country), [])
            )
            if len(exact) == 1:
                self._cache[(norm, country)] = Link(exact[0][0], 100.0, "exact")
            elif len(exact) > 1:
                cands = tuple(
                    {"facility_id": fid, "name": name, "score": 100.0} for fid, name in exact
                )
                self._cache[(norm, country)] = Link(None, None, None, cands)
            else:
                fuzzy_by_country[country].append(norm)
        cfg = self.config
        for country, queries in fuzzy_by_country.items():
            block = self._by_country[country]
            choices = [norm for _, _, norm in block]
            # The best of four readings: words in any order (token_sort_ratio) or as written
            # (ratio: a typo in a first word, "Cehngul" for "Chengul", changes the sorted
            # order and sinks token_sort_ratio), each on the plain norm and on the
            # business-word reading ("Pharm. Tech." against "Pharmaceutical Technology").
            keyed_q = [business_key(q) for q in queries]
            keyed_c = [business_key(c) for c in choices]
            scores = np.maximum.reduce(
                [
                    process.cdist(q, c, scorer=scorer, workers=1)
                    for q, c in ((queries, choices), (keyed_q, keyed_c))
                    for scorer in (fuzz.token_sort_ratio, fuzz.ratio)
                ]
            )
            for qi, norm in enumerate(queries):
                row = scores[qi]
                order = row.argsort()[::-1]
                best = float(row[order[0]])
                if best < cfg.min_score:
                    self._cache[(norm, country)] = _NONE
                    continue
                close = [int(j) for j in order if float(row[j]) >= best - cfg.margin]
                close = [j for j in close if float(row[j]) >= cfg.min_score]
                if len({block[j][0] for j in close}) > 1:
                    cands = tuple(
                        {"facility_id": block[j][0], "name": block[j][1], "score": float(row[j])}
                        for j in close
                    )
                    self._cache[(norm, country)] = Link(None, None, None, cands)
                else:
                    j = int(order[0])
                    self._cache[(norm, country)] = Link(block[j][0], round(best, 1), "fuzzy")
        return {p: self._cache[p] for p in pairs}
