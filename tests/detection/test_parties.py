"""One company-name normaliser (ingest and detection agree), addresses, and entities."""

from __future__ import annotations

import polars as pl
import pytest

from detection.entities import resolve_entities
from detection.parties import address_key, company_key, normalise_party
from ingest.normalise import normalise_company


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("De Vries Chemie B.V.", "DE VRIES CHEMIE BV"),
        ("OOO Khimprom", "Khimprom OOO"),
        ("Société Chimique S.A.", "SOCIETE CHIMIQUE SA"),
        ("Alpha Chem Co., Ltd.", "ALPHA CHEM COMPANY LIMITED"),
        ("Acme Gesellschaft mit beschränkter Haftung", "ACME GmbH"),
        ("Химпром Общество с ограниченной ответственностью", "ООО Химпром"),
        ("Acme Limited Liability Company", "Acme L.L.C."),
        ("Acme Joint Stock Company", "JSC Acme"),
    ],
)
def test_spellings_of_one_company_share_a_key(a: str, b: str) -> None:
    assert company_key(a) == company_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme International", "Acme"),  # a business word is part of the name, not a legal form
        ("Twin Chemicals Ltd", "Twin Pharma Ltd"),
        ("上海化工有限公司", "北京化工有限公司"),  # other scripts keep their letters
    ],
)
def test_different_companies_keep_different_keys(a: str, b: str) -> None:
    assert company_key(a) != company_key(b)


def test_ingest_and_detection_use_the_same_normaliser() -> None:
    names = ["De Vries Chemie B.V.", "OOO Khimprom", "Hebei Chem Co., Ltd.", "Müller Chemie AG"]
    frame = pl.DataFrame({"n": names})
    assert frame.select(normalise_party("n"))["n"].to_list() == [
        normalise_company(n) for n in names
    ]


def test_addresses_of_one_place_share_a_key() -> None:
    a = address_key("Room 1203, Building 5, No. 88 Zhongshan Road, Shanghai")
    b = address_key("RM 1203 BLDG 5 NO. 88 ZHONGSHAN RD., SHANGHAI")
    assert a == b and a
    assert address_key("Room 1204, Building 5, No. 88 Zhongshan Road, Shanghai") != a


def _parties(rows: list[tuple[str, str, str | None, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"norm": pl.String, "country": pl.String, "address": pl.String,
                "facility_id": pl.String, "records": pl.Int64},
        orient="row",
    )  # fmt: skip


def test_spelling_variants_become_one_entity_with_their_aliases_and_scores() -> None:
    e = resolve_entities(
        _parties([
            ("hebei chem", "CHN", "no 88 zhongshan rd", "F1", 12),
            ("hebei chemm", "CHN", None, None, 1),
            ("hebei chem trading", "CHN", "5 other rd", None, 3),
            ("wuhan golden", "CHN", "no 88 zhongshan rd", None, 4),
        ])
    )  # fmt: skip
    by = {r["norm"]: r for r in e.iter_rows(named=True)}
    assert by["hebei chemm"]["entity"] == "hebei chem"
    assert by["hebei chemm"]["entity_facility_id"] == "F1"
    assert by["hebei chemm"]["match_probability"] >= 0.9
    assert "nearly the same" in by["hebei chemm"]["agreed"]
    assert by["hebei chem"]["aliases"] == ["hebei chem", "hebei chemm"]
    # Another company at the same address, and a similar name elsewhere, stay apart.
    assert by["wuhan golden"]["entity"] == "wuhan golden"
    assert by["hebei chem trading"]["entity"] == "hebei chem trading"


def test_a_name_written_with_and_without_its_and_is_one_entity_despite_an_early_typo() -> None:
    """One authority writes "Drugs and Intermediates", another "Drugs Intermediates" with the
    first letters mistyped: one company (the conjunction is not compared; the block on a
    name's ending finds the pair whose first letters differ)."""
    e = resolve_entities(
        _parties([
            ("korcor drugs and intermediates pvt", "IND", "plot 94 midc ind", None, 9),
            ("krcor drugs intermediates pvt", "IND", "plot 94 midc ind", None, 2),
            ("sarvam drugs and intermediates pvt", "IND", "plot 7 gidc", None, 4),
        ])
    )  # fmt: skip
    by = {r["norm"]: r["entity"] for r in e.iter_rows(named=True)}
    assert by["krcor drugs intermediates pvt"] == "korcor drugs and intermediates pvt"
    # Another company of the same trade, its name ending the same way, stays apart.
    assert by["sarvam drugs and intermediates pvt"] == "sarvam drugs and intermediates pvt"


def test_typos_are_found_among_hundreds_of_names_of_one_city_and_trade() -> None:
    """300 companies of one city and trade ("wuhan ... fine chemical"): too many to compare
    each with each, so a name meets its neighbours in sorted order; a typo late in the name, a
    swap of two letters and a typo in the city still find the company's own spelling."""
    syllables = ["bo", "da", "feng", "hao", "hua", "jin", "long", "ming", "tai", "xin"]
    others = [f"wuhan {a}{b}{c} fine chemical" for a in syllables for b in syllables
              for c in syllables][:300]  # fmt: skip
    rows = [(n, "CHN", f"no {i} road {i}", None, 3) for i, n in enumerate(others)]
    spellings = ["wuhan ankang fine chemical", "wuhan ankng fine chemical",
                 "wuhan ankagn fine chemical", "wuahn ankang fine chemical"]  # fmt: skip
    rows += [(n, "CHN", None, None, 5 if i == 0 else 1) for i, n in enumerate(spellings)]
    e = resolve_entities(_parties(rows))
    by = {r["norm"]: r["entity"] for r in e.iter_rows(named=True)}
    assert {by[n] for n in spellings} == {"wuhan ankang fine chemical"}
    assert sum(by[n] == "wuhan ankang fine chemical" for n in others) == 0


def test_two_declared_facilities_are_never_one_entity() -> None:
    e = resolve_entities(
        _parties([("twin chemical", "IND", "1 mg road", "T1", 5), ("twin chemicals", "IND", "1 mg road", "T2", 5)])
    )  # fmt: skip
    assert e["entity"].n_unique() == 2


def test_entities_do_not_depend_on_row_order() -> None:
    rows = [
        ("orion import", "MEX", "calle 5", None, 3),
        ("orion imports", "MEX", "calle 5", None, 1),
        ("vega quimica", "MEX", "calle 5", None, 2),
        ("lyra comercial", "MEX", None, None, 2),
    ]
    a = resolve_entities(_parties(rows))
    b = resolve_entities(_parties(rows[::-1]))
    assert a.to_dicts() == b.to_dicts()
    assert a.filter(pl.col("norm") == "orion imports")["entity"][0] == "orion import"


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("上海诚博化工有限公司", "Shanghai Chengbo Chemical Co., Ltd."),
        ("杭州佳博生物科技有限公司", "Hangzhou Jiabo Biotechnology Co., Ltd."),
        ("南京宏鑫精细化工有限公司", "Nanjing Hongxin Fine Chemical Co., Ltd."),
    ],
)
def test_a_name_in_chinese_links_to_its_registered_english_name(chinese: str, english: str) -> None:
    """Chinese customs write the party in Chinese; the registry has the English name."""
    from ingest.link import LinkIndex

    idx = LinkIndex([("F1", english, company_key(english), "CHN")])
    key = (company_key(chinese), "CHN")
    link = idx.link_many([key])[key]
    assert (link.facility_id, link.method) == ("F1", "exact")
    other = (company_key("上海龙科化工有限公司"), "CHN")  # another Shanghai chemical company
    assert idx.link_many([other])[other].facility_id is None


def test_letters_written_apart_are_one_legal_form() -> None:
    assert company_key("Distribuidora Química Arhal S. A. de C. V.") == company_key(
        "Distribuidora Química Arhal S.A. de C.V."
    )
