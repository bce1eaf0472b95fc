"""`facecue batch`: many interviews in one command, one process per core, resumable, never stopped by one bad file.

Each interview's outputs go to OUTDIR/<name>-<first 12 hex of its sha256>/. An interview whose
folder already holds a result.json for the same content is skipped, so a batch that was killed
picks up where it stopped. Errors are recorded per interview in the summary; the batch goes on.

Outputs appear atomically: a worker writes into a hidden `.partial-…` folder and renames it into
place, so a worker killed mid-write leaves no half-written result. When a worker process dies
(killed, out of memory, a crash in native code) the interviews it was running are tried again, up
to `retries` more times, then recorded as failed; a re-run of the batch tries them again.
`--ray` runs the same `analyse_one` as Ray tasks instead (facecue.batch_ray).

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
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from facecue.errors import FacecueError, InputError
from facecue.governance import Decision, PolicyError, policy_for
from facecue.io.images import is_image_path
from facecue.io.source import sha256_file

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".flv", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv"}
SUMMARY_FIELDS = ["path", "status", "output", "sha256", "seconds", "frames_analysed", "face_presence", "abstained",
                  "dominant", "other_people", "attempts", "cpu_s", "error"]
PARTIAL_PREFIX = ".partial-"
DEFAULT_RETRIES = 2  # extra attempts for an interview whose worker process died


@dataclass
class Job:
    path: str
    candidate: str = ""
    purpose: str = ""
    jurisdiction: str = ""
    consent: str = ""  # the consent record's JSON path ("" for none)
    row: str = ""      # where the job came from, for messages ("manifest row 3"); "" -> its place in the list


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


def read_manifest(manifest: Path, purpose: str = "", jurisdiction: str = "", consent: str = "") -> list[Job]:
    """A CSV with a `path` column (optional `candidate`, `purpose`, `jurisdiction`, `consent`; relative paths,
    the consent record's included, from the CSV's folder) or a folder, whose video files are taken recursively
    in sorted order. purpose, jurisdiction and consent (a path from the current folder) fill the rows that leave
    them empty, and every file of a folder."""
    default_consent = str(Path(consent).absolute()) if consent else ""
    if manifest.is_dir():
        return [Job(str(p), purpose=purpose, jurisdiction=jurisdiction, consent=default_consent, row=str(p))
                for p in sorted(manifest.rglob("*"))
                if p.is_file() and (p.suffix.lower() in VIDEO_SUFFIXES or is_image_path(p))]
    if not manifest.is_file():
        raise InputError(f"{manifest} does not exist.")
    with manifest.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(f"{manifest} must be a CSV with a 'path' column (or a folder of videos).")
        jobs = []
        for line, row in enumerate(reader, start=2):
            cell = {k: (row.get(k) or "").strip() for k in ("path", "candidate", "purpose", "jurisdiction", "consent")}
            if not cell["path"]:
                raise InputError(f"{manifest}, line {line}: the path is empty.")
            jobs.append(Job(_beside(manifest, cell["path"]), cell["candidate"], cell["purpose"] or purpose,
                            cell["jurisdiction"] or jurisdiction,
                            _beside(manifest, cell["consent"]) if cell["consent"] else default_consent,
                            row=f"manifest row {line - 1}"))
    return jobs


def _beside(manifest: Path, value: str) -> str:
    """A path from the manifest: absolute as given, else from the CSV's folder (so any worker can open it)."""
    path = Path(value)
    return str(path if path.is_absolute() else manifest.parent.absolute() / path)


def decide_jobs(jobs: list[Job]) -> list[Decision]:
    """The policy's decision for every job, or PolicyError naming the first row it refuses (and why)."""
    decisions = []
    for n, job in enumerate(jobs, start=1):
        where = job.row or f"manifest row {n}"
        missing = [name for name in ("purpose", "jurisdiction") if not getattr(job, name)]
        if missing:
            raise PolicyError(f"{where}: no {' or '.join(missing)}; say why and where each interview is analysed "
                              "with purpose and jurisdiction columns (practice, research or assessment; e.g. DE, "
                              "US-IL, OTHER) or --purpose/--jurisdiction for every row; see docs/RESPONSIBLE_USE.md.")
        try:
            decisions.append(policy_for(job.purpose, job.jurisdiction, job.consent or None))
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None
    return decisions


def output_dir(out_root: Path, path: Path, sha256: str) -> Path:
    return out_root / f"{path.stem}-{sha256[:12]}"


def _already_done(folder: Path, sha256: str) -> bool:
    try:
        return json.loads((folder / "result.json").read_text())["source"]["sha256"] == sha256
    except (OSError, ValueError, KeyError, TypeError):
        return False


# --- inside a worker process (local pool or Ray) ---------------------------------------------------------------

_ANALYZER = None          # one per worker process: models load once, not once per interview
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
    if _ANALYZER is None or _ANALYZER_OPTIONS != options:
        from facecue.options import AnalyzeOptions
        from facecue.pipeline import Analyzer

        _ANALYZER, _ANALYZER_OPTIONS = Analyzer(AnalyzeOptions(**options)), dict(options)
    return _ANALYZER


def _init_worker(options: dict, workers: int, cores=None) -> None:
    if cores is not None:  # one worker per core: each keeps its core (and its caches) for itself
        try:
            os.sched_setaffinity(0, {cores.get(timeout=5)})  # not get_nowait: puts reach the pipe in a thread
        except Exception:  # noqa: BLE001 - no core left or no affinity support: run unpinned
            pass
    limit_threads(workers)
    _analyzer(options)


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


def _publish(result, folder: Path) -> None:
    """Write the outputs beside the final folder, then rename them into place in one step."""
    from facecue.outputs import write_outputs

    partial = folder.with_name(f"{PARTIAL_PREFIX}{folder.name}-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    write_outputs(result, partial)
    if _already_done(folder, result.source["sha256"]):  # the same content listed twice: keep the first
        shutil.rmtree(partial, ignore_errors=True)
        return
    if folder.exists():  # left by an attempt that did not finish (no valid result.json)
        shutil.rmtree(folder)
    os.rename(partial, folder)


def analyse_one(job: Job, out_root: str, options: dict | None = None) -> Outcome:
    """Analyse one interview in this worker; every failure becomes an Outcome, never an exception."""
    path = Path(job.path)
    try:
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file.")
        digest = sha256_file(path)
        folder = output_dir(Path(out_root), path, digest)
        if _already_done(folder, digest):
            return Outcome(job.path, "skipped", str(folder), digest)
        cpu = time.process_time()  # one interview at a time per worker process, so this is its own
        # The driver decided every row already; this checks again right before decoding (consent withdrawn since).
        result = _analyzer(options or {}).analyze(path, purpose=job.purpose or None,
                                                  jurisdiction=job.jurisdiction or None, consent=job.consent or None)
        _publish(result, folder)
        s = result.summary
        return Outcome(job.path, "done", str(folder), digest, s["processing_s"], s["frames_analysed"],
                       s["face_presence"], s["abstained"], s["dominant"], len(s["other_people"]),
                       cpu_s=round(time.process_time() - cpu, 3))
    except FacecueError as exc:
        return Outcome(job.path, "failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug or a codec crash in one file must not end the batch
        return Outcome(job.path, "failed", error=f"{type(exc).__name__}: {exc}")


def worker_died(job: Job, attempts: int, how: str) -> Outcome:
    return Outcome(job.path, "failed", attempts=attempts,
                   error=f"the {how} analysing it died {attempts} times (killed or crashed); "
                         "run the batch again to retry it.")


# --- the driver --------------------------------------------------------------------------------------------------

def run_batch(jobs: list[Job], out_root: Path, workers: int | None = None, options: dict | None = None,
              progress: bool = False, ray_address: str | None = None,
              retries: int = DEFAULT_RETRIES) -> list[Outcome]:
    """Analyse every job with a process pool (or Ray tasks when ray_address is given); write
    OUTDIR/summary.csv and summary.json; return the outcomes in the jobs' order.

    The policy decides every job first: PolicyError for the first refused one, before anything is analysed."""
    if workers is not None and workers < 1:
        raise FacecueError("--workers must be at least 1.")
    decide_jobs(jobs)
    out_root.mkdir(parents=True, exist_ok=True)
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


def _run_pool(jobs: list[Job], out_root: Path, workers: int, options: dict, retries: int,
              advance) -> dict[int, Outcome]:
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
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                 initargs=(options, workers, _core_slots(context, workers))) as pool:
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
