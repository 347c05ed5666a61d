"""Models of the states in the loop: declaration submissions by national authorities (with
their revisions and the deadline of each year) and requests for clarification with their
answers and attachments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.models import Base, BigId, _classified, _one_of, utcnow
from registry.vocab import CLARIFICATION_STATUSES

__all__ = [
    "ClarificationAttachment",
    "ClarificationRequest",
    "DeclarationDeadline",
    "DeclarationSubmission",
]


class DeclarationSubmission(Base):
    """One revision of a state's declarations for a year, as its authority submitted it: the
    rows as submitted (kept for the history), when, by whom, and whether it came late."""

    __tablename__ = "declaration_submissions"
    __table_args__ = (
        UniqueConstraint("state", "year", "revision"),
        _classified("declaration_submissions"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(3), index=True)
    year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due: Mapped[dt.date] = mapped_column(Date)  # the year's deadline when it was submitted
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    via: Mapped[str] = mapped_column(String(8))  # form | file
    file_name: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # of the rows as stored (canonical JSON)
    rows: Mapped[list] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(20), default="protected")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))


class DeclarationDeadline(Base):
    """A supervisor's deadline for one declaration year (else the configured default)."""

    __tablename__ = "declaration_deadlines"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    due: Mapped[dt.date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ClarificationRequest(Base):
    """A request for clarification to one state about an alert (or the alerts of a case):
    the questions, the evidence shared with the state (field by field, the values as
    approved), four-eyes approval, the deadline, the answer and what the body did next."""

    __tablename__ = "clarification_requests"
    __table_args__ = (
        CheckConstraint(
            _one_of("status", CLARIFICATION_STATUSES), name="ck_clarification_requests_status"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    alert_ids: Mapped[list] = mapped_column(JSON)  # the alert, or every alert of the case
    state: Mapped[str] = mapped_column(String(3), index=True)
    status: Mapped[str] = mapped_column(String(24), default="pending_approval")
    questions: Mapped[str] = mapped_column(Text)
    shared: Mapped[list] = mapped_column(JSON)  # [{key, label, value}], as approved
    drafted_by: Mapped[str] = mapped_column(String(100))
    drafted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closing_note: Mapped[str | None] = mapped_column(Text)
    follows: Mapped[int | None] = mapped_column(ForeignKey("clarification_requests.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ClarificationAttachment(Base):
    """A file an authority attached to its answer: stored in the registry (so an answer is
    saved whole or not at all), under a safe name, size-capped, with its sha256."""

    __tablename__ = "clarification_attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("clarification_requests.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
