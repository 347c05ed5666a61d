"""Each consignment counted once wherever the console or a document adds quantities up.

A consignment usually reaches the registry twice: the exporting authority's export record and
the importing authority's import record. Adding both counts it twice. Consignments are formed
here exactly as detection forms them (detection.prepare: records sharing a consignment
reference, or the same parties within the matching window, are one consignment), so a total
on a page equals the total in an alert's evidence. A consignment's quantity is its export
record's; its import record's quantity is shown beside it as the check; a consignment known
only from an import record counts by that record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from detection.prepare import Screener, prepare
from detection.schema import DECLARATION_SCHEMA, SHIPMENT_SCHEMA
from registry.models import ScreenResult

__all__ = [
    "Totals",
    "consignment_frame",
    "facility_year_consignments",
    "read_only_screener",
    "totals",
]

_CONSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "cons_id": pl.Int64(),
    "date": pl.Date(),
    "exporter": pl.String(),
    "importer": pl.String(),
    "exporter_country": pl.String(),
    "importer_country": pl.String(),
    "exporter_facility_id": pl.String(),
    "importer_facility_id": pl.String(),
    "substance": pl.String(),
    "designer": pl.String(),
    "product": pl.String(),
    "consignment_ref": pl.String(),
    "quantity_kg": pl.Float64(),
    "import_kg": pl.Float64(),
    "arrival_date": pl.Date(),
    "sides": pl.String(),
    "pks": pl.List(pl.Int64()),
}

_SCREEN_COLUMNS = (
    "verdict",
    "substance_cas",
    "substance_name",
    "score",
    "method",
    "explanation",
)


def read_only_screener(session: Session) -> Screener:
    """A screener that answers from the verdicts detection cached (screen_results), never
    screening or writing anything: a product text detection has not seen stays unscreened."""

    def screen(pairs: pl.DataFrame) -> pl.DataFrame:
        products = pairs["product"].unique().drop_nulls().to_list()
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(products), 500):
            stmt = select(
                ScreenResult.product,
                ScreenResult.cas,
                *(getattr(ScreenResult, c) for c in _SCREEN_COLUMNS),
            ).where(ScreenResult.product.in_(products[i : i + 500]))
            rows += [tuple(r) for r in session.execute(stmt)]
        schema = {
            "product": pl.String(),
            "cas": pl.String(),
            **{c: pl.Float64() if c == "score" else pl.String() for c in _SCREEN_COLUMNS},
        }
        cached = pl.DataFrame(rows, schema=list(schema.items()), orient="row").unique(
            ["product", "cas"], keep="last"
        )
        return pairs.join(cached, on=["product", "cas"], how="left", nulls_equal=True)

    return screen


def consignment_frame(
    session: Session, records: Sequence[Mapping[str, Any]] | pl.DataFrame
) -> pl.DataFrame:
    """One row per consignment among `records` (shipment rows as the queries return them):
    its export record's quantity (`quantity_kg`), its import record's (`import_kg`, the
    check, null when there is none), which `sides` the registry holds, and its record ids."""
    frame = records if isinstance(records, pl.DataFrame) else _frame(records)
    if frame.height == 0:
        return pl.DataFrame(schema=_CONSIGNMENT_SCHEMA)
    ctx = prepare(
        frame,
        pl.DataFrame(schema=DECLARATION_SCHEMA),
        screener=read_only_screener(session),
    )
    flows = ctx.shipments.select(pl.col("id").alias("cons_id"), "flow")
    checks = ctx.pairs.select(pl.col("x_id").alias("cons_id"), pl.col("m_kg").alias("import_kg"))
    cons = ctx.consignments.join(flows, on="cons_id", how="left").join(
        checks, on="cons_id", how="left"
    )
    cons = cons.with_columns(
        pl.when(pl.col("import_kg").is_not_null())
        .then(pl.lit("export and import record"))
        .when(pl.col("flow") == "X")
        .then(pl.lit("export record only"))
        .when(pl.col("flow") == "M")
        .then(pl.lit("import record only"))
        .otherwise(pl.lit("one record, side not given"))
        .alias("sides")
    )
    return cons.select([pl.col(c).cast(t) for c, t in _CONSIGNMENT_SCHEMA.items()])


def facility_year_consignments(
    cons: pl.DataFrame, facility_id: str, substance_cas: str | None, year: int, role: str
) -> pl.DataFrame:
    """The consignments of a consignment frame that declared_quantity_exceeded counts for a
    facility, substance, year and role ("exporter" or "importer"), the way it counts them
    (detection's facility_volumes: an importer's year is the arrival's), with `date` the day
    that puts each in the year; by date."""
    from detection.detectors.volume import facility_volumes

    if cons.height == 0:
        return cons
    vol = facility_volumes(cons).filter(
        (pl.col("facility_id") == facility_id)
        & (pl.col("substance") == substance_cas)
        & (pl.col("year") == year)
        & (pl.col("role") == role)
    )
    return (
        cons.drop("date")
        .join(vol.select("cons_id", "date"), on="cons_id")
        .select(cons.columns)
        .sort("date", "cons_id")
    )


def _frame(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    cols = {c: t for c, t in SHIPMENT_SCHEMA.items()}
    rows = [{c: r.get(c) for c in cols} for r in records]
    return pl.DataFrame(rows, schema=cols, orient="row") if rows else pl.DataFrame(schema=cols)


@dataclass(frozen=True)
class Totals:
    """Consignments of a set of records, each counted once, with the import side as a check."""

    consignments: int
    kg: float
    records: int
    with_import: int  # consignments whose import record is loaded too
    import_kg: float  # what those import records say (compare with their export records)
    export_kg_checked: float  # the export records' quantity of the same consignments
    import_only: int  # consignments known only from an import record

    def sentence(self) -> str:
        """'3 consignments (4 records), 2,800 kg, each counted once; ...' in plain words."""
        n = self.consignments
        text = (
            f"{n:,} consignment{'s' if n != 1 else ''} ({self.records:,} record"
            f"{'s' if self.records != 1 else ''}), {self.kg:,.0f} kg, each counted once"
        )
        if self.with_import:
            text += (
                f"; the importers' records of {self.with_import:,} of them say "
                f"{self.import_kg:,.0f} kg against {self.export_kg_checked:,.0f} kg exported"
            )
        if self.import_only:
            text += f"; {self.import_only:,} known only from an import record"
        return text + "."


def totals(cons: pl.DataFrame) -> Totals:
    """The totals of a consignment frame (see consignment_frame)."""
    if cons.height == 0:
        return Totals(0, 0.0, 0, 0, 0.0, 0.0, 0)
    checked = cons.filter(pl.col("import_kg").is_not_null())
    return Totals(
        consignments=cons.height,
        kg=float(cons["quantity_kg"].fill_null(0).sum()),
        records=int(cons["pks"].list.len().sum()),
        with_import=checked.height,
        import_kg=float(checked["import_kg"].sum()),
        export_kg_checked=float(checked["quantity_kg"].sum()),
        import_only=cons.filter(pl.col("sides") == "import record only").height,
    )
