"""The hostile review's rewrites of the audit record, replayed with write access to the
database (but not to the audit key) on SQLite and PostgreSQL. Each passed `pwatch audit
verify` before the chain was keyed and checked against the tables; each is reported now."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from registry.audit import GENESIS, event_hash, write_checkpoint
from registry.db import session_scope
from registry.models import AlertRow, ChallengeRequest, TriageEvent
from registry.service import Action, act, set_detector_setting
from tests.registry.factories import make_alert, make_user

pytestmark = pytest.mark.reliability


@pytest.fixture(autouse=True)
def _private_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The audit key of a PostgreSQL registry lives in PWATCH_DATA_DIR: one per test."""
    monkeypatch.setenv("PWATCH_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def record(engine: Engine, tmp_path: Path) -> dict:
    """A registry with accounts, an escalation approved into a challenge request, a tuned
    threshold, and a checkpoint of its audit chain kept outside the database."""
    with session_scope(engine) as s:
        ines, sara, _ = (make_user(s, r, n) for r, n in
                         [("inspector", "ines"), ("supervisor", "sara"), ("supervisor", "sven")])  # fmt: skip
        escalated, other = make_alert(s).id, make_alert(s).id
    for who, step, kw in [(ines, "claim", {}), (ines, "start_review", {}),
                          (ines, "escalate", {"note": "grounds"}), (sara, "approve", {})]:  # fmt: skip
        with session_scope(engine) as s:
            seen = s.get(AlertRow, escalated).version  # type: ignore[union-attr]
            act(s, escalated, who, Action(step, **kw), expected_version=seen)
    with session_scope(engine) as s:
        seen = s.get(AlertRow, other).version  # type: ignore[union-attr]
        act(s, other, ines, Action("claim"), expected_version=seen)
        set_detector_setting(s, sara, "shipment_burst", {"min_count": 4})
    checkpoint = tmp_path / "checkpoint.json"
    with session_scope(engine) as s:
        write_checkpoint(s, checkpoint)
        doc = s.scalars(select(ChallengeRequest)).one().id
    return {"url": engine.url.render_as_string(hide_password=False), "alert": escalated,
            "other": other, "doc": doc, "checkpoint": str(checkpoint), "engine": engine}  # fmt: skip


def _verify(record: dict, *extra: str) -> tuple[int, str]:
    from ui.cli import app

    res = CliRunner().invoke(app, ["--db", record["url"], "audit", "verify", *extra])
    return res.exit_code, res.output


def _rehash_without_key(engine: Engine, *, scheme: str | None) -> None:
    """What an attacker without the key can do: recompute every link with plain SHA-256
    (the unkeyed format), after editing an event, and move the head along."""
    with session_scope(engine) as s:
        events = list(s.scalars(select(TriageEvent).order_by(TriageEvent.id)))
        prev = GENESIS
        for i, e in enumerate(events):
            if i == 2:
                e.note = "nothing to see"
            if scheme:
                e.scheme = scheme
            e.prev_hash = prev
            e.hash = "tmp-" + str(e.id)
        s.flush()
        for e in events:
            e.hash = event_hash(e.prev_hash, e)
            prev = e.hash
            nxt = next((x for x in events if x.id > e.id), None)
            if nxt is not None:
                nxt.prev_hash = e.hash
        s.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})


# (attack, SQL run with write access, verify with the checkpoint?, what the report says)
_ATTACKS = [
    ("status changed without an event",
     ["UPDATE alerts SET status = 'dismissed' WHERE id = :other"], False,
     "is dismissed, assigned to ines in the registry, but its events leave it assigned"),
    ("assignee changed without an event",
     ["UPDATE alerts SET assignee = 'sven' WHERE id = :other"], False,
     "assigned to sven in the registry"),
    ("proposer changed (to approve one's own proposal)",
     ["UPDATE alerts SET proposed_by = 'sven' WHERE id = :alert"], False,
     "proposed by sven in the registry"),
    ("challenge document rewritten with its new sha256",
     ["UPDATE challenge_requests SET markdown = 'No grounds.', sha256 = :new_sha WHERE id = :doc"],
     False, "not the one the audit chain recorded"),
    ("challenge document rewritten, old sha256 kept",
     ["UPDATE challenge_requests SET markdown = 'No grounds.' WHERE id = :doc"], False,
     "does not match its sha256"),
    ("a raised role", ["UPDATE users SET role = 'supervisor' WHERE username = 'ines'"], False,
     "account ines: role is supervisor in the registry, but the audit chain says inspector"),
    ("an inserted threshold",
     ["INSERT INTO detector_settings (detector, \"values\", updated_by, updated_at) "
      "VALUES ('export_never_arrived', '{\"days\": 9999}', 'sara', '2026-01-01')"], False,
     "thresholds of export_never_arrived"),
    ("a changed threshold",
     ["UPDATE detector_settings SET \"values\" = '{\"min_count\": 400}'"], False,
     "thresholds of shipment_burst"),
    ("a password hash replaced",
     ["UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'ines') "
      "WHERE username = 'sara'"], False, "account sara: password was replaced"),
    ("an account inserted",
     ["INSERT INTO users (username, display_name, role, password_hash, active, failed_logins, "
      "created_at, session_epoch) SELECT 'mal', 'mal', 'supervisor', password_hash, active, 0, "
      "created_at, 0 FROM users WHERE username = 'ines'"], False,
     "account mal is not in the audit chain"),
    ("the newest event deleted and the head moved back",
     ["DELETE FROM triage_events WHERE id = (SELECT MAX(id) FROM triage_events)",
      "UPDATE audit_head SET last_event_id = (SELECT MAX(id) FROM triage_events), "
      "last_hash = (SELECT hash FROM triage_events WHERE id = (SELECT MAX(id) FROM triage_events))"],
     True, "the newest events were deleted"),
    ("the whole log deleted", ["DELETE FROM triage_events", "DELETE FROM audit_head"], False,
     "the whole log was deleted"),
    ("the whole log deleted (checked against the checkpoint)",
     ["DELETE FROM triage_events", "DELETE FROM audit_head"], True, "whole log was deleted"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("attack", "statements", "with_checkpoint", "expected"),
    _ATTACKS,
    ids=[a[0] for a in _ATTACKS],
)
def test_rewrites_of_the_record_are_reported(
    record: dict, attack: str, statements: list[str], with_checkpoint: bool, expected: str
) -> None:
    code, out = _verify(record, "--checkpoint", record["checkpoint"])
    assert code == 0 and "intact" in out, out
    params = {
        "alert": record["alert"],
        "other": record["other"],
        "doc": record["doc"],
        "new_sha": hashlib.sha256(b"No grounds.").hexdigest(),
    }
    with record["engine"].begin() as conn:
        for sql in statements:
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    extra = ("--checkpoint", record["checkpoint"]) if with_checkpoint else ()
    code, out = _verify(record, *extra)
    assert code == 2, (attack, out)
    assert expected in out, (attack, out)


@pytest.mark.parametrize("scheme", [None, "sha256"], ids=["links recomputed", "marked unkeyed"])
def test_recomputing_every_hash_without_the_key_is_detected(
    record: dict, scheme: str | None
) -> None:
    _rehash_without_key(record["engine"], scheme=scheme)
    code, out = _verify(record)
    assert code == 2, out
    assert ("altered" in out) if scheme is None else ("no event of the log is keyed" in out)


def test_an_edited_checkpoint_is_refused(record: dict) -> None:
    path = Path(record["checkpoint"])
    doc = json.loads(path.read_text())
    doc["events"] -= 1
    path.write_text(json.dumps(doc))
    code, out = _verify(record, "--checkpoint", str(path))
    assert code == 1 and "altered after it was written" in out
