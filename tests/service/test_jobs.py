"""Job claiming, heartbeats, recovery, retries and cancellation against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from facecue.errors import FacecueError
from facecue.service import jobs
from facecue.service.db import open_database
from facecue.service.models import Candidate, Interview, Job, Organisation, User
from facecue.service.settings import Settings
from tests.service.conftest import consent, make_candidate, upload


def queue_jobs(db, n: int, max_attempts: int = 3) -> list[str]:
    """n interviews with queued jobs, straight into the database (the video is never opened here)."""
    with db.session() as s:
        org = Organisation(name="Acme Hiring Ltd")
        s.add(org)
        s.flush()
        user = User(org_id=org.id, email="admin@a.example", role="admin", password_hash="x")
        cand = Candidate(org_id=org.id, external_ref="cand-0001", jurisdiction="US")
        s.add_all([user, cand])
        s.flush()
        ids = []
        for k in range(n):
            i = Interview(
                org_id=org.id,
                candidate_id=cand.id,
                purpose="assessment",
                jurisdiction="US",
                folder=f"interviews/x{k}",
                video_path=None,
                video_sha256="0" * 64,
                video_bytes=0,
                created_by=user.id,
            )
            s.add(i)
            s.flush()
            ids.append(jobs.enqueue(s, i, max_attempts).id)
        return ids


def test_concurrent_claims_take_each_job_once(settings):
    db = open_database(settings.database_url)
    db.migrate()
    queued = queue_jobs(db, 12)
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (c := jobs.claim(db, name)) is not None:
            with lock:
                claimed.append(c.job_id)

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(queued)  # every job once, none twice
    with db.session() as s:
        assert {j.status for j in s.scalars(select(Job))} == {"running"}
        assert {i.status for i in s.scalars(select(Interview))} == {"running"}


def test_stale_jobs_are_requeued_then_failed(settings):
    db = open_database(settings.database_url)
    db.migrate()
    (job_id,) = queue_jobs(db, 1, max_attempts=2)
    for attempt in (1, 2):
        c = jobs.claim(db, "doomed")
        assert c is not None and c.attempt == attempt
        assert jobs.heartbeat(db, c, 0.4) == "ok"
        with db.session() as s:  # the worker dies: its heartbeat stops
            s.execute(update(Job).values(heartbeat_at=jobs.now() - timedelta(seconds=60)))
        assert jobs.heartbeat(db, c, 0.5) == "ok"  # still ours until someone recovers it ...
        with db.session() as s:
            s.execute(update(Job).values(heartbeat_at=jobs.now() - timedelta(seconds=60)))
        counts = jobs.recover_stale(db, stale_s=10)
        assert counts == (
            {"requeued": 1, "failed": 0, "cancelled": 0}
            if attempt == 1
            else {"requeued": 0, "failed": 1, "cancelled": 0}
        )
        assert jobs.heartbeat(db, c, 0.6) == "lost"  # ... and then the old worker can never write to it again
        assert jobs.finish(db, c, lambda: "never", None) is False
    with db.session() as s:
        job = s.get(Job, job_id)
        interview = s.get(Interview, job.interview_id)
        assert job.status == "failed" and interview.status == "failed"
        assert "stopped (killed or crashed) during the analysis 2 times" in interview.error


def test_transient_failures_retry_with_backoff(settings):
    db = open_database(settings.database_url)
    db.migrate()
    (job_id,) = queue_jobs(db, 1, max_attempts=2)
    c = jobs.claim(db, "w")
    assert jobs.fail(db, c, "the analysis process ended unexpectedly (exit code -9)", transient=True) == "queued"
    assert jobs.claim(db, "w") is None  # backing off
    with db.session() as s:
        s.execute(update(Job).values(run_after=jobs.now() - timedelta(seconds=1)))
    c2 = jobs.claim(db, "w")
    assert c2.attempt == 2
    assert jobs.fail(db, c2, "the analysis process ended unexpectedly (exit code -9)", transient=True) == "failed"
    with db.session() as s:
        assert "gave up after 2 attempts" in s.get(Job, job_id).error


def test_bad_input_fails_without_retry(settings):
    db = open_database(settings.database_url)
    db.migrate()
    (job_id,) = queue_jobs(db, 1)
    c = jobs.claim(db, "w")
    assert jobs.fail(db, c, "the video is damaged", transient=False) == "failed"
    with db.session() as s:
        assert s.get(Job, job_id).attempts == 1 and s.get(Interview, c.interview_id).error == "the video is damaged"


def test_cancel_running_job_reaches_its_worker(settings):
    db = open_database(settings.database_url)
    db.migrate()
    queue_jobs(db, 1)
    c = jobs.claim(db, "w")
    with db.session() as s:
        assert jobs.request_cancel(s, s.get(Interview, c.interview_id)) == "running"
    assert jobs.heartbeat(db, c, 0.3) == "cancel"
    assert jobs.finish(db, c, lambda: "never", None) is False  # a cancelled job never becomes done
    assert jobs.mark_cancelled(db, c)
    with db.session() as s:
        assert s.get(Interview, c.interview_id).status == "cancelled"


def test_withdrawing_consent_cancels_queued_analysis(client, org_a, settings, sample_video):
    from facecue.service.worker import Worker

    h = org_a["admin"]
    cand = make_candidate(client, h)
    c = consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    r = client.post(f"/api/v1/consents/{c['id']}/withdraw", headers=h).json()
    assert r["stopped_interviews"] == [iid]
    assert client.get(f"/api/v1/interviews/{iid}", headers=h).json()["status"] == "cancelled"
    Worker(settings).run(once=True)  # nothing left to run
    status = client.get(f"/api/v1/interviews/{iid}", headers=h).json()
    assert status["status"] == "cancelled" and status["job"]["attempts"] == 0


def test_the_library_gate_in_the_worker_refuses_consent_withdrawn_after_queueing(client, org_a, settings, sample_video):
    """The API cancels jobs when consent is withdrawn through it; a withdrawal that reaches the database another way
    (another process, a race with the claim) is still refused: the worker hands the interview's purpose, jurisdiction
    and the consent row (as a ConsentRecord) to the library, which checks them right before decoding."""
    from facecue.service.models import Consent
    from facecue.service.worker import Worker

    h = org_a["admin"]
    kept = make_candidate(client, h, ref="cand-0042")
    consent(client, h, kept["id"])
    ok = upload(client, h, kept["id"], sample_video).json()["id"]
    gone = make_candidate(client, h, ref="cand-0043")
    withdrawn = consent(client, h, gone["id"])
    refused = upload(client, h, gone["id"], sample_video).json()["id"]
    db = open_database(settings.database_url)
    with db.session() as s:  # straight into the database: no cancel request reaches the queued job
        s.execute(update(Consent).where(Consent.id == withdrawn["id"]).values(withdrawn_at=jobs.now()))
    Worker(settings).run(once=True)
    status = client.get(f"/api/v1/interviews/{refused}", headers=h).json()
    assert status["status"] == "failed" and status["error"].startswith("the consent was withdrawn at ")
    assert status["job"]["attempts"] == 1  # a refusal is final, not retried
    with db.session() as s:
        done, failed = s.get(Interview, ok), s.get(Interview, refused)
        assert done.status == "done" and failed.result_dir is None and failed.summary is None
        policy = done.summary["policy"]  # the library's own decision, recorded in the result
        assert (policy["purpose"], policy["jurisdiction"], policy["allowed"]) == ("assessment", "US", True)
        assert policy["share_with_reviewers"] is True
    assert not list((settings.media_dir / failed.folder).glob(".attempt-*"))
    assert not (settings.media_dir / failed.folder / "result").exists()


def test_the_worker_analyses_with_the_configured_emotion_model(client, org_a, settings, sample_video, monkeypatch):
    """FACECUE_EMOTION_MODEL=v1 keeps a deployment's new analyses comparable with those made before the default
    changed to v2; a model that does not load stops the service at start-up with one sentence."""
    from facecue.service.worker import Worker

    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    Worker(replace(settings, emotion_model="v1")).run(once=True)
    db = open_database(settings.database_url)
    with db.session() as s:
        done = s.get(Interview, iid)
        assert done.status == "done"
        result = json.loads((settings.media_dir / done.result_dir / "result.json").read_text())
    assert result["models"]["emotion"]["version"] == "0.1.0"  # v1, not the default's 2.3.0

    monkeypatch.setenv("FACECUE_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("FACECUE_EMOTION_MODEL", "v1")
    assert Settings.from_env().to_env()["FACECUE_EMOTION_MODEL"] == "v1"
    monkeypatch.setenv("FACECUE_EMOTION_MODEL", "nosuch")
    with pytest.raises(FacecueError, match="FACECUE_EMOTION_MODEL: no model named 'nosuch'"):
        Settings.from_env()
