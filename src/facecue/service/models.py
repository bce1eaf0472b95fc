"""The service's tables as SQLAlchemy 2 ORM classes. Every row a user can reach carries its organisation.

Ids are random 32-hex strings, so they reveal nothing and cannot be guessed. Times are stored in UTC and
come back time-zone aware on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "reviewer")
INTERVIEW_STATUSES = ("queued", "running", "done", "failed", "cancelled")
JOB_STATUSES = INTERVIEW_STATUSES


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A time-zone-aware datetime kept as naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # the controller named in notices and consents
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Unique within the organisation only: a global rule would tell one organisation's admin which addresses
    # another organisation uses (409 against 201). Sign-in finds the account by address and password.
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    token_version: Mapped[int] = mapped_column(Integer, default=0)  # bump to revoke every token and session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    org: Mapped[Organisation] = relationship(lazy="joined")
    __table_args__ = (Index("ix_users_org_email", "org_id", "email", unique=True),)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:
        return self.role != "disabled"  # an admin closes an account by this role (PATCH /users/{id})


class Candidate(Base):
    __tablename__ = "candidates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    external_ref: Mapped[str] = mapped_column(String(128))  # the pseudonymous subject id (governance rules)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    jurisdiction: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_candidates_org_ref", "org_id", "external_ref", unique=True),)


class Consent(Base):
    """Mirrors facecue.governance.ConsentRecord; `to_record()` gives the record the policy checks."""

    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(128))
    controller: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notice_version: Mapped[str] = mapped_column(String(16))
    notice_sha256: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(100))  # comma-separated SCOPES
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(32))

    def to_record(self):
        from facecue.governance import ConsentRecord

        return ConsentRecord(
            subject_id=self.subject_id,
            controller=self.controller,
            purpose=self.purpose,
            given_at=self.given_at,
            notice_version=self.notice_version,
            notice_sha256=self.notice_sha256,
            scope=tuple(self.scope.split(",")),
            withdrawn_at=self.withdrawn_at,
        )


class Interview(Base):
    __tablename__ = "interviews"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"), nullable=True)
    purpose: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    # Paths are relative to the media dir and generated by the service, never taken from the upload.
    folder: Mapped[str] = mapped_column(String(200))
    video_path: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None once retention deleted it
    video_sha256: Mapped[str] = mapped_column(String(64))
    video_bytes: Mapped[int] = mapped_column(Integer)
    questions_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    transcript_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # What the analysis reads (comma-separated facecue.options.SIGNALS); "behaviour" infers no emotion at all.
    signals: Mapped[str] = mapped_column(String(32), default="emotions,behaviour", server_default="emotions,behaviour")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_dir: Mapped[str | None] = mapped_column(String(200), nullable=True)  # holds result.json, frames.csv, ...
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # result.json's summary, for lists
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    video_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def draft(self) -> bool:
        """An assessment stays a draft until a reviewer acknowledges the limits of the analysis."""
        return self.purpose == "assessment" and self.acknowledged_at is None


class Job(Base):
    """One analysis of one interview. A worker owns it while `claim_token` is its token and its heartbeat is fresh."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # back-off after a transient failure
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    time_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # the moment of the video it is about
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Override(Base):
    """A reviewer's reading of one segment, kept beside (never instead of) the model's label."""

    __tablename__ = "overrides"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    segment_index: Mapped[int] = mapped_column(Integer)
    model_label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    label: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One link of the audit hash chain (see facecue.service.audit); rows are only ever inserted."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    org_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    time: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(40), nullable=True)  # keyed pseudonym, never the raw id
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row naming the chain's last entry; appenders lock it, so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)  # -1 for an empty chain
    hash: Mapped[str] = mapped_column(String(64))


class RevokedSession(Base):
    """A signed-out session cookie's nonce: refused until the cookie would have expired anyway."""

    __tablename__ = "revoked_sessions"
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ErasureRequest(Base):
    """A deletion request and its clock. It keeps the subject's pseudonym, never the id or name."""

    __tablename__ = "erasure_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # cleared when done
    subject_ref: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(32))
