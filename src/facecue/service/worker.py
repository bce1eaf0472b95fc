"""The worker process: claims analysis jobs from the database and runs each in a child process.

The parent loop keeps up to `worker_concurrency` children, sends heartbeats with their progress, stops a child
whose job was cancelled (or taken back), finishes or fails jobs, re-queues transient failures, takes back jobs
of dead workers at start and every few seconds after, and applies the retention rule now and then.

A child runs facecue's real pipeline on the uploaded video and writes result.json, frames.csv and report.html
into `<interview>/.attempt-<token>/`; only the parent, while it still owns the job, moves that folder to
`<interview>/result/` in the transaction that marks the job done, so a result lands once. A child dies with its
worker: it watches a pipe whose only writer is the worker and exits at end-of-file, however the worker ended
(even `kill -9`). The fork server alone cannot tell: every child holds its "alive" pipe, so it outlives the worker,
and PR_SET_PDEATHSIG (also set) fires only when that fork server goes.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import OperationalError

from facecue.service import jobs
from facecue.service.db import Database, configure
from facecue.service.settings import Settings

log = logging.getLogger("facecue.worker")
EXIT_USER_ERROR = 3  # the input itself is bad (FacecueError): retrying cannot help


@dataclass
class Running:
    claim: jobs.Claim
    process: mp.Process
    progress: object  # multiprocessing Value('d')
    attempt_dir: Path
    last_beat: float = 0.0


def _die_with_parent(worker: int, lifeline=None) -> int:
    """Make this process end when its worker does; returns the parent's (the fork server's) pid.

    lifeline: the read end of a pipe only the worker writes to; it reads end-of-file once the worker is gone."""
    parent = os.getppid()
    if lifeline is not None:

        def watch() -> None:
            with contextlib.suppress(EOFError, OSError):
                lifeline.recv()  # nothing is ever sent: this returns only at end-of-file, when the worker is gone
            os._exit(1)  # at once: no clean-up that could still write results

        threading.Thread(target=watch, daemon=True, name="lifeline").start()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    try:
        os.kill(worker, 0)
    except ProcessLookupError:  # the worker died before prctl took effect
        os._exit(1)
    return parent


def analyse_child(
    video: str,
    out_dir: str,
    fps: float,
    progress,
    worker: int,
    extra: dict,
    interview: dict | None = None,
    policy: dict | None = None,
    lifeline=None,
    model: str = "default",
) -> None:
    """Child process body: analyse `video` into `out_dir`; a FacecueError's message goes to out_dir/error.txt.

    interview: {"questions", "transcript", "purpose", "signals"} for the interview section (per-question signals,
    highlights, mismatch), added when facecue.interview is installed; "signals" ("emotions,behaviour" or
    "behaviour") is what the analysis reads, as stored with the interview.
    policy: {"purpose", "jurisdiction", "consent" (a ConsentRecord from the database, or None)}: the library's
    gate decides again right before decoding, so a consent withdrawn since the upload is refused here too.
    """
    parent = _die_with_parent(worker, lifeline)
    from facecue.errors import FacecueError

    out = Path(out_dir)
    try:
        from facecue.options import AnalyzeOptions
        from facecue.outputs import write_outputs
        from facecue.pipeline import Analyzer

        def report(done: int, expected: int | None) -> None:
            """Count frames into the shared progress value as the analyzer reads them; stop with the worker."""
            if os.getppid() != parent:
                os._exit(1)
            progress.value = min(0.99, done / max(expected or 1, 1))

        request = _interview_request(video, interview or {})  # parses questions/transcript first: mistakes show
        signals = tuple(str((interview or {}).get("signals") or "emotions,behaviour").split(","))
        analyzer = Analyzer(AnalyzeOptions(fps=fps, signals=signals, model=model))
        result = analyzer.analyze(video, **(policy or {}), interview=request, on_progress=report)
        if extra:
            result.summary.extra["service"] = extra
        write_outputs(result, out)
    except FacecueError as exc:
        out.mkdir(parents=True, exist_ok=True)
        (out / "error.txt").write_text(str(exc))
        sys.exit(EXIT_USER_ERROR)


def _noop() -> None:
    pass


def _policy_of(session, interview) -> dict | str:
    """The purpose, jurisdiction and consent (as the governance ConsentRecord, read from the database now) the
    analysis runs under, or the reason a consent row cannot become a record."""
    from facecue.governance import PolicyError
    from facecue.service.models import Consent

    row = session.get(Consent, interview.consent_id) if interview.consent_id else None
    try:
        record = row.to_record() if row is not None else None
    except PolicyError as exc:
        return f"the consent on record is not valid: {exc}"
    return {"purpose": interview.purpose, "jurisdiction": interview.jurisdiction, "consent": record}


def _interview_request(video: str, files: dict):
    """The interview inputs for the shared interview step, or None without facecue.interview."""
    try:
        from facecue.interview.request import InterviewRequest
    except ImportError:
        return None
    # No subject id in the result: the service keeps results pseudonymous (the candidate lives in the database).
    # A still upload with questions keeps its result without the section, as the service has always done.
    return InterviewRequest.load(
        video, files.get("questions"), files.get("transcript"), purpose=files.get("purpose"), files_given=False
    )


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None) -> None:
        self.settings = settings
        self.db: Database = configure(settings)
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.running: dict[str, Running] = {}
        # Children fork from a clean server that has imported the pipeline once: no inherited locks, pools or
        # database connections, and no import cost per job.
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(
            ["facecue.pipeline", "facecue.outputs", "facecue.report.html", "facecue.interview"]
        )
        self.stop = threading.Event()
        # Children hold the read end; the worker alone holds the write end, so its death closes the pipe.
        self.lifeline, self._lifeline_w = self.ctx.Pipe(duplex=False)

    def run(self, once: bool = False, idle_exit_s: float | None = None) -> None:
        """Loop until stopped (SIGTERM/SIGINT), or with once=True until nothing is queued or running."""
        # Pay the fork server's start (it imports the pipeline) before claiming a job, so a claimed job's first
        # heartbeat is not late. In a thread: a stop that arrives meanwhile must not wait for those imports.
        warm_up = threading.Thread(target=self._warm_up_fork_server, daemon=True, name="fork-server-warm-up")
        warm_up.start()
        while warm_up.is_alive() and not self.stop.is_set():
            warm_up.join(0.25)
        if self.stop.is_set():
            return
        counts = jobs.recover_stale(self.db, self.settings.worker_stale_s, own_worker=self.id)
        if any(counts.values()):
            log.info("recovered jobs of stopped workers: %s", counts)
        last_recovery = last_retention = time.monotonic()
        idle_since = time.monotonic()
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                self._tend()
                started = self._fill()
                if t - last_recovery > max(1.0, self.settings.worker_stale_s / 2):
                    jobs.recover_stale(self.db, self.settings.worker_stale_s, own_worker=self.id)
                    last_recovery = t
                if t - last_retention > 3600:
                    from facecue.service.retention import apply_retention

                    apply_retention(self.db, self.settings)
                    last_retention = t
            except OperationalError as exc:  # the database went away for a moment: keep the children, try again
                log.warning("database unavailable (%s); retrying", type(exc).__name__)
                self.stop.wait(2.0)
                continue
            if self.running or started:
                idle_since = t
            elif once or (idle_exit_s is not None and t - idle_since > idle_exit_s):
                break
            self.stop.wait(0.25)
        for run in self.running.values():  # stopping: children end, their jobs are recovered later
            run.process.kill()

    def _warm_up_fork_server(self) -> None:
        process = self.ctx.Process(target=_noop)
        process.start()
        process.join()

    def _fill(self) -> bool:
        started = False
        while len(self.running) < self.settings.worker_concurrency:
            claim = jobs.claim(self.db, self.id)
            if claim is None:
                break
            self._start(claim)
            started = True
        return started

    def _start(self, claim: jobs.Claim) -> None:
        from facecue.service.models import Interview
        from facecue.service.storage import interview_folder

        with self.db.session() as s:
            interview = s.get(Interview, claim.interview_id)
            video = interview.video_path if interview is not None else None  # None: erased meanwhile
            media = self.settings.media_dir
            files = (
                {}
                if interview is None
                else {
                    "purpose": interview.purpose,
                    "signals": interview.signals,
                    "questions": str(media / interview.questions_path) if interview.questions_path else None,
                    "transcript": str(media / interview.transcript_path) if interview.transcript_path else None,
                }
            )
            policy = None if interview is None else _policy_of(s, interview)
        if isinstance(policy, str):
            jobs.fail(self.db, claim, policy, transient=False)
            return
        folder = interview_folder(self.settings.media_dir, claim.interview_id)
        if video is None or not (self.settings.media_dir / video).is_file():
            jobs.fail(
                self.db,
                claim,
                "the uploaded video is no longer there (deleted by retention or erasure)",
                transient=False,
            )
            return
        attempt_dir = folder / f".attempt-{claim.token}"
        progress = self.ctx.Value("d", 0.0)
        extra = {"interview": claim.interview_id, "attempt": claim.attempt}
        process = self.ctx.Process(
            target=analyse_child,
            daemon=True,
            args=(
                str(self.settings.media_dir / video),
                str(attempt_dir),
                self.settings.analysis_fps,
                progress,
                os.getpid(),
                extra,
                files,
                policy,
                self.lifeline,
                self.settings.emotion_model,
            ),
        )
        process.start()
        jobs.heartbeat(self.db, claim, 0.0)  # starting may have taken a while: show the job is alive
        self.running[claim.job_id] = Running(claim, process, progress, attempt_dir, time.monotonic())
        log.info("job %s attempt %d started", claim.job_id, claim.attempt)

    def _tend(self) -> None:
        for job_id, run in list(self.running.items()):
            if not run.process.is_alive():
                run.process.join()
                self._finish(run)
                del self.running[job_id]
                continue
            if time.monotonic() - run.last_beat >= self.settings.heartbeat_s:
                run.last_beat = time.monotonic()
                state = jobs.heartbeat(self.db, run.claim, run.progress.value)
                if state != "ok":
                    run.process.kill()
                    run.process.join()
                    if state == "cancel":
                        jobs.mark_cancelled(self.db, run.claim)
                    shutil.rmtree(run.attempt_dir, ignore_errors=True)
                    del self.running[job_id]
                    log.info("job %s stopped: %s", job_id, state)

    def _finish(self, run: Running) -> None:
        code, claim = run.process.exitcode, run.claim
        if code == 0 and (run.attempt_dir / "result.json").is_file():
            import json

            summary = json.loads((run.attempt_dir / "result.json").read_text()).get("summary")
            final = run.attempt_dir.parent / "result"

            def commit_files() -> str:
                if final.exists():  # an attempt whose commit did not go through; the database says it is not done
                    shutil.rmtree(final)
                run.attempt_dir.replace(final)
                for other in run.attempt_dir.parent.glob(".attempt-*"):  # leftovers of dead attempts
                    shutil.rmtree(other, ignore_errors=True)
                return str(final.relative_to(self.settings.media_dir))

            if jobs.finish(self.db, claim, commit_files, summary):
                log.info("job %s done", claim.job_id)
                return
            shutil.rmtree(run.attempt_dir, ignore_errors=True)
            # Cancelled (or consent withdrawn) after the last heartbeat: still ours, so we must end it here;
            # nobody else will (recovery skips a live worker's jobs).
            cancelled = jobs.mark_cancelled(self.db, claim)
            log.info(
                "job %s finished but was %s; result discarded",
                claim.job_id,
                "cancelled" if cancelled else "no longer ours",
            )
            return
        if code == EXIT_USER_ERROR and (run.attempt_dir / "error.txt").is_file():
            # The interview's own file names mean something to the user; the server's folders do not.
            reason = (run.attempt_dir / "error.txt").read_text().strip().replace(f"{run.attempt_dir.parent}/", "")
            status = jobs.fail(self.db, claim, reason, transient=False)
        else:
            status = jobs.fail(
                self.db, claim, f"the analysis process ended unexpectedly (exit code {code})", transient=True
            )
        shutil.rmtree(run.attempt_dir, ignore_errors=True)
        log.info("job %s attempt %d failed -> %s", claim.job_id, claim.attempt, status)


def run_worker(settings: Settings, once: bool = False, idle_exit_s: float | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    configure(settings, migrate=True)
    worker = Worker(settings)

    def _stop(signum, _frame) -> None:
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        worker.run(once=once, idle_exit_s=idle_exit_s)
    except Exception:  # log without request data; the job stays recoverable
        log.error("worker stopped: %s", traceback.format_exc(limit=3))
        raise
