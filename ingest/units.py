"""Units of quantity: mass units to kg, volume units to litres, as feeds write them."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MASS_UNITS", "VOLUME_UNITS", "unit_factor"]

# Factor to kg; keys are lower-case with dots, spaces and accents removed. The three-letter
# codes are UN/ECE Recommendation 20 (customs declarations: KGM, GRM, TNE, LBR, LTR, MLT,
# MTQ...). The words also in Spanish, Portuguese, French, German and Italian, as feeds of
# those authorities write them (kilogramos, quilos, Kilogramm, toneladas, "tm", Tonnen).
# fmt: off
MASS_UNITS: dict[str, float] = {
    **dict.fromkeys(
        [
            "kg", "kgs", "kgr", "kgrs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme",
            "kilogrammes", "kgm", "kilogramm", "kilogramo", "kilogramos", "quilo", "quilos",
            "quilograma", "quilogramas", "kilogrammo", "kilogrammi",
        ],
        1.0,
    ),
    **dict.fromkeys(
        [
            "g", "gr", "grs", "gram", "grams", "gramme", "grammes", "gm", "gms", "grm", "gramm",
            "gramo", "gramos", "grama", "gramas", "grammo", "grammi",
        ],
        1e-3,
    ),
    **dict.fromkeys(
        [
            "mg", "milligram", "milligrams", "milligramme", "milligrammes", "mgm", "milligramm",
            "miligramo", "miligramos", "miligrama", "miligramas",
        ],
        1e-6,
    ),
    **dict.fromkeys(["µg", "μg", "ug", "mcg", "microgram", "micrograms"], 1e-9),
    **dict.fromkeys(["dtn", "quintal", "quintals", "decitonne", "decitonnes"], 100.0),
    **dict.fromkeys(["shortton", "shorttons", "uston", "ustons", "stn"], 907.18474),
    **dict.fromkeys(["longton", "longtons", "ukton", "uktons", "lton"], 1016.0469088),
    **dict.fromkeys(
        [
            "t",
            "mt",
            "ton",
            "tons",
            "tonne",
            "tonnes",
            "tne",
            "metricton",
            "metrictons",
            "metrictonne",
            "metrictonnes",
            "m/t",
            "tm",  # tonelada métrica
            "tonnen",
            "tonelada",
            "toneladas",
            "toneladametrica",
            "toneladasmetricas",
            "tonnellata",
            "tonnellate",
        ],
        1000.0,
    ),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds", "#", "lbr"], 0.45359237),
    **dict.fromkeys(["oz", "ounce", "ounces", "onz"], 0.028349523125),
}
# Factor to litres; a density (kg/L) for the substance turns these into kg.
VOLUME_UNITS: dict[str, float] = {
    **dict.fromkeys(
        [
            "l", "lt", "ltr", "ltrs", "litre", "litres", "liter", "liters", "lts", "litro",
            "litros", "litri",
        ],
        1.0,
    ),
    **dict.fromkeys(
        [
            "ml", "millilitre", "millilitres", "milliliter", "milliliters", "mlt", "mililitro",
            "mililitros", "millilitro", "millilitri",
        ],
        1e-3,
    ),
    **dict.fromkeys(["m3", "cubicmetre", "cubicmeter", "cbm", "mtq"], 1000.0),
    **dict.fromkeys(["gal", "gallon", "gallons", "usgal"], 3.785411784),
}
# fmt: on


# "kg net", "net kg", "kg (net weight)", "N.W. kg": the mass is net, the unit is what is left.
_NET = re.compile(r"\(?\b(?:net(?:\s*weight|\s*wt)?|nw|n\s*w)\b\)?", re.IGNORECASE)


def _unit_key(unit: str) -> str:
    key = re.sub(r"[\s.\-_()\[\]]+", "", unit.strip().casefold())
    if key.isascii():
        return key
    # Accents off (métricas -> metricas); the micro sign stays a mu (µg is in the table).
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def unit_factor(unit: str) -> tuple[str, float] | None:
    """('mass', factor to kg) or ('volume', factor to litres); None for an unknown unit."""
    key = _unit_key(unit)
    if key not in MASS_UNITS and key not in VOLUME_UNITS:
        key = _unit_key(_NET.sub(" ", unit.replace(".", "")))
    if key in MASS_UNITS:
        return ("mass", MASS_UNITS[key])
    if key in VOLUME_UNITS:
        return ("volume", VOLUME_UNITS[key])
    return None
