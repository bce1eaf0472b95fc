"""The audit log, erasure requests and retention: `GET /audit`, `GET /audit/verify`, `GET/POST /erasure-requests`,
`POST /retention/run`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from facecue.service import audit, operations, schemas
from facecue.service.deps import Admin, CurrentDatabase, CurrentSettings, Db, Me

router = APIRouter()


@router.get("/audit", tags=["audit"])
def audit_log(
    user: Admin,
    session: Db,
    after: Annotated[int, Query(ge=-1, le=2**31 - 1)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[schemas.AuditEntry]:
    """This organisation's audit entries, oldest first, numbered 0, 1, ... among themselves, after number `after`."""
    return [schemas.AuditEntry.of(e, n) for e, n in operations.audit_entries(session, user, after, limit)]


@router.get("/audit/verify", tags=["audit"])
def audit_verify(user: Admin, session: Db) -> schemas.AuditVerification:
    v = audit.verify(session)
    # The chain is shared by every organisation: say whether it holds, never how many entries it has.
    return schemas.AuditVerification(
        ok=v.ok, first_bad_seq=v.first_bad_seq, reason="chain intact" if v.ok else v.reason
    )


@router.post("/erasure-requests", status_code=201, tags=["erasure"])
def request_erasure(
    body: schemas.NewErasureRequest, user: Me, session: Db, settings: CurrentSettings
) -> schemas.ErasureRequestOut:
    """Record a deletion request; its deadline is the policy's erasure deadline (at most 30 days)."""
    r = operations.request_erasure(session, settings, user, body.candidate_id)
    return schemas.ErasureRequestOut.of(r, r.requested_at)


@router.get("/erasure-requests", tags=["erasure"])
def list_erasure_requests(user: Me, session: Db) -> list[schemas.ErasureRequestOut]:
    t = datetime.now(UTC)
    return [schemas.ErasureRequestOut.of(r, t) for r in operations.erasure_requests(session, user)]


@router.post("/retention/run", tags=["erasure"])
def run_retention(
    user: Admin, session: Db, database: CurrentDatabase, settings: CurrentSettings
) -> schemas.RetentionRun:
    """Delete the organisation's raw videos past their retention now (the worker does every organisation's hourly)."""
    return schemas.RetentionRun(videos_deleted=operations.run_retention(session, database, settings, user))
