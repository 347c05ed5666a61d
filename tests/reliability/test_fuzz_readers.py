"""Fuzz the feed readers and the loader with malformed CSV, JSON, NDJSON and raw bytes (fixed
budget, derandomised): a file either loads with every row loaded, quarantined or duplicate, or
is refused with a one-line ValueError; nothing else escapes and nothing hangs.

tests/ingest/test_ingest_property.py covers well-formed CSV with bad values and ragged rows;
this goes below it, to the bytes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from ingest import load_file
from registry.db import init_db, make_engine
from registry.models import QuarantinedRow, Shipment

pytestmark = pytest.mark.reliability

EXAMPLES = 60  # per input family; four families
SECONDS_PER_FILE = 20.0

HEADER = ["shipment_id", "date", "exporter", "exporter_country", "importer",
          "importer_country", "product", "quantity", "unit", "cas", "flow"]  # fmt: skip
GOOD = ["S1", "2024-01-05", "Hebei Chem", "China", "Acme GmbH", "DE", "NPP", "25", "kg",
        "39742-60-4", "X"]  # fmt: skip
NASTY_BYTES = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
               b"\xc3", b"\\", b"{", b"}", b"[", b"]", b"\x1b[31m", b"=cmd|", b"\xe2\x80\xae"]  # fmt: skip

_cell = st.one_of(
    st.sampled_from([*GOOD, "", " ", "null", "NaN", "-1e309", "9" * 40, '"', '""', "\\N"]),
    st.text(max_size=20),
)


@st.composite
def _mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """Flip, insert, delete and truncate bytes of a well-formed file."""
    data = bytearray(base)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 4, 8]))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(NASTY_BYTES), st.binary(max_size=8)))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(
        st.sampled_from([HEADER, HEADER, HEADER, []]).flatmap(
            lambda h: st.just(h) if h else st.lists(st.sampled_from(HEADER), max_size=14)
        )
    )
    rows = draw(st.lists(st.lists(_cell, min_size=9, max_size=13), max_size=20))
    lines = [sep.join(header)] + [
        sep.join(json.dumps(c) if draw(st.booleans()) else c for c in r) for r in rows
    ]
    base = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines).encode("utf-8", "surrogatepass")
    return draw(st.sampled_from([".csv", ".tsv", ".txt"])), draw(_mutated(base))


_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
_json_value = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_record = st.dictionaries(
    st.one_of(st.sampled_from(HEADER), st.text(max_size=10)), _json_value, max_size=14
).map(lambda extra: {**dict(zip(HEADER, GOOD, strict=True)), **extra})


@st.composite
def json_files(draw: st.DrawFn) -> tuple[str, bytes]:
    records = draw(st.lists(_record, max_size=12))
    doc = draw(
        st.sampled_from(["array", "wrapped", "two_lists", "scalar", "deep", "array_of_junk"])
    )
    if doc == "array":
        obj: object = records
    elif doc == "wrapped":
        obj = {"meta": {"n": len(records)}, "records": records}
    elif doc == "two_lists":
        obj = {"a": records, "b": records}
    elif doc == "scalar":
        obj = draw(_json_scalar)
    elif doc == "deep":
        depth = draw(st.integers(1, 100_000))
        return ".json", b"[" * depth + b"]" * draw(st.integers(0, depth))
    else:
        obj = draw(st.lists(_json_value, max_size=6))
    base = json.dumps(obj, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return ".json", draw(_mutated(base)) if draw(st.booleans()) else base


@st.composite
def ndjson_files(draw: st.DrawFn) -> tuple[str, bytes]:
    records = draw(st.lists(_record, min_size=1, max_size=12))
    lines = [json.dumps(r).encode("utf-8", "surrogatepass") for r in records]
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(
            draw(st.integers(0, len(lines))),
            draw(st.sampled_from([b"", b"[]", b"42", b"{", b'"x"', b"null", b"{}"])),
        )
    base = b"\n".join(lines)
    return draw(st.sampled_from([".ndjson", ".jsonl"])), draw(_mutated(base))


raw_files = st.tuples(
    st.sampled_from([".csv", ".json", ".ndjson", ".tsv", ".gz", ".xlsx", ".parquet"]),
    st.binary(max_size=3000),
)


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    folder = tmp_path_factory.mktemp("fuzz_readers")
    engine = make_engine(f"sqlite:///{folder / 'pwatch.db'}")
    init_db(engine)
    yield engine, folder
    engine.dispose()


def _count(engine: Engine, model: type, batch_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(model).where(model.batch_id == batch_id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def _load_and_account(engine: Engine, folder: Path, suffix: str, data: bytes) -> str:
    """Load the bytes as a shipment feed; 'loaded' (every row accounted for) or 'refused'."""
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        report = load_file(engine, path, "shipments", source=path.stem)
    except ValueError as exc:  # ReadError, ProfileError: the file is refused as a whole
        message = str(exc)
        assert message.strip() and "\n" not in message and len(message) < 1000, message
        return "refused"
    finally:
        assert time.monotonic() - started < SECONDS_PER_FILE, "a load hung"
        path.unlink()
    assert report.status in ("loaded", "already_loaded")
    if report.status == "loaded":
        assert (
            report.rows_loaded + report.rows_quarantined + report.rows_duplicate
            == report.rows_total
            > 0
        )
        assert _count(engine, Shipment, report.batch_id or 0) == report.rows_loaded
        assert _count(engine, QuarantinedRow, report.batch_id or 0) == report.rows_quarantined
    return "loaded"


_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(
    "family",
    [
        pytest.param(csv_files(), id="csv"),
        pytest.param(json_files(), id="json"),
        pytest.param(ndjson_files(), id="ndjson"),
        pytest.param(raw_files, id="raw-bytes"),
    ],
)
def test_malformed_feeds_load_or_are_refused_in_one_line(
    fuzz_engine: tuple[Engine, Path],
    family: st.SearchStrategy[tuple[str, bytes]],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine, folder = fuzz_engine
    outcomes: dict[str, int] = {}

    @_SETTINGS
    @given(family)
    def check(file: tuple[str, bytes]) -> None:
        outcome = _load_and_account(engine, folder, *file)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    check()
    with capsys.disabled():
        print(f"\nfuzz {request.node.callspec.id}: {outcomes}")
    assert sum(outcomes.values()) >= EXAMPLES // 2, outcomes
