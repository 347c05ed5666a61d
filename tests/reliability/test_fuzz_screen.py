"""Hostile names for the screen: whatever the text, every name gets a verdict row, fast."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detection.screening import screen_names

pytestmark = pytest.mark.reliability

VERDICTS = {"controlled", "analogue", "clear", "unreadable"}  # unreadable: mojibake, lost bytes

# Text that tends to break parsers: control characters, NUL, other scripts, markup,
# formulas, SQL, path separators, chemistry punctuation.
_hostile_bits = st.sampled_from(
    [
        "\x00", "\x1b[31m", "\r\n", "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")",
        "'; DROP TABLE shipments; --", "../../etc/passwd", "ANPP", "4-AP", "piperidin-4-one",
        "tert-butyl", "(", ")", "[", "]", "{", "}", ",", "-", "1-", "N-", "Пиперидон", "哌啶酮",
        "𝟒-𝐀𝐏", "\u202e", "%", "99%", "25 kg", "HCl", "CAS 21409-26-7", "21409-26-8",
    ]
)  # fmt: skip
_names = st.one_of(
    st.text(max_size=200),
    st.lists(_hostile_bits, min_size=1, max_size=12).map(" ".join),
    st.lists(_hostile_bits, min_size=1, max_size=12).map("".join),
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_names, min_size=1, max_size=25))
def test_every_name_gets_a_verdict(names: list[str]) -> None:
    started = time.perf_counter()
    out = screen_names(names)
    assert out.height == len(names)
    assert out["name"].to_list() == names
    assert set(out["verdict"].to_list()) <= VERDICTS
    assert out["explanation"].null_count() == 0
    assert all(0 <= s <= 100 for s in out["score"].to_list())
    assert time.perf_counter() - started < 60


def test_huge_and_binary_names() -> None:
    names = ["A" * 1_000_000, "\x00" * 1000, "4-anilinopiperidine" + "\x00" * 10, ""]
    out = screen_names(names)
    assert out.height == 4
    assert out["verdict"][0] == "clear"
