"""Name and structure screening of product descriptions against the watchlist.

Interface (stable): `screen_names` screens a list of names; `screen_frame` screens the
distinct (product, cas) pairs of a shipment frame. Both return the contract's columns.
This first version does exact, case-folded lookups only; the layered pipeline replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from detection.screening.watchlist import Substance, load_watchlist

__all__ = ["SCREEN_SCHEMA", "screen_frame", "screen_names"]

SCREEN_SCHEMA: dict[str, pl.DataType] = {
    "name": pl.String(),
    "verdict": pl.String(),  # controlled | analogue | clear
    "substance_cas": pl.String(),
    "substance_name": pl.String(),
    "score": pl.Float64(),  # 0-100
    "method": pl.String(),
    "explanation": pl.String(),
}


def screen_names(
    names: Iterable[str | None],
    *,
    cas: Iterable[str | None] | None = None,
    extra: Sequence[Substance] = (),
) -> pl.DataFrame:
    """Screen each name (and its optional CAS field); one output row per input row, in order."""
    names = list(names)
    cas_list = list(cas) if cas is not None else [None] * len(names)
    lookup: dict[str, Substance] = {}
    for sub in [*load_watchlist(), *extra]:
        for n, _kind in sub.all_names():
            lookup[n.casefold()] = sub
        lookup[sub.cas] = sub
    rows = []
    for name, c in zip(names, cas_list, strict=True):
        hit = lookup.get((c or "").strip()) or lookup.get((name or "").strip().casefold())
        if hit is None:
            rows.append((name, "clear", None, None, 0.0, "none", "No listed substance matched."))
        else:
            rows.append(
                (name, "controlled", hit.cas, hit.name, 100.0, "exact", f"Exact name of {hit.name}.")
            )
    return pl.DataFrame(rows, schema=SCREEN_SCHEMA, orient="row")


def screen_frame(
    frame: pl.DataFrame,
    *,
    name_col: str = "product",
    cas_col: str | None = "cas",
    extra: Sequence[Substance] = (),
) -> pl.DataFrame:
    """Screen the distinct (name, cas) pairs of `frame`; returns name_col, cas_col and verdicts."""
    cols = [name_col] + ([cas_col] if cas_col and cas_col in frame.columns else [])
    distinct = frame.select(cols).unique()
    cas_values = distinct[cas_col].to_list() if len(cols) == 2 else None
    res = screen_names(distinct[name_col].to_list(), cas=cas_values, extra=extra)
    return pl.concat([distinct, res.drop("name")], how="horizontal")
