"""Reviewing an interview: `POST /interviews/{id}/acknowledge`, notes (`GET/POST /interviews/{id}/notes`,
`DELETE /interviews/{id}/notes/{note_id}`) and overrides (`GET/POST /interviews/{id}/overrides`)."""

from __future__ import annotations

from fastapi import APIRouter

from facecue.service import operations, schemas
from facecue.service.deps import CurrentSettings, Db, Me

router = APIRouter(tags=["review"])


@router.post("/interviews/{interview_id}/acknowledge")
def acknowledge(interview_id: str, user: Me, session: Db) -> schemas.InterviewOut:
    """The reviewer confirms they read the limits of the analysis; the assessment report stops being a draft."""
    return schemas.InterviewOut.of(operations.acknowledge(session, user, interview_id), user.is_admin)


@router.get("/interviews/{interview_id}/notes")
def list_notes(interview_id: str, user: Me, session: Db) -> list[schemas.NoteOut]:
    i = operations.visible_interview(session, user, interview_id)  # notes are about the results: the same people
    return [schemas.NoteOut.of(n) for n in operations.notes_of(session, i)]


@router.post("/interviews/{interview_id}/notes", status_code=201)
def add_note(interview_id: str, body: schemas.NewNote, user: Me, session: Db) -> schemas.NoteOut:
    """A reviewer's note, optionally at a moment of the video (0 <= time_s <= 7 days)."""
    i = operations.visible_interview(session, user, interview_id)
    return schemas.NoteOut.of(operations.add_note(session, user, i, body))


@router.delete("/interviews/{interview_id}/notes/{note_id}")
def delete_note(interview_id: str, note_id: str, user: Me, session: Db) -> schemas.NoteDeleted:
    """Delete a note: its author or an admin (audited)."""
    n = operations.delete_note(session, user, interview_id, note_id)
    return schemas.NoteDeleted(id=n.id, deleted=True)


@router.get("/interviews/{interview_id}/overrides")
def list_overrides(interview_id: str, user: Me, session: Db) -> list[schemas.OverrideOut]:
    i = operations.visible_interview(session, user, interview_id)
    return [schemas.OverrideOut.of(o) for o in operations.overrides_of(session, i)]


@router.post("/interviews/{interview_id}/overrides", status_code=201)
def add_override(
    interview_id: str, body: schemas.NewOverride, user: Me, session: Db, settings: CurrentSettings
) -> schemas.OverrideOut:
    """A reviewer's reading of one segment; the model's label stays in the result beside it."""
    return schemas.OverrideOut.of(operations.add_override(session, settings, user, interview_id, body))
