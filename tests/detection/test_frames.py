"""attach: new columns beside a large frame, its rows and order kept."""

from __future__ import annotations

import polars as pl
import pytest

from detection.frames import attach


def test_attach_adds_the_lookup_columns_in_the_frames_order() -> None:
    frame = pl.DataFrame({"id": [3, 1, 2, 1], "name": ["c", "a", "b", "a"]})
    lookup = pl.DataFrame({"id": [1, 2], "score": [0.5, 0.25]})
    out = attach(frame, lookup, "id")
    assert out.columns == ["id", "name", "score"]
    assert out.rows() == [(3, "c", None), (1, "a", 0.5), (2, "b", 0.25), (1, "a", 0.5)]


def test_attach_matches_missing_keys_only_when_asked() -> None:
    frame = pl.DataFrame({"k": ["x", None]})
    lookup = pl.DataFrame({"k": ["x", None], "v": [1, 2]})
    assert attach(frame, lookup, "k")["v"].to_list() == [1, None]
    assert attach(frame, lookup, "k", nulls_equal=True)["v"].to_list() == [1, 2]


def test_attach_refuses_a_lookup_with_a_repeated_key() -> None:
    frame = pl.DataFrame({"id": [1, 2]})
    lookup = pl.DataFrame({"id": [1, 1], "v": [1, 2]})
    with pytest.raises(ValueError, match="more than once"):
        attach(frame, lookup, "id")


def test_prepare_lets_go_of_the_records_it_read() -> None:
    """Given a function that reads the records (as `run_detection` gives it), prepare holds
    the only reference to the frame as read and lets go of it once its own frame has
    replaced it: by the screen step it is gone (10M records: about 3 GB no longer kept to
    the end of the run). The context equals the one prepared from the frame itself."""
    import gc
    import weakref

    from detection.run import prepare_for
    from tests.detection.test_detectors import decls, fake_screener, frame, monthly

    read: list[weakref.ref[pl.DataFrame]] = []

    def reader() -> pl.DataFrame:
        f = frame(monthly(8, kg=30.0))
        read.append(weakref.ref(f))
        return f

    alive_at: dict[str, bool] = {}

    def progress(step: str, count: int, seconds: float) -> None:
        gc.collect()
        alive_at[step] = read[0]() is not None

    ctx = prepare_for(reader, decls(), screener=fake_screener, progress=progress)
    assert len(read) == 1  # read once
    assert alive_at == {s: False for s in ("checks", "screen", "entities", "pairs", "consignments")}
    same = prepare_for(frame(monthly(8, kg=30.0)), decls(), screener=fake_screener)
    assert ctx.shipments.equals(same.shipments) and ctx.consignments.equals(same.consignments)
