"""Typed limits of what a loaded record may hold, each with its reason: the plausible range of a
shipment's quantity, value and date, and how old an exchange rate may be."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordLimits"]


def _limit(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class RecordLimits:
    """Bounds a loaded record must respect. A quantity or a date outside them quarantines its
    row (one such number would otherwise move every detector's statistics, or the reference
    date of the whole registry); a customs value outside them is left empty, with a
    data-quality finding, and the row loads."""

    max_quantity_kg: float = _limit(
        1e9,
        "Largest quantity of one shipment record, in kg (a million tonnes). The largest ships "
        "afloat carry about 400,000 t (Valemax ore carriers); chemical tankers carry at most "
        "tens of thousands of tonnes, and precursor consignments kilograms to tonnes. A larger "
        "figure is a typo, a wrong unit or a placeholder, and 1e309 reads as infinity.",
    )
    max_value_usd: float = _limit(
        1e10,
        "Largest customs value of one shipment record, in US dollars (ten billion). The most "
        "valuable single cargoes (a full container ship, a VLCC of crude oil) are worth about "
        "one billion dollars.",
    )
    max_value: float = _limit(
        1e16,
        "Largest customs value of one record in its own currency, for a currency without an "
        "ECB rate to judge it in dollars: a billion dollars is about 1e15 in the weakest "
        "currencies (the Iranian rial, about a million to the dollar in 2025).",
    )
    earliest_year: int = _limit(
        1990,
        "Earliest year of a shipment date. International precursor control began with the 1988 UN "
        "Convention (in force November 1990); this system holds no older records, and dates "
        "such as 0001-01-01 or 1900-01-01 are placeholders.",
    )
    max_days_after_load: int = _limit(
        7,
        "Latest shipment date, in days after the day of the load: a pre-export notification "
        "may name a shipment planned for the coming days, and feeds from other time zones run "
        "a day ahead; later dates (9999-12-31, 2042 for 2024) are placeholders or typos, and "
        "one of them would move the reference date of the whole registry.",
    )

    max_rate_gap_days: int = _limit(
        10,
        "A customs value is converted to US dollars at the ECB rate of the record's date or "
        "of the nearest earlier publication day at most this many days before it. The ECB "
        "publishes on every TARGET working day, so gaps are at most 4-5 days (Easter, "
        "Christmas); a longer gap means the currency was not published then (ISK 2008-2018, "
        "RUB since March 2022) and the value is left without a US-dollar amount.",
    )
