"""Retention: raw video is deleted a fixed number of days after its analysis; results and notes are kept.

The number of days is the policy table's media_retention_days for the interview's purpose and jurisdiction,
or FACECUE_RETENTION_DAYS when that is sooner (a deployer may keep video for less time, never for more).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from facecue.governance import decide
from facecue.service import audit
from facecue.service.db import Database
from facecue.service.models import Interview
from facecue.service.settings import Settings


def retention_days(interview: Interview, settings: Settings) -> int:
    days = decide(interview.purpose, interview.jurisdiction).media_retention_days
    return days if settings.retention_days is None else min(days, settings.retention_days)


def apply_retention(db: Database, settings: Settings, now: datetime | None = None, org_id: str | None = None) -> int:
    """Delete every raw video past its retention (only `org_id`'s, when given); returns how many were deleted."""
    now = now or datetime.now(UTC)
    deleted = 0
    q = select(Interview).where(
        Interview.video_path.is_not(None), Interview.status.in_(("done", "failed", "cancelled"))
    )
    if org_id is not None:
        q = q.where(Interview.org_id == org_id)
    with db.session() as s:
        for interview in s.scalars(q):
            ended = interview.finished_at or interview.created_at
            if ended > now - timedelta(days=retention_days(interview, settings)):
                continue
            (settings.media_dir / interview.video_path).unlink(missing_ok=True)
            interview.video_path, interview.video_deleted_at = None, now
            audit.record(
                s,
                actor="retention",
                action="erased",
                org_id=interview.org_id,
                details={"interview": interview.id, "what": "raw video", "reason": "retention period ended"},
            )
            deleted += 1
    return deleted
