"""Interviews and their results: `POST/GET /interviews`, `GET /interviews/{id}`, its `/result`, `/report` and
`/video`, `POST /interviews/{id}/cancel`, and `GET /jobs`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from facecue.service import operations, schemas
from facecue.service.deps import CurrentSettings, Db, Me
from facecue.service.models import Interview

router = APIRouter()
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; sandbox allow-scripts"
)
_DRAFT_HEADER = {
    "X-Facecue-Draft": {
        "description": "true while an assessment awaits a reviewer's acknowledgement",
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
}
RESULT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "result.json exactly as the analysis wrote it (schema facecue.result/1, see docs/), or "
        "frames.csv with ?format=csv",
        "headers": _DRAFT_HEADER,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "title": "Result",
                    "description": "the facecue.result/1 document",
                    "required": ["schema"],
                    "properties": {"schema": {"type": "string", "const": "facecue.result/1"}},
                    "additionalProperties": True,
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "title": "frames.csv",
                    "description": "one row per analyzed frame per face",
                }
            },
        },
    }
}
REPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the self-contained HTML report",
        "content": {"text/html": {"schema": {"type": "string", "title": "report.html"}}},
    }
}
VIDEO_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the uploaded video",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in (*operations.VIDEO_TYPES.values(), "application/octet-stream")
        },
    },
    206: {
        "description": "the requested byte range of the video",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in (*operations.VIDEO_TYPES.values(), "application/octet-stream")
        },
    },
}


@router.post("/interviews", status_code=201, tags=["interviews"])
def create_interview(
    user: Me,
    session: Db,
    settings: CurrentSettings,
    candidate_id: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    video: Annotated[UploadFile, File()],
    jurisdiction: Annotated[str | None, Form()] = None,
    questions: Annotated[UploadFile | None, File()] = None,
    transcript: Annotated[UploadFile | None, File()] = None,
    signals: Annotated[
        str | None,
        Form(
            description="'emotions,behaviour' (default) or 'behaviour': head, gaze, face and body movement only, "
            "no emotion inferred (the only mode some policy rows allow)"
        ),
    ] = None,
) -> schemas.InterviewQueued:
    """Upload an interview video (multipart) and queue its analysis -> {"id", "status"}."""
    i = operations.create_interview(
        session,
        settings,
        user,
        candidate_id=candidate_id,
        purpose=purpose,
        video=video.file,
        jurisdiction=jurisdiction,
        questions=None if questions is None else operations.TextUpload(questions.file, questions.filename),
        transcript=None if transcript is None else operations.TextUpload(transcript.file, transcript.filename),
        signals=signals,
    )
    return schemas.InterviewQueued(id=i.id, status=i.status)


@router.get("/interviews", tags=["interviews"])
def list_interviews(
    user: Me,
    session: Db,
    status: str | None = None,
    candidate_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[schemas.InterviewOut]:
    interviews = operations.list_interviews(session, user, status, candidate_id, limit)
    return [schemas.InterviewOut.of(i, user.is_admin) for i in interviews]


@router.get("/interviews/{interview_id}", tags=["interviews"])
def interview_status(interview_id: str, user: Me, session: Db) -> schemas.InterviewDetail:
    i = operations.owned(session, Interview, interview_id, user)
    return schemas.InterviewDetail.with_job(i, operations.latest_job(session, i), user.is_admin)


@router.get(
    "/interviews/{interview_id}/result", tags=["results"], response_class=FileResponse, responses=RESULT_RESPONSE
)
def result(
    interview_id: str, user: Me, session: Db, settings: CurrentSettings, format: Literal["json", "csv"] = "json"
) -> Response:
    """The analysis exactly as result.json (or frames.csv with ?format=csv). Header X-Facecue-Draft: true while an
    assessment awaits a reviewer's acknowledgement of its limits."""
    i, folder = operations.result_folder(session, settings, user, interview_id)
    operations.record_view(session, user, i, format)
    headers = {"X-Facecue-Draft": "true" if i.draft else "false", "Cache-Control": "no-store"}
    if format == "csv":
        return FileResponse(
            folder / "frames.csv", media_type="text/csv", headers=headers, filename=f"frames-{i.id}.csv"
        )
    return FileResponse(folder / "result.json", media_type="application/json", headers=headers)


@router.get(
    "/interviews/{interview_id}/report", tags=["results"], response_class=FileResponse, responses=REPORT_RESPONSE
)
def report(interview_id: str, user: Me, session: Db, settings: CurrentSettings) -> Response:
    """The self-contained HTML report, sandboxed by its own Content-Security-Policy."""
    i, folder = operations.result_folder(session, settings, user, interview_id)
    operations.record_view(session, user, i, "html")
    return FileResponse(
        folder / "report.html",
        media_type="text/html",
        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"},
    )


@router.get("/interviews/{interview_id}/video", tags=["results"], response_class=FileResponse, responses=VIDEO_RESPONSE)
def video(interview_id: str, request: Request, user: Me, session: Db, settings: CurrentSettings) -> Response:
    """The uploaded video, for the review page's player (while retention keeps it; 410 after). Byte ranges are
    served; every request is audited."""
    byte_range = request.headers.get("range") or ""
    path = operations.video_file(session, settings, user, interview_id, byte_range)
    _check_range(byte_range, path.stat().st_size)
    return FileResponse(path, media_type=operations.VIDEO_TYPES.get(path.suffix, "application/octet-stream"))


def _check_range(byte_range: str, size: int) -> None:
    """FileResponse answers a bad Range with plain text (400) or an empty body (416): check it first with the same
    parser, so the answer is JSON like every other error (and, rolled back, no view is audited)."""
    if not byte_range:
        return
    try:
        FileResponse._parse_range_header(byte_range, size)
    except MalformedRangeHeader:
        raise HTTPException(400, "the Range header must be a byte range such as bytes=0-1023.") from None
    except RangeNotSatisfiable:
        raise HTTPException(
            416, "the Range header asks for bytes past the end of the video.", {"Content-Range": f"bytes */{size}"}
        ) from None


@router.post("/interviews/{interview_id}/cancel", tags=["interviews"])
def cancel(interview_id: str, user: Me, session: Db) -> schemas.CancelRequested:
    i = operations.cancel(session, user, interview_id)
    return schemas.CancelRequested(id=i.id, status=i.status, cancel_requested=True)


@router.get("/jobs", tags=["interviews"])
def list_jobs(user: Me, session: Db, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[schemas.JobOut]:
    return [schemas.JobOut.of(j, i, user.is_admin) for j, i in operations.list_jobs(session, user, limit)]
