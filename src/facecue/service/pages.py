"""The reviewer pages: server-rendered HTML over the same domain operations as the JSON API
(facecue.service.operations).

Every page needs a signed-in user (a 401 becomes a redirect to the sign-in page, see `error_page`); every form
carries the session's CSRF token and is checked here; every read and change goes through the operation that
makes it, so the pages and the API share their rules, organisation scoping, policy checks and audit entries. A
form posts, then redirects back (post/redirect/get) with a fixed message key, so no text from a request is ever
echoed.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from facecue.errors import FacecueError
from facecue.governance import PURPOSES, decide
from facecue.governance.policy import REGIONS
from facecue.labels import EMOTIONS
from facecue.report.charts import fmt_time
from facecue.report.html import LIMITS
from facecue.service import audit, operations
from facecue.service.auth import (
    VISITOR_COOKIE,
    authenticate,
    check_csrf,
    csrf_token,
    login_response,
    logout,
    optional_user,
)
from facecue.service.deps import Admin, CurrentDatabase, CurrentSettings, Db, Me, http_status
from facecue.service.models import Candidate, Consent, Interview, Override, User
from facecue.service.operations import TextUpload, may_view, owned
from facecue.service.review_view import build_review
from facecue.service.schemas import (
    FAILED,
    NOTE_MAX,
    NewCandidate,
    NewConsent,
    NewNote,
    NewOverride,
    NewUser,
    RoleChange,
)

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).with_name("static")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

# Messages shown after a redirect, by key: the query string names one, it never carries the text.
MESSAGES = {
    "signed-out": ("ok", "You are signed out."),
    "candidate-added": ("ok", "Candidate added."),
    "consent-recorded": ("ok", "Consent recorded."),
    "consent-withdrawn": ("ok", "Consent withdrawn; analyses waiting under it were stopped."),
    "erasure-requested": ("ok", "Erasure request recorded; its deadline is on the deletion-deadline page."),
    "erased": (
        "ok",
        (
            "Candidate erased: a search of the database and the media folder found nothing left that "
            "names them. The audit log keeps the fact of the erasure, not the data."
        ),
    ),
    "note-added": ("ok", "Note added."),
    "note-deleted": ("ok", "Note deleted."),
    "override-added": ("ok", "Your reading of the segment was saved beside the model's."),
    "acknowledged": ("ok", "Limits acknowledged: this assessment is no longer a draft."),
    "user-added": ("ok", "User created."),
    "role-changed": ("ok", "Role changed; that user's sessions were ended."),
    "retention-run": ("ok", "Retention applied."),
}
FIELD_LABELS = {"external_ref": "the reference"}
NAV = (("/candidates", "Candidates", "candidates"), ("/upload", "Upload", "upload"), ("/jobs", "Jobs", "jobs"))
ADMIN_NAV = (
    ("/admin/users", "Users", "users"),
    ("/admin/audit", "Audit log", "audit"),
    ("/admin/erasures", "Deletion deadlines", "erasures"),
)


# --- rendering helpers -------------------------------------------------------------------------------------------


@cache
def _asset_version(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """A cache-busting URL for one of the pages' static files (report.css comes from the HTML report)."""
    if name == "report.css":
        return f"/assets/report.css?v={_asset_version(str(files('facecue.report') / 'report.css'))}"
    return f"/static/{name}?v={_asset_version(str(STATIC / name))}"


def _when(value: datetime | None) -> str:
    """A moment as people read it: "5 Dec 2026, 11:57 UTC"."""
    if value is None:
        return "—"
    at = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def _readable_moments(text: str) -> str:
    """A message that quotes a stored time (ISO 8601, as the domain writes it) with that time made readable; what
    only looks like one (2026-02-30T10:00) stays as it is: this runs inside the error page."""

    def readable(m: re.Match) -> str:
        try:
            return _when(datetime.fromisoformat(m.group(0).replace("Z", "+00:00")))
        except ValueError:
            return m.group(0)

    return _ISO_MOMENT.sub(readable, text)


def failure_detail(error: str | None) -> str:
    """The server's reason for a failed analysis, for admins, as one sentence."""
    return (error or "no reason was recorded").rstrip(".") + "."


def _clock(seconds: float | None) -> str:
    # A row written before times were checked may hold inf or nan: show a dash rather than fail the page.
    return "—" if seconds is None or not math.isfinite(seconds) else fmt_time(float(seconds), tenths=True)


templates.env.filters["when"] = _when
templates.env.filters["clock"] = _clock
templates.env.globals["FAILED"] = FAILED
templates.env.globals["failure_detail"] = failure_detail
templates.env.globals["static_url"] = static_url


def render(
    request: Request, name: str, user: User | None, title: str, section: str = "", status_code: int = 200, **context
) -> HTMLResponse:
    nav = list(NAV) + (list(ADMIN_NAV) if user is not None and user.is_admin else [])
    messages = list(context.pop("messages", []))
    done = MESSAGES.get(request.query_params.get("done", ""))
    if done:
        messages.insert(0, done)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "title": title,
            "section": section,
            "nav_items": nav,
            "csrf_token": csrf_token(request),
            "messages": messages,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"  # pages show personal data: never kept by a shared cache
    if nonce := getattr(request.state, "new_visitor_nonce", None):  # csrf_token just made one for this visitor
        settings = request.app.state.settings
        response.set_cookie(
            VISITOR_COOKIE,
            nonce,
            max_age=settings.token_max_age_s,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
        )
    return response


def _back(to: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{to}?done={done}", status_code=303)


def _problem(exc: Exception) -> str:
    """One readable sentence from a refusal (an HTTP or domain error) or a validation error."""
    if isinstance(exc, HTTPException):
        detail = exc.detail
    elif isinstance(exc, ValidationError):
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    else:
        detail = str(exc)
    text = detail if isinstance(detail, str) else "the request is not valid."
    for code, label in FIELD_LABELS.items():  # the form's own labels, not the API's field names
        text = text.replace(code, label)
    return text[:1].upper() + text[1:]


# The page a form lives on, from the path the form posts to (the app sends no Referer: Referrer-Policy no-referrer).
_FORM_PAGE = re.compile(r"/(?:interviews/[\w-]+|candidates/[\w-]+|admin/users|upload)")


def _form_page(request: Request) -> str | None:
    """Where a failed form post came from, so its error page can lead back there (same site by construction)."""
    if request.method != "POST":
        return None
    if request.url.path == "/admin/retention":
        return "/admin/erasures"
    found = _FORM_PAGE.match(request.url.path)
    return found.group(0) if found else None


def error_page(request: Request, status: int, detail: str) -> Response:
    """The app's error handlers call this for browsers: sign-in for 401, else a page with the one-sentence reason,
    the navigation of whoever is signed in and a link back to the page they came from."""
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"/login?next={quote(target if request.method == 'GET' else '/', safe='')}", status_code=303
        )
    titles = {
        403: "Not allowed",
        404: "Not found",
        409: "Not possible now",
        410: "Gone",
        413: "Too large",
        429: "Too many attempts",
    }
    text = _readable_moments(detail[:1].upper() + detail[1:]) if detail else "The request could not be completed."
    with request.app.state.db.session() as session:
        user = optional_user(request, session)
        return render(
            request,
            "error.html",
            user,
            titles.get(status, "Something is wrong with the request"),
            status_code=status,
            message=text,
            back=_form_page(request),
        )


@router.get("/assets/report.css")
def report_css() -> Response:
    return Response(
        (files("facecue.report") / "report.css").read_text(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- sign in and out -----------------------------------------------------------------------------------------------


@router.get("/")
def home(user: Annotated[User | None, Depends(optional_user)]) -> RedirectResponse:
    return RedirectResponse("/candidates" if user else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, user: Annotated[User | None, Depends(optional_user)], next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse("/candidates", status_code=303)
    return render(request, "login.html", None, "Sign in", next=next, email="", error=None)


@router.post("/login")
def login(
    request: Request,
    session: Db,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        user = authenticate(session, request, email, password)
    except HTTPException as exc:
        if exc.status_code not in (401, 429):
            raise
        page = render(
            request,
            "login.html",
            None,
            "Sign in",
            status_code=exc.status_code,
            next=next,
            email=email,
            error=_problem(exc),
        )
        if exc.headers and "Retry-After" in exc.headers:
            page.headers["Retry-After"] = exc.headers["Retry-After"]
        return page
    return login_response(user, request.app.state.settings, to=next if next != "/" else "/candidates")


@router.post("/logout")
def sign_out(request: Request, user: Me, session: Db, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    return logout(session, request, RedirectResponse("/login?done=signed-out", status_code=303))


# --- candidates ----------------------------------------------------------------------------------------------------


@router.get("/candidates")
def candidates(request: Request, user: Me, session: Db) -> Response:
    return render(
        request,
        "candidates.html",
        user,
        "Candidates",
        "candidates",
        rows=operations.candidates_with_counts(session, user),
        form={},
        error=None,
    )


@router.post("/candidates")
def add_candidate(
    request: Request,
    user: Me,
    session: Db,
    csrf_token: Annotated[str, Form()] = "",
    external_ref: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    jurisdiction: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    form = {"external_ref": external_ref, "name": name, "jurisdiction": jurisdiction}
    try:
        made = operations.create_candidate(
            session, user, NewCandidate(external_ref=external_ref.strip(), name=name or None, jurisdiction=jurisdiction)
        )
    except (FacecueError, ValidationError) as exc:
        return render(
            request,
            "candidates.html",
            user,
            "Candidates",
            "candidates",
            status_code=422,
            rows=operations.candidates_with_counts(session, user),
            form=form,
            error=_problem(exc),
        )
    return _back(f"/candidates/{made.id}", "candidate-added")


def closed_reason(session: Session, i: Interview) -> str:
    """Why nobody may open this interview's results any more ("" when nothing recorded stops it)."""
    consent = session.get(Consent, i.consent_id) if i.consent_id else None
    if consent is not None and consent.withdrawn_at is not None:
        return f"consent withdrawn on {_when(consent.withdrawn_at)}"
    return ""


def _consent_state(c: Consent) -> str:
    return "withdrawn" if c.withdrawn_at else "given"


@router.get("/candidates/{candidate_id}")
def candidate(candidate_id: str, request: Request, user: Me, session: Db) -> Response:
    c = owned(session, Candidate, candidate_id, user)
    return _candidate_page(request, user, session, c)


def _candidate_page(
    request: Request,
    user: User,
    session: Session,
    c: Candidate,
    error: str | None = None,
    status_code: int = 200,
    consent_form: dict | None = None,
) -> Response:
    interviews = operations.interviews_of(session, c)
    consents = operations.consents_of(session, c)
    erasures = operations.open_erasure_requests(session, c)
    return render(
        request,
        "candidate.html",
        user,
        f"Candidate {c.external_ref}",
        "candidates",
        status_code=status_code,
        candidate=c,
        interviews=[(i, may_view(i, user), closed_reason(session, i)) for i in interviews],
        consents=[(x, _consent_state(x)) for x in consents],
        erasures=erasures,
        purposes=PURPOSES,
        error=error,
        messages=[("error", error)] if error else [],
        # what the consent form shows: the candidate's defaults, or on an error exactly what was entered
        consent_form=consent_form or {"purpose": "assessment", "jurisdiction": c.jurisdiction, "share": True},
        page_url=f"/candidates/{c.id}",
    )


@router.get("/candidates/{candidate_id}/notice")
def notice(candidate_id: str, request: Request, user: Me, session: Db, purpose: str = "assessment") -> Response:
    c = owned(session, Candidate, candidate_id, user)
    n = operations.notice(user, c, purpose)  # an unknown purpose is 422; a prohibited analysis 403 (PolicyError)
    from markupsafe import Markup

    # The governance module builds the notice HTML and escapes every value it places in it.
    return render(
        request, "notice.html", user, "Notice", "candidates", candidate=c, notice=n, notice_html=Markup(n.html)
    )


@router.post("/candidates/{candidate_id}/consents")
def add_consent(
    candidate_id: str,
    request: Request,
    user: Me,
    session: Db,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    jurisdiction: Annotated[str, Form()] = "",
    share: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    c = owned(session, Candidate, candidate_id, user)
    scope = ["analysis"] + (["share_with_reviewers"] if share else [])
    try:
        body = NewConsent.model_validate({"purpose": purpose, "jurisdiction": jurisdiction or None, "scope": scope})
        operations.record_consent(session, settings, user, c.id, body)
    except (FacecueError, ValidationError) as exc:
        session.rollback()
        entered = {"purpose": purpose, "jurisdiction": jurisdiction, "share": bool(share)}
        return _candidate_page(request, user, session, c, _problem(exc), 422, entered)
    return _back(f"/candidates/{c.id}", "consent-recorded")


@router.post("/consents/{consent_id}/withdraw")
def withdraw(
    consent_id: str,
    request: Request,
    user: Me,
    session: Db,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    consent, _ = operations.withdraw_consent(session, settings, user, consent_id)
    return _back(f"/candidates/{consent.candidate_id}", "consent-withdrawn")


@router.post("/candidates/{candidate_id}/erasure-request")
def erasure_request(
    candidate_id: str,
    request: Request,
    user: Me,
    session: Db,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    operations.request_erasure(session, settings, user, candidate_id)
    return _back(f"/candidates/{candidate_id}", "erasure-requested")


@router.post("/candidates/{candidate_id}/erase")
def erase(
    candidate_id: str,
    request: Request,
    user: Admin,
    session: Db,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
    confirm_ref: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    c = owned(session, Candidate, candidate_id, user)
    if confirm_ref.strip() != c.external_ref:
        return _candidate_page(
            request,
            user,
            session,
            c,
            "To erase, type the candidate's reference exactly as shown; nothing was deleted.",
            422,
        )
    out = operations.erase(session, settings, user, c.id)
    if not out.verified:  # the erasure itself went through (200, as in the API): the search asks for a check
        return render(
            request,
            "error.html",
            user,
            "Erasure incomplete",
            message=f"The candidate was erased, but {len(out.remaining)} places still mention them; "
            "an administrator must check the database and media folder.",
        )
    return _back("/candidates", "erased")


# --- upload and jobs -------------------------------------------------------------------------------------------------


@router.get("/upload")
def upload(request: Request, user: Me, session: Db, settings: CurrentSettings, candidate: str = "") -> Response:
    rows = operations.list_candidates(session, user)
    max_mb = settings.max_upload_bytes // (1024 * 1024)
    return render(
        request,
        "upload.html",
        user,
        "Upload",
        "upload",
        candidates=rows,
        selected=candidate,
        purposes=PURPOSES,
        max_mb=max_mb,
    )


@router.post("/upload")
def upload_without_script(
    request: Request,
    user: Me,
    session: Db,
    settings: CurrentSettings,
    video: Annotated[UploadFile, File()],
    candidate_id: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    jurisdiction: Annotated[str, Form()] = "",
    questions: Annotated[UploadFile | None, File()] = None,
    transcript: Annotated[UploadFile | None, File()] = None,
    signals: Annotated[str, Form()] = "",
) -> Response:
    """The same upload as a plain form post, for browsers without JavaScript (no progress bar)."""
    check_csrf(request, csrf_token)
    made = operations.create_interview(
        session,
        settings,
        user,
        candidate_id=candidate_id,
        purpose=purpose,
        video=video.file,
        jurisdiction=jurisdiction or None,
        questions=None if questions is None else TextUpload(questions.file, questions.filename),
        transcript=None if transcript is None else TextUpload(transcript.file, transcript.filename),
        signals=signals or None,
    )
    return RedirectResponse(f"/jobs#job-{made.id}", status_code=303)


@router.get("/jobs")
def job_list(request: Request, user: Me, session: Db) -> Response:
    rows = [
        (i, c, may_view(i, user), closed_reason(session, i))
        for i, c in operations.interviews_with_candidates(session, user, limit=200)
    ]
    return render(request, "jobs.html", user, "Jobs", "jobs", rows=rows)


# --- one interview -------------------------------------------------------------------------------------------------


@router.get("/interviews/{interview_id}")
def interview(interview_id: str, request: Request, user: Me, session: Db, settings: CurrentSettings) -> Response:
    i = operations.visible_interview(session, user, interview_id)  # practice never, research only admins: 403
    c = session.get(Candidate, i.candidate_id)
    document = operations.result_document(settings, i)
    view, no_result = None, ""
    if document is not None:
        try:
            view = build_review(document)
        except (KeyError, TypeError, ValueError):
            no_result = "The stored result could not be read; download it from the API to check it."
    else:
        no_result = {
            "queued": "The analysis is waiting for a worker.",
            "running": "The analysis is running.",
            "failed": FAILED,
            "cancelled": "The analysis was cancelled.",
        }.get(i.status, "There is no result yet.")
    notes = operations.notes_of(session, i)
    overrides: dict[int, list[Override]] = {}
    for o in operations.overrides_of(session, i):
        overrides.setdefault(o.segment_index, []).append(o)
    author_ids = {n.author_id for n in notes} | {o.author_id for os_ in overrides.values() for o in os_}
    author_ids |= {i.acknowledged_by} if i.acknowledged_by else set()
    authors = operations.emails_of(session, author_ids)
    if view is not None:
        operations.record_view(session, user, i, "page")
    video_url = f"/api/v1/interviews/{i.id}/video" if i.video_path else None
    return render(
        request,
        "interview.html",
        user,
        f"Interview {c.external_ref}",
        "",  # an interview is reached from a candidate or from Jobs: no section is "current"
        interview=i,
        candidate=c,
        view=view,
        no_result=no_result,
        notes=notes,
        overrides=overrides,
        authors=authors,
        acknowledged_by=authors.get(i.acknowledged_by),
        labels=EMOTIONS,
        video_url=video_url,
        limits=view.limits if view is not None else LIMITS,
        failure=failure_detail(i.error) if i.status == "failed" and user.is_admin else "",
        note_max=NOTE_MAX,
    )


@router.post("/interviews/{interview_id}/notes")
def add_note(
    interview_id: str,
    request: Request,
    user: Me,
    session: Db,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    time_s: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    i = operations.visible_interview(session, user, interview_id)
    try:
        moment = float(time_s) if time_s.strip() else None
        operations.add_note(session, user, i, NewNote(text=text.strip(), time_s=moment))
    except (ValidationError, ValueError) as exc:
        raise HTTPException(
            422,
            f"a note needs some text (at most {NOTE_MAX:,} characters)"
            if isinstance(exc, ValidationError)
            else "the note's moment is not a number of seconds.",
        ) from None
    return _back(f"/interviews/{i.id}", "note-added")


@router.post("/interviews/{interview_id}/notes/{note_id}/delete")
def delete_note(
    interview_id: str, note_id: str, request: Request, user: Me, session: Db, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    operations.delete_note(session, user, interview_id, note_id)  # author or admin, audited
    return _back(f"/interviews/{interview_id}", "note-deleted")


@router.post("/interviews/{interview_id}/overrides")
def add_override(
    interview_id: str,
    request: Request,
    user: Me,
    session: Db,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
    segment_index: Annotated[int, Form()] = -1,
    label: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        body = NewOverride(segment_index=segment_index, label=label, reason=reason.strip())
    except ValidationError as exc:
        raise HTTPException(422, _problem(exc)) from None
    operations.add_override(session, settings, user, interview_id, body)
    return _back(f"/interviews/{interview_id}", "override-added")


@router.post("/interviews/{interview_id}/acknowledge")
def acknowledge(
    interview_id: str, request: Request, user: Me, session: Db, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    operations.acknowledge(session, user, interview_id)
    return _back(f"/interviews/{interview_id}", "acknowledged")


# --- admin -----------------------------------------------------------------------------------------------------------


@router.get("/admin/users")
def users(request: Request, user: Admin, session: Db) -> Response:
    return render(
        request, "admin_users.html", user, "Users", "users", users=operations.org_users(session, user), form={}
    )


@router.post("/admin/users")
def add_user(
    request: Request,
    user: Admin,
    session: Db,
    csrf_token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        body = NewUser.model_validate({"email": email.strip(), "role": role, "password": password})
        operations.create_user(session, user, body)
    except (ValidationError, FacecueError) as exc:
        message = _problem(exc)
        if isinstance(exc, ValidationError):  # never echo what was typed into the password field
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
            message = f"Check {', '.join(fields)}: an e-mail address, a role, and a password of at least 8 characters."
        return render(
            request,
            "admin_users.html",
            user,
            "Users",
            "users",
            status_code=422,
            users=operations.org_users(session, user),
            form={"email": email, "role": role},
            messages=[("error", message)],
        )
    return _back("/admin/users", "user-added")


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: str,
    user: Admin,
    session: Db,
    csrf_token: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        operations.change_role(session, user, user_id, RoleChange.model_validate({"role": role}).role)
    except (FacecueError, ValidationError) as exc:
        return render(
            request,
            "admin_users.html",
            user,
            "Users",
            "users",
            status_code=http_status(exc) if isinstance(exc, FacecueError) else 422,
            users=operations.org_users(session, user),
            form={},
            messages=[("error", _problem(exc))],
        )
    return _back("/admin/users", "role-changed")


@router.get("/admin/audit")
def audit_page(request: Request, user: Admin, session: Db) -> Response:
    check = audit.verify(session)
    events = operations.latest_audit_entries(session, user, limit=300)
    emails = {u.id: u.email for u in operations.org_users(session, user)}
    return render(request, "admin_audit.html", user, "Audit log", "audit", check=check, events=events, emails=emails)


@router.get("/admin/erasures")
def erasures(request: Request, user: Admin, session: Db, settings: CurrentSettings) -> Response:
    now = datetime.now(UTC)
    rows = []
    for r in operations.erasure_requests(session, user):
        state = "done" if r.done_at else ("overdue" if now > r.deadline else "pending")
        left = None if r.done_at else (r.deadline - now).total_seconds() / 86400
        rows.append((r, state, left, session.get(Candidate, r.candidate_id) if r.candidate_id else None))
    table = [(region, [(p, decide(p, region)) for p in PURPOSES]) for region in REGIONS]
    kept = operations.retained_videos(session, settings, user)
    return render(
        request,
        "admin_erasures.html",
        user,
        "Deletion deadlines",
        "erasures",
        rows=rows,
        retention_override=settings.retention_days,
        table=table,
        kept=kept,
        now=now,
    )


@router.post("/admin/retention")
def retention_now(
    request: Request,
    user: Admin,
    session: Db,
    database: CurrentDatabase,
    settings: CurrentSettings,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    operations.run_retention(session, database, settings, user)
    return _back("/admin/erasures", "retention-run")
