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


@pytest.mark.parametrize(
    ("value", "alpha3"),
    [
        # World Bank style
        ("Congo, Dem. Rep.", "COD"), ("Congo, Rep.", "COG"), ("Egypt, Arab Rep.", "EGY"),
        ("Iran, Islamic Rep.", "IRN"), ("Korea, Dem. People's Rep.", "PRK"),
        ("Micronesia, Fed. Sts.", "FSM"), ("Venezuela, RB", "VEN"), ("Yemen, Rep.", "YEM"),
        ("Hong Kong SAR, China", "HKG"), ("Virgin Islands (U.S.)", "VIR"),
        # UN Comtrade / M49 style
        ("China, Hong Kong SAR", "HKG"), ("China, Macao SAR", "MAC"),
        ("Dem. People's Rep. of Korea", "PRK"), ("Rep. of Korea", "KOR"),
        ("Dem. Rep. of the Congo", "COD"), ("Netherlands (Kingdom of the)", "NLD"),
        ("United Rep. of Tanzania", "TZA"), ("Rep. of Moldova", "MDA"),
        # WTO style and parenthesised qualifiers
        ("Hong Kong, China", "HKG"), ("Macao, China", "MAC"), ("Hong Kong (China)", "HKG"),
        ("Congo (Brazzaville)", "COG"), ("Congo (Kinshasa)", "COD"),
        ("Guinea, Papua New", "PNG"), ("Central African Rep.", "CAF"),
        ("Republic of Ireland", "IRL"), ("Macedonia, FYR", "MKD"),
    ],
)  # fmt: skip
def test_statistical_agency_spellings(value: str, alpha3: str) -> None:
    assert to_alpha3(value) == alpha3


@pytest.mark.parametrize(
    ("value", "alpha3"),
    [("Niger", "NER"), ("Nigeria", "NGA"), ("Sudan", "SDN"), ("South Sudan", "SSD"),
     ("Guinea", "GIN"), ("Equatorial Guinea", "GNQ"), ("Dominica", "DMA"),
     ("Dominican Rep.", "DOM"), ("Samoa", "WSM"), ("American Samoa", "ASM")],
)  # fmt: skip
def test_similar_names_stay_apart(value: str, alpha3: str) -> None:
    assert to_alpha3(value) == alpha3
