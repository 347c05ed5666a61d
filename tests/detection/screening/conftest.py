"""Screening tests share one screen per evaluation file (OPSIN starts a JVM per batch).

Tests whose expected answer needs the structure layer (OPSIN on Java) carry the `java`
mark: without Java they are skipped with the reason the layer gives (CI has Java, so
they run there)."""

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


@pytest.fixture(scope="session")
def eval_zh() -> pl.DataFrame:
    return load_eval("eval_names_zh.csv")


@pytest.fixture(scope="session")
def eval_zh_heldout() -> pl.DataFrame:
    return load_eval("eval_names_zh_heldout.csv")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "java: needs the structure layer (OPSIN on Java 17); skipped without it"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("java") is not None]
    if not marked:
        return
    from detection.screening import structure_layer_status

    ok, why = structure_layer_status()
    if ok:
        return
    skip = pytest.mark.skip(reason=f"needs Java for OPSIN: {why}")
    for item in marked:
        item.add_marker(skip)
