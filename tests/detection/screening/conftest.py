"""Screening tests share one screen per evaluation file (OPSIN starts a JVM per batch)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HERE = Path(__file__).parent


def load_eval(name: str) -> pl.DataFrame:
    """An evaluation CSV joined with the screen's verdicts and a per-row `ok`."""
    from detection.screening import screen_names

    df = pl.read_csv(HERE / name, infer_schema=False)
    res = screen_names(df["name"].to_list())
    out = pl.concat([df, res.drop("name")], how="horizontal")
    ok = (
        pl.when(pl.col("expected_verdict") == "controlled")
        .then(
            (pl.col("verdict") == "controlled")
            & (pl.col("substance_cas") == pl.col("expected_cas"))
        )
        .when(pl.col("expected_verdict") == "analogue")
        .then(pl.col("verdict") == "analogue")
        .otherwise(pl.col("verdict") == "clear")
    )
    return out.with_columns(ok=ok.fill_null(False))


@pytest.fixture(scope="session")
def eval_seen() -> pl.DataFrame:
    return load_eval("eval_names.csv")


@pytest.fixture(scope="session")
def eval_heldout() -> pl.DataFrame:
    return load_eval("eval_names_heldout.csv")
