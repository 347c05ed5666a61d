"""Every detector, registered once: pure functions (Context, config) -> alert frame.

Each is named after what it finds; its docstring says what the alert means. All work on
whole frames with polars expressions (group_by, rolling windows, joins), never row by row.
A detector that needs a field some feeds do not carry (a customs value, an address, a
consignment reference) names it in `needs`, so a run can say how many records it could not
judge and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from detection.config import (
    BurstConfig,
    DeclaredQuantityConfig,
    DesignerAnalogueConfig,
    DivertedConsignmentConfig,
    EndUserReexportConfig,
    ExportNeverArrivedConfig,
    HsMismatchConfig,
    MaskedNameConfig,
    MirrorGapConfig,
    SharedAddressConfig,
    SplitSeriesConfig,
    UndeclaredPartyConfig,
    UnusualSizeConfig,
    ValueMismatchConfig,
)
from detection.detectors.cadence import shipment_burst, split_series
from detection.detectors.declarations import hs_mismatch, value_mismatch
from detection.detectors.mirrors import (
    diverted_consignment,
    export_never_arrived,
    mirror_quantity_gap,
)
from detection.detectors.names import designer_analogue, masked_listed_substance
from detection.detectors.parties import (
    end_user_reexport,
    shared_address_network,
    undeclared_party,
)
from detection.detectors.volume import declared_quantity_exceeded, unusual_shipment_size
from detection.prepare import Context

__all__ = ["DETECTORS", "Detector", "Need"]


@dataclass(frozen=True)
class Need:
    """A field a detector needs: records in its scope without it are not judged by it."""

    column: str  # in Context.shipments
    reason: str  # plain words: why a record without it could not be judged
    scope: str = "listed"  # "listed": records of a listed substance; "all": every record


@dataclass(frozen=True)
class Detector:
    """One registered detector: its name, function, default thresholds and needed fields."""

    name: str
    run: Callable[[Context, Any], pl.DataFrame]
    config: Any
    needs: tuple[Need, ...] = ()

    @property
    def description(self) -> str:
        return (self.run.__doc__ or "").strip()


_VALUE = Need("value_usd", "no customs value in US dollars (value or currency missing, or currency unknown)", "all")  # fmt: skip

DETECTORS: tuple[Detector, ...] = (
    Detector("declared_quantity_exceeded", declared_quantity_exceeded, DeclaredQuantityConfig()),
    Detector("unusual_shipment_size", unusual_shipment_size, UnusualSizeConfig()),
    Detector("shipment_burst", shipment_burst, BurstConfig()),
    Detector("split_series", split_series, SplitSeriesConfig()),
    Detector("undeclared_party", undeclared_party, UndeclaredPartyConfig()),
    Detector("mirror_quantity_gap", mirror_quantity_gap, MirrorGapConfig()),
    Detector("export_never_arrived", export_never_arrived, ExportNeverArrivedConfig()),
    Detector("masked_listed_substance", masked_listed_substance, MaskedNameConfig()),
    Detector("designer_analogue", designer_analogue, DesignerAnalogueConfig()),
    Detector("end_user_reexport", end_user_reexport, EndUserReexportConfig()),
    Detector("value_mismatch", value_mismatch, ValueMismatchConfig(), (_VALUE,)),
    Detector(
        "hs_mismatch",
        hs_mismatch,
        HsMismatchConfig(),
        (Need("hs_code", "no tariff code (HS) given"),),
    ),
    Detector(
        "shared_address_network",
        shared_address_network,
        SharedAddressConfig(),
        (Need("importer_address", "no consignee address given"),),
    ),
    Detector(
        "diverted_consignment",
        diverted_consignment,
        DivertedConsignmentConfig(),
        (Need("consignment_ref", "no consignment reference to find its other record by"),),
    ),
)
