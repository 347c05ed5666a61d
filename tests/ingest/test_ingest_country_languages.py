"""Countries written in the reporting authority's own language resolve to ISO alpha-3."""

from __future__ import annotations

import pytest

from ingest.normalise import to_alpha3


@pytest.mark.parametrize(
    ("value", "alpha3"),
    [
        ("Deutschland", "DEU"), ("Belgique", "BEL"), ("België", "BEL"), ("Brasil", "BRA"),
        ("Schweiz", "CHE"), ("Suisse", "CHE"), ("España", "ESP"), ("Österreich", "AUT"),
        ("Nederland", "NLD"), ("Polska", "POL"), ("Sverige", "SWE"), ("Indien", "IND"),
        ("中国", "CHN"), ("日本", "JPN"), ("대한민국", "KOR"),
    ],
)  # fmt: skip
def test_names_in_other_languages(value: str, alpha3: str) -> None:
    assert to_alpha3(value) == alpha3


@pytest.mark.parametrize("value", ["Atlantis", "Narnia", "Europe", "EU"])
def test_non_countries_stay_unresolved(value: str) -> None:
    assert to_alpha3(value) is None
