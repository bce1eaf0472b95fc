"""Analysis jobs in the database: enqueue, claim, heartbeat, finish, fail, cancel and recover.

A job belongs to the worker whose `claim_token` it carries. Every state change after the claim is a conditional
UPDATE on (id, claim_token, status='running'), so a worker that lost its job (cancelled, or taken back after its
heartbeat went stale) can never write over the job's new owner, and a result is committed at most once.
Claiming is one UPDATE of the oldest queued job (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write lock
serialises it), checked by its row count, so two workers never claim the same job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facecue.service import audit
from facecue.service.db import Database
from facecue.service.models import Interview, Job


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    job_id: str
    token: str
    interview_id: str
    attempt: int


def enqueue(session: Session, interview: Interview, max_attempts: int) -> Job:
    job = Job(interview_id=interview.id, status="queued", max_attempts=max_attempts, run_after=now())
    session.add(job)
    session.flush()
    return job


def claim(db: Database, worker_id: str) -> Claim | None:
    """Take the oldest queued job that is due, or None."""
    token = secrets.token_hex(16)
    with db.session() as s:
        t = now()
        oldest = (
            select(Job.id)
            .where(Job.status == "queued", Job.run_after <= t)
            .order_by(Job.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        taken = s.execute(
            update(Job)
            .where(Job.id == oldest, Job.status == "queued")
            .values(
                status="running",
                claim_token=token,
                worker_id=worker_id,
                heartbeat_at=t,
                started_at=t,
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return None
        job = s.scalars(select(Job).where(Job.claim_token == token)).one()
        s.execute(
            update(Interview).where(Interview.id == job.interview_id).values(status="running", progress=0.0, error=None)
        )
        return Claim(job.id, token, job.interview_id, job.attempts)


def _mine(c: Claim):
    return (Job.id == c.job_id, Job.claim_token == c.token, Job.status == "running")


def heartbeat(db: Database, c: Claim, progress: float) -> str:
    """Record that the job is alive: 'ok', 'cancel' (someone asked to stop it) or 'lost' (no longer ours)."""
    with db.session() as s:
        job = s.scalars(select(Job).where(*_mine(c))).one_or_none()
        if job is None:
            return "lost"
        if job.cancel_requested:
            return "cancel"
        job.heartbeat_at = now()
        s.execute(
            update(Interview)
            .where(Interview.id == c.interview_id, Interview.status == "running")
            .values(progress=round(min(max(progress, 0.0), 1.0), 4))
        )
        return "ok"


def finish(db: Database, c: Claim, commit_files, summary: dict | None) -> bool:
    """Mark the job done, if it is still ours and not cancelled; `commit_files()` moves the outputs into place
    inside the same transaction. False when the job was lost (the outputs are then the caller's to discard)."""
    with db.session() as s:
        t = now()
        done = s.execute(
            update(Job)
            .where(*_mine(c), Job.cancel_requested.is_(False))
            .values(status="done", finished_at=t, heartbeat_at=t)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            return False
        result_dir = commit_files()
        interview = s.get(Interview, c.interview_id)
        interview.status, interview.progress, interview.error = "done", 1.0, None
        interview.result_dir, interview.summary, interview.finished_at = result_dir, summary, t
        audit.record(
            s,
            actor="worker",
            action="analysed",
            org_id=interview.org_id,
            details={"interview": interview.id, "attempt": c.attempt, "purpose": interview.purpose},
        )
        return True


def fail(db: Database, c: Claim, reason: str, transient: bool) -> str:
    """A failed attempt: re-queued with a back-off when transient and tries are left, else failed with `reason`.
    A job whose cancellation was asked for ends 'cancelled' instead.
    Returns the job's new status ('queued', 'failed', 'cancelled', or 'lost' when it was no longer ours)."""
    with db.session() as s:
        job = s.scalars(select(Job).where(*_mine(c))).one_or_none()
        if job is None:
            return "lost"
        t = now()
        interview = s.get(Interview, c.interview_id)
        if job.cancel_requested:  # asked to stop: that, not the failure, is how it ends
            job.status, job.finished_at, job.claim_token = "cancelled", t, None
            interview.status, interview.error, interview.finished_at = (
                "cancelled",
                "cancelled before the analysis finished",
                t,
            )
            return "cancelled"
        if transient and job.attempts < job.max_attempts:
            job.status, job.claim_token, job.worker_id = "queued", None, None
            job.run_after, job.error = t + timedelta(seconds=5 * job.attempts), reason
            interview.status, interview.progress = "queued", 0.0
            return "queued"
        if transient:
            reason = f"{reason} (gave up after {job.attempts} attempts)"
        job.status, job.error, job.finished_at, job.claim_token = "failed", reason, t, None
        interview.status, interview.error, interview.finished_at = "failed", reason, t
        return "failed"


def mark_cancelled(db: Database, c: Claim) -> bool:
    with db.session() as s:
        t = now()
        n = s.execute(
            update(Job)
            .where(*_mine(c))
            .values(status="cancelled", finished_at=t, claim_token=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if n == 1:
            s.execute(
                update(Interview)
                .where(Interview.id == c.interview_id)
                .values(status="cancelled", error="cancelled before the analysis finished", finished_at=t)
            )
        return n == 1


def recover_stale(db: Database, stale_s: float, own_worker: str | None = None) -> dict[str, int]:
    """Take back running jobs whose worker stopped sending heartbeats: re-queue them while tries are left,
    else fail them with the reason. Cancellation asked of a dead worker's job is honoured here.
    own_worker: the caller's id; its own jobs are alive by definition (it tends them itself)."""
    counts = {"requeued": 0, "failed": 0, "cancelled": 0}
    with db.session() as s:
        t = now()
        query = select(Job).where(Job.status == "running", Job.heartbeat_at < t - timedelta(seconds=stale_s))
        if own_worker is not None:
            query = query.where(Job.worker_id != own_worker)
        stale = s.scalars(query.with_for_update(skip_locked=True)).all()
        for job in stale:
            interview = s.get(Interview, job.interview_id)
            job.claim_token, job.worker_id = None, None
            if job.cancel_requested:
                job.status, job.finished_at = "cancelled", t
                interview.status, interview.error = "cancelled", "cancelled before the analysis finished"
                counts["cancelled"] += 1
            elif job.attempts < job.max_attempts:
                job.status, job.run_after = "queued", t
                job.error = "the worker stopped during the analysis; queued again"
                interview.status, interview.progress = "queued", 0.0
                counts["requeued"] += 1
            else:
                reason = (
                    f"the worker stopped (killed or crashed) during the analysis {job.attempts} times; "
                    "the video may be too large or damaged for this machine"
                )
                job.status, job.error, job.finished_at = "failed", reason, t
                interview.status, interview.error, interview.finished_at = "failed", reason, t
                counts["failed"] += 1
    return counts


def request_cancel(session: Session, interview: Interview) -> str:
    """Stop an interview's analysis: a queued job is cancelled now, a running one by its worker (or, when that
    worker is gone, by recovery). Returns the interview's status afterwards."""
    for job in session.scalars(
        select(Job).where(Job.interview_id == interview.id, Job.status.in_(("queued", "running")))
    ):
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", now()
            interview.status, interview.error = "cancelled", "cancelled before the analysis started"
        else:
            job.cancel_requested = True
    return interview.status
