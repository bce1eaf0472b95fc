"""`facecue batch`: many interviews in one command, one process per core, resumable, never stopped by one bad file.

Each interview's outputs go to OUTDIR/<name>-<first 12 hex of its sha256>/. An interview whose
folder already holds a result.json made from the same inputs (content, emotion model, options, purpose and
jurisdiction, and the questions' and transcript's content) is skipped, so a batch that was killed picks up where
it stopped (and one run again with another model or --fps redoes everything).
Errors are recorded per interview in the summary; the batch goes on.

Outputs appear atomically: a worker writes into a hidden `.partial-…` folder and renames it into
place, so a worker killed mid-write leaves no half-written result. When a worker process dies
(killed, out of memory, a crash in native code) the interviews it was running are tried again, up
to `retries` more times, then recorded as failed; a re-run of the batch tries them again.
`--ray` runs the same `analyse_one` as Ray tasks instead (facecue.batch_ray); the per-interview work
both run lives in facecue.batch_worker.

Every interview is an analysis of a person: each row names its purpose, jurisdiction and (where the policy
table requires it, which is every row today) the subject's consent record. The policy decides every row before
any worker starts, so one refused row stops the whole batch with nothing analysed; each worker checks its row
again right before decoding (a consent withdrawn meanwhile is refused there).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from facecue.batch_worker import (  # the worker side, shared with facecue.batch_ray; re-exported for callers
    PARTIAL_PREFIX,
    Job,
    Outcome,
    _init_worker,
    analyse_one,
    output_dir,
    usable_cores,
    worker_died,
)
from facecue.errors import FacecueError, InputError, OutputError
from facecue.governance import Decision, PolicyError, policy_for
from facecue.io.images import is_image_path
from facecue.options import SIGNALS, check_signals
from facecue.outputs import check_writable

__all__ = [
    "DEFAULT_RETRIES",
    "PARTIAL_PREFIX",
    "SUMMARY_FIELDS",
    "VIDEO_SUFFIXES",
    "Job",
    "Outcome",
    "analyse_one",
    "decide_jobs",
    "output_dir",
    "read_manifest",
    "run_batch",
    "usable_cores",
    "worker_died",
    "write_summary",
]

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".flv", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv"}
SUMMARY_FIELDS = [
    "path",
    "status",
    "output",
    "sha256",
    "seconds",
    "frames_analysed",
    "face_presence",
    "abstained",
    "dominant",
    "other_people",
    "attempts",
    "cpu_s",
    "error",
]
DEFAULT_RETRIES = 2  # extra attempts for an interview whose worker process died


def read_manifest(manifest: Path, purpose: str = "", jurisdiction: str = "", consent: str = "") -> list[Job]:
    """A CSV with a `path` column (optional `candidate`, `purpose`, `jurisdiction`, `consent`, `signals` (what to
    read for that row: "emotions,behaviour" or "behaviour"), and `questions` and `transcript` for the interview
    section; relative paths, the consent record's, questions' and transcript's
    included, from the CSV's folder) or a folder, whose video files are taken recursively
    in sorted order. purpose, jurisdiction and consent (a path from the current folder) fill the rows that leave
    them empty, and every file of a folder."""
    default_consent = str(Path(consent).absolute()) if consent else ""
    if manifest.is_dir():
        return [
            Job(str(p), purpose=purpose, jurisdiction=jurisdiction, consent=default_consent, row=str(p))
            for p in sorted(manifest.rglob("*"))
            if p.is_file() and (p.suffix.lower() in VIDEO_SUFFIXES or is_image_path(p))
        ]
    if not manifest.is_file():
        raise InputError(f"{manifest} does not exist.")
    if manifest.suffix.lower() in VIDEO_SUFFIXES or is_image_path(manifest):
        raise InputError(
            f"{manifest} is a video or image: batch takes a CSV manifest or a folder (facecue analyze takes one file)."
        )
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark, which is not part of 'path'
        with manifest.open(encoding="utf-8-sig", newline="") as handle:
            jobs = _manifest_rows(manifest, handle, purpose, jurisdiction, default_consent)
    except (UnicodeDecodeError, csv.Error):
        raise InputError(
            f"{manifest} is not a CSV in UTF-8 (save it as 'CSV UTF-8'), nor a folder of videos."
        ) from None
    return jobs


def _manifest_rows(manifest: Path, handle, purpose: str, jurisdiction: str, default_consent: str) -> list[Job]:
    """The jobs of an open manifest (read_manifest)."""
    reader = csv.DictReader(handle)
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise InputError(f"{manifest} must be a CSV with a 'path' column (or a folder of videos).")
    jobs = []
    for line, row in enumerate(reader, start=2):
        columns = ("path", "candidate", "purpose", "jurisdiction", "consent", "questions", "transcript", "signals")
        cell = {k: (row.get(k) or "").strip() for k in columns}
        if not cell["path"]:
            raise InputError(f"{manifest}, line {line}: the path is empty.")
        if cell["signals"]:
            try:
                cell["signals"] = ",".join(check_signals(cell["signals"]))
            except FacecueError as exc:
                raise InputError(f"{manifest}, line {line}: {exc}") from None
        jobs.append(
            Job(
                _beside(manifest, cell["path"]),
                cell["candidate"],
                cell["purpose"] or purpose,
                cell["jurisdiction"] or jurisdiction,
                _beside(manifest, cell["consent"]) if cell["consent"] else default_consent,
                row=f"manifest row {line - 1}",
                questions=_beside(manifest, cell["questions"]) if cell["questions"] else "",
                transcript=_beside(manifest, cell["transcript"]) if cell["transcript"] else "",
                signals=cell["signals"],
            )
        )
    return jobs


def _beside(manifest: Path, value: str) -> str:
    """A path from the manifest: absolute as given, else from the CSV's folder (so any worker can open it)."""
    path = Path(value)
    return str(path if path.is_absolute() else manifest.parent.absolute() / path)


def decide_jobs(jobs: list[Job], signals=SIGNALS) -> list[Decision]:
    """The policy's decision for every job (reading its own signals, else `signals`), or PolicyError naming the
    first row it refuses (and why)."""
    decisions = []
    for n, job in enumerate(jobs, start=1):
        where = job.row or f"manifest row {n}"
        missing = [name for name in ("purpose", "jurisdiction") if not getattr(job, name)]
        if missing:
            raise PolicyError(
                f"{where}: no {' or '.join(missing)}; say why and where each interview is analysed "
                "with purpose and jurisdiction columns (practice, research or assessment; e.g. DE, "
                "US-IL, OTHER) or --purpose/--jurisdiction for every row; see docs/RESPONSIBLE_USE.md."
            )
        try:
            asked = job.signals.split(",") if job.signals else signals
            decisions.append(policy_for(job.purpose, job.jurisdiction, job.consent or None, signals=asked))
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None
    return decisions


# --- the driver --------------------------------------------------------------------------------------------------


def _core_slots(context, workers: int):
    """A queue of core ids, one per worker, when there are exactly as many workers as cores; else None."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None
    if workers < 2 or workers != len(cores):
        return None
    slots = context.Queue()
    for core in cores:
        slots.put(core)
    return slots


def run_batch(
    jobs: list[Job],
    out_root: Path,
    workers: int | None = None,
    options: dict | None = None,
    progress: bool = False,
    ray_address: str | None = None,
    retries: int = DEFAULT_RETRIES,
) -> list[Outcome]:
    """Analyse every job with a process pool (or Ray tasks when ray_address is given); write
    OUTDIR/summary.csv and summary.json; return the outcomes in the jobs' order.

    The policy decides every job first: PolicyError for the first refused one, before anything is analysed."""
    if workers is not None and workers < 1:
        raise FacecueError("--workers must be at least 1.")
    decide_jobs(jobs, (options or {}).get("signals") or SIGNALS)
    if out_root.exists() and not out_root.is_dir():
        raise OutputError(f"the output folder {out_root} is a file; name a folder with -o.")
    check_writable(out_root)  # made, and written to, before any analysis rather than after all of them
    _clear_partials(out_root)
    options = options or {}
    with tqdm(total=len(jobs), unit="interview", disable=not progress, dynamic_ncols=True) as bar:
        if ray_address is not None:
            from facecue.batch_ray import run_on_ray

            outcomes = run_on_ray(jobs, out_root, ray_address, options, workers, retries, bar.update)
        else:
            outcomes = _run_pool(jobs, out_root, workers or usable_cores(), options, retries, bar.update)
    _clear_partials(out_root)  # every worker is done: a partial folder left now is a killed worker's, never published
    ordered = [outcomes[i] for i in range(len(jobs))]
    write_summary(ordered, out_root)
    return ordered


def _clear_partials(out_root: Path) -> None:
    """Folders a killed worker was still writing; nothing in them was published."""
    for partial in out_root.glob(PARTIAL_PREFIX + "*"):
        shutil.rmtree(partial, ignore_errors=True)


def _run_pool(
    jobs: list[Job], out_root: Path, workers: int, options: dict, retries: int, advance
) -> dict[int, Outcome]:
    """A process pool with at most `workers` jobs in flight, so that when a worker dies (which breaks the
    whole pool) only the jobs that were running are charged an attempt; they are queued again in a new pool."""
    outcomes: dict[int, Outcome] = {}
    attempts = [0] * len(jobs)
    todo = deque(range(len(jobs)))
    while todo:
        interrupted: list[int] = []
        # forkserver, not fork: a child forked from a parent whose OpenCV/decoder threads already ran can
        # hang in cv2.setNumThreads (seen here), and each worker loads its own models anyway.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(options, workers, _core_slots(context, workers)),
        ) as pool:
            running: dict[Future, int] = {}
            while (todo or running) and not interrupted:
                while todo and len(running) < workers:
                    i = todo.popleft()
                    running[pool.submit(analyse_one, jobs[i], str(out_root), options)] = i
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = running.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        interrupted.append(i)
                    else:
                        outcomes[i] = _counted(future.result(), attempts[i])
                        advance(1)
            if interrupted:  # the pool is broken: every job still in flight fails the same way
                wait(running)
                interrupted += [i for f, i in running.items() if not _finished_ok(f, outcomes, i, attempts, advance)]
        for i in sorted(interrupted, reverse=True):
            attempts[i] += 1
            if attempts[i] > retries:
                outcomes[i] = worker_died(jobs[i], attempts[i], "worker process")
                advance(1)
            else:
                todo.appendleft(i)
    return outcomes


def _counted(outcome: Outcome, failed_attempts: int) -> Outcome:
    outcome.attempts = failed_attempts + 1
    return outcome


def _finished_ok(future: Future, outcomes: dict[int, Outcome], i: int, attempts: list[int], advance) -> bool:
    """A job that finished just before the pool broke keeps its outcome."""
    if isinstance(future.exception(), BrokenProcessPool):
        return False
    outcomes[i] = _counted(future.result(), attempts[i])
    advance(1)
    return True


def write_summary(outcomes: list[Outcome], out_root: Path) -> None:
    rows = [asdict(o) for o in outcomes]
    tmp = out_root / ".summary.csv.tmp"
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out_root / "summary.csv")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    tmp = out_root / ".summary.json.tmp"
    tmp.write_text(json.dumps({"counts": counts, "interviews": rows}, indent=1))
    os.replace(tmp, out_root / "summary.json")
