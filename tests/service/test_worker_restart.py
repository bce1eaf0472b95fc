"""Kill -9 a real worker process in the middle of an analysis, start another: the job completes once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from facecue.service.models import AuditEvent, Interview, Job
from tests.service.conftest import consent, make_candidate, upload


@pytest.fixture(scope="session")
def long_video(tmp_path_factory, model_files) -> Path:
    from facecue.io.sample import make_sample_video

    return make_sample_video(tmp_path_factory.mktemp("long") / "long.mp4", seconds=16.0, fps=15, size=(640, 360))


def start_worker(settings) -> subprocess.Popen:
    env = {**os.environ, **settings.to_env(), "FACECUE_ANALYSIS_FPS": "10", "FACECUE_WORKER_HEARTBEAT_S": "0.3"}
    return subprocess.Popen(
        [sys.executable, "-m", "facecue.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def descendants_of(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_job_completes_once(client, org_a, settings, long_video, app):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], long_video).json()["id"]

    def state():
        with app.state.db.session() as s:
            i = s.get(Interview, iid)
            return i.status, i.progress

    first = start_worker(settings)
    try:
        wait_for(lambda: state()[0] == "running" and state()[1] >= 0.1, 120, "the analysis to make progress")
        progress_at_kill = state()[1]
        analysers = descendants_of(first.pid)
        assert len(analysers) >= 2, "the worker runs its analysis in a child of its fork server"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # The analysis dies with its worker: nothing keeps running or writing.
        wait_for(lambda: not any(alive(p) for p in analysers), 15, "the worker's children to end")
    finally:
        if first.poll() is None:
            first.kill()
    assert state()[0] == "running" and progress_at_kill < 1.0  # killed mid-job

    second = start_worker(settings)
    try:
        wait_for(lambda: state()[0] in ("done", "failed"), 240, "the job to finish after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert second.returncode == 0  # SIGTERM is a clean stop

    with app.state.db.session() as s:
        interview = s.get(Interview, iid)
        jobs = s.scalars(select(Job).where(Job.interview_id == iid)).all()
        analysed = [e for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "analysed"))]
    assert interview.status == "done", interview.error
    assert len(jobs) == 1 and jobs[0].attempts == 2 and jobs[0].status == "done"
    assert len(analysed) == 1 and analysed[0].details["attempt"] == 2  # one result, from the second attempt
    folder = settings.media_dir / "interviews" / iid
    assert sorted(p.name for p in folder.iterdir()) == ["result", "subject.json", "video.mp4"]  # no half attempt
    result = json.loads((folder / "result" / "result.json").read_text())
    assert result["summary"]["service"] == {"interview": iid, "attempt": 2}
    assert result["summary"]["frames_analysed"] >= 150  # the whole video, not the part before the kill
    r = client.get(f"/api/v1/interviews/{iid}/result", headers=h)
    assert r.status_code == 200 and r.json()["summary"]["frames_analysed"] == result["summary"]["frames_analysed"]


def test_killed_worker_leaves_no_attempt_and_erasure_finds_none(client, org_a, settings, long_video, app):
    """As under `facecue serve`, the killed worker is not reaped at once (it stays a zombie); its analysis child
    must still end before writing anything, and the candidate's erasure must find no attempt folder left."""
    h = org_a["admin"]
    cand = make_candidate(client, h, name="Zed Attempt")
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], long_video).json()["id"]
    folder = settings.media_dir / "interviews" / iid

    def progress():
        with app.state.db.session() as s:
            return s.get(Interview, iid).progress

    worker = start_worker(settings)
    try:
        wait_for(lambda: progress() >= 0.1, 120, "the analysis to make progress")
        analysers = descendants_of(worker.pid)
        os.kill(worker.pid, signal.SIGKILL)  # no wait(): the worker stays a zombie for now
        wait_for(lambda: not any(alive(p) for p in analysers), 15, "the worker's children to end")
    finally:
        worker.kill()
        worker.wait(10)
    time.sleep(2)
    assert not list(folder.glob(".attempt-*/result.json")) and not list(folder.glob(".attempt-*/frames.csv"))
    r = client.delete(f"/api/v1/candidates/{cand['id']}", headers=h)
    assert r.status_code == 200 and r.json()["verified"] is True and not folder.exists()


def test_erasure_reports_a_result_left_in_an_attempt_folder(client, org_a, settings, sample_video, app, monkeypatch):
    """A result that lands after the erasure removed the folder (an analysis that outlived its worker) is found."""
    from facecue.service import erasure

    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    folder = settings.media_dir / "interviews" / iid
    real_remove = erasure.remove_folder

    def remove_then_late_write(path):
        real_remove(path)
        (path / ".attempt-0123").mkdir(parents=True)
        (path / ".attempt-0123" / "result.json").write_text('{"summary": {}}')  # pseudonymous: no name in it

    monkeypatch.setattr(erasure, "remove_folder", remove_then_late_write)
    r = client.delete(f"/api/v1/candidates/{cand['id']}", headers=h)
    assert r.status_code == 200 and r.json()["verified"] is False
    assert any(".attempt-0123" in p for p in r.json()["remaining"])
    assert folder.exists()


def test_cancel_after_the_last_heartbeat_ends_cancelled(client, org_a, settings, sample_video, app):
    """The analysis finishes before the worker's next heartbeat sees the cancel request: the job must end
    cancelled, not stay running (the worker used to log "result discarded" and leave it)."""
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]

    def status():
        with app.state.db.session() as s:
            return s.get(Interview, iid).status

    env = {**os.environ, **settings.to_env(), "FACECUE_WORKER_HEARTBEAT_S": "100000"}  # no heartbeat after the first
    worker = subprocess.Popen(
        [sys.executable, "-m", "facecue.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: status() == "running", 120, "the worker to start the analysis")
        assert client.post(f"/api/v1/interviews/{iid}/cancel", headers=h).json()["cancel_requested"] is True
        wait_for(lambda: status() != "running", 180, "the job to end")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    assert status() == "cancelled"
    with app.state.db.session() as s:
        job = s.scalars(select(Job).where(Job.interview_id == iid)).one()
        assert job.status == "cancelled" and job.claim_token is None
    folder = settings.media_dir / "interviews" / iid
    assert not (folder / "result").exists() and not list(folder.glob(".attempt-*"))
