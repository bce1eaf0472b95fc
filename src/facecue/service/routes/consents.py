"""Notices and consents: `GET /candidates/{id}/notice`, `POST/GET /candidates/{id}/consents`,
`POST /consents/{id}/withdraw`."""

from __future__ import annotations

from fastapi import APIRouter

from facecue.service import operations, schemas
from facecue.service.deps import CurrentSettings, Db, Me
from facecue.service.models import Candidate

router = APIRouter(tags=["consent"])


@router.get("/candidates/{candidate_id}/notice")
def notice(
    candidate_id: str, purpose: str, user: Me, session: Db, jurisdiction: str | None = None
) -> schemas.NoticeOut:
    """The notice the candidate must read before consenting (plain text and HTML)."""
    c = operations.owned(session, Candidate, candidate_id, user)
    n = operations.notice(user, c, purpose, jurisdiction)
    return schemas.NoticeOut(
        version=n.version,
        policy_version=n.policy_version,
        purpose=n.purpose,
        jurisdiction=n.jurisdiction,
        sha256=n.sha256,
        text=n.text,
        html=n.html,
    )


@router.post("/candidates/{candidate_id}/consents", status_code=201)
def record_consent(
    candidate_id: str, body: schemas.NewConsent, user: Me, session: Db, settings: CurrentSettings
) -> schemas.ConsentOut:
    """Record that the candidate agreed to the current notice for this purpose and jurisdiction."""
    return schemas.ConsentOut.of(operations.record_consent(session, settings, user, candidate_id, body))


@router.get("/candidates/{candidate_id}/consents")
def list_consents(candidate_id: str, user: Me, session: Db) -> list[schemas.ConsentOut]:
    c = operations.owned(session, Candidate, candidate_id, user)
    return [schemas.ConsentOut.of(x) for x in operations.consents_of(session, c)]


@router.post("/consents/{consent_id}/withdraw")
def withdraw_consent(consent_id: str, user: Me, session: Db, settings: CurrentSettings) -> schemas.WithdrawnConsent:
    """Withdraw a consent: queued analyses under it are cancelled and running ones stopped."""
    x, stopped = operations.withdraw_consent(session, settings, user, consent_id)
    return schemas.WithdrawnConsent(**dict(schemas.ConsentOut.of(x)), stopped_interviews=stopped)
