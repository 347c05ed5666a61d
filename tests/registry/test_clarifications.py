"""Requests for clarification: drafted with evidence chosen field by field, four eyes, the
state's deadline, an answer with attachments, then close, ask again or a challenge proposal;
every step audited. Bad input stores nothing. Both backends."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select, update

from registry.clarifications import (
    answer,
    attachments,
    decide,
    draft,
    follow_up,
    overdue_requests,
    requests_for,
    shareable,
)
from registry.db import session_scope
from registry.errors import PermissionDenied, RegistryError
from registry.models import AlertRow, TriageEvent
from registry.models_states import ClarificationAttachment, ClarificationRequest
from registry.service import Action, act
from registry.users import add_user
from tests.registry.factories import make_alert


@pytest.fixture
def loop(engine: Engine) -> dict:
    """An alert on an Indian facility's export to Mexico; authorities of both, staff."""
    with session_scope(engine) as s:
        people = {
            "ind": add_user(s, "ind-auth", "authority", "password-123", state="IND"),
            "mex": add_user(s, "mex-auth", "authority", "password-123", state="MEX"),
            "ins": add_user(s, "ins", "inspector", "password-123"),
            "sup": add_user(s, "sup", "supervisor", "password-123"),
            "sup2": add_user(s, "sup2", "supervisor", "password-123"),
        }
        alert = make_alert(s)
        alert.country = "IND"
        return {**people, "alert": alert.id}


def _events(engine: Engine, prefix: str = "clarification") -> list[str]:
    with session_scope(engine) as s:
        return list(
            s.scalars(
                select(TriageEvent.action)
                .where(TriageEvent.action.startswith(prefix))
                .order_by(TriageEvent.id)
            )
        )


def test_the_whole_loop(engine: Engine, loop: dict) -> None:
    aid = loop["alert"]
    with session_scope(engine) as s:
        offer = {x.key: x for x in shareable(s, [aid], "IND")}
        # the Indian facility and the record with its Indian side; never the Mexican buyer
        assert any(k.startswith("facility:") for k in offer)
        record = next(x for x in offer.values() if x.key.startswith("record:"))
        assert "Acme exported to a party in Mexico" in record.value
        assert "Beta" not in " ".join(x.value for x in offer.values())
        req = draft(s, loop["ins"], [aid], "IND", "Who bought the 1,200 kg?", list(offer)[:3])
        rid = req.id
    with session_scope(engine) as s:
        assert requests_for(s, loop["ind"]) == []  # not sent before a supervisor approves
    refused = pytest.raises(PermissionDenied, match="an inspector may not decide")
    with refused, session_scope(engine) as s:
        decide(s, loop["ins"], rid, True)
    with session_scope(engine) as s:
        own = draft(s, loop["sup"], [aid], "IND", "Q", ["finding"]).id
    with pytest.raises(PermissionDenied, match="four eyes"), session_scope(engine) as s:
        decide(s, loop["sup"], own, True)
    with session_scope(engine) as s:
        req = decide(s, loop["sup"], rid, True, "clear questions")
        assert req.status == "open"
        assert req.deadline_at is not None
        days = (req.deadline_at - req.drafted_at).total_seconds() / 86400
        assert 9.99 < days < 10.01  # 10 days by default
    with session_scope(engine) as s:
        assert [r.id for r in requests_for(s, loop["ind"])] == [rid]
        assert requests_for(s, loop["mex"]) == []  # another state sees nothing
    with pytest.raises(RegistryError, match="to your state"), session_scope(engine) as s:
        answer(s, loop["mex"], rid, "not ours")
    with session_scope(engine) as s:
        answer(
            s, loop["ind"], rid, "Sold to a licensed buyer.", [("../../etc/licence.pdf", b"%PDF-1")]
        )
    with session_scope(engine) as s:
        (att,) = attachments(s, rid)
        assert att.file_name == "licence.pdf" and att.content == b"%PDF-1"
    with session_scope(engine) as s:
        follow_up(s, loop["ins"], rid, "close", "Licence checked.")
        assert s.get(ClarificationRequest, rid).status == "closed"  # type: ignore[union-attr]
    assert _events(engine) == [
        "clarification_drafted",
        "clarification_drafted",
        "clarification_approved",
        "clarification_answered",
        "clarification_closed",
    ]


def test_ask_again_and_challenge(engine: Engine, loop: dict) -> None:
    aid = loop["alert"]
    with session_scope(engine) as s:
        rid = draft(s, loop["ins"], [aid], "IND", "Q1", ["finding"]).id
        decide(s, loop["sup"], rid, True)
        answer(s, loop["ind"], rid, "A1")
        again = follow_up(
            s, loop["ins"], rid, "ask_again", "Not enough", questions="Q2", keys=["finding"]
        )
        assert again.status == "pending_approval" and again.follows == rid
        decide(s, loop["sup"], again.id, True)
        answer(s, loop["ind"], again.id, "A2: the buyer was a broker.")
        for step in ("claim", "start_review"):
            seen = s.get(AlertRow, aid).version  # type: ignore[union-attr]
            act(s, aid, loop["ins"], Action(step), expected_version=seen)
        follow_up(s, loop["ins"], again.id, "challenge", "The answer does not hold.")
        alert = s.get(AlertRow, aid)
        assert alert is not None and alert.status == "pending_escalation"
        assert "A2: the buyer was a broker." in (alert.proposed_note or "")


@pytest.mark.parametrize("case", ["no evidence", "late answer", "too big", "foreign evidence"])
def test_bad_input_stores_nothing(engine: Engine, loop: dict, case: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    aid = loop["alert"]
    with session_scope(engine) as s:
        rid = draft(s, loop["ins"], [aid], "IND", "Q", ["finding"]).id
        decide(s, loop["sup"], rid, True)
    with session_scope(engine) as s:
        before = (
            s.scalar(select(func.count()).select_from(ClarificationRequest)),
            s.scalar(select(func.count()).select_from(ClarificationAttachment)),
            s.scalar(select(func.count()).select_from(TriageEvent)),
        )
    if case == "late answer":
        with session_scope(engine) as s:
            s.execute(
                update(ClarificationRequest)
                .where(ClarificationRequest.id == rid)
                .values(deadline_at=dt.datetime(2020, 1, 1))
            )
    monkeypatch.setenv("PWATCH_MAX_ATTACHMENT_MB", "0.001")
    expected = {
        "no evidence": "must share at least one piece of evidence",
        "late answer": "deadline of request .* passed",
        "too big": "over the 0.001 MB limit",
        "foreign evidence": "is not evidence that may be shared with MEX",
    }[case]
    with pytest.raises(RegistryError, match=expected), session_scope(engine) as s:
        if case == "no evidence":
            draft(s, loop["ins"], [aid], "IND", "Q", [])
        elif case == "foreign evidence":
            facility = next(
                k for k in (x.key for x in shareable(s, [aid], "IND")) if k.startswith("facility:")
            )
            draft(s, loop["ins"], [aid], "MEX", "Q", [facility])
        else:
            answer(s, loop["ind"], rid, "text", [("a.txt", b"x" * 5000)])
    with session_scope(engine) as s:
        after = (
            s.scalar(select(func.count()).select_from(ClarificationRequest)),
            s.scalar(select(func.count()).select_from(ClarificationAttachment)),
            s.scalar(select(func.count()).select_from(TriageEvent)),
        )
        assert after == before
        req = s.get(ClarificationRequest, rid)
        assert req is not None and req.status == "open" and req.answer is None
        if case == "late answer":
            assert overdue_requests(s, loop["ins"]) == {aid: [rid]}
            payload = [json.loads(p or "{}") for p in s.scalars(select(TriageEvent.payload))]
            assert all(p.get("status") != "answered" for p in payload)
