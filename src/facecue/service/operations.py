"""What the review service does, apart from the web: the operations behind the JSON API and the reviewer pages.

Every function takes the database session and the acting user (and the settings where files or keys are
involved), works on the ORM rows of `facecue.service.models`, and raises the domain errors below; the web layer
(`deps.http_status`) maps them to HTTP answers in one place. Every query is scoped to the user's organisation:
another organisation's objects are `NotFound`, exactly like ones that do not exist.

Policy comes from facecue.governance: an upload is allowed only when check_analysis_allowed passes with the
candidate's recorded consent (refused otherwise, with the reason); results are shown only when sharing is
allowed (practice results never reach an organisation's users; research results only its admins, the research
team). A refusal is written to the audit log and committed even though the request fails.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from facecue.errors import FacecueError, InputError
from facecue.governance import (
    NOTICE_VERSION,
    NOTICE_VERSION_SINCE,
    PURPOSES,
    ConsentError,
    ConsentRecord,
    Notice,
    PolicyError,
    check_analysis_allowed,
    check_sharing_allowed,
    decide,
    region_of,
    render_notice,
    write_subject_manifest,
)
from facecue.governance.consent import CLOCK_SKEW  # how far ahead of ours a client's clock may be
from facecue.governance.policy import check_subject_id
from facecue.labels import EMOTIONS
from facecue.service import audit, db, jobs, storage
from facecue.service.auth import hash_password
from facecue.service.erasure import erase_candidate, remaining_mentions
from facecue.service.models import (
    AuditEvent,
    Candidate,
    Consent,
    ErasureRequest,
    Interview,
    Job,
    Note,
    Override,
    User,
    new_id,
)
from facecue.service.retention import apply_retention, retention_days
from facecue.service.schemas import NewCandidate, NewConsent, NewNote, NewOverride, NewUser
from facecue.service.settings import Settings

# --- domain errors (deps.http_status maps them to 404, 409, 403, 410, 422) -------------------------------------------


class NotFound(FacecueError):
    """No such object in the user's organisation (another organisation's objects are not revealed either)."""


class Conflict(FacecueError):
    """The request does not fit the object's current state."""


class Forbidden(FacecueError):
    """The user may not do this (a policy refusal, or a rule about who may change what)."""


class Gone(FacecueError):
    """The thing asked for existed but was deleted (a raw video past retention)."""


class Invalid(InputError):
    """A value the user gave is not acceptable."""


Row = TypeVar("Row", Candidate, Consent, Interview, Note)


def owned(session: Session, model: type[Row], object_id: str, user: User) -> Row:
    """The object when it exists in the user's organisation, else NotFound (never Forbidden: existence is not
    revealed)."""
    obj = session.get(model, object_id) if object_id.isalnum() and len(object_id) <= 32 else None
    if obj is None or obj.org_id != user.org_id:
        raise NotFound(f"no {model.__name__.lower()} {object_id} in your organisation.")
    return obj


def jurisdiction_code(value: str) -> str:
    """A known jurisdiction code, normalised (Invalid otherwise)."""
    try:
        region_of(value)
    except PolicyError:  # its message quotes the value; validation errors never echo what was sent
        raise Invalid(
            "unknown jurisdiction: use an EU/EEA country code (e.g. DE, NO), UK, US, US-<state> (e.g. US-IL), "
            "US-NY-NYC, or OTHER for anywhere the policy table does not list."
        ) from None
    return value.strip().upper()


def same_jurisdiction(c: Candidate, given: str | None) -> str:
    """The candidate's jurisdiction; a different one given for a consent or upload is refused, so naming another
    place cannot escape that place's rules (only an admin changes it, audited: `change_jurisdiction`)."""
    if given is not None and given.strip() and jurisdiction_code(given) != c.jurisdiction:
        raise Conflict(
            f"the candidate's jurisdiction is {c.jurisdiction}; consents and uploads are "
            "recorded there. An administrator can change the candidate's jurisdiction."
        )
    return c.jurisdiction


def refuse(session: Session, user: User, reason: str, details: dict[str, Any]) -> None:
    """Record the refusal in the audit log (committed even though the request fails), then raise Forbidden."""
    audit.record(session, actor=user.id, action="refused", org_id=user.org_id, details=details)
    session.commit()
    raise Forbidden(reason)


# --- users ---------------------------------------------------------------------------------------------------------


def org_users(session: Session, user: User) -> list[User]:
    """The organisation's users, by e-mail address."""
    return list(session.scalars(select(User).where(User.org_id == user.org_id).order_by(User.email)))


def create_user(session: Session, admin: User, body: NewUser) -> User:
    # Only this organisation's users are looked at: whether another organisation uses the address stays unknown.
    if session.scalar(select(User).where(User.org_id == admin.org_id, User.email == body.email.lower())):
        raise Conflict("a user with this e-mail address exists already in your organisation.")
    new = User(
        org_id=admin.org_id, email=body.email.lower(), role=body.role, password_hash=hash_password(body.password)
    )
    session.add(new)
    session.flush()
    # Audited like a role change: a new admin gets every right in the organisation.
    audit.record(
        session,
        actor=admin.id,
        action="changed",
        org_id=admin.org_id,
        details={"user": new.id, "change": f"user created as {new.role}"},
    )
    return new


def change_role(session: Session, admin: User, user_id: str, role: str) -> User:
    """Change a user's role or close the account ('disabled'); their tokens and sessions end at once (audited)."""
    target = session.get(User, user_id)
    if target is None or target.org_id != admin.org_id:
        raise NotFound("no such user in this organisation.")
    if target.role == role:
        return target
    # Locked, so two admins demoting each other at once cannot leave the organisation with none.
    admins = session.scalars(
        select(User.id).where(User.org_id == admin.org_id, User.role == "admin").with_for_update()
    ).all()
    if target.is_admin and len(admins) == 1:
        raise Conflict("this is the organisation's only administrator; make another user admin first.")
    old_role, target.role = target.role, role
    target.token_version += 1  # their sessions end now: the next sign-in carries the new rights, or none
    audit.record(
        session,
        actor=admin.id,
        action="changed",
        org_id=admin.org_id,
        details={"user": target.id, "change": f"role {old_role} -> {role}"},
    )
    return target


# --- candidates, notices, consents -----------------------------------------------------------------------------------


def create_candidate(session: Session, user: User, body: NewCandidate) -> Candidate:
    try:
        check_subject_id(body.external_ref)
    except PolicyError:  # its message quotes the value, which may be the very e-mail address the rule keeps out
        raise Invalid(
            "external_ref must be 4-128 letters, digits, '.', '_' or '-' (a pseudonymous id, not a name or e-mail "
            "address)."
        ) from None
    if session.scalar(
        select(Candidate).where(Candidate.org_id == user.org_id, Candidate.external_ref == body.external_ref)
    ):
        raise Conflict("a candidate with this external_ref exists already in your organisation.")
    c = Candidate(
        org_id=user.org_id,
        external_ref=body.external_ref,
        name=(body.name or "").strip() or None,
        jurisdiction=jurisdiction_code(body.jurisdiction),
    )
    session.add(c)
    session.flush()
    return c


def list_candidates(session: Session, user: User) -> list[Candidate]:
    """The organisation's candidates, newest first."""
    return list(
        session.scalars(select(Candidate).where(Candidate.org_id == user.org_id).order_by(Candidate.created_at.desc()))
    )


def candidates_with_counts(session: Session, user: User) -> list[tuple[Candidate, int]]:
    """The organisation's candidates, newest first, each with their number of interviews."""
    counts = (
        select(Interview.candidate_id, func.count().label("n"))
        .where(Interview.org_id == user.org_id)
        .group_by(Interview.candidate_id)
        .subquery()
    )
    q = (
        select(Candidate, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.candidate_id == Candidate.id)
        .where(Candidate.org_id == user.org_id)
        .order_by(Candidate.created_at.desc())
    )
    return [(c, int(n)) for c, n in session.execute(q)]


def interviews_of(session: Session, c: Candidate) -> list[Interview]:
    """The candidate's interviews, newest first."""
    return list(
        session.scalars(select(Interview).where(Interview.candidate_id == c.id).order_by(Interview.created_at.desc()))
    )


def consents_of(session: Session, c: Candidate) -> list[Consent]:
    """The candidate's consents, newest first (withdrawn ones included)."""
    return list(session.scalars(select(Consent).where(Consent.candidate_id == c.id).order_by(Consent.given_at.desc())))


def open_erasure_requests(session: Session, c: Candidate) -> list[ErasureRequest]:
    return list(
        session.scalars(
            select(ErasureRequest).where(ErasureRequest.candidate_id == c.id, ErasureRequest.done_at.is_(None))
        )
    )


@dataclass(frozen=True)
class Erasure:
    counts: dict[str, int]
    remaining: list[str]  # whatever still names the candidate: must be empty

    @property
    def verified(self) -> bool:
        return not self.remaining


def erase(session: Session, settings: Settings, admin: User, candidate_id: str) -> Erasure:
    """Erase the candidate and everything derived from them (committed), then search the organisation's rows and
    media folders for anything that still names them."""
    c = owned(session, Candidate, candidate_id, admin)
    terms = [c.external_ref] + ([c.name] if c.name else [])
    ids = list(session.scalars(select(Interview.id).where(Interview.candidate_id == c.id)))
    counts = erase_candidate(session, settings, c, admin)
    session.commit()
    db.after_erasure(session)
    # Only this organisation's rows and folders: another one may hold the same name or reference.
    return Erasure(counts, remaining_mentions(session, settings, terms, ids, org_id=admin.org_id))


def change_jurisdiction(
    session: Session, settings: Settings, admin: User, candidate_id: str, jurisdiction: str
) -> Candidate:
    """Move a candidate to another jurisdiction (audited). Consents recorded for the old one no longer cover new
    analyses: those need a consent under the new jurisdiction's rules."""
    c = owned(session, Candidate, candidate_id, admin)
    new = jurisdiction_code(jurisdiction)
    if new != c.jurisdiction:
        audit.record(
            session,
            actor=admin.id,
            action="changed",
            org_id=admin.org_id,
            subject=audit.subject_ref(settings.secret_key, c.external_ref),
            details={"candidate": c.id, "change": f"jurisdiction {c.jurisdiction} -> {new}"},
        )
        c.jurisdiction = new
    return c


def notice(user: User, c: Candidate, purpose: str, jurisdiction: str | None = None) -> Notice:
    """The notice the candidate must read before consenting (PolicyError where the analysis is prohibited)."""
    if purpose not in PURPOSES:  # a mistake in the request (422), not a policy refusal (403)
        raise Invalid(f"unknown purpose; choose one of {', '.join(PURPOSES)}.")
    return render_notice(purpose, jurisdiction_code(jurisdiction or c.jurisdiction), user.org.name)


def consent_time(given: datetime | None) -> datetime:
    """When a consent was given, in UTC: now by default; never in the future (beyond a little clock skew, taken
    as now, so the consent counts at once and a withdrawal comes after it) nor before the notice existed."""
    now = datetime.now(UTC)
    if given is None:
        return now
    if given.tzinfo is None:
        raise Invalid("given_at must include a time zone.")
    try:
        given = given.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is in the year 10000 in UTC
        raise Invalid("given_at is outside the dates that can be stored.") from None
    if given > now + CLOCK_SKEW:
        raise Invalid("given_at is in the future; record a consent when (or after) it is given.")
    if given < NOTICE_VERSION_SINCE:
        raise Invalid(
            f"given_at is before notice version {NOTICE_VERSION} was published "
            f"({NOTICE_VERSION_SINCE.date().isoformat()}), so the candidate cannot have agreed to it then."
        )
    return min(given, now)


def record_consent(session: Session, settings: Settings, user: User, candidate_id: str, body: NewConsent) -> Consent:
    """Record that the candidate agreed to the current notice for this purpose, in their jurisdiction."""
    c = owned(session, Candidate, candidate_id, user)
    where = same_jurisdiction(c, body.jurisdiction)
    n = render_notice(body.purpose, where, user.org.name)
    if body.notice_sha256 and body.notice_sha256 != n.sha256:
        raise Conflict("the candidate read a notice that is no longer current; show them the current one.")
    given = consent_time(body.given_at)
    try:
        record = ConsentRecord.for_notice(n, c.external_ref, given_at=given, scope=tuple(dict.fromkeys(body.scope)))
    except ConsentError as exc:  # the request's scope does not fit: a mistake in it (422), not a refusal (403)
        raise Invalid(str(exc)) from None
    x = Consent(
        org_id=user.org_id,
        candidate_id=c.id,
        subject_id=record.subject_id,
        controller=record.controller,
        purpose=record.purpose,
        jurisdiction=where,
        given_at=record.given_at,
        notice_version=record.notice_version,
        notice_sha256=record.notice_sha256,
        scope=",".join(record.scope),
        recorded_by=user.id,
    )
    session.add(x)
    session.flush()
    audit.record(
        session,
        actor=user.id,
        action="consented",
        org_id=user.org_id,
        subject=audit.subject_ref(settings.secret_key, c.external_ref),
        details={"consent": x.id, "purpose": x.purpose, "notice_version": NOTICE_VERSION},
    )
    return x


def withdraw_consent(session: Session, settings: Settings, user: User, consent_id: str) -> tuple[Consent, list[str]]:
    """Withdraw a consent: queued analyses under it are cancelled and running ones stopped (their ids returned)."""
    x = owned(session, Consent, consent_id, user)
    if x.withdrawn_at is not None:
        raise Conflict(f"this consent was already withdrawn at {x.withdrawn_at.isoformat()}.")
    x.withdrawn_at = datetime.now(UTC)
    stopped = []
    for interview in session.scalars(
        select(Interview).where(Interview.consent_id == x.id, Interview.status.in_(("queued", "running")))
    ):
        jobs.request_cancel(session, interview)
        stopped.append(interview.id)
    candidate = session.get(Candidate, x.candidate_id)
    assert candidate is not None  # a consent belongs to a candidate (erasure deletes both)
    audit.record(
        session,
        actor=user.id,
        action="withdrew",
        org_id=user.org_id,
        subject=audit.subject_ref(settings.secret_key, candidate.external_ref),
        details={"consent": x.id, "stopped": len(stopped)},
    )
    return x, stopped


# --- interviews ------------------------------------------------------------------------------------------------------


def _consent_for(session: Session, c: Candidate, purpose: str, jurisdiction: str) -> Consent | None:
    """The consent an analysis runs under: the newest valid one for the purpose and jurisdiction, else the newest
    one for the purpose (so the refusal names what is wrong with it), else None."""
    mine = [x for x in consents_of(session, c) if x.purpose == purpose]
    for x in mine:
        if x.withdrawn_at is None and x.jurisdiction == jurisdiction:
            return x
    return mine[0] if mine else None


UPLOAD_SIGNALS = ("emotions,behaviour", "behaviour")


def upload_signals(signals: str | None) -> tuple[str, ...]:
    """The signals an upload asks for: "emotions,behaviour" (default, also when empty) or "behaviour"."""
    text = (signals or "").replace(" ", "") or UPLOAD_SIGNALS[0]
    if text not in UPLOAD_SIGNALS:
        raise Invalid(f"signals must be {' or '.join(repr(s) for s in UPLOAD_SIGNALS)}.")
    return tuple(text.split(","))


@dataclass(frozen=True)
class TextUpload:
    """A text file that came with an upload (questions, transcript): its stream and the name the client gave."""

    file: BinaryIO
    filename: str | None


def create_interview(
    session: Session,
    settings: Settings,
    user: User,
    *,
    candidate_id: str,
    purpose: str,
    video: BinaryIO,
    jurisdiction: str | None = None,
    questions: TextUpload | None = None,
    transcript: TextUpload | None = None,
    signals: str | None = None,
) -> Interview:
    """Check the policy, store the video (and questions, transcript) and queue its analysis. signals: what the
    analysis reads, "emotions,behaviour" (the default) or "behaviour" (no emotion inferred); the policy decides on
    that choice, and it is stored with the interview for the worker."""
    c = owned(session, Candidate, candidate_id, user)
    if purpose not in PURPOSES:
        raise Invalid(f"unknown purpose; choose one of {', '.join(PURPOSES)}.")
    chosen = upload_signals(signals)
    where = same_jurisdiction(c, jurisdiction)
    consent = _consent_for(session, c, purpose, where)
    try:
        check_analysis_allowed(
            purpose,
            where,
            consent.to_record() if consent else None,
            controller=user.org.name,
            subject_id=c.external_ref,
            signals=chosen,
        )
    except PolicyError as exc:
        what = {"purpose": purpose, "jurisdiction": where, "what": "analysis", "signals": ",".join(chosen)}
        refuse(session, user, str(exc), what)
    session.commit()  # no database lock is held while the upload is checked and stored
    interview = Interview(
        org_id=user.org_id,
        candidate_id=c.id,
        consent_id=consent.id if consent else None,
        purpose=purpose,
        jurisdiction=where,
        signals=",".join(chosen),
        created_by=user.id,
        status="queued",
        progress=0.0,
    )
    interview.id = new_id()  # the folder is named before the row is written
    folder = storage.interview_folder(settings.media_dir, interview.id)
    try:
        path, sha, size = storage.save_video(video, folder, settings.max_upload_bytes)
        write_subject_manifest(folder, c.external_ref)
        (folder / "subject.json").chmod(0o600)
        interview.video_path = str(path.relative_to(settings.media_dir))
        interview.video_sha256, interview.video_bytes = sha, size
        interview.folder = str(folder.relative_to(settings.media_dir))
        for upload, stem in ((questions, "questions"), (transcript, "transcript")):
            if upload is not None and upload.filename:
                saved = storage.save_text(upload.file, folder, stem, upload.filename)
                setattr(interview, f"{stem}_path", str(saved.relative_to(settings.media_dir)))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    session.add(interview)
    session.flush()
    jobs.enqueue(session, interview, settings.job_max_attempts)
    return interview


def list_interviews(
    session: Session, user: User, status: str | None = None, candidate_id: str | None = None, limit: int = 100
) -> list[Interview]:
    q = select(Interview).where(Interview.org_id == user.org_id)
    if status:
        q = q.where(Interview.status == status)
    if candidate_id:
        q = q.where(Interview.candidate_id == candidate_id)
    return list(session.scalars(q.order_by(Interview.created_at.desc()).limit(limit)))


def interviews_with_candidates(session: Session, user: User, limit: int = 200) -> list[tuple[Interview, Candidate]]:
    """The organisation's interviews, newest first, each with its candidate."""
    q = (
        select(Interview, Candidate)
        .join(Candidate, Candidate.id == Interview.candidate_id)
        .where(Interview.org_id == user.org_id)
        .order_by(Interview.created_at.desc())
        .limit(limit)
    )
    return [(i, c) for i, c in session.execute(q)]


def latest_job(session: Session, i: Interview) -> Job | None:
    return session.scalars(select(Job).where(Job.interview_id == i.id).order_by(Job.created_at.desc())).first()


def check_result_access(session: Session, i: Interview, user: User) -> None:
    """Forbidden (recorded as refused) unless the policy lets this user see the interview's results (see the
    module docstring)."""
    consent = session.get(Consent, i.consent_id) if i.consent_id else None
    record = consent.to_record() if consent else None
    candidate = session.get(Candidate, i.candidate_id)
    assert candidate is not None  # an interview belongs to a candidate (erasure deletes both)
    try:
        if i.purpose == "research":
            check_analysis_allowed(
                i.purpose, i.jurisdiction, record, controller=user.org.name, subject_id=candidate.external_ref
            )
            if not user.is_admin:
                raise PolicyError(
                    "research results go only to the research team (this organisation's admins), never to reviewers."
                )
        else:
            check_sharing_allowed(
                i.purpose, i.jurisdiction, record, controller=user.org.name, subject_id=candidate.external_ref
            )
    except PolicyError as exc:
        refuse(session, user, str(exc), {"interview": i.id, "what": "view results"})


def may_view(interview: Interview, user: User) -> bool:
    """Whether to offer a link to the results; check_result_access is what actually decides."""
    rule = decide(interview.purpose, interview.jurisdiction)
    return rule.share_with_reviewers or (interview.purpose == "research" and user.is_admin)


def visible_interview(session: Session, user: User, interview_id: str) -> Interview:
    """The interview, when it is in the user's organisation and the policy lets them see its results."""
    i = owned(session, Interview, interview_id, user)
    check_result_access(session, i, user)
    return i


def result_folder(session: Session, settings: Settings, user: User, interview_id: str) -> tuple[Interview, Path]:
    """A finished interview the user may see, and the folder of its results (result.json, frames.csv,
    report.html)."""
    i = owned(session, Interview, interview_id, user)
    if i.status != "done" or not i.result_dir:
        raise Conflict(f"the analysis is {i.status}; results exist once it is done.")
    check_result_access(session, i, user)
    return i, settings.media_dir / i.result_dir


def result_document(settings: Settings, interview: Interview) -> dict[str, Any] | None:
    """The stored result.json of a finished interview, or None when there is none or it cannot be read."""
    if interview.status != "done" or not interview.result_dir:
        return None
    path = settings.media_dir / interview.result_dir / "result.json"
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def record_view(session: Session, user: User, i: Interview, what: str) -> None:
    """Audit that the user saw the interview's results (`what`: json, csv, html, page)."""
    audit.record(
        session,
        actor=user.id,
        action="exported" if what == "csv" else "viewed",
        org_id=user.org_id,
        details={"interview": i.id, "format": what},
    )


VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".mkv": "video/x-matroska"}


def video_file(session: Session, settings: Settings, user: User, interview_id: str, byte_range: str) -> Path:
    """The uploaded video's file (Gone once retention deleted it); every request is audited with its range."""
    i = visible_interview(session, user, interview_id)
    if i.video_path is None:
        raise Gone("the raw video was deleted when its retention period ended; results remain.")
    # Every request, ranges included: any range (or several, "bytes=1-1,0-") can carry the whole video.
    audit.record(
        session,
        actor=user.id,
        action="viewed",
        org_id=user.org_id,
        details={"interview": i.id, "format": "video", "range": byte_range[:100]},
    )
    return settings.media_dir / i.video_path


def cancel(session: Session, user: User, interview_id: str) -> Interview:
    i = owned(session, Interview, interview_id, user)
    if i.status not in ("queued", "running"):
        raise Conflict(f"the analysis is already {i.status}.")
    jobs.request_cancel(session, i)
    audit.record(
        session, actor=user.id, action="changed", org_id=user.org_id, details={"interview": i.id, "change": "cancel"}
    )
    return i


def list_jobs(session: Session, user: User, limit: int = 100) -> list[tuple[Job, Interview]]:
    rows = session.execute(
        select(Job, Interview)
        .join(Interview, Job.interview_id == Interview.id)
        .where(Interview.org_id == user.org_id)
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    return [(j, i) for j, i in rows]


# --- review ----------------------------------------------------------------------------------------------------------


def acknowledge(session: Session, user: User, interview_id: str) -> Interview:
    """The reviewer confirms they read the limits of the analysis; the assessment report stops being a draft."""
    i = owned(session, Interview, interview_id, user)
    if i.status != "done":
        raise Conflict("only a finished analysis can be acknowledged.")
    check_result_access(session, i, user)
    if i.acknowledged_at is None:
        i.acknowledged_by, i.acknowledged_at = user.id, datetime.now(UTC)
        audit.record(
            session,
            actor=user.id,
            action="changed",
            org_id=user.org_id,
            details={"interview": i.id, "change": "acknowledged limits"},
        )
    return i


def notes_of(session: Session, i: Interview) -> list[Note]:
    """The interview's notes, oldest first (check the user's access first: notes are about the results)."""
    return list(session.scalars(select(Note).where(Note.interview_id == i.id).order_by(Note.created_at)))


def add_note(session: Session, user: User, i: Interview, body: NewNote) -> Note:
    """A note on an interview the user may see (`visible_interview`), audited."""
    n = Note(org_id=user.org_id, interview_id=i.id, author_id=user.id, text=body.text, time_s=body.time_s)
    session.add(n)
    session.flush()
    audit.record(
        session,
        actor=user.id,
        action="changed",
        org_id=user.org_id,
        details={"interview": i.id, "change": "note added", "note": n.id},
    )
    return n


def delete_note(session: Session, user: User, interview_id: str, note_id: str) -> Note:
    """Delete a note: its author or an admin (audited)."""
    i = owned(session, Interview, interview_id, user)
    n = owned(session, Note, note_id, user)
    if n.interview_id != i.id:
        raise NotFound(f"no note {note_id} on this interview.")
    if n.author_id != user.id and not user.is_admin:
        raise Forbidden("only the note's author or an administrator can delete it.")
    session.delete(n)
    audit.record(
        session,
        actor=user.id,
        action="changed",
        org_id=user.org_id,
        details={"interview": i.id, "change": "note deleted", "note": n.id},
    )
    return n


def overrides_of(session: Session, i: Interview) -> list[Override]:
    """Reviewers' labels for the interview's segments, oldest first (check the user's access first)."""
    return list(session.scalars(select(Override).where(Override.interview_id == i.id).order_by(Override.created_at)))


def add_override(session: Session, settings: Settings, user: User, interview_id: str, body: NewOverride) -> Override:
    """A reviewer's reading of one segment; the model's label stays in the result beside it."""
    if body.label not in (*EMOTIONS, "unclear"):
        raise Invalid(f"label must be one of {', '.join(EMOTIONS)} or unclear.")
    i, folder = result_folder(session, settings, user, interview_id)
    segments = json.loads((folder / "result.json").read_text()).get("segments", [])
    if body.segment_index >= len(segments):
        raise Invalid(f"segment_index must be below {len(segments)}, the number of segments.")
    model_label = segments[body.segment_index].get("label")
    o = Override(
        org_id=user.org_id,
        interview_id=i.id,
        author_id=user.id,
        segment_index=body.segment_index,
        model_label=model_label if isinstance(model_label, str) else None,
        label=body.label,
        reason=body.reason,
    )
    session.add(o)
    session.flush()
    audit.record(
        session,
        actor=user.id,
        action="changed",
        org_id=user.org_id,
        details={"interview": i.id, "change": "segment override", "override": o.id},
    )
    return o


def emails_of(session: Session, user_ids: set[str]) -> dict[str, str]:
    """Users' e-mail addresses by id (to name the authors of notes and overrides)."""
    return {u.id: u.email for u in session.scalars(select(User).where(User.id.in_(user_ids)))}


# --- audit, erasure requests, retention ------------------------------------------------------------------------------


def _numbered_audit(user: User):
    """The organisation's audit entries, each with its number among them (0, 1, ...): the chain's own seq would
    show, by its gaps, how many entries other organisations wrote."""
    n = (func.row_number().over(order_by=AuditEvent.seq) - 1).label("n")
    rows = select(AuditEvent, n).where(AuditEvent.org_id == user.org_id).subquery()
    return aliased(AuditEvent, rows), rows.c.n


def audit_entries(session: Session, user: User, after: int = -1, limit: int = 200) -> list[tuple[AuditEvent, int]]:
    """This organisation's audit entries with their numbers, oldest first, after number `after`."""
    event, n = _numbered_audit(user)
    return [(e, i) for e, i in session.execute(select(event, n).where(n > after).order_by(n).limit(limit))]


def latest_audit_entries(session: Session, user: User, limit: int = 300) -> list[tuple[AuditEvent, int]]:
    """This organisation's newest audit entries with their numbers, newest first."""
    event, n = _numbered_audit(user)
    return [(e, i) for e, i in session.execute(select(event, n).order_by(n.desc()).limit(limit))]


def request_erasure(session: Session, settings: Settings, user: User, candidate_id: str) -> ErasureRequest:
    """Record a deletion request (audited); its deadline is the policy's erasure deadline (at most 30 days). A
    candidate has at most one open request (Conflict)."""
    c = owned(session, Candidate, candidate_id, user)
    # The candidate's row locked: two requests at once cannot both find none open (PostgreSQL; SQLite's
    # transactions are serial already).
    session.scalars(select(Candidate.id).where(Candidate.id == c.id).with_for_update()).one()
    if open_erasure_requests(session, c):
        raise Conflict("an erasure request for this candidate is open already; its deadline stands.")
    days = min([decide(p, c.jurisdiction).erasure_deadline_days for p in PURPOSES])
    t = datetime.now(UTC)
    r = ErasureRequest(
        org_id=user.org_id,
        candidate_id=c.id,
        requested_by=user.id,
        requested_at=t,
        subject_ref=audit.subject_ref(settings.secret_key, c.external_ref),
        deadline=t + timedelta(days=days),
    )
    session.add(r)
    session.flush()
    audit.record(
        session,
        actor=user.id,
        action="changed",
        org_id=user.org_id,
        subject=r.subject_ref,
        details={"erasure_request": r.id, "change": "erasure requested"},
    )
    return r


def erasure_requests(session: Session, user: User) -> list[ErasureRequest]:
    """The organisation's erasure requests: open ones first, by deadline."""
    return list(
        session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.org_id == user.org_id)
            .order_by(ErasureRequest.done_at.is_not(None), ErasureRequest.deadline)
        )
    )


def retained_videos(session: Session, settings: Settings, user: User) -> list[tuple[Interview, int, datetime]]:
    """Every raw video the organisation still keeps, oldest first, with its retention in days and when it goes."""
    videos = session.scalars(
        select(Interview)
        .where(Interview.org_id == user.org_id, Interview.video_path.is_not(None))
        .order_by(Interview.created_at)
    )
    out = []
    for i in videos:
        days = retention_days(i, settings)
        out.append((i, days, (i.finished_at or i.created_at) + timedelta(days=days)))
    return out


def run_retention(session: Session, database: db.Database, settings: Settings, admin: User) -> int:
    """Delete the organisation's raw videos past their retention now (the workers do every organisation's
    hourly); how many went."""
    session.commit()  # apply_retention uses its own transaction
    return apply_retention(database, settings, org_id=admin.org_id)
