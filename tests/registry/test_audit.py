"""The keyed audit chain: links, the key kept outside the database, checkpoints, and the
upgrade of an older registry's unkeyed chain. The hostile review's attacks on it are replayed
in tests/reliability/test_audit_tampering.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from registry.audit import append_event, read_checkpoint, verify_chain, write_checkpoint
from registry.audit_key import AuditKeyError, key_location, load_key
from registry.db import downgrade_db, init_db, make_engine, session_scope
from registry.errors import RegistryError
from registry.models import TriageEvent


def _chain(engine: Engine, n: int = 5) -> list[int]:
    with session_scope(engine) as s:
        return [append_event(s, actor="ana", action="note", note=f"n{i}").id for i in range(n)]


def _report(engine: Engine, checkpoint=None):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return verify_chain(s, checkpoint)


def test_a_new_registry_starts_with_a_keyed_anchor(engine: Engine) -> None:
    with session_scope(engine) as s:
        events = list(s.scalars(select(TriageEvent)))
    assert [(e.action, e.scheme, e.actor) for e in events] == [
        ("audit_anchor", "hmac-sha256", "system")
    ]
    assert json.loads(events[0].payload or "")["key_id"] == load_key(engine).key_id
    report = _report(engine)
    assert report.ok and report.events == 1, report


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE triage_events SET note = 'rewritten' WHERE id = :mid",
        "UPDATE triage_events SET actor = 'mallory' WHERE id = :mid",
        "UPDATE triage_events SET payload = '{}' WHERE id = :mid",
        "UPDATE triage_events SET subject = 'someone' WHERE id = :mid",
        "DELETE FROM triage_events WHERE id = :mid",
        "DELETE FROM triage_events WHERE id = :last",
        "UPDATE triage_events SET created_at = '2020-01-01 00:00:00' WHERE id = :mid",
        "UPDATE triage_events SET scheme = 'sha256' WHERE id = :mid",
    ],
)
def test_tampering_is_detected_and_located(engine: Engine, tamper: str) -> None:
    ids = _chain(engine)
    assert _report(engine).ok
    with engine.begin() as conn:
        conn.execute(text(tamper), {"mid": ids[2], "last": ids[-1]})
    report = _report(engine)
    assert not report.ok
    assert report.first_broken_id in (ids[2], ids[3], ids[-1]), report


def test_reordering_is_detected(engine: Engine) -> None:
    ids = _chain(engine)
    with engine.begin() as conn:
        a, b = ids[1], ids[2]
        conn.execute(text("UPDATE triage_events SET id = -1 WHERE id = :a"), {"a": a})
        conn.execute(text("UPDATE triage_events SET id = :a WHERE id = :b"), {"a": a, "b": b})
        conn.execute(text("UPDATE triage_events SET id = :b WHERE id = -1"), {"b": b})
    report = _report(engine)
    assert not report.ok and report.first_broken_id == ids[1]


def test_the_key_lives_outside_the_database_owner_only(engine: Engine) -> None:
    path = key_location(engine)
    assert path is not None and path.is_file()
    assert path.stat().st_mode & 0o777 == 0o600
    secret = path.read_text().strip()
    with engine.connect() as conn:
        for table in ("triage_events", "audit_head", "users"):
            dump = " ".join(map(str, conn.execute(text(f"SELECT * FROM {table}")).all()))
            assert secret not in dump, table


def test_a_key_others_can_read_or_a_missing_key_is_refused(engine: Engine) -> None:
    path = key_location(engine)
    assert path is not None
    path.chmod(0o644)
    with (
        pytest.raises(AuditKeyError, match="can be read by other users"),
        session_scope(engine) as s,
    ):
        append_event(s, actor="ana", action="note", note="x")
    path.chmod(0o600)
    path.rename(path.with_name("elsewhere"))
    with pytest.raises(AuditKeyError, match="audit key is missing"):
        _report(engine)
    # init does not paper over a lost key with a new one: the chain would never verify
    with pytest.raises(AuditKeyError, match="audit key is missing"):
        init_db(engine)
    path.with_name("elsewhere").rename(path)
    assert _report(engine).ok


def test_another_key_cannot_append(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(engine, 2)
    monkeypatch.setenv("PWATCH_AUDIT_KEY", "x" * 40)
    wrong_key = "not the key this registry's chain was written with"
    with pytest.raises(AuditKeyError, match=wrong_key), session_scope(engine) as s:
        append_event(s, actor="ana", action="note", note="x")
    monkeypatch.delenv("PWATCH_AUDIT_KEY")
    assert _report(engine).ok


def test_the_key_can_come_from_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PWATCH_AUDIT_KEY", "k" * 48)
    eng = make_engine(db_url)
    init_db(eng)
    assert key_location(eng) is None
    _chain(eng, 3)
    assert _report(eng).ok
    monkeypatch.setenv("PWATCH_AUDIT_KEY", "k" * 47 + "j")
    report = _report(eng)
    assert not report.ok and "altered" in report.problem
    monkeypatch.setenv("PWATCH_AUDIT_KEY", "short")
    with pytest.raises(AuditKeyError, match="too short"):
        _report(eng)
    eng.dispose()


def test_checkpoint_round_trip_and_truncation(engine: Engine, tmp_path: Path) -> None:
    ids = _chain(engine, 4)
    cp_file = tmp_path / "cp.json"
    with session_scope(engine) as s:
        cp = write_checkpoint(s, cp_file)
    assert (cp.event_id, cp.events) == (ids[-1], 5)  # the anchor and 4 notes
    key = load_key(engine)
    assert _report(engine, read_checkpoint(cp_file, key)).ok
    _chain(engine, 2)  # the log grows past the checkpoint: still fine
    assert _report(engine, read_checkpoint(cp_file, key)).ok
    # Delete the newest events back to before the checkpoint and move the head with them.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM triage_events WHERE id >= :i"), {"i": ids[2]})
        conn.execute(
            text(
                "UPDATE audit_head SET last_event_id = :i, "
                "last_hash = (SELECT hash FROM triage_events WHERE id = :i)"
            ),
            {"i": ids[1]},
        )
    assert _report(engine).ok  # the log alone cannot tell
    report = _report(engine, read_checkpoint(cp_file, key))
    assert not report.ok and "newest events were deleted" in report.problem


def test_a_checkpoint_is_signed(engine: Engine, tmp_path: Path) -> None:
    _chain(engine, 2)
    cp_file = tmp_path / "cp.json"
    with session_scope(engine) as s:
        write_checkpoint(s, cp_file)
    doc = json.loads(cp_file.read_text())
    doc["events"] = 1
    cp_file.write_text(json.dumps(doc))
    with pytest.raises(RegistryError, match="altered after it was written"):
        read_checkpoint(cp_file, load_key(engine))
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(RegistryError, match="not a readable checkpoint"):
        read_checkpoint(tmp_path / "junk.json", load_key(engine))


def test_no_checkpoint_of_a_broken_chain(engine: Engine, tmp_path: Path) -> None:
    ids = _chain(engine, 2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE triage_events SET note = 'x' WHERE id = :i"), {"i": ids[0]})
    with pytest.raises(RegistryError, match="no checkpoint written"), session_scope(engine) as s:
        write_checkpoint(s, tmp_path / "cp.json")
    assert not (tmp_path / "cp.json").exists()


def _legacy_event(conn, prev: str, eid: int, note: str) -> str:  # type: ignore[no-untyped-def]
    """Write one event as precursor-watch wrote them before the chain was keyed."""
    import datetime as dt

    from registry.audit import event_hash

    at = dt.datetime(2026, 1, 1, 12, 0, eid)
    event = TriageEvent(id=eid, actor="old", action="note", note=note, created_at=at)
    digest = event_hash(prev, event)  # no key: the old SHA-256 links
    conn.execute(
        text(
            "INSERT INTO triage_events (id, actor, action, note, created_at, prev_hash, hash) "
            "VALUES (:i, 'old', 'note', :n, :at, :p, :h)"
        ),
        {"i": eid, "n": note, "at": at, "p": prev, "h": digest},
    )
    conn.execute(
        text("UPDATE audit_head SET last_event_id = :i, last_hash = :h"), {"i": eid, "h": digest}
    )
    return digest


def test_an_unkeyed_chain_is_anchored_on_upgrade(db_url: str) -> None:
    """A registry of the previous schema with its unkeyed chain: `pwatch init` upgrades it,
    and one keyed anchor event then vouches for the old events (a later edit of one breaks
    the link into the anchor)."""
    eng = make_engine(db_url)
    init_db(eng)
    downgrade_db(eng, "0003")
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM triage_events"))
        conn.execute(
            text("UPDATE audit_head SET last_event_id = NULL, last_hash = :g"), {"g": "0" * 64}
        )
        prev = "0" * 64
        for i in range(1, 4):
            prev = _legacy_event(conn, prev, i, f"old note {i}")
        if eng.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('triage_events', 'id'), 3)"))
    key_file = key_location(eng)
    assert key_file is not None
    key_file.unlink()  # an older version had no key
    init_db(eng)
    assert key_file.stat().st_mode & 0o777 == 0o600
    with session_scope(eng) as s:
        events = list(s.scalars(select(TriageEvent).order_by(TriageEvent.id)))
    assert [e.scheme for e in events] == ["sha256"] * 3 + ["hmac-sha256"]
    assert events[-1].action == "audit_anchor" and events[-1].prev_hash == prev
    assert json.loads(events[-1].payload or "")["unkeyed_events"] == 3
    assert _report(eng).ok
    _chain(eng, 1)
    assert _report(eng).ok and _report(eng).events == 5
    init_db(eng)  # a second init adds nothing
    assert _report(eng).events == 5
    with eng.begin() as conn:
        conn.execute(text("UPDATE triage_events SET note = 'rewritten' WHERE id = 2"))
    report = _report(eng)
    assert not report.ok and report.first_broken_id == 2
    eng.dispose()


def test_downgrade_relinks_the_chain_for_the_older_version(db_url: str) -> None:
    from registry.audit import GENESIS, event_hash

    eng = make_engine(db_url)
    init_db(eng)
    _chain(eng, 3)
    downgrade_db(eng, "0003")
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, alert_id, actor, action, from_status, to_status, reason_code, "
                "note, created_at, prev_hash, hash FROM triage_events ORDER BY id"
            )
        ).all()
    prev = GENESIS
    for r in rows:  # what the older version's verify_chain computes
        created = r.created_at
        if isinstance(created, str):
            import datetime as dt

            created = dt.datetime.fromisoformat(created)
        ev = TriageEvent(
            id=r.id, alert_id=r.alert_id, actor=r.actor, action=r.action,
            from_status=r.from_status, to_status=r.to_status, reason_code=r.reason_code,
            note=r.note, created_at=created,
        )  # fmt: skip
        assert r.prev_hash == prev and r.hash == event_hash(prev, ev)
        prev = r.hash
    init_db(eng)
    assert _report(eng).ok and _report(eng).events == 5  # 4 relinked + a new anchor
    eng.dispose()


def test_key_file_name_follows_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "dd"))
    sqlite = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    assert key_location(sqlite) == Path(f"{tmp_path / 'r.db'}.audit-key")
    pg = make_engine("postgresql://u@127.0.0.1:1/x")
    assert key_location(pg) == tmp_path / "dd" / "audit.key"
    monkeypatch.setenv("PWATCH_AUDIT_KEY_FILE", str(tmp_path / "k"))
    assert key_location(sqlite) == tmp_path / "k"
    assert not os.path.exists(tmp_path / "r.db")  # asking where the key is creates nothing
