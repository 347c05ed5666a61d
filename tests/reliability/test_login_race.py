"""Forty wrong-password guesses fired at one account at once, from 4 processes of 10
threads: at most `max_failed_logins` (5) are checked by argon2 before the account locks,
on SQLite and PostgreSQL. (The hostile review saw all 40 checked: every guess read the
failure count before any had written it.)"""

from __future__ import annotations

import multiprocessing as mp
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select

from registry.db import session_scope
from registry.errors import PermissionDenied
from registry.models import User
from registry.users import LOGIN_REFUSED, add_user, authenticate

pytestmark = pytest.mark.reliability

PROCESSES, THREADS = 4, 10
PASSWORD = "the-right-password"


def _guesses(url: str, barrier: Any, results: Any) -> None:
    """One process: THREADS simultaneous wrong guesses; reports how many argon2 checked
    against the account's real hash, and how many were refused."""
    import registry.users as users
    from registry.db import make_engine

    real = users._hasher
    checked = 0
    lock = threading.Lock()

    class Counting:
        """The password hasher, counting the checks of a real account's hash."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def verify(self, stored: str, password: str) -> bool:
            nonlocal checked
            if stored != users._DUMMY_HASH:
                with lock:
                    checked += 1
            return bool(real.verify(stored, password))

    users._hasher = Counting()  # type: ignore[assignment]
    engine = make_engine(url)
    refused = 0
    start = threading.Barrier(THREADS)

    def guess(i: int) -> None:
        nonlocal refused
        start.wait()
        try:
            with session_scope(engine) as s:
                users.authenticate(s, "ines", f"guess-{i}")
        except PermissionDenied as exc:
            assert str(exc) == LOGIN_REFUSED
            with lock:
                refused += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(THREADS)]
    barrier.wait()  # every process is ready: go together
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    results.put((checked, refused))


def test_parallel_guesses_are_bounded_by_the_lockout(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "ines", "inspector", PASSWORD)
    url = engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_guesses, args=(url, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    checked = sum(c for c, _ in outcomes)
    refused = sum(r for _, r in outcomes)
    print(f"\n{engine.dialect.name}: {PROCESSES * THREADS} parallel guesses, {checked} checked")
    assert refused == PROCESSES * THREADS
    assert 1 <= checked <= 5, f"{checked} guesses were checked before the lockout (policy 5)"
    with session_scope(engine) as s:
        assert s.scalars(select(User)).one().locked_until is not None
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        authenticate(s, "ines", PASSWORD)  # locked: even the right password waits
