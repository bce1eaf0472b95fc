"""`facecue batch`: many interviews in one command, one process per core, resumable, never stopped by one bad file.

Each interview's outputs go to OUTDIR/<name>-<first 12 hex of its sha256>/. An interview whose
folder already holds a result.json for the same content is skipped, so a batch that was killed
picks up where it stopped. Errors are recorded per interview in the summary; the batch goes on.
"""

from __future__ import annotations

import csv
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from facecue.errors import FacecueError, InputError
from facecue.io.images import is_image_path
from facecue.io.source import sha256_file

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".flv", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv"}
SUMMARY_FIELDS = ["path", "status", "output", "sha256", "seconds", "frames_analysed", "face_presence", "abstained",
                  "dominant", "other_people", "error"]


@dataclass
class Job:
    path: str
    candidate: str = ""
    purpose: str = ""


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
    error: str = ""


def read_manifest(manifest: Path) -> list[Job]:
    """A CSV with a `path` column (optional `candidate`, `purpose`; relative paths from the CSV's
    folder) or a folder, whose video files are taken recursively in sorted order."""
    if manifest.is_dir():
        return [Job(str(p)) for p in sorted(manifest.rglob("*"))
                if p.is_file() and (p.suffix.lower() in VIDEO_SUFFIXES or is_image_path(p))]
    if not manifest.is_file():
        raise InputError(f"{manifest} does not exist.")
    with manifest.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(f"{manifest} must be a CSV with a 'path' column (or a folder of videos).")
        jobs = []
        for line, row in enumerate(reader, start=2):
            if not (row.get("path") or "").strip():
                raise InputError(f"{manifest}, line {line}: the path is empty.")
            path = Path(row["path"].strip())
            path = path if path.is_absolute() else manifest.parent / path
            jobs.append(Job(str(path), (row.get("candidate") or "").strip(), (row.get("purpose") or "").strip()))
    return jobs


def output_dir(out_root: Path, path: Path, sha256: str) -> Path:
    return out_root / f"{path.stem}-{sha256[:12]}"


def _already_done(folder: Path, sha256: str) -> bool:
    try:
        return json.loads((folder / "result.json").read_text())["source"]["sha256"] == sha256
    except (OSError, ValueError, KeyError, TypeError):
        return False


_ANALYZER = None  # one per worker process: models load once, not once per interview


def _init_worker(options: dict) -> None:
    global _ANALYZER
    from facecue.options import AnalyzeOptions
    from facecue.pipeline import Analyzer

    _ANALYZER = Analyzer(AnalyzeOptions(**options))


def analyse_one(job: Job, out_root: str) -> Outcome:
    """Analyse one interview in this worker; every failure becomes an Outcome, never an exception."""
    from facecue.outputs import write_outputs

    path = Path(job.path)
    try:
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file.")
        digest = sha256_file(path)
        folder = output_dir(Path(out_root), path, digest)
        if _already_done(folder, digest):
            return Outcome(job.path, "skipped", str(folder), digest)
        result = _ANALYZER.analyze(path)
        write_outputs(result, folder)
        s = result.summary
        return Outcome(job.path, "done", str(folder), digest, s["processing_s"], s["frames_analysed"],
                       s["face_presence"], s["abstained"], s["dominant"], len(s["other_people"]))
    except FacecueError as exc:
        return Outcome(job.path, "failed", error=str(exc))
    except Exception as exc:  # a bug or a codec crash in one file must not end the batch
        return Outcome(job.path, "failed", error=f"{type(exc).__name__}: {exc}")


def run_batch(jobs: list[Job], out_root: Path, workers: int | None = None, options: dict | None = None,
              progress: bool = False) -> list[Outcome]:
    """Analyse every job with a process pool; write OUTDIR/summary.csv and summary.json; return the outcomes."""
    out_root.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    outcomes: dict[int, Outcome] = {}
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(options or {},)) as pool:
        futures = {pool.submit(analyse_one, job, str(out_root)): i for i, job in enumerate(jobs)}
        for future in tqdm(as_completed(futures), total=len(futures), unit="interview", disable=not progress):
            outcomes[futures[future]] = future.result()
    ordered = [outcomes[i] for i in range(len(jobs))]
    write_summary(ordered, out_root)
    return ordered


def write_summary(outcomes: list[Outcome], out_root: Path) -> None:
    rows = [asdict(o) for o in outcomes]
    with (out_root / "summary.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    (out_root / "summary.json").write_text(json.dumps({"counts": counts, "interviews": rows}, indent=1))
