"""Candidates: `POST/GET /candidates`, `GET/PATCH/DELETE /candidates/{id}`."""

from __future__ import annotations

from fastapi import APIRouter

from facecue.service import operations, schemas
from facecue.service.deps import Admin, CurrentSettings, Db, Me
from facecue.service.models import Candidate

router = APIRouter(tags=["candidates"])


@router.post("/candidates", status_code=201)
def create_candidate(body: schemas.NewCandidate, user: Me, session: Db) -> schemas.CandidateOut:
    return schemas.CandidateOut.of(operations.create_candidate(session, user, body))


@router.get("/candidates")
def list_candidates(user: Me, session: Db) -> list[schemas.CandidateOut]:
    return [schemas.CandidateOut.of(c) for c in operations.list_candidates(session, user)]


@router.get("/candidates/{candidate_id}")
def get_candidate(candidate_id: str, user: Me, session: Db) -> schemas.CandidateDetail:
    c = operations.owned(session, Candidate, candidate_id, user)
    return schemas.CandidateDetail(
        **dict(schemas.CandidateOut.of(c)),
        consents=[schemas.ConsentOut.of(x) for x in operations.consents_of(session, c)],
        interviews=[schemas.InterviewOut.of(i, user.is_admin) for i in operations.interviews_of(session, c)],
    )


@router.delete("/candidates/{candidate_id}")
def erase(candidate_id: str, user: Admin, session: Db, settings: CurrentSettings) -> schemas.ErasureOutcome:
    """Erase the candidate and everything derived from them, then search the database and media folder to prove
    that nothing names them any more (`remaining` lists what still does: it must be empty)."""
    out = operations.erase(session, settings, user, candidate_id)
    return schemas.ErasureOutcome(erased=True, counts=out.counts, remaining=out.remaining, verified=out.verified)


@router.patch("/candidates/{candidate_id}")
def change_candidate(
    candidate_id: str, body: schemas.CandidateChange, user: Admin, session: Db, settings: CurrentSettings
) -> schemas.CandidateOut:
    """Change the candidate's jurisdiction (admin, audited). Consents recorded for the old one no longer cover
    new analyses: those need a consent under the new jurisdiction's rules."""
    return schemas.CandidateOut.of(
        operations.change_jurisdiction(session, settings, user, candidate_id, body.jurisdiction)
    )
