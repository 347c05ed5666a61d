"""The hash-chained triage log detects tampering; accounts hash passwords and lock out."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from registry.audit import append_event, verify_chain
from registry.db import session_scope
from registry.errors import PermissionDenied, RegistryError
from registry.models import TriageEvent, User
from registry.users import add_user, authenticate


def _chain(engine: Engine, n: int = 5) -> list[int]:
    with session_scope(engine) as s:
        return [append_event(s, actor="ana", action="note", note=f"n{i}").id for i in range(n)]


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE triage_events SET note = 'rewritten' WHERE id = :mid",
        "UPDATE triage_events SET actor = 'mallory' WHERE id = :mid",
        "DELETE FROM triage_events WHERE id = :mid",
        "DELETE FROM triage_events WHERE id = :last",
        "UPDATE triage_events SET created_at = '2020-01-01 00:00:00' WHERE id = :mid",
    ],
)
def test_tampering_is_detected_and_located(engine: Engine, tamper: str) -> None:
    ids = _chain(engine)
    with session_scope(engine) as s:
        assert verify_chain(s).ok
    with engine.begin() as conn:
        conn.execute(text(tamper), {"mid": ids[2], "last": ids[-1]})
    with session_scope(engine) as s:
        report = verify_chain(s)
    assert not report.ok
    assert report.first_broken_id in (ids[2], ids[3], ids[-1])


def test_reordering_is_detected(engine: Engine) -> None:
    ids = _chain(engine)
    with engine.begin() as conn:
        a, b = ids[1], ids[2]
        conn.execute(text("UPDATE triage_events SET id = -1 WHERE id = :a"), {"a": a})
        conn.execute(text("UPDATE triage_events SET id = :a WHERE id = :b"), {"a": a, "b": b})
        conn.execute(text("UPDATE triage_events SET id = :b WHERE id = -1"), {"b": b})
    with session_scope(engine) as s:
        report = verify_chain(s)
    assert not report.ok and report.first_broken_id == ids[1]


def test_passwords_are_salted_hashes_and_logins_lock_out(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "ines", "inspector", "correct horse")
        add_user(s, "ivan", "inspector", "correct horse")
    with session_scope(engine) as s:
        hashes = [u.password_hash for u in s.scalars(select(User).order_by(User.username))]
    assert all(h.startswith("$argon2") and "correct horse" not in h for h in hashes)
    assert hashes[0] != hashes[1]  # salted
    with session_scope(engine) as s:
        assert authenticate(s, "ines", "correct horse").role == "inspector"
    for _ in range(5):
        with pytest.raises(PermissionDenied, match="wrong password"), session_scope(engine) as s:
            authenticate(s, "ines", "guess")
    with pytest.raises(PermissionDenied, match="locked"), session_scope(engine) as s:
        authenticate(s, "ines", "correct horse")


@pytest.mark.parametrize(
    ("name", "role", "pw", "error"),
    [
        ("a b", "inspector", "long enough", "without spaces"),
        ("ann", "wizard", "long enough", "unknown role"),
        ("ann", "viewer", "short", "at least 8"),
    ],
)
def test_bad_accounts_are_refused(
    sqlite_engine: Engine, name: str, role: str, pw: str, error: str
) -> None:
    with pytest.raises(RegistryError, match=error), session_scope(sqlite_engine) as s:
        add_user(s, name, role, pw)


def test_cli_init_user_audit(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    res = runner.invoke(app, ["--db", url, "user", "list"])
    assert res.exit_code != 0 and "run `pwatch init` first" in res.output
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    monkeypatch.setenv("PWATCH_PASSWORD", "s3cret-pass")
    res = runner.invoke(app, ["--db", url, "user", "add", "sam", "--role", "supervisor"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", url, "user", "add", "sam", "--role", "supervisor"])
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(app, ["--db", url, "audit", "verify"])
    assert res.exit_code == 0 and "1 events verified" in res.output
    from registry.db import make_engine

    with make_engine(url).begin() as conn:
        conn.execute(text("UPDATE triage_events SET note = 'x'"))
    res = runner.invoke(app, ["--db", url, "audit", "verify"])
    assert res.exit_code == 2 and "broken at event 1" in res.output
    with session_scope(make_engine(url)) as s:
        assert s.scalars(select(TriageEvent)).one().actor == "system"
