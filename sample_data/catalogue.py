"""The generator's own chemicals: listed precursors, benign goods and designer analogues.

Written from the domain (1988 Convention Table I, HS 2022, public catalogues), not from the
detectors: names as traders write them, CAS numbers of the free base, tariff codes, usual
consignment sizes and price ranges in US dollars per kg (listed precursors tens to hundreds of
dollars, bulk chemicals cents to a few dollars).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ANALOGUES",
    "BENIGN",
    "LISTED",
    "SLOPPY_HS",
    "UNRELATED_HS",
    "VAGUE",
    "Analogue",
    "Benign",
    "Listed",
    "cas_ok",
]


@dataclass(frozen=True)
class Listed:
    """A Table I fentanyl precursor and the ways a feed names it."""

    key: str  # short name used in the answer key's descriptions
    cas: str  # free base
    hs: str  # HS 2022 subheading
    plain: tuple[str, ...]  # names a trader writes
    salts: tuple[str, ...]
    typos: tuple[str, ...]
    systematic: tuple[str, ...]  # correct but unrevealing to a non-chemist (masking)
    chinese: tuple[str, ...]
    size_kg: float  # usual consignment of a legitimate relation, before its own spread
    price: tuple[float, float]  # USD per kg, range across legitimate relations
    salt_cas: tuple[str, ...] = field(default=())


LISTED: tuple[Listed, ...] = (
    Listed(
        "NPP", "39742-60-4", "2933.37",
        ("N-Phenethyl-4-piperidone", "1-Phenethyl-4-piperidone", "NPP",
         "N-Phenethyl-4-piperidinone", "1-(2-Phenylethyl)-4-piperidone"),
        ("N-Phenethyl-4-piperidone hydrochloride", "NPP HCl"),
        ("N-Phenethyl-4-piperidon", "N-Phenylethyl-4-piperidone", "N-Phenethyl 4-piperidone"),
        ("1-(2-phenylethyl)piperidin-4-one", "4-Piperidinone, 1-(2-phenylethyl)-",
         "1-phenethylpiperidin-4-one"),
        ("N-苯乙基-4-哌啶酮", "1-苯乙基-4-哌啶酮"),
        100.0, (60.0, 220.0),
    ),
    Listed(
        "ANPP", "21409-26-7", "2933.36",
        ("4-ANPP", "ANPP", "4-Anilino-N-phenethylpiperidine", "Despropionyl fentanyl"),
        ("4-ANPP dihydrochloride", "ANPP HCl"),
        ("4-Anilino-N-phenethylpiperdine", "4-Anilino N-phenethyl piperidine",
         "4-Anilino-N-phenylethylpiperidine"),
        ("N-phenyl-1-(2-phenylethyl)piperidin-4-amine",
         "4-Piperidinamine, N-phenyl-1-(2-phenylethyl)-"),
        ("4-苯胺基-N-苯乙基哌啶", "N-苯基-1-(2-苯乙基)-4-哌啶胺"),
        30.0, (120.0, 450.0),
    ),
    Listed(
        "4-AP", "23056-29-3", "2933.39",
        ("4-Anilinopiperidine", "4-(Phenylamino)piperidine"),
        ("4-Anilinopiperidine dihydrochloride", "4-Anilinopiperidine 2HCl"),
        ("4-Anilinopiperdine", "4-Anilino-piperidine", "4-Anillinopiperidine"),
        ("N-phenylpiperidin-4-amine", "4-Piperidinamine, N-phenyl-"),
        ("4-苯胺基哌啶",),
        50.0, (50.0, 180.0),
    ),
    Listed(
        "1-boc-4-AP", "125541-22-2", "2933.39",
        ("1-Boc-4-AP", "1-Boc-4-anilinopiperidine", "N-Boc-4-anilinopiperidine",
         "tert-Butyl 4-anilinopiperidine-1-carboxylate"),
        ("1-Boc-4-anilinopiperidine hydrochloride",),
        ("1-Boc-4-anilinopiperidin", "1 Boc 4 anilinopiperidine", "N-Boc-4-anilinopiperdine"),
        ("tert-butyl 4-(phenylamino)piperidine-1-carboxylate",
         "1-Piperidinecarboxylic acid, 4-(phenylamino)-, 1,1-dimethylethyl ester"),
        ("1-叔丁氧羰基-4-苯胺基哌啶", "N-Boc-4-苯胺基哌啶"),
        40.0, (80.0, 300.0),
    ),
    Listed(
        "norfentanyl", "1609-66-1", "2933.39",
        ("Norfentanyl",),
        ("Norfentanyl oxalate", "Norfentanyl hydrochloride"),
        ("Nor-fentanyl", "Norfentanil", "Norphentanyl"),
        ("N-phenyl-N-(piperidin-4-yl)propanamide", "Propanamide, N-phenyl-N-4-piperidinyl-"),
        ("去甲芬太尼",),
        5.0, (200.0, 900.0),
    ),
    Listed(
        "4-piperidone", "41661-47-6", "2933.39",
        ("4-Piperidone", "4-Piperidinone"),
        ("4-Piperidone monohydrate hydrochloride", "4-Piperidone hydrochloride",
         "4-Piperidone HCl H2O"),
        ("4-Piperidon", "4 Piperidone", "4-Peperidone"),
        ("piperidin-4-one", "4-oxopiperidine", "azinan-4-one"),
        ("4-哌啶酮", "4-哌啶酮盐酸盐", "4-哌啶酮盐酸盐一水合物"),
        300.0, (20.0, 70.0),
        ("40064-34-4", "41979-39-9"),
    ),
    Listed(
        "1-boc-4-piperidone", "79099-07-3", "2933.39",
        ("1-Boc-4-piperidone", "N-Boc-4-piperidone", "1-tert-Butoxycarbonyl-4-piperidone",
         "tert-Butyl 4-oxopiperidine-1-carboxylate"),
        ("1-Boc-4-piperidone 98%",),
        ("1-Boc-4-piperidon", "N-Boc 4-piperidone", "N-Boc-4-piperidinone"),
        ("1-Piperidinecarboxylic acid, 4-oxo-, 1,1-dimethylethyl ester",
         "2-methylpropan-2-yl 4-oxopiperidine-1-carboxylate"),
        ("N-叔丁氧羰基-4-哌啶酮", "1-Boc-4-哌啶酮"),
        200.0, (30.0, 110.0),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Benign:
    """An unlisted chemical the same parties trade; some are name hazards (4-aminopyridine,
    2-piperidone, 1-methyl-4-piperidone) and some cost as much as a listed precursor."""

    name: str
    cas: str  # "" when the goods have none (a fertiliser blend)
    hs: str
    size_kg: float
    price: tuple[float, float]  # USD per kg
    chinese: str = ""
    cover: bool = False  # a solid a listed precursor could be passed off as (value_mismatch)


BENIGN: tuple[Benign, ...] = (
    Benign("Acetone", "67-64-1", "2914.11", 8000.0, (0.7, 1.6), "丙酮"),
    Benign("Toluene", "108-88-3", "2902.30", 12000.0, (0.7, 1.4), "甲苯"),
    Benign("Methanol", "67-56-1", "2905.11", 15000.0, (0.25, 0.6), "甲醇"),
    Benign("Ethyl acetate", "141-78-6", "2915.31", 9000.0, (0.9, 1.6), "乙酸乙酯"),
    Benign("Isopropyl alcohol", "67-63-0", "2905.12", 9000.0, (0.9, 1.8), "异丙醇"),
    Benign("Dichloromethane", "75-09-2", "2903.12", 7000.0, (0.4, 0.9), "二氯甲烷"),
    Benign("Sodium hydroxide", "1310-73-2", "2815.11", 10000.0, (0.3, 0.7), "氢氧化钠", True),
    Benign("Citric acid anhydrous", "77-92-9", "2918.14", 5000.0, (0.7, 1.5), "无水柠檬酸", True),
    Benign("Aniline", "62-53-3", "2921.41", 5000.0, (1.2, 2.4), "苯胺"),
    Benign("Benzyl chloride", "100-44-7", "2903.99", 1500.0, (1.4, 3.0), "氯化苄"),
    Benign("N-Methyl-2-pyrrolidone", "872-50-4", "2933.79", 6000.0, (1.8, 3.5), "N-甲基吡咯烷酮"),
    Benign("Paracetamol", "103-90-2", "2924.29", 2500.0, (3.5, 8.0), "对乙酰氨基酚", True),
    Benign("Caffeine anhydrous", "58-08-2", "2939.30", 800.0, (12.0, 30.0), "咖啡因", True),
    Benign("Piperidine", "110-89-4", "2933.32", 600.0, (5.0, 16.0), "哌啶"),
    Benign("4-Aminopyridine", "504-24-5", "2933.39", 150.0, (18.0, 60.0), "4-氨基吡啶", True),
    Benign("2-Piperidone", "675-20-7", "2933.79", 2000.0, (3.0, 8.0), "2-哌啶酮", True),
    Benign("1-Methyl-4-piperidone", "1445-73-4", "2933.39", 200.0, (20.0, 55.0), "1-甲基-4-哌啶酮"),
    Benign("4-Hydroxypiperidine", "5382-16-1", "2933.39", 150.0, (30.0, 90.0), "4-羟基哌啶", True),
    Benign("Propionyl chloride", "79-03-8", "2915.90", 700.0, (3.0, 7.0), "丙酰氯"),
    Benign("2-Phenylethylamine", "64-04-0", "2921.49", 300.0, (10.0, 28.0), "苯乙胺"),
    Benign("Triethylamine", "121-44-8", "2921.19", 2000.0, (1.8, 3.5), "三乙胺"),
    Benign("Sodium bicarbonate", "144-55-8", "2836.30", 10000.0, (0.2, 0.5), "碳酸氢钠", True),
    Benign("NPK 15-15-15 fertiliser", "", "3105.20", 20000.0, (0.3, 0.6), "复合肥"),
)


@dataclass(frozen=True)
class Analogue:
    """A designer precursor: an unlisted close relative one easy step turns into a listed one."""

    name: str
    synonyms: tuple[str, ...]
    cas: str  # "" where no CAS number is reliably known to the generator
    smiles: str
    near: str  # CAS of the listed substance it masks
    hs: str = "2933.39"


# From DOMAIN.md's designer pattern: other N-protecting groups on 4-piperidone or 4-AP
# (benzyl, Cbz, ethoxycarbonyl), ketals of 4-piperidone, ring-halogenated Boc-4-AP, the
# N-benzyl analogue of norfentanyl and its butanamide homologue.
ANALOGUES: tuple[Analogue, ...] = (
    Analogue("1-Benzyl-4-piperidone", ("N-Benzyl-4-piperidone", "1-benzylpiperidin-4-one",
             "1-苄基-4-哌啶酮"), "3612-20-2", "O=C1CCN(Cc2ccccc2)CC1", "41661-47-6"),
    Analogue("1-Cbz-4-piperidone", ("Benzyl 4-oxopiperidine-1-carboxylate",
             "N-Carbobenzoxy-4-piperidone"), "19099-93-5", "O=C1CCN(C(=O)OCc2ccccc2)CC1",
             "41661-47-6"),
    Analogue("Ethyl 4-oxopiperidine-1-carboxylate", ("1-Carbethoxy-4-piperidone",
             "N-Ethoxycarbonyl-4-piperidone", "N-乙氧羰基-4-哌啶酮"), "29976-53-2",
             "CCOC(=O)N1CCC(=O)CC1", "41661-47-6"),
    Analogue("4-Piperidone ethylene ketal", ("1,4-Dioxa-8-azaspiro[4.5]decane",
             "4-哌啶酮乙二醇缩酮"), "177-11-7", "C1CC2(CCN1)OCCO2", "41661-47-6"),
    Analogue("4,4-Dimethoxypiperidine", ("4-Piperidone dimethyl ketal",), "",
             "COC1(OC)CCNCC1", "41661-47-6"),
    Analogue("NPP ethylene ketal", ("8-(2-Phenylethyl)-1,4-dioxa-8-azaspiro[4.5]decane",
             "8-Phenethyl-1,4-dioxa-8-azaspiro[4.5]decane"), "",
             "C1CC2(OCCO2)CCN1CCc1ccccc1", "39742-60-4"),
    Analogue("1-Benzyl-4-anilinopiperidine", ("1-Benzyl-N-phenylpiperidin-4-amine",
             "N-Benzyl-4-anilinopiperidine"), "", "C(c1ccccc1)N1CCC(Nc2ccccc2)CC1",
             "23056-29-3"),
    Analogue("Ethyl 4-anilinopiperidine-1-carboxylate", ("1-Ethoxycarbonyl-4-anilinopiperidine",
             "Ethyl 4-(phenylamino)piperidine-1-carboxylate"), "",
             "CCOC(=O)N1CCC(Nc2ccccc2)CC1", "23056-29-3"),
    Analogue("1-Boc-4-(4-fluoroanilino)piperidine",
             ("tert-Butyl 4-[(4-fluorophenyl)amino]piperidine-1-carboxylate", "4-Fluoro-1-boc-4-AP"),
             "", "CC(C)(C)OC(=O)N1CCC(Nc2ccc(F)cc2)CC1", "125541-22-2"),
    Analogue("1-Boc-4-(4-bromoanilino)piperidine",
             ("tert-Butyl 4-[(4-bromophenyl)amino]piperidine-1-carboxylate",), "",
             "CC(C)(C)OC(=O)N1CCC(Nc2ccc(Br)cc2)CC1", "125541-22-2"),
    Analogue("Benzylfentanyl", ("N-(1-Benzylpiperidin-4-yl)-N-phenylpropanamide",),
             "1474-02-8", "CCC(=O)N(c1ccccc1)C1CCN(Cc2ccccc2)CC1", "1609-66-1"),
    Analogue("Norbutyrylfentanyl", ("N-Phenyl-N-(piperidin-4-yl)butanamide",), "",
             "CCCC(=O)N(c1ccccc1)C1CCNCC1", "1609-66-1"),
)  # fmt: skip

# Descriptions that say nothing about the goods (INCB: "pharmaceutical intermediate",
# "organic chemical"), in English and Chinese.
VAGUE: tuple[str, ...] = (
    "Pharmaceutical intermediate", "Organic chemical", "Chemical raw material",
    "Fine chemical n.o.s.", "Heterocyclic compound", "Organic intermediate for R&D",
    "Custom synthesis product", "医药中间体", "有机化工原料",
)  # fmt: skip

# Tariff headings that have nothing to do with a piperidine: outside chapter 29 (an evident
# false heading) and inside it but outside heading 2933 (a wrong organic heading).
UNRELATED_HS: dict[str, tuple[str, ...]] = {
    "far": ("2106.90", "3402.42", "3808.94", "3906.90", "3204.17", "3824.99"),
    "near": ("2915.90", "2922.49", "2924.29", "2921.49", "2942.00"),
}

# Related but imprecise codes a clerk writes for a heterocyclic (background noise): the
# catch-all of the heading, the heading alone, the pre-2022 subheading of NPP/ANPP.
SLOPPY_HS: tuple[str, ...] = ("2933.99", "2933", "2933.39")


def cas_ok(cas: str) -> bool:
    """True when `cas` is a well-formed CAS number with a correct check digit."""
    parts = cas.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 1:
        return False
    digits = (parts[0] + parts[1])[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(parts[2])
