"""New readings of a name, one table each: Chinese (simplified and traditional), full-width
forms, CAS numbers without hyphens, Russian (Cyrillic), and mojibake repaired or unreadable."""

from __future__ import annotations

import polars as pl
import pytest

from detection.screening import screen_names
from detection.screening.chinese import read_chinese
from detection.screening.cyrillic import read_cyrillic
from detection.screening.encoding import repair_mojibake

NPP, ANPP, AP, BOCAP, NOR, PIP, BOCPIP = (
    "39742-60-4", "21409-26-7", "23056-29-3", "125541-22-2", "1609-66-1", "41661-47-6",
    "79099-07-3",
)  # fmt: skip
JAVA = pytest.mark.java

# (Chinese name, the English it reads as): the reading itself, part by part.
CHINESE_READINGS = [
    ("N-苯乙基-4-哌啶酮", "N-phenethyl-4-piperidinone"),
    ("哌啶-4-酮", "piperidin-4-one"),
    ("1-(2-苯乙基)-4-哌啶酮", "1-(2-phenylethyl)-4-piperidinone"),
    ("N-苯基-N-(哌啶-4-基)丙酰胺", "N-phenyl-N-(piperidin-4-yl)propanamide"),
    ("4-氧代哌啶-1-甲酸叔丁酯", "4-oxopiperidine-1-carboxylic acid tert-butyl ester"),
    ("4-哌啶酮盐酸盐一水合物", "4-piperidinone hydrochloride monohydrate"),
    ("4-苯胺基哌啶二盐酸盐", "4-anilinopiperidine dihydrochloride"),
    ("盐酸去甲芬太尼", "hydrochloride norfentanyl"),
    ("1,4-二氧杂-8-氮杂螺[4.5]癸烷", "1,4-dioxa-8-azaspiro[4.5]decane"),
    ("对氟芬太尼", "p-fluorofentanyl"),
    ("丙酮", "propanone"),
    ("甲苯", "methylbenzene"),
    ("盐酸", "hydrochloric acid"),  # alone, the acid; after a name, its salt
    ("上海化学试剂有限公司", ""),  # no chemical part
    ("有机中间体", ""),  # 间 is meta- only before a substituent
    # traditional characters and Taiwan terms
    ("4-哌啶酮鹽酸鹽", "4-piperidinone hydrochloride"),
    ("N-苯基-N-(4-呱啶基)丙醯胺", "N-phenyl-N-(4-piperidinyl)propanamide"),
    ("1-第三丁氧羰基-4-哌啶酮", "1-tert-butoxycarbonyl-4-piperidinone"),
    ("去甲吩坦尼", "norfentanyl"),
]


@pytest.mark.parametrize(("name", "english"), CHINESE_READINGS)
def test_chinese_name_read_by_its_parts(name: str, english: str) -> None:
    assert read_chinese(name)[0] == english


def test_traditional_characters_are_folded_and_said_so() -> None:
    assert read_chinese("4-哌啶酮鹽酸鹽") == ("4-piperidinone hydrochloride", True)
    assert read_chinese("4-哌啶酮盐酸盐") == ("4-piperidinone hydrochloride", False)


# (name, verdict, listed substance's CAS): what the screen concludes from each reading.
SCREENED = [
    # Chinese, simplified
    ("4-哌啶酮", "controlled", PIP),
    ("N-苯乙基-4-哌啶酮", "controlled", NPP),
    ("4-苯胺基-N-苯乙基哌啶", "controlled", ANPP),
    ("4-苯胺基哌啶", "controlled", AP),
    ("去甲芬太尼", "controlled", NOR),
    ("1-叔丁氧羰基-4-哌啶酮", "controlled", BOCPIP),
    ("4-哌啶酮盐酸盐一水合物", "controlled", PIP),
    pytest.param("4-苯胺基哌啶-1-甲酸叔丁酯", "controlled", BOCAP, marks=JAVA),
    pytest.param("1-苄基-4-哌啶酮", "analogue", None, marks=JAVA),
    pytest.param("4-氧代哌啶-1-甲酸乙酯", "analogue", None, marks=JAVA),
    pytest.param("N-(3-氯苯基)哌啶-4-胺", "analogue", None, marks=JAVA),
    ("芬太尼", "analogue", None),
    ("2-哌啶酮", "clear", None),
    ("4-氨基吡啶", "clear", None),
    ("哌嗪", "clear", None),
    ("哌啶", "clear", None),
    ("山东某某化工有限公司", "clear", None),
    # Chinese, traditional
    ("4-哌啶酮鹽酸鹽", "controlled", PIP),
    ("N-苯乙基-4-呱啶酮", "controlled", NPP),
    ("吩坦尼", "analogue", None),
    # full-width letters, digits, punctuation and mixed scripts
    ("４－哌啶酮", "controlled", PIP),
    ("１－Ｂｏｃ－４－哌啶酮", "controlled", BOCPIP),
    ("ＡＮＰＰ", "controlled", ANPP),
    ("1-Boc-4-哌啶酮", "controlled", BOCPIP),
    ("4-ANPP（4-苯胺基-N-苯乙基哌啶）", "controlled", ANPP),
    ("ＣＡＳ：３９７４２－６０－４", "controlled", NPP),
    # CAS numbers without hyphens or with spaces: after "CAS" or alone, check digit valid
    ("CAS 39742604", "controlled", NPP),
    ("CAS No. 21409 26 7", "controlled", ANPP),
    ("39742604", "controlled", NPP),
    ("有机中间体 CAS 39742604", "controlled", NPP),
    ("lot 39742604", "clear", None),  # a bare number inside text is no CAS number
    ("CAS 39742605", "clear", None),  # check digit wrong
    # Russian (Cyrillic)
    ("N-фенетил-4-пиперидон", "controlled", NPP),
    ("4-анилино-N-фенетилпиперидин", "controlled", ANPP),
    ("4-анилинопиперидин", "controlled", AP),
    ("трет-бутил 4-(фениламино)пиперидин-1-карбоксилат", "controlled", BOCAP),
    ("норфентанил", "controlled", NOR),
    ("4-пиперидон гидрохлорид моногидрат", "controlled", PIP),
    ("гидрохлорид 4-пиперидона", "controlled", PIP),
    ("трет-бутил 4-оксопиперидин-1-карбоксилат", "controlled", BOCPIP),
    ("норфентанил оксалат", "controlled", NOR),
    ("ацетон", "clear", None),
    ("2-пиперидон", "clear", None),
    # Spanish, Portuguese, French, German keep working
    ("clorhidrato de N-fenetil-4-piperidona", "controlled", NPP),
    ("cloridrato de 4-piperidona", "controlled", PIP),
    ("N-phénéthyl-4-pipéridone", "controlled", NPP),
    ("N-Phenethyl-4-piperidon-hydrochlorid", "controlled", NPP),
    # mojibake: repaired where unambiguous, otherwise unreadable (never a silent clear)
    ("4-" + "哌啶酮".encode().decode("cp1252"), "controlled", PIP),  # 4-å“Œå•¶é…®
    ("N-phÃ©nÃ©thyl-4-pipÃ©ridone", "controlled", NPP),
    ("4-" + "哌啶酮".encode().decode("gbk", errors="replace"), "unreadable", None),
    ("哌啶酮".encode().decode("cp1252")[:-1], "unreadable", None),  # a byte lost
    ("ANPP \ufffd", "controlled", ANPP),  # what was read is still found
]


def _values(case: object) -> tuple[str, str, str | None]:
    return case.values if hasattr(case, "values") else case  # type: ignore[attr-defined,return-value]


@pytest.fixture(scope="module")
def screened() -> dict[str, dict[str, object]]:
    """Every case screened in one batch (one JVM start)."""
    res = screen_names([_values(c)[0] for c in SCREENED])
    return {r["name"]: r for r in res.iter_rows(named=True)}


@pytest.mark.parametrize(("name", "verdict", "cas"), SCREENED)
def test_each_reading_screens(
    screened: dict[str, dict[str, object]], name: str, verdict: str, cas: str | None
) -> None:
    row = screened[name]
    assert row["verdict"] == verdict, row["explanation"]
    if verdict != "analogue":  # an analogue names its nearest listed substance
        assert row["substance_cas"] == cas, row["explanation"]
    assert str(row["explanation"]).endswith(".")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (
            "N-苯乙基-4-哌啶酮",
            "read as 'N-phenethyl-4-piperidinone' (Chinese name read by its parts)",
        ),
        ("4-哌啶酮鹽酸鹽", "traditional characters folded to simplified"),
        ("N-фенетил-4-пиперидон", "(Russian name read by its parts)"),
        ("CAS 39742604", "written '39742604'"),
        ("4-" + "哌啶酮".encode().decode("cp1252"), "repaired from UTF-8 text read as cp1252"),
        ("4-" + "哌啶酮".encode().decode("gbk", errors="replace"), "could not be read"),
        ("ANPP \ufffd", "part of the text could not be read"),
    ],
)
def test_explanation_says_how_the_name_was_read(
    screened: dict[str, dict[str, object]], name: str, fragment: str
) -> None:
    assert fragment in str(screened[name]["explanation"])


def test_unreadable_is_its_own_verdict_with_method_mojibake(
    screened: dict[str, dict[str, object]],
) -> None:
    row = screened["4-" + "哌啶酮".encode().decode("gbk", errors="replace")]
    assert (row["method"], row["score"], row["substance_name"]) == ("mojibake", 0.0, None)


@pytest.mark.parametrize(
    ("text", "repaired", "unreadable"),
    [
        ("å“Œå•¶é…®", "哌啶酮", False),
        ("哌啶".encode().decode("gbk"), "哌啶", False),  # 鍝屽暥: a clean GBK round trip
        ("哌啶酮".encode().decode("gbk", errors="replace"), None, True),
        ("N-phénéthyl-4-pipéridone", "N-phénéthyl-4-pipéridone", False),  # real accents
        ("4-哌啶酮", "4-哌啶酮", False),  # real Chinese is never "repaired"
        ("上海化学试剂有限公司", "上海化学试剂有限公司", False),
        ("Größe 25 kg – “drum”", "Größe 25 kg – “drum”", False),
    ],
)
def test_mojibake_repair(text: str, repaired: str | None, unreadable: bool) -> None:
    r = repair_mojibake(text)
    assert (r.unreadable is not None) is unreadable
    if repaired is not None:
        assert r.text == repaired


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("N-фенетил-4-пиперидон", "N-phenethyl-4-piperidone"),
        ("пиперидин-4-он", "piperidin-4-one"),
        ("N-фенил-N-(пиперидин-4-ил)пропанамид", "N-phenyl-N-(piperidin-4-yl)propanamide"),
        ("4-анилино-N-фенетилпиперидин (АНПП)", "4-anilino-N-phenethylpiperidine (ANPP)"),
        ("ацетон", ""),  # -он only after a locant
        ("ООО Химпром", ""),
    ],
)
def test_russian_name_read_by_its_parts(name: str, english: str) -> None:
    assert read_cyrillic(name) == english


def test_the_cas_field_without_hyphens_counts() -> None:
    res = screen_names(["white powder", "white powder"], cas=["79099073", "lot 79099073"])
    assert res["substance_cas"].to_list() == [BOCPIP, None]


def test_chinese_rows_do_not_change_the_others() -> None:
    names = ["ANPP", "4-哌啶酮", "acetone", "哌嗪"]
    together = screen_names(names)
    alone = pl.concat([screen_names([n]) for n in names])
    assert together.equals(alone)
