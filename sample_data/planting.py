"""What every planted case shares: strength tiers, labels, and adding or marking consignments.

Each pattern plants `n` cases in three strengths, about a fifth blatant, three fifths
moderate and a fifth subtle (still clear to an inspector who looks); the ranges of each tier
are written beside each pattern and chosen from the domain, not from any detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from sample_data.catalogue import ANALOGUES, BENIGN, LISTED
from sample_data.parties import Parties
from sample_data.trade import draw_delays, pack_round, sub_info, with_defaults

__all__ = ["Planter", "sub_name"]


def sub_name(sub: str) -> str:
    """A product key in words (listed short name, benign or analogue name)."""
    if sub.startswith("B"):
        return BENIGN[int(sub[1:])].name
    if sub.startswith("D"):
        return ANALOGUES[int(sub[1:])].name
    return next(s.key for s in LISTED if s.cas == sub)


@dataclass
class Planter:
    """The background consignments, the cases planted into them and their answer-key rows."""

    rng: np.random.Generator
    parties: Parties
    rel: pl.DataFrame
    cons: pl.DataFrame
    late_share: float
    key: list[dict[str, Any]] = field(default_factory=list)
    used_rel: set[int] = field(default_factory=set)
    used_party: set[int] = field(default_factory=set)
    added: list[pl.DataFrame] = field(default_factory=list)
    stats: pl.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        # Listed relations with the history an inspector would compare against.
        self.stats = (
            self.cons.group_by("rel")
            .agg(
                pl.len().alias("n"),
                pl.col("qty").median().alias("usual"),
                pl.col("day").min().alias("first"),
                pl.col("day").max().alias("last"),
            )
            .join(self.rel, on="rel")
            .filter(pl.col("listed"))
            .with_columns((365.0 / pl.col("rate")).alias("gap"))
            .sort("rel")
        )

    # ------------------------------------------------------------------------ choosing

    def tiers(self, n: int) -> list[str]:
        """`n` strengths: a fifth blatant, a fifth subtle, the rest moderate, shuffled."""
        k = round(n * 0.2)
        out = ["blatant"] * k + ["subtle"] * k + ["moderate"] * (n - 2 * k)
        return [out[int(i)] for i in self.rng.permutation(n)]

    def pick_rel(self, cond: pl.Expr | bool = True) -> dict[str, Any] | None:
        """A listed relation meeting `cond` that no case uses yet."""
        pool = self.stats.filter(cond, ~pl.col("rel").is_in(list(self.used_rel)))
        if pool.height == 0:
            return None
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        self.used_rel.add(int(row["rel"]))
        return row

    def pick_cons(self, cond: pl.Expr) -> dict[str, Any] | None:
        """An ordinary listed consignment meeting `cond` in a relation no case uses yet."""
        listed = [s.cas for s in LISTED]
        pool = self.cons.with_row_index("_i").filter(
            cond,
            pl.col("anomaly_id").is_null(),
            pl.col("sub").is_in(listed),
            ~pl.col("rel").is_in(list(self.used_rel)),
        )
        if pool.height == 0:
            return None
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        self.used_rel.add(int(row["rel"]))
        return row

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def choice(self, options: Any) -> Any:
        return options[int(self.rng.integers(0, len(options)))]

    # ----------------------------------------------------------------------- recording

    def label(
        self, pattern: str, tier: str, description: str, facility: str | None, cas: str | None
    ) -> str:
        aid = f"A{len(self.key) + 1:04d}"
        self.key.append(
            {
                "anomaly_id": aid,
                "pattern": pattern,
                "facility_id": facility,
                "substance_cas": cas,
                "description": description,
                "strength": tier,
            }
        )
        return aid

    def facility(self, *parties: int) -> str | None:
        """The first declared facility among `parties`."""
        for party in parties:
            fid = self.parties.facility_id[party]
            if fid is not None:
                return fid
        return None

    def name(self, party: int) -> str:
        return self.parties.companies[party].name

    def add(
        self,
        exp: int,
        imp: int,
        sub: str,
        days: np.ndarray,
        qty: np.ndarray,
        aid: str,
        *,
        rel: int = -1,
        price: float | None = None,
        jitter: bool = True,
        **cols: Any,
    ) -> None:
        """New consignments of a case; prices vary by a few percent unless `jitter` is off."""
        n = len(days)
        if price is None:
            lo, hi = sub_info(sub)[1]
            price = float(np.sqrt(lo * hi))
        frame = pl.DataFrame(
            {
                "rel": np.full(n, rel, dtype=np.int64),
                "exp": np.full(n, exp, dtype=np.int64),
                "imp": np.full(n, imp, dtype=np.int64),
                "sub": [sub] * n,
                "day": np.asarray(days, dtype=np.int64),
                "delay": draw_delays(self.rng, np.asarray(days), self.late_share),
                "qty": np.asarray(qty, dtype=np.float64),
                "price": price * np.exp((0.05 if jitter else 0.0) * self.rng.standard_normal(n)),
                "anomaly_id": [aid] * n,
                **{k: [v] * n for k, v in cols.items()},
            }
        )
        self.added.append(with_defaults(frame))

    def mark(self, mask: pl.Expr, aid: str, **updates: Any) -> None:
        """Make the ordinary consignments selected by `mask` part of case `aid`."""
        self.cons = self.cons.with_columns(
            pl.when(mask).then(pl.lit(aid)).otherwise(pl.col("anomaly_id")).alias("anomaly_id"),
            *[
                pl.when(mask).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
                for k, v in updates.items()
            ],
        )

    def usual_qty(self, row: dict[str, Any], factor: float | np.ndarray) -> np.ndarray:
        """`factor` times a relation's usual consignment, as whole packages."""
        q = np.atleast_1d(np.asarray(factor, dtype=np.float64)) * float(row["usual"])
        return pack_round(q, np.full(q.shape, float(row["pack"])))

    def all_consignments(self) -> pl.DataFrame:
        return pl.concat([self.cons, *self.added], how="vertical")
