"""The JSON API under /api/v1. Every query is scoped to the caller's organisation: another organisation's
objects are answered with 404, exactly like ones that do not exist.

Policy comes from facecue.governance: an upload is allowed only when check_analysis_allowed passes with the
candidate's recorded consent (403 with the reason otherwise); results are shown only when sharing is allowed
(practice results never reach an organisation's users; research results only its admins, the research team).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecue.governance import (
    NOTICE_VERSION,
    PolicyError,
    check_analysis_allowed,
    check_sharing_allowed,
    decide,
    region_of,
    render_notice,
)
from facecue.governance.policy import check_subject_id
from facecue.labels import EMOTIONS
from facecue.service import audit, db, jobs, storage
from facecue.service.auth import authenticate, current_user, hash_password, issue_token, require_admin
from facecue.service.db import SessionDep
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
from facecue.service.settings import Settings

router = APIRouter(prefix="/api/v1")
Db = Annotated[Session, SessionDep]
Me = Annotated[User, Depends(current_user)]
Admin = Annotated[User, Depends(require_admin)]
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'; sandbox allow-scripts")


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def owned(session: Session, model, object_id: str, user: User):
    """The object when it exists in the user's organisation, else 404 (never 403: existence is not revealed)."""
    obj = session.get(model, object_id) if object_id.isalnum() and len(object_id) <= 32 else None
    if obj is None or obj.org_id != user.org_id:
        raise HTTPException(404, f"no {model.__name__.lower()} {object_id} in your organisation.")
    return obj


def _jurisdiction(value: str) -> str:
    try:
        region_of(value)
    except PolicyError as exc:
        raise HTTPException(422, str(exc)) from None
    return value.strip().upper()


def _same_jurisdiction(c: Candidate, given: str | None) -> str:
    """The candidate's jurisdiction; a different one given for a consent or upload is refused, so naming another
    place cannot escape that place's rules (only an admin changes it, audited: PATCH /candidates/{id})."""
    if given is not None and given.strip() and _jurisdiction(given) != c.jurisdiction:
        raise HTTPException(409, f"the candidate's jurisdiction is {c.jurisdiction}; consents and uploads are "
                                 "recorded there. An administrator can change the candidate's jurisdiction.")
    return c.jurisdiction


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


# --- auth ------------------------------------------------------------------------------------------------------

@router.post("/auth/token", tags=["auth"])
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: Db) -> dict:
    """OAuth2 password flow: username is the e-mail address."""
    user = authenticate(session, request, form.username, form.password)
    return {"access_token": issue_token(user, settings_of(request)), "token_type": "bearer"}


@router.get("/me", tags=["auth"])
def me(user: Me) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "organisation": user.org.name}


class NewUser(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["admin", "reviewer"]
    password: str = Field(min_length=8, max_length=1000)


@router.post("/users", status_code=201, tags=["auth"])
def create_user(body: NewUser, user: Admin, session: Db) -> dict:
    # Only this organisation's users are looked at: whether another organisation uses the address stays unknown.
    if session.scalar(select(User).where(User.org_id == user.org_id, User.email == body.email.lower())):
        raise HTTPException(409, "a user with this e-mail address exists already in your organisation.")
    new = User(org_id=user.org_id, email=body.email.lower(), role=body.role, password_hash=hash_password(body.password))
    session.add(new)
    session.flush()
    return {"id": new.id, "email": new.email, "role": new.role}


@router.get("/users", tags=["auth"])
def list_users(user: Admin, session: Db) -> list[dict]:
    return [{"id": u.id, "email": u.email, "role": u.role}
            for u in session.scalars(select(User).where(User.org_id == user.org_id).order_by(User.email))]


class RoleChange(BaseModel):
    role: Literal["admin", "reviewer", "disabled"] = Field(
        description="'disabled' closes the account: it cannot sign in, and its tokens and sessions stop working")


@router.patch("/users/{user_id}", tags=["auth"])
def change_role(user_id: str, body: RoleChange, user: Admin, session: Db) -> dict:
    target = session.get(User, user_id)
    if target is None or target.org_id != user.org_id:
        raise HTTPException(404, "no such user in this organisation.")
    if target.role == body.role:
        return {"id": target.id, "email": target.email, "role": target.role}
    # Locked, so two admins demoting each other at once cannot leave the organisation with none.
    admins = session.scalars(select(User.id).where(User.org_id == user.org_id, User.role == "admin")
                             .with_for_update()).all()
    if target.is_admin and len(admins) == 1:
        raise HTTPException(409, "this is the organisation's only administrator; make another user admin first.")
    old_role, target.role = target.role, body.role
    target.token_version += 1  # their sessions end now: the next sign-in carries the new rights, or none
    audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                 details={"user": target.id, "change": f"role {old_role} -> {body.role}"})
    return {"id": target.id, "email": target.email, "role": target.role}


# --- candidates, notices, consents ---------------------------------------------------------------------------

class NewCandidate(BaseModel):
    external_ref: str = Field(max_length=128,
                              description="a pseudonymous id, e.g. the applicant number (not a name or e-mail)")
    name: str | None = Field(default=None, max_length=200)
    jurisdiction: str = Field(max_length=16, description="where the candidate is: DE, UK, US-IL, US-NY-NYC, US, OTHER")


def candidate_dict(c: Candidate) -> dict:
    return {"id": c.id, "external_ref": c.external_ref, "name": c.name, "jurisdiction": c.jurisdiction,
            "created_at": _iso(c.created_at)}


@router.post("/candidates", status_code=201, tags=["candidates"])
def create_candidate(body: NewCandidate, user: Me, session: Db) -> dict:
    try:
        check_subject_id(body.external_ref)
    except PolicyError as exc:
        raise HTTPException(422, str(exc)) from None
    if session.scalar(select(Candidate).where(Candidate.org_id == user.org_id,
                                              Candidate.external_ref == body.external_ref)):
        raise HTTPException(409, "a candidate with this external_ref exists already in your organisation.")
    c = Candidate(org_id=user.org_id, external_ref=body.external_ref, name=(body.name or "").strip() or None,
                  jurisdiction=_jurisdiction(body.jurisdiction))
    session.add(c)
    session.flush()
    return candidate_dict(c)


@router.get("/candidates", tags=["candidates"])
def list_candidates(user: Me, session: Db) -> list[dict]:
    return [candidate_dict(c) for c in session.scalars(select(Candidate).where(Candidate.org_id == user.org_id)
                                                        .order_by(Candidate.created_at.desc()))]


@router.get("/candidates/{candidate_id}", tags=["candidates"])
def get_candidate(candidate_id: str, user: Me, session: Db) -> dict:
    c = owned(session, Candidate, candidate_id, user)
    out = candidate_dict(c)
    out["consents"] = [consent_dict(x) for x in _consents(session, c)]
    out["interviews"] = [interview_dict(i) for i in session.scalars(
        select(Interview).where(Interview.candidate_id == c.id).order_by(Interview.created_at.desc()))]
    return out


@router.delete("/candidates/{candidate_id}", tags=["candidates"])
def erase(candidate_id: str, request: Request, user: Admin, session: Db) -> dict:
    """Erase the candidate and everything derived from them, then search the database and media folder to prove
    that nothing names them any more (`remaining` lists what still does: it must be empty)."""
    c = owned(session, Candidate, candidate_id, user)
    terms = [c.external_ref] + ([c.name] if c.name else [])
    ids = list(session.scalars(select(Interview.id).where(Interview.candidate_id == c.id)))
    counts = erase_candidate(session, settings_of(request), c, user)
    session.commit()
    db.after_erasure(session)
    remaining = remaining_mentions(session, settings_of(request), terms, ids)
    return {"erased": True, "counts": counts, "remaining": remaining, "verified": not remaining}


class CandidateChange(BaseModel):
    jurisdiction: str = Field(max_length=16, description="where the candidate is now: DE, UK, US-IL, US, OTHER, ...")


@router.patch("/candidates/{candidate_id}", tags=["candidates"])
def change_candidate(candidate_id: str, body: CandidateChange, request: Request, user: Admin, session: Db) -> dict:
    """Change the candidate's jurisdiction (admin, audited). Consents recorded for the old one no longer cover
    new analyses: those need a consent under the new jurisdiction's rules."""
    c = owned(session, Candidate, candidate_id, user)
    new = _jurisdiction(body.jurisdiction)
    if new != c.jurisdiction:
        audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                     subject=audit.subject_ref(settings_of(request).secret_key, c.external_ref),
                     details={"candidate": c.id, "change": f"jurisdiction {c.jurisdiction} -> {new}"})
        c.jurisdiction = new
    return candidate_dict(c)


@router.get("/candidates/{candidate_id}/notice", tags=["consent"])
def notice(candidate_id: str, purpose: str, user: Me, session: Db, jurisdiction: str | None = None) -> dict:
    """The notice the candidate must read before consenting (plain text and HTML)."""
    c = owned(session, Candidate, candidate_id, user)
    n = render_notice(purpose, _jurisdiction(jurisdiction or c.jurisdiction), user.org.name)
    return {"version": n.version, "policy_version": n.policy_version, "purpose": n.purpose,
            "jurisdiction": n.jurisdiction, "sha256": n.sha256, "text": n.text, "html": n.html}


class NewConsent(BaseModel):
    purpose: Literal["practice", "research", "assessment"]
    jurisdiction: str | None = Field(default=None, max_length=16, description="must be the candidate's")
    scope: list[Literal["analysis", "share_with_reviewers"]] = ["analysis"]
    given_at: datetime | None = None
    notice_sha256: str | None = Field(default=None, description="the notice the candidate read; must be current")


def consent_dict(x: Consent) -> dict:
    return {"id": x.id, "candidate_id": x.candidate_id, "purpose": x.purpose, "jurisdiction": x.jurisdiction,
            "given_at": _iso(x.given_at), "notice_version": x.notice_version, "notice_sha256": x.notice_sha256,
            "scope": x.scope.split(","), "withdrawn_at": _iso(x.withdrawn_at), "controller": x.controller}


def _consents(session: Session, c: Candidate) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.candidate_id == c.id)
                                .order_by(Consent.given_at.desc())))


@router.post("/candidates/{candidate_id}/consents", status_code=201, tags=["consent"])
def record_consent(candidate_id: str, body: NewConsent, request: Request, user: Me, session: Db) -> dict:
    """Record that the candidate agreed to the current notice for this purpose and jurisdiction."""
    from facecue.governance import ConsentRecord

    c = owned(session, Candidate, candidate_id, user)
    where = _same_jurisdiction(c, body.jurisdiction)
    n = render_notice(body.purpose, where, user.org.name)
    if body.notice_sha256 and body.notice_sha256 != n.sha256:
        raise HTTPException(409, "the candidate read a notice that is no longer current; show them the current one.")
    given = body.given_at or datetime.now(UTC)
    if given.tzinfo is None:
        raise HTTPException(422, "given_at must include a time zone.")
    record = ConsentRecord.for_notice(n, c.external_ref, given_at=given, scope=tuple(dict.fromkeys(body.scope)))
    x = Consent(org_id=user.org_id, candidate_id=c.id, subject_id=record.subject_id, controller=record.controller,
                purpose=record.purpose, jurisdiction=where,
                given_at=record.given_at, notice_version=record.notice_version, notice_sha256=record.notice_sha256,
                scope=",".join(record.scope), recorded_by=user.id)
    session.add(x)
    session.flush()
    audit.record(session, actor=user.id, action="consented", org_id=user.org_id,
                 subject=audit.subject_ref(settings_of(request).secret_key, c.external_ref),
                 details={"consent": x.id, "purpose": x.purpose, "notice_version": NOTICE_VERSION})
    return consent_dict(x)


@router.get("/candidates/{candidate_id}/consents", tags=["consent"])
def list_consents(candidate_id: str, user: Me, session: Db) -> list[dict]:
    return [consent_dict(x) for x in _consents(session, owned(session, Candidate, candidate_id, user))]


@router.post("/consents/{consent_id}/withdraw", tags=["consent"])
def withdraw_consent(consent_id: str, request: Request, user: Me, session: Db) -> dict:
    """Withdraw a consent: queued analyses under it are cancelled and running ones stopped."""
    x = owned(session, Consent, consent_id, user)
    if x.withdrawn_at is not None:
        raise HTTPException(409, f"this consent was already withdrawn at {x.withdrawn_at.isoformat()}.")
    x.withdrawn_at = datetime.now(UTC)
    stopped = []
    for interview in session.scalars(select(Interview).where(Interview.consent_id == x.id,
                                                             Interview.status.in_(("queued", "running")))):
        jobs.request_cancel(session, interview)
        stopped.append(interview.id)
    candidate = session.get(Candidate, x.candidate_id)
    audit.record(session, actor=user.id, action="withdrew", org_id=user.org_id,
                 subject=audit.subject_ref(settings_of(request).secret_key, candidate.external_ref),
                 details={"consent": x.id, "stopped": len(stopped)})
    return {**consent_dict(x), "stopped_interviews": stopped}


# --- interviews ------------------------------------------------------------------------------------------------

def interview_dict(i: Interview) -> dict:
    return {"id": i.id, "candidate_id": i.candidate_id, "purpose": i.purpose, "jurisdiction": i.jurisdiction,
            "status": i.status, "progress": i.progress, "error": i.error, "created_at": _iso(i.created_at),
            "finished_at": _iso(i.finished_at), "draft": i.draft, "acknowledged_at": _iso(i.acknowledged_at),
            "video_available": i.video_path is not None, "has_questions": i.questions_path is not None,
            "has_transcript": i.transcript_path is not None}


def _consent_for(session: Session, c: Candidate, purpose: str, jurisdiction: str) -> Consent | None:
    """The consent an analysis runs under: the newest valid one for the purpose and jurisdiction, else the newest
    one for the purpose (so the refusal names what is wrong with it), else None."""
    mine = [x for x in _consents(session, c) if x.purpose == purpose]
    for x in mine:
        if x.withdrawn_at is None and x.jurisdiction == jurisdiction:
            return x
    return mine[0] if mine else None


def refuse(session: Session, user: User, reason: str, details: dict) -> None:
    """Record the refusal in the audit log (committed even though the request fails), then answer 403."""
    audit.record(session, actor=user.id, action="refused", org_id=user.org_id, details=details)
    session.commit()
    raise HTTPException(403, reason)


@router.post("/interviews", status_code=201, tags=["interviews"])
def create_interview(request: Request, user: Me, session: Db,
                     candidate_id: Annotated[str, Form()], purpose: Annotated[str, Form()],
                     video: Annotated[UploadFile, File()],
                     jurisdiction: Annotated[str | None, Form()] = None,
                     questions: Annotated[UploadFile | None, File()] = None,
                     transcript: Annotated[UploadFile | None, File()] = None) -> dict:
    """Upload an interview video (multipart) and queue its analysis -> {"id", "status"}."""
    settings = settings_of(request)
    c = owned(session, Candidate, candidate_id, user)
    if purpose not in ("practice", "research", "assessment"):
        raise HTTPException(422, "unknown purpose; choose practice, research or assessment.")
    where = _same_jurisdiction(c, jurisdiction)
    consent = _consent_for(session, c, purpose, where)
    try:
        check_analysis_allowed(purpose, where, consent.to_record() if consent else None,
                               controller=user.org.name, subject_id=c.external_ref)
    except PolicyError as exc:
        refuse(session, user, str(exc), {"purpose": purpose, "jurisdiction": where, "what": "analysis"})
    session.commit()  # no database lock is held while the upload is checked and stored
    interview = Interview(org_id=user.org_id, candidate_id=c.id, consent_id=consent.id if consent else None,
                          purpose=purpose, jurisdiction=where, created_by=user.id, status="queued", progress=0.0)
    interview.id = new_id()  # the folder is named before the row is written
    folder = storage.interview_folder(settings.media_dir, interview.id)
    try:
        from facecue.governance import write_subject_manifest

        path, sha, size = storage.save_video(video.file, folder, settings.max_upload_bytes)
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
    return {"id": interview.id, "status": interview.status}


@router.get("/interviews", tags=["interviews"])
def list_interviews(user: Me, session: Db, status: str | None = None, candidate_id: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    q = select(Interview).where(Interview.org_id == user.org_id)
    if status:
        q = q.where(Interview.status == status)
    if candidate_id:
        q = q.where(Interview.candidate_id == candidate_id)
    return [interview_dict(i) for i in session.scalars(q.order_by(Interview.created_at.desc()).limit(limit))]


@router.get("/interviews/{interview_id}", tags=["interviews"])
def interview_status(interview_id: str, user: Me, session: Db) -> dict:
    i = owned(session, Interview, interview_id, user)
    out = interview_dict(i)
    job = session.scalars(select(Job).where(Job.interview_id == i.id).order_by(Job.created_at.desc())).first()
    out["job"] = None if job is None else {"id": job.id, "status": job.status, "attempts": job.attempts,
                                           "max_attempts": job.max_attempts, "error": job.error}
    return out


def check_result_access(session: Session, i: Interview, user: User) -> None:
    """403 unless the policy lets this user see the interview's results (see the module docstring)."""
    consent = session.get(Consent, i.consent_id) if i.consent_id else None
    record = consent.to_record() if consent else None
    candidate = session.get(Candidate, i.candidate_id)
    try:
        if i.purpose == "research":
            check_analysis_allowed(i.purpose, i.jurisdiction, record, controller=user.org.name,
                                   subject_id=candidate.external_ref)
            if not user.is_admin:
                raise PolicyError("research results go only to the research team (this organisation's admins), "
                                  "never to reviewers.")
        else:
            check_sharing_allowed(i.purpose, i.jurisdiction, record, controller=user.org.name,
                                  subject_id=candidate.external_ref)
    except PolicyError as exc:
        refuse(session, user, str(exc), {"interview": i.id, "what": "view results"})


def _result_dir(request: Request, session: Session, interview_id: str, user: User) -> tuple[Interview, Path]:
    i = owned(session, Interview, interview_id, user)
    if i.status != "done" or not i.result_dir:
        raise HTTPException(409, f"the analysis is {i.status}; results exist once it is done.")
    check_result_access(session, i, user)
    return i, settings_of(request).media_dir / i.result_dir


@router.get("/interviews/{interview_id}/result", tags=["results"])
def result(interview_id: str, request: Request, user: Me, session: Db,
           format: Literal["json", "csv"] = "json") -> Response:
    """The analysis exactly as result.json (or frames.csv with ?format=csv). Header X-Facecue-Draft: true while an
    assessment awaits a reviewer's acknowledgement of its limits."""
    i, folder = _result_dir(request, session, interview_id, user)
    audit.record(session, actor=user.id, action="exported" if format == "csv" else "viewed", org_id=user.org_id,
                 details={"interview": i.id, "format": format})
    headers = {"X-Facecue-Draft": "true" if i.draft else "false", "Cache-Control": "no-store"}
    if format == "csv":
        return FileResponse(folder / "frames.csv", media_type="text/csv", headers=headers,
                            filename=f"frames-{i.id}.csv")
    return FileResponse(folder / "result.json", media_type="application/json", headers=headers)


@router.get("/interviews/{interview_id}/report", tags=["results"])
def report(interview_id: str, request: Request, user: Me, session: Db) -> Response:
    """The self-contained HTML report, sandboxed by its own Content-Security-Policy."""
    i, folder = _result_dir(request, session, interview_id, user)
    audit.record(session, actor=user.id, action="viewed", org_id=user.org_id,
                 details={"interview": i.id, "format": "html"})
    return FileResponse(folder / "report.html", media_type="text/html",
                        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"})


@router.get("/interviews/{interview_id}/video", tags=["results"])
def video(interview_id: str, request: Request, user: Me, session: Db) -> Response:
    """The uploaded video, for the review page's player (while retention keeps it)."""
    i = owned(session, Interview, interview_id, user)
    check_result_access(session, i, user)
    if i.video_path is None:
        raise HTTPException(410, "the raw video was deleted when its retention period ended; results remain.")
    # Every request, ranges included: any range (or several, "bytes=1-1,0-") can carry the whole video.
    audit.record(session, actor=user.id, action="viewed", org_id=user.org_id,
                 details={"interview": i.id, "format": "video", "range": (request.headers.get("range") or "")[:100]})
    path = settings_of(request).media_dir / i.video_path
    types = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".mkv": "video/x-matroska"}
    return FileResponse(path, media_type=types.get(path.suffix, "application/octet-stream"))


@router.post("/interviews/{interview_id}/cancel", tags=["interviews"])
def cancel(interview_id: str, user: Me, session: Db) -> dict:
    i = owned(session, Interview, interview_id, user)
    if i.status not in ("queued", "running"):
        raise HTTPException(409, f"the analysis is already {i.status}.")
    jobs.request_cancel(session, i)
    audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                 details={"interview": i.id, "change": "cancel"})
    return {"id": i.id, "status": i.status, "cancel_requested": True}


@router.post("/interviews/{interview_id}/acknowledge", tags=["review"])
def acknowledge(interview_id: str, user: Me, session: Db) -> dict:
    """The reviewer confirms they read the limits of the analysis; the assessment report stops being a draft."""
    i = owned(session, Interview, interview_id, user)
    if i.status != "done":
        raise HTTPException(409, "only a finished analysis can be acknowledged.")
    check_result_access(session, i, user)
    if i.acknowledged_at is None:
        i.acknowledged_by, i.acknowledged_at = user.id, datetime.now(UTC)
        audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                     details={"interview": i.id, "change": "acknowledged limits"})
    return interview_dict(i)


MAX_VIDEO_S = 7 * 24 * 3600.0  # no interview is longer: a bound that keeps every stored moment finite


class NewNote(BaseModel):
    text: str = Field(min_length=1, max_length=10000)
    time_s: float | None = Field(default=None, ge=0, le=MAX_VIDEO_S, allow_inf_nan=False)


def note_dict(n: Note) -> dict:
    return {"id": n.id, "author_id": n.author_id, "time_s": n.time_s, "text": n.text, "created_at": _iso(n.created_at)}


@router.get("/interviews/{interview_id}/notes", tags=["review"])
def list_notes(interview_id: str, user: Me, session: Db) -> list[dict]:
    i = owned(session, Interview, interview_id, user)
    check_result_access(session, i, user)  # notes are about the results: the same people may see them
    return [note_dict(n) for n in session.scalars(select(Note).where(Note.interview_id == i.id)
                                                  .order_by(Note.created_at))]


@router.post("/interviews/{interview_id}/notes", status_code=201, tags=["review"])
def add_note(interview_id: str, body: NewNote, user: Me, session: Db) -> dict:
    i = owned(session, Interview, interview_id, user)
    check_result_access(session, i, user)
    n = Note(org_id=user.org_id, interview_id=i.id, author_id=user.id, text=body.text, time_s=body.time_s)
    session.add(n)
    session.flush()
    audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                 details={"interview": i.id, "change": "note added", "note": n.id})
    return note_dict(n)


@router.delete("/interviews/{interview_id}/notes/{note_id}", tags=["review"])
def delete_note(interview_id: str, note_id: str, user: Me, session: Db) -> dict:
    """Delete a note: its author or an admin (audited)."""
    i = owned(session, Interview, interview_id, user)
    n = owned(session, Note, note_id, user)
    if n.interview_id != i.id:
        raise HTTPException(404, f"no note {note_id} on this interview.")
    if n.author_id != user.id and not user.is_admin:
        raise HTTPException(403, "only the note's author or an administrator can delete it.")
    session.delete(n)
    audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                 details={"interview": i.id, "change": "note deleted", "note": n.id})
    return {"id": n.id, "deleted": True}


class NewOverride(BaseModel):
    segment_index: int = Field(ge=0, le=10**6)
    label: str = Field(description="one of the seven labels, or 'unclear'")
    reason: str = Field(default="", max_length=2000)


def override_dict(o: Override) -> dict:
    return {"id": o.id, "segment_index": o.segment_index, "model_label": o.model_label, "label": o.label,
            "reason": o.reason, "author_id": o.author_id, "created_at": _iso(o.created_at)}


@router.get("/interviews/{interview_id}/overrides", tags=["review"])
def list_overrides(interview_id: str, user: Me, session: Db) -> list[dict]:
    i = owned(session, Interview, interview_id, user)
    check_result_access(session, i, user)
    return [override_dict(o) for o in session.scalars(select(Override).where(Override.interview_id == i.id)
                                                      .order_by(Override.created_at))]


@router.post("/interviews/{interview_id}/overrides", status_code=201, tags=["review"])
def add_override(interview_id: str, body: NewOverride, request: Request, user: Me, session: Db) -> dict:
    """A reviewer's reading of one segment; the model's label stays in the result beside it."""
    if body.label not in (*EMOTIONS, "unclear"):
        raise HTTPException(422, f"label must be one of {', '.join(EMOTIONS)} or unclear.")
    i, folder = _result_dir(request, session, interview_id, user)
    segments = json.loads((folder / "result.json").read_text()).get("segments", [])
    if body.segment_index >= len(segments):
        raise HTTPException(422, f"segment_index must be below {len(segments)}, the number of segments.")
    model_label = segments[body.segment_index].get("label")
    o = Override(org_id=user.org_id, interview_id=i.id, author_id=user.id, segment_index=body.segment_index,
                 model_label=model_label if isinstance(model_label, str) else None, label=body.label,
                 reason=body.reason)
    session.add(o)
    session.flush()
    audit.record(session, actor=user.id, action="changed", org_id=user.org_id,
                 details={"interview": i.id, "change": "segment override", "override": o.id})
    return override_dict(o)


# --- jobs, audit, erasure requests, retention -------------------------------------------------------------------

@router.get("/jobs", tags=["interviews"])
def list_jobs(user: Me, session: Db, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    rows = session.execute(select(Job, Interview).join(Interview, Job.interview_id == Interview.id)
                           .where(Interview.org_id == user.org_id).order_by(Job.created_at.desc()).limit(limit))
    return [{"id": j.id, "interview_id": i.id, "candidate_id": i.candidate_id, "status": j.status,
             "progress": i.progress, "attempts": j.attempts, "error": j.error, "created_at": _iso(j.created_at),
             "finished_at": _iso(j.finished_at)} for j, i in rows]


@router.get("/audit", tags=["audit"])
def audit_log(user: Admin, session: Db, after: Annotated[int, Query(ge=-1, le=2**31 - 1)] = -1,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    """This organisation's audit entries, oldest first, after seq `after`."""
    q = (select(AuditEvent).where(AuditEvent.org_id == user.org_id, AuditEvent.seq > after)
         .order_by(AuditEvent.seq).limit(limit))
    return [audit.to_dict(e) for e in session.scalars(q)]


@router.get("/audit/verify", tags=["audit"])
def audit_verify(user: Admin, session: Db) -> dict:
    v = audit.verify(session)
    # The chain is shared by every organisation: say whether it holds, never how many entries it has.
    return {"ok": v.ok, "first_bad_seq": v.first_bad_seq, "reason": "chain intact" if v.ok else v.reason}


class NewErasureRequest(BaseModel):
    candidate_id: str


def erasure_dict(r: ErasureRequest, now: datetime) -> dict:
    return {"id": r.id, "candidate_id": r.candidate_id, "subject_ref": r.subject_ref,
            "requested_at": _iso(r.requested_at), "deadline": _iso(r.deadline), "done_at": _iso(r.done_at),
            "days_left": None if r.done_at else (r.deadline - now).days,
            "overdue": r.done_at is None and now > r.deadline}


@router.post("/erasure-requests", status_code=201, tags=["erasure"])
def request_erasure(body: NewErasureRequest, request: Request, user: Me, session: Db) -> dict:
    """Record a deletion request; its deadline is the policy's erasure deadline (at most 30 days)."""
    c = owned(session, Candidate, body.candidate_id, user)
    days = min([decide(p, c.jurisdiction).erasure_deadline_days for p in ("practice", "research", "assessment")])
    t = datetime.now(UTC)
    r = ErasureRequest(org_id=user.org_id, candidate_id=c.id, requested_by=user.id, requested_at=t,
                       subject_ref=audit.subject_ref(settings_of(request).secret_key, c.external_ref),
                       deadline=t + timedelta(days=days))
    session.add(r)
    session.flush()
    return erasure_dict(r, t)


@router.get("/erasure-requests", tags=["erasure"])
def list_erasure_requests(user: Me, session: Db) -> list[dict]:
    t = datetime.now(UTC)
    return [erasure_dict(r, t) for r in session.scalars(select(ErasureRequest).where(
        ErasureRequest.org_id == user.org_id).order_by(ErasureRequest.done_at.is_not(None), ErasureRequest.deadline))]


@router.post("/retention/run", tags=["erasure"])
def run_retention(request: Request, user: Admin, session: Db) -> dict:
    """Delete raw videos past their retention now (the worker also does this hourly)."""
    from facecue.service.retention import apply_retention

    session.commit()  # apply_retention uses its own transaction
    return {"videos_deleted": apply_retention(request.app.state.db, settings_of(request))}

