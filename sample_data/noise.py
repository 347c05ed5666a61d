"""The noise of real trade data in the legitimate background, each kind with its knob.

`NoiseConfig()` is the default, realistic noise; `NoiseConfig.none()` a clean background
(every knob off). Rates are shares of records (or of consignments, facility-years, parties
where said). Planted cases are kept free of the noise that would change what makes them a
case (their presence, quantities and tariff codes), and of second reports; spelling noise
touches them like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["NOISE_KINDS", "NoiseConfig"]


def _knob(default: float, description: str) -> float:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class NoiseConfig:
    """How noisy the legitimate background is."""

    missing_imports: float = _knob(
        0.01,
        "share of consignments to a country that reports imports whose import record never "
        "reaches the feed (real mirror data: 0.5-2%)",
    )
    pounds_as_kg: float = _knob(
        0.004,
        "share of records whose quantity is the number of pounds with the unit written as kg "
        "(2.2046 times the true kg)",
    )
    double_reported: float = _knob(
        0.015,
        "share of consignments reported a second time by another authority (the export by the "
        "competent authority's pre-export notification, the import by the statistics office), "
        "with its own id and formatting",
    )
    declaration_revisions: float = _knob(
        0.06,
        "share of facility-years declared twice: the later revision is the one in force",
    )
    late_imports: float = _knob(
        0.5,
        "share of consignments sent by sea, whose import record comes 3-8 weeks after the "
        "export (December exports then arrive in the next year)",
    )
    sloppy_hs: float = _knob(
        0.15,
        "share of records whose tariff code is imprecise but related (2933.99, the heading "
        "2933 alone, the pre-2022 2933.39 for NPP/ANPP) or formatted differently (no dots, "
        "spaces, national 8-digit extensions)",
    )
    head_offices: float = _knob(
        0.08,
        "share of declared importers sharing a head-office address with another group company "
        "(and of undeclared companies in business centres)",
    )
    trader_reexports: float = _knob(
        1.0,
        "1 = declared traders buy from producers and sell on abroad, and a quarter of the "
        "processors re-export; 0 = no trader in the feed",
    )
    price_spread: float = _knob(
        1.0,
        "scale of natural price differences between relations and consignments, and the premium "
        "of small lots (0 = every relation at its product's median price)",
    )
    name_variants: float = _knob(
        0.3,
        "share of party names written otherwise than registered (legal form, case, accents, "
        "spacing, transliteration, typos)",
    )
    chinese_text: float = _knob(
        0.2,
        "share of Chinese customs records with the product and the Chinese party in Chinese",
    )
    country_spellings: float = _knob(
        0.4,
        "share of country fields written as a name, a variant or an alpha-2 code instead of "
        "the alpha-3 code",
    )
    vague_benign: float = _knob(
        0.03,
        "share of piperidine-type benign chemicals described only as an intermediate, under "
        "the general subheading 2933.39 or 2933.99 (harmless vagueness)",
    )

    @classmethod
    def none(cls) -> NoiseConfig:
        """A clean background: every kind of noise off."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Each knob's description."""
        return {f.name: str(f.metadata["description"]) for f in fields(cls)}


# Kinds written to the noise log (Sample.noise), per record unless said otherwise.
NOISE_KINDS = (
    "missing_import",  # logged on the export record whose import record is missing
    "pounds_as_kg",
    "double_reported",  # both records of a consignment reported twice by one side
    "late_import",  # import record dated in the year after its export
    "sloppy_hs",
    "name_variant",
    "chinese_text",
    "country_spelling",
    "vague_benign",
    "trader_reexport",  # a listed consignment exported by a declared trader or processor
    "head_office",  # per party: a declared facility sharing its address (facility_id set)
    "declaration_revision",  # per facility-year (facility_id and year set)
)
