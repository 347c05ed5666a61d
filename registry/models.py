"""SQLAlchemy 2 typed models of the system of record."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from registry.vocab import (
    CLASSIFICATIONS,
    DISMISS_REASON_CODES,
    EVENT_ACTIONS,
    EVENT_STATUSES,
    ROLES,
    SEVERITIES,
    STATUSES,
    TRIAGE_ACTIONS,
)

__all__ = [
    "CLASSIFICATIONS",
    "DISMISS_REASON_CODES",
    "EVENT_ACTIONS",
    "ROLES",
    "SEVERITIES",
    "STATUSES",
    "TRIAGE_ACTIONS",
    "AlertRow",
    "AlertShipment",
    "AmbiguousLink",
    "AuditHead",
    "Base",
    "ChallengeRequest",
    "DataQualityFinding",
    "Declaration",
    "DetectionRun",
    "DetectorSetting",
    "EarlyWarning",
    "Facility",
    "IngestBatch",
    "Party",
    "QuarantinedRow",
    "ScreenResult",
    "Shipment",
    "ShipmentRecord",
    "SubstanceForm",
    "SubstanceName",
    "SubstanceRow",
    "TriageEvent",
    "User",
    "utcnow",
]


def _one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    """SQL for a CHECK that `column` holds one of `values` (NULL allowed if asked)."""
    listed = ", ".join(f"'{v}'" for v in values)
    test = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {test}" if nullable else test


def _classified(table: str, *, nullable: bool = False) -> CheckConstraint:
    """The CHECK that a row's classification is one of the three levels."""
    return CheckConstraint(
        _one_of("classification", CLASSIFICATIONS, nullable=nullable),
        name=f"ck_{table}_classification",
    )


# BIGINT primary keys on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC (stored as naive UTC for portability)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict: JSON, list: JSON}


# --- watchlist ---------------------------------------------------------------------------


class SubstanceRow(Base):
    """A listed (or supervisor-promoted) precursor, identified by the CAS of its free base."""

    __tablename__ = "substances"
    cas: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(500))
    systematic_name: Mapped[str] = mapped_column(Text)
    smiles: Mapped[str | None] = mapped_column(Text)
    inchikey: Mapped[str | None] = mapped_column(String(27))
    hs_codes: Mapped[list] = mapped_column(JSON, default=list)
    instrument: Mapped[str] = mapped_column(String(200), default="")
    listed_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="watchlist")  # or "promoted"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    names: Mapped[list[SubstanceName]] = relationship(
        back_populates="substance", cascade="all, delete-orphan"
    )
    forms: Mapped[list[SubstanceForm]] = relationship(
        back_populates="substance", cascade="all, delete-orphan"
    )


class SubstanceName(Base):
    """One name form of a listed substance (systematic, abbreviation, synonym, salt name...)."""

    __tablename__ = "substance_names"
    __table_args__ = (UniqueConstraint("substance_cas", "name_norm"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    substance_cas: Mapped[str] = mapped_column(ForeignKey("substances.cas", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    name_norm: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32))
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)
    substance: Mapped[SubstanceRow] = relationship(back_populates="names")


class SubstanceForm(Base):
    """A salt or hydrate of a listed substance, with its own CAS number."""

    __tablename__ = "substance_forms"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    substance_cas: Mapped[str] = mapped_column(ForeignKey("substances.cas", ondelete="CASCADE"))
    cas: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(32))
    smiles: Mapped[str | None] = mapped_column(Text)
    substance: Mapped[SubstanceRow] = relationship(back_populates="forms")


# --- ingest ------------------------------------------------------------------------------


class IngestBatch(Base):
    """One loaded file: what it was, what it held, what became of its rows."""

    __tablename__ = "ingest_batches"
    __table_args__ = (UniqueConstraint("kind", "file_hash"), _classified("ingest_batches"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # facilities | shipments
    source: Mapped[str] = mapped_column(String(200), default="")
    file_name: Mapped[str] = mapped_column(Text)
    file_hash: Mapped[str] = mapped_column(String(64))
    profile: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    loaded_by: Mapped[str | None] = mapped_column(String(100))
    # restricted | protected | highly_protected (registry.access decides who sees what)
    classification: Mapped[str] = mapped_column(
        String(20), default="protected", server_default="protected"
    )
    # The state whose national authority submitted it (declarations), else None.
    state: Mapped[str | None] = mapped_column(String(3))


class QuarantinedRow(Base):
    """A source row that failed validation: raw values, row number and every reason."""

    __tablename__ = "quarantined_rows"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[dict] = mapped_column(JSON)
    reasons: Mapped[list] = mapped_column(JSON)


class DataQualityFinding(Base):
    """Something wrong with a loaded row that did not stop it loading (e.g. an invalid CAS)."""

    __tablename__ = "data_quality_findings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    finding: Mapped[str] = mapped_column(Text)


class Facility(Base):
    """A declared facility."""

    __tablename__ = "facilities"
    __table_args__ = (_classified("facilities"),)
    facility_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_norm: Mapped[str] = mapped_column(String(500), index=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    classification: Mapped[str] = mapped_column(
        String(20), default="protected", server_default="protected"
    )
    declarations: Mapped[list[Declaration]] = relationship(
        back_populates="facility", cascade="all, delete-orphan"
    )


class Declaration(Base):
    """A facility's declaration of one substance and activity (for a year, or standing)."""

    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("facility_id", "substance", "activity", "declaration_year"),
        _classified("declarations"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(
        ForeignKey("facilities.facility_id", ondelete="CASCADE"), index=True
    )
    activity: Mapped[str] = mapped_column(String(32))
    substance: Mapped[str] = mapped_column(Text)
    cas: Mapped[str | None] = mapped_column(String(32))  # as declared
    substance_cas: Mapped[str | None] = mapped_column(String(32), index=True)  # listed base
    declared_annual_kg: Mapped[float] = mapped_column(Float)
    declaration_year: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    row_number: Mapped[int | None] = mapped_column(BigInteger)
    classification: Mapped[str] = mapped_column(
        String(20), default="protected", server_default="protected"
    )
    facility: Mapped[Facility] = relationship(back_populates="declarations")


class Party(Base):
    """A shipment party as feeds name it (raw name and country), with its facility link.

    Shipments point to their exporter and importer parties by integer: the names, their
    normalised forms and the links are stored once per party, not on every shipment, and
    relinking after a facilities load updates this table only."""

    __tablename__ = "parties"
    __table_args__ = (Index("ix_parties_norm", "name_norm", "country"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    name_norm: Mapped[str] = mapped_column(String(500))
    country: Mapped[str] = mapped_column(String(3))
    facility_id: Mapped[str | None] = mapped_column(String(100), index=True)
    link_score: Mapped[float | None] = mapped_column(Float)
    link_method: Mapped[str | None] = mapped_column(String(32))


class Address(Base):
    """An address as feeds write it (exporter's or importer's), stored once however many
    records give it: shipment records point to it by id."""

    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)


class ShipmentRecord(Base):
    """One shipment record as stored: parties by id, provenance by batch and source row.

    Read it through the `shipments` view (the Shipment class), which adds the parties'
    names, countries, links and addresses and the batch's file hash."""

    __tablename__ = "shipment_records"
    __table_args__ = (
        UniqueConstraint("source", "shipment_id"),
        Index("ix_shipment_records_exporter", "exporter_party_id"),
        Index("ix_shipment_records_importer", "importer_party_id"),
        Index("ix_shipment_records_consignment", "consignment_ref"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    shipment_id: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date] = mapped_column(Date)  # no index: nothing seeks by date
    exporter_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    importer_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    product: Mapped[str] = mapped_column(Text)
    cas: Mapped[str | None] = mapped_column(String(64))
    hs_code: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    quantity_kg: Mapped[float] = mapped_column(Float)
    flow: Mapped[str | None] = mapped_column(String(1))
    consignment_ref: Mapped[str | None] = mapped_column(String(200))
    transit_countries: Mapped[str | None] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)  # declared customs value, in currency
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217
    value_usd: Mapped[float | None] = mapped_column(Float)  # at the ECB rate of `date`
    # The parties' addresses as given, by id into `addresses` (no foreign key: addresses are
    # never deleted, and SQLite could not drop such a column on downgrade).
    exporter_address_id: Mapped[int | None] = mapped_column(BigInteger)
    importer_address_id: Mapped[int | None] = mapped_column(BigInteger)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"))  # no index
    row_number: Mapped[int] = mapped_column(BigInteger)


class _ViewBase(DeclarativeBase):
    """Read-only classes over SQL views (created by the migrations, never by metadata)."""


class Shipment(_ViewBase):
    """One shipment record as a source reported it, normalised, with its provenance: the
    `shipments` view over shipment_records, parties and ingest_batches. Read-only; loads
    write through ingest (or registry.shipments.write_shipments)."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    shipment_id: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date] = mapped_column(Date)
    exporter: Mapped[str] = mapped_column(Text)
    exporter_norm: Mapped[str] = mapped_column(String(500))
    exporter_country: Mapped[str] = mapped_column(String(3))
    importer: Mapped[str] = mapped_column(Text)
    importer_norm: Mapped[str] = mapped_column(String(500))
    importer_country: Mapped[str] = mapped_column(String(3))
    product: Mapped[str] = mapped_column(Text)
    cas: Mapped[str | None] = mapped_column(String(64))
    hs_code: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    quantity_kg: Mapped[float] = mapped_column(Float)
    flow: Mapped[str | None] = mapped_column(String(1))
    consignment_ref: Mapped[str | None] = mapped_column(String(200))
    transit_countries: Mapped[str | None] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    value_usd: Mapped[float | None] = mapped_column(Float)
    exporter_address: Mapped[str | None] = mapped_column(Text)
    importer_address: Mapped[str | None] = mapped_column(Text)
    exporter_facility_id: Mapped[str | None] = mapped_column(String(100))
    exporter_link_score: Mapped[float | None] = mapped_column(Float)
    exporter_link_method: Mapped[str | None] = mapped_column(String(32))
    importer_facility_id: Mapped[str | None] = mapped_column(String(100))
    importer_link_score: Mapped[float | None] = mapped_column(Float)
    importer_link_method: Mapped[str | None] = mapped_column(String(32))
    batch_id: Mapped[int] = mapped_column(BigInteger)
    file_hash: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(BigInteger)
    classification: Mapped[str] = mapped_column(String(20))  # the batch's


class AmbiguousLink(Base):
    """A party that matched several declared facilities equally well: left unlinked, recorded."""

    __tablename__ = "ambiguous_links"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # exporter | importer
    party: Mapped[str] = mapped_column(Text)
    party_norm: Mapped[str] = mapped_column(String(500))
    country: Mapped[str] = mapped_column(String(3))
    candidates: Mapped[list] = mapped_column(JSON)  # [{facility_id, name, score}, ...]
    shipment_count: Mapped[int] = mapped_column(Integer, default=0)


# --- screening and early warning ---------------------------------------------------------


class ScreenResult(Base):
    """Cached screen verdict of one distinct product description (and CAS field)."""

    __tablename__ = "screen_results"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(Text)
    cas: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))
    substance_cas: Mapped[str | None] = mapped_column(String(32))
    substance_name: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)
    watchlist_version: Mapped[str] = mapped_column(String(64), default="")
    screened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EarlyWarning(Base):
    """A designer analogue seen in the feed: the early-warning record."""

    __tablename__ = "early_warnings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    smiles: Mapped[str | None] = mapped_column(Text)
    inchikey: Mapped[str | None] = mapped_column(String(27))
    nearest_cas: Mapped[str | None] = mapped_column(String(32))
    similarity: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.date | None] = mapped_column(Date)
    last_seen: Mapped[dt.date | None] = mapped_column(Date)
    shipment_count: Mapped[int] = mapped_column(Integer, default=0)
    total_kg: Mapped[float] = mapped_column(Float, default=0.0)
    parties: Mapped[list] = mapped_column(JSON, default=list)
    countries: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new|promoted|dismissed
    promoted_cas: Mapped[str | None] = mapped_column(String(32))
    promoted_by: Mapped[str | None] = mapped_column(String(100))
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# --- alerts and triage -------------------------------------------------------------------


class AlertRow(Base):
    """An alert: what a detector found, its evidence, and its place in the triage workflow."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_severity", "status", "severity"),
        CheckConstraint(_one_of("status", STATUSES), name="ck_alerts_status"),
        CheckConstraint(_one_of("severity", SEVERITIES), name="ck_alerts_severity"),
        _classified("alerts", nullable=True),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    detector: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32), default="new")
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    facility_id: Mapped[str | None] = mapped_column(String(100), index=True)
    substance_cas: Mapped[str | None] = mapped_column(String(32), index=True)
    country: Mapped[str | None] = mapped_column(String(3))
    assignee: Mapped[str | None] = mapped_column(String(100))
    proposed_by: Mapped[str | None] = mapped_column(String(100))
    proposed_reason_code: Mapped[str | None] = mapped_column(String(64))
    proposed_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_detected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    detection_run_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set by a supervisor (with a reason, audited); None: the highest classification of the
    # records and facility it rests on (registry.access.alert_classification).
    classification: Mapped[str | None] = mapped_column(String(20))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AlertShipment(Base):
    """Which shipment records an alert rests on."""

    __tablename__ = "alert_shipments"
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    shipment_pk: Mapped[int] = mapped_column(
        ForeignKey("shipment_records.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TriageEvent(Base):
    """Append-only, hash-chained log of every change to an alert (and other audited acts).

    `hash` is an HMAC-SHA256 (scheme `hmac-sha256`, keyed by the audit key kept outside the
    database) over the event and the previous event's hash; events written before the chain
    was keyed keep their plain SHA-256 (scheme `sha256`). `subject` names what an event is
    about when it is not an alert (an account, a detector, the assignee of an assignment);
    `payload` holds its data as canonical JSON (a role, a password-hash digest, threshold
    values, a document's sha256), so the chain's state can be re-derived without reading
    prose."""

    __tablename__ = "triage_events"
    __table_args__ = (
        CheckConstraint(_one_of("action", EVENT_ACTIONS), name="ck_triage_events_action"),
        CheckConstraint(
            _one_of("from_status", EVENT_STATUSES, nullable=True),
            name="ck_triage_events_from_status",
        ),
        CheckConstraint(
            _one_of("to_status", EVENT_STATUSES, nullable=True),
            name="ck_triage_events_to_status",
        ),
        CheckConstraint(
            _one_of("reason_code", DISMISS_REASON_CODES, nullable=True),
            name="ck_triage_events_reason_code",
        ),
        CheckConstraint(
            _one_of("scheme", ("sha256", "hmac-sha256")), name="ck_triage_events_scheme"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str | None] = mapped_column(Text)
    scheme: Mapped[str] = mapped_column(String(16), default="hmac-sha256")


class AuditHead(Base):
    """One row: the newest event of the chain. Locked while appending so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class User(Base):
    """A local account with a role (an authority's with its state). `session_epoch` grows
    with every password, role, status or second-factor change; a console session opened
    under an older epoch is ended."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="ck_users_role"),
        CheckConstraint("failed_logins >= 0", name="ck_users_failed_logins"),
        CheckConstraint("role <> 'authority' OR state IS NOT NULL", name="ck_users_state"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str | None] = mapped_column(String(3))  # ISO alpha-3: an authority's state
    # TOTP second factor: the base32 secret, whether its enrolment was confirmed with a code,
    # and the last time step accepted (a code is good once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


# --- detection bookkeeping ---------------------------------------------------------------


class DetectionRun(Base):
    """One run of `pwatch detect`."""

    __tablename__ = "detection_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16), default="full")
    shipments_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    alerts_new: Mapped[int] = mapped_column(Integer, default=0)
    alerts_updated: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    max_batch_id: Mapped[int | None] = mapped_column(BigInteger)


class DetectorSetting(Base):
    """A supervisor's override of a detector threshold."""

    __tablename__ = "detector_settings"
    detector: Mapped[str] = mapped_column(String(64), primary_key=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ChallengeRequest(Base):
    """A challenge-inspection request generated when an alert is escalated."""

    __tablename__ = "challenge_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    facility_id: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    markdown: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
