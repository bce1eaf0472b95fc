"""The per-interview work of `facecue batch`, run inside a worker process (the local pool's or a Ray task's).

`facecue.batch` (the driver and its process pool) and `facecue.batch_ray` (Ray tasks) both hand jobs to
`analyse_one` here; this module imports neither of them, so the two drivers do not import each other.
Outputs appear atomically: `_publish` writes into a hidden `.partial-…` folder and renames it into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from facecue.errors import FacecueError, InputError
from facecue.io.source import sha256_file

PARTIAL_PREFIX = ".partial-"


@dataclass
class Job:
    path: str
    candidate: str = ""
    purpose: str = ""
    jurisdiction: str = ""
    consent: str = ""  # the consent record's JSON path ("" for none)
    row: str = ""  # where the job came from, for messages ("manifest row 3"); "" -> its place in the list
    questions: str = ""  # the question timeline's path ("" for none): with it or a transcript, the interview section
    transcript: str = ""  # the transcript's path ("" for none)
    signals: str = ""  # what to read for this row, e.g. "behaviour" ("" for the batch's --signals)


@dataclass
class Outcome:
    path: str
    status: str  # done, skipped or failed
    output: str = ""
    sha256: str = ""
    seconds: float = 0.0
    frames_analysed: int = 0
    face_presence: float | None = None
    abstained: float | None = None
    dominant: str | None = None
    other_people: int = 0
    attempts: int = 1  # processes that started on it (more than 1 after a worker died; Ray retries unseen)
    cpu_s: float = 0.0  # CPU time of the worker (all its threads) on this interview, outputs included
    error: str = ""


def output_dir(out_root: Path, path: Path, sha256: str) -> Path:
    return out_root / f"{path.stem}-{sha256[:12]}"


INPUTS_FILE = "batch-inputs.json"  # the content hashes of a row's questions and transcript, beside its result


def _wanted(job: Job, digest: str, analyzer) -> dict:
    """What shapes this row's result: the content, the emotion model, the analysis options, the policy row and
    the interview files' content. A folder whose result was made from anything else is redone."""

    def content(path: str) -> str | None:
        if not path:
            return None
        return sha256_file(Path(path)) if Path(path).is_file() else "missing"  # missing: _interview says why

    return {
        "sha256": digest,
        "emotion_sha256": analyzer.model.info.sha256 if analyzer.model is not None else None,
        "options": json.loads(json.dumps(analyzer.options.to_dict())),
        "purpose": job.purpose,
        "jurisdiction": job.jurisdiction.strip().upper(),
        "questions_sha256": content(job.questions),
        "transcript_sha256": content(job.transcript),
    }


def _recorded(folder: Path) -> dict | None:
    """The same as _wanted, read from a finished folder (None: no readable result.json there)."""
    try:
        done = json.loads((folder / "result.json").read_text())
        inputs = json.loads((folder / INPUTS_FILE).read_text()) if (folder / INPUTS_FILE).exists() else {}
        policy = done["summary"].get("policy") or {}
        return {
            "sha256": done["source"]["sha256"],
            "emotion_sha256": ((done.get("models") or {}).get("emotion") or {}).get("sha256"),
            "options": done["options"],
            "purpose": policy.get("purpose"),
            "jurisdiction": policy.get("jurisdiction"),
            "questions_sha256": inputs.get("questions_sha256"),
            "transcript_sha256": inputs.get("transcript_sha256"),
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _already_done(folder: Path, wanted: dict) -> bool:
    """A result.json made from exactly what this row asks for. A result of another emotion model is redone, so a
    batch resumed after a model change (the default became v2 on 2026-12-05) is not a mix of two; so is one read
    with other options (--fps, signals), for another purpose or jurisdiction, or with other interview files."""
    return _recorded(folder) == wanted


_ANALYZER = None  # one per worker process: models load once, not once per interview
_ANALYZER_OPTIONS: dict | None = None


def usable_cores() -> int:
    """Cores this process may run on (an affinity mask or a container's cpuset counts, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def limit_threads(workers: int) -> None:
    """Give each worker its share of the cores for OpenCV's thread pool: with a worker per core, more
    threads than cores only add switching. onnxruntime and LiteRT already get AnalyzeOptions.threads (1)."""
    import cv2

    share = max(1, usable_cores() // max(1, workers))
    cv2.setNumThreads(share)
    os.environ["OMP_NUM_THREADS"] = str(share)


def _analyzer(options: dict):
    global _ANALYZER, _ANALYZER_OPTIONS
    if _ANALYZER is None or options != _ANALYZER_OPTIONS:
        from facecue.options import AnalyzeOptions
        from facecue.pipeline import Analyzer

        _ANALYZER, _ANALYZER_OPTIONS = Analyzer(AnalyzeOptions(**options)), dict(options)
    return _ANALYZER


def _init_worker(options: dict, workers: int, cores=None) -> None:
    if cores is not None:  # one worker per core: each keeps its core (and its caches) for itself
        with contextlib.suppress(Exception):  # no core left or no affinity support: run unpinned
            os.sched_setaffinity(0, {cores.get(timeout=5)})  # not get_nowait: puts reach the pipe in a thread
    limit_threads(workers)
    _analyzer(options)


def _publish(result, folder: Path, wanted: dict, subject_id: str | None) -> None:
    """Write the outputs beside the final folder, then rename them into place in one step."""
    from facecue.outputs import write_outputs

    partial = folder.with_name(f"{PARTIAL_PREFIX}{folder.name}-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    write_outputs(result, partial, subject_id, also_written=(INPUTS_FILE,))
    inputs = {k: wanted[k] for k in ("questions_sha256", "transcript_sha256")}
    (partial / INPUTS_FILE).write_text(json.dumps(inputs, indent=1))
    if _already_done(folder, wanted):  # the same row listed twice: keep the first
        shutil.rmtree(partial, ignore_errors=True)
        return
    if folder.exists():  # left by an attempt that did not finish, or a result made from other inputs
        shutil.rmtree(folder)
    os.rename(partial, folder)


def _subject(job: Job) -> str | None:
    """The row's subject id, from its consent record (None without one)."""
    from facecue.governance import ConsentRecord

    return ConsentRecord.load(Path(job.consent)).subject_id if job.consent else None


def _interview(job: Job):
    """The row's interview inputs, or None for a row without a question timeline or transcript (whose result has
    no interview section, as before these columns existed)."""
    if not (job.questions or job.transcript):
        return None
    from facecue.governance import ConsentRecord
    from facecue.interview.request import InterviewRequest

    subject = ConsentRecord.load(Path(job.consent)).subject_id if job.consent else None
    return InterviewRequest.load(
        job.path, job.questions or None, job.transcript or None, subject_id=subject, purpose=job.purpose or None
    )


def analyse_one(job: Job, out_root: str, options: dict | None = None) -> Outcome:
    """Analyse one interview in this worker; every failure becomes an Outcome, never an exception."""
    path = Path(job.path)
    try:
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file.")
        digest = sha256_file(path)
        folder = output_dir(Path(out_root), path, digest)
        options = dict(options or {})
        if job.signals:  # the row's own choice (read_manifest checked it)
            options["signals"] = job.signals.split(",")
        analyzer = _analyzer(options)  # loaded once per worker; its model and options decide what counts as done
        wanted = _wanted(job, digest, analyzer)
        if _already_done(folder, wanted):
            return Outcome(job.path, "skipped", str(folder), digest)
        cpu = time.process_time()  # one interview at a time per worker process, so this is its own
        interview = _interview(job)  # parses the questions and transcript first: mistakes show before decoding
        subject = _subject(job)  # for the manifest that lets `facecue erase` find the outputs
        # The driver decided every row already; this checks again right before decoding (consent withdrawn since).
        result = analyzer.analyze(
            path,
            purpose=job.purpose or None,
            jurisdiction=job.jurisdiction or None,
            consent=job.consent or None,
            interview=interview,
        )
        _publish(result, folder, wanted, subject)
        s = result.summary
        return Outcome(
            job.path,
            "done",
            str(folder),
            digest,
            s.processing_s,
            s.frames_analysed,
            s.face_presence,
            s.abstained if result.emotions else None,  # behaviour only: no emotion figure at all
            s.dominant,
            len(s.other_people),
            cpu_s=round(time.process_time() - cpu, 3),
        )
    except FacecueError as exc:
        return Outcome(job.path, "failed", error=str(exc))
    except Exception as exc:  # a bug or a codec crash in one file must not end the batch
        return Outcome(job.path, "failed", error=f"{type(exc).__name__}: {exc}")


def worker_died(job: Job, attempts: int, how: str) -> Outcome:
    return Outcome(
        job.path,
        "failed",
        attempts=attempts,
        error=f"the {how} analysing it died {attempts} times (killed or crashed); run the batch again to retry it.",
    )
