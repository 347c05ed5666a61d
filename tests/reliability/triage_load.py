"""Concurrent triage load: worker processes act as different users on the same alerts.

Used by tests/reliability/test_triage_concurrency.py and runnable alone:
    python tests/reliability/triage_load.py postgresql://postgres@127.0.0.1:5432/DB 60
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import sys
import time
from typing import Any

ACTOR_ROLES = ["inspector"] * 6 + ["supervisor"] * 2


def setup(url: str, n_alerts: int = 50) -> list[str]:
    """Initialise the database with alerts and one account per worker; return usernames."""
    from registry.db import init_db, make_engine, session_scope
    from registry.models import AlertRow
    from registry.users import add_user

    engine = make_engine(url)
    init_db(engine)
    names = []
    with session_scope(engine) as s:
        for i, role in enumerate(ACTOR_ROLES):
            name = f"{role}{i}"
            # Through add_user: an account written behind the audit chain fails its check.
            add_user(s, name, role, f"load-password-{i}")
            names.append(name)
        for i in range(n_alerts):
            s.add(
                AlertRow(
                    fingerprint=f"load-{i}",
                    detector="unusual_shipment_size",
                    severity=random.Random(i).choice(["low", "medium", "high", "critical"]),
                    score=50.0,
                    summary=f"load-test alert {i}",
                    evidence={},
                )
            )
    engine.dispose()
    return names


def worker(url: str, username: str, seconds: float, seed: int, out: Any) -> None:
    """Run the load as one user; an unexpected error is reported, never swallowed."""
    try:
        _work(url, username, seconds, seed, out)
    except Exception as exc:
        out.put(json.dumps({"user": username, "error": f"{type(exc).__name__}: {exc}"}))


def _work(url: str, username: str, seconds: float, seed: int, out: Any) -> None:
    """Hammer random alerts with whatever this user may do; report every outcome."""
    from registry.db import make_engine, session_scope
    from registry.errors import PermissionDenied, RegistryError, StaleAlert, TransitionNotAllowed
    from registry.models import AlertRow, User
    from registry.service import DISMISS_REASONS, Action, act, available_actions

    rng = random.Random(seed)
    engine = make_engine(url)
    with session_scope(engine) as s:
        user = s.query(User).filter_by(username=username).one()
        alert_ids = [a for (a,) in s.query(AlertRow.id).all()]
    accepted: list[tuple[int, str, int]] = []
    stale = refused = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alert_id = rng.choice(alert_ids)
        with session_scope(engine) as s:
            alert = s.get(AlertRow, alert_id)
            assert alert is not None
            seen = alert.version
            options = available_actions(alert, user) or ["claim"]
        action = rng.choice(options)
        req = Action(
            action,
            reason_code=rng.choice(list(DISMISS_REASONS)),
            note=f"{username} {action}",
            assignee=username,
        )
        time.sleep(rng.random() * 0.005)  # widen the window between read and write
        try:
            with session_scope(engine) as s:
                row = act(s, alert_id, user, req, expected_version=seen)
                accepted.append((alert_id, action, row.version))
        except StaleAlert:
            stale += 1
        except (TransitionNotAllowed, PermissionDenied):
            refused += 1
        except RegistryError:
            refused += 1
    engine.dispose()
    out.put(
        json.dumps({"user": username, "accepted": accepted, "stale": stale, "refused": refused})
    )


def run(url: str, seconds: float) -> dict[str, Any]:
    """Set up, run 8 workers in parallel, return their merged reports and the wall time."""
    names = setup(url)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, n, seconds, i, queue)) for i, n in enumerate(names)
    ]
    start = time.monotonic()
    for p in procs:
        p.start()
    reports = [json.loads(queue.get(timeout=seconds + 120)) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [f"{r['user']}: {r['error']}" for r in reports if "error" in r]
    if errors:
        raise RuntimeError("load workers failed: " + "; ".join(errors))
    return {"reports": reports, "seconds": time.monotonic() - start}


if __name__ == "__main__":
    result = run(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0)
    total = sum(len(r["accepted"]) for r in result["reports"])
    print(
        f"{total} accepted actions in {result['seconds']:.1f} s: {total / result['seconds']:.1f}/s"
    )
