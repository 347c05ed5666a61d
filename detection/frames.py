"""Frame helpers that keep a million-record frame from being copied for a few new columns."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["attach"]


def attach(
    frame: pl.DataFrame,
    lookup: pl.DataFrame,
    on: str | Sequence[str],
    *,
    nulls_equal: bool = False,
) -> pl.DataFrame:
    """`frame` with `lookup`'s other columns added by a left join on `on`, row order kept.

    Only the key columns take part in the join; the result is added beside `frame`'s own
    columns, which are not copied (a join of the whole frame copies every column: on a
    million records with forty columns, about half a gigabyte each time). `lookup` must hold
    each key once: a repeated key would add rows, and raises ValueError."""
    keys = [on] if isinstance(on, str) else list(on)
    added = (
        frame.select(keys)
        .join(lookup, on=keys, how="left", nulls_equal=nulls_equal, maintain_order="left")
        .drop(keys)
    )
    if added.height != frame.height:
        raise ValueError(f"attach: the lookup holds a key of {keys} more than once")
    return frame.with_columns(added)
