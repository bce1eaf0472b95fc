"""The API's request bodies and response models (pydantic): what /openapi.json says every call takes and answers.

Response models are built from the database rows with `of(...)`; times are written as `datetime.isoformat()`
(e.g. `2025-01-31T09:30:00.123456+00:00`), as the API always wrote them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from facecue.service.models import AuditEvent, Candidate, Consent, ErasureRequest, Interview, Job, Note, Override, User

NOTE_MAX = 10_000  # characters in a reviewer's note (the pages' text box says the same)

MAX_VIDEO_S = 7 * 24 * 3600.0  # no interview is longer: a bound that keeps every stored moment finite


def _iso(t: datetime) -> str:
    return t.isoformat()


Time = Annotated[
    datetime, PlainSerializer(_iso, return_type=str), WithJsonSchema({"type": "string", "format": "date-time"})
]


# --- request bodies ------------------------------------------------------------------------------------------------


class NewUser(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["admin", "reviewer"]
    password: str = Field(min_length=8, max_length=1000)


class RoleChange(BaseModel):
    role: Literal["admin", "reviewer", "disabled"] = Field(
        description="'disabled' closes the account: it cannot sign in, and its tokens and sessions stop working"
    )


class NewCandidate(BaseModel):
    external_ref: str = Field(
        max_length=128, description="a pseudonymous id, e.g. the applicant number (not a name or e-mail)"
    )
    name: str | None = Field(default=None, max_length=200)
    jurisdiction: str = Field(max_length=16, description="where the candidate is: DE, UK, US-IL, US-NY-NYC, US, OTHER")


class CandidateChange(BaseModel):
    jurisdiction: str = Field(max_length=16, description="where the candidate is now: DE, UK, US-IL, US, OTHER, ...")


class NewConsent(BaseModel):
    purpose: Literal["practice", "research", "assessment", "staff_practice", "student_practice"]
    jurisdiction: str | None = Field(default=None, max_length=16, description="must be the candidate's")
    scope: list[Literal["analysis", "share_with_reviewers"]] = ["analysis"]
    given_at: datetime | None = None
    notice_sha256: str | None = Field(default=None, description="the notice the candidate read; must be current")


class NewNote(BaseModel):
    text: str = Field(min_length=1, max_length=NOTE_MAX)
    time_s: float | None = Field(default=None, ge=0, le=MAX_VIDEO_S, allow_inf_nan=False)


class NewOverride(BaseModel):
    segment_index: int = Field(ge=0, le=10**6)
    label: str = Field(description="one of the seven labels, or 'unclear'")
    reason: str = Field(default="", max_length=2000)


class NewErasureRequest(BaseModel):
    candidate_id: str


# --- responses: auth and users -------------------------------------------------------------------------------------


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserOut(BaseModel):
    id: str
    email: str
    role: str = Field(description="admin, reviewer or disabled")

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(id=u.id, email=u.email, role=u.role)


class Me(UserOut):
    organisation: str

    @classmethod
    def of(cls, u: User) -> Me:
        return cls(id=u.id, email=u.email, role=u.role, organisation=u.org.name)


# --- candidates, notices, consents ---------------------------------------------------------------------------------


class CandidateOut(BaseModel):
    id: str
    external_ref: str
    name: str | None
    jurisdiction: str
    created_at: Time | None

    @classmethod
    def of(cls, c: Candidate) -> CandidateOut:
        return cls(
            id=c.id, external_ref=c.external_ref, name=c.name, jurisdiction=c.jurisdiction, created_at=c.created_at
        )


class ConsentOut(BaseModel):
    id: str
    candidate_id: str
    purpose: str
    jurisdiction: str
    given_at: Time | None
    notice_version: str
    notice_sha256: str
    scope: list[str]
    withdrawn_at: Time | None
    controller: str

    @classmethod
    def of(cls, x: Consent) -> ConsentOut:
        return cls(
            id=x.id,
            candidate_id=x.candidate_id,
            purpose=x.purpose,
            jurisdiction=x.jurisdiction,
            given_at=x.given_at,
            notice_version=x.notice_version,
            notice_sha256=x.notice_sha256,
            scope=x.scope.split(","),
            withdrawn_at=x.withdrawn_at,
            controller=x.controller,
        )


class WithdrawnConsent(ConsentOut):
    stopped_interviews: list[str] = Field(description="the analyses under this consent that were cancelled")


class NoticeOut(BaseModel):
    version: str
    policy_version: str
    purpose: str
    jurisdiction: str
    sha256: str
    text: str
    html: str


class InterviewOut(BaseModel):
    id: str
    candidate_id: str
    purpose: str
    jurisdiction: str
    status: str = Field(description="queued, running, done, failed or cancelled")
    progress: float = Field(description="0..1 while running")
    error: str | None
    created_at: Time | None
    finished_at: Time | None
    draft: bool
    acknowledged_at: Time | None
    video_available: bool
    has_questions: bool
    has_transcript: bool
    signals: str = Field(description="what the analysis reads: 'emotions,behaviour' or 'behaviour' (no emotion)")

    @classmethod
    def of(cls, i: Interview, admin: bool = False) -> InterviewOut:
        return cls(**_interview_fields(i, admin))


FAILED = "The analysis could not run on the server; an administrator has the details."


def error_for(error: str | None, status: str, admin: bool) -> str | None:
    """What a user reads of an analysis's error: an attempt's reason is the server's (it can name server paths and
    settings), so only admins read it; others read one plain sentence, as on the pages. A cancellation's reason is
    the service's own sentence; a done analysis's error is an earlier attempt's, moot now."""
    if error is None or admin or status == "cancelled":
        return error
    return None if status == "done" else FAILED


def _interview_fields(i: Interview, admin: bool) -> dict[str, Any]:
    return {
        "id": i.id,
        "candidate_id": i.candidate_id,
        "purpose": i.purpose,
        "jurisdiction": i.jurisdiction,
        "status": i.status,
        "progress": i.progress,
        "error": error_for(i.error, i.status, admin),
        "created_at": i.created_at,
        "finished_at": i.finished_at,
        "draft": i.draft,
        "acknowledged_at": i.acknowledged_at,
        "video_available": i.video_path is not None,
        "has_questions": i.questions_path is not None,
        "has_transcript": i.transcript_path is not None,
        "signals": i.signals,
    }


class CandidateDetail(CandidateOut):
    consents: list[ConsentOut]
    interviews: list[InterviewOut]


class ErasureOutcome(BaseModel):
    erased: bool
    counts: dict[str, int] = Field(description="rows deleted per table (no personal data)")
    remaining: list[str] = Field(description="whatever still names the candidate: must be empty")
    verified: bool = Field(description="true when the search found nothing left")


# --- interviews, jobs ----------------------------------------------------------------------------------------------


class JobBrief(BaseModel):
    id: str
    status: str
    attempts: int
    max_attempts: int
    error: str | None

    @classmethod
    def of(cls, j: Job, admin: bool = False) -> JobBrief:
        error = error_for(j.error, j.status, admin)
        return cls(id=j.id, status=j.status, attempts=j.attempts, max_attempts=j.max_attempts, error=error)


class InterviewDetail(InterviewOut):
    job: JobBrief | None

    @classmethod
    def with_job(cls, i: Interview, job: Job | None, admin: bool = False) -> InterviewDetail:
        return cls(**_interview_fields(i, admin), job=None if job is None else JobBrief.of(job, admin))


class InterviewQueued(BaseModel):
    id: str
    status: str


class CancelRequested(BaseModel):
    id: str
    status: str
    cancel_requested: bool


class JobOut(BaseModel):
    id: str
    interview_id: str
    candidate_id: str
    status: str
    progress: float
    attempts: int
    error: str | None
    created_at: Time | None
    finished_at: Time | None

    @classmethod
    def of(cls, j: Job, i: Interview, admin: bool = False) -> JobOut:
        return cls(
            id=j.id,
            interview_id=i.id,
            candidate_id=i.candidate_id,
            status=j.status,
            progress=i.progress,
            attempts=j.attempts,
            error=error_for(j.error, j.status, admin),
            created_at=j.created_at,
            finished_at=j.finished_at,
        )


# --- review --------------------------------------------------------------------------------------------------------


class NoteOut(BaseModel):
    id: str
    author_id: str
    time_s: float | None
    text: str
    created_at: Time | None

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(id=n.id, author_id=n.author_id, time_s=n.time_s, text=n.text, created_at=n.created_at)


class NoteDeleted(BaseModel):
    id: str
    deleted: bool


class OverrideOut(BaseModel):
    id: str
    segment_index: int
    model_label: str | None
    label: str
    reason: str
    author_id: str
    created_at: Time | None

    @classmethod
    def of(cls, o: Override) -> OverrideOut:
        return cls(
            id=o.id,
            segment_index=o.segment_index,
            model_label=o.model_label,
            label=o.label,
            reason=o.reason,
            author_id=o.author_id,
            created_at=o.created_at,
        )


# --- audit, erasure requests, retention ----------------------------------------------------------------------------


class AuditEntry(BaseModel):
    # The organisation's own numbering, and no prev_hash: the shared chain's seq and links would show other
    # organisations' entries (GET /audit/verify checks the chain).
    seq: int = Field(description="the entry's number among this organisation's entries: 0, 1, 2, ...")
    time: str
    org: str | None
    actor: str
    action: str
    subject: str | None = Field(description="a keyed pseudonym of the candidate, never their id")
    details: dict[str, Any] = Field(description="ids and counts only")
    hash: str

    @classmethod
    def of(cls, e: AuditEvent, number: int) -> AuditEntry:
        return cls(
            seq=number,
            time=e.time,
            org=e.org_id,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            details=e.details,
            hash=e.hash,
        )


class AuditVerification(BaseModel):
    ok: bool
    first_bad_seq: int | None
    reason: str


class ErasureRequestOut(BaseModel):
    id: str
    candidate_id: str | None = Field(description="cleared once the erasure is done")
    subject_ref: str
    requested_at: Time | None
    deadline: Time | None
    done_at: Time | None
    days_left: int | None
    overdue: bool

    @classmethod
    def of(cls, r: ErasureRequest, now: datetime) -> ErasureRequestOut:
        return cls(
            id=r.id,
            candidate_id=r.candidate_id,
            subject_ref=r.subject_ref,
            requested_at=r.requested_at,
            deadline=r.deadline,
            done_at=r.done_at,
            days_left=None if r.done_at else (r.deadline - now).days,
            overdue=r.done_at is None and now > r.deadline,
        )


class RetentionRun(BaseModel):
    videos_deleted: int
