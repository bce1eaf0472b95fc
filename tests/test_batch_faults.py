"""A worker process SIGKILLed mid-batch: nothing lost, nothing duplicated, nothing half-written.

The batch runs as a real `facecue batch` subprocess with a real process pool; the test finds its
worker processes in /proc (children of the pool's forkserver) and kills one once results appear.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facecue.io.sample import make_sample_video

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find workers")


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def pool_workers(batch_pid: int) -> list[int]:
    """The pool's worker processes: children of the forkserver that the batch process started."""
    workers = []
    for kid in children(batch_pid):
        try:
            if b"forkserver" in Path(f"/proc/{kid}/cmdline").read_bytes():
                workers += children(kid)
        except OSError:
            continue
    return workers


def run_and_kill_one_worker(folder: Path, out: Path, *extra: str) -> tuple[int, int]:
    """Run the batch, SIGKILL one worker as soon as the first interview is published; (exit code, killed pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "facecue.cli", "batch", str(folder), "-o", str(out), "--workers", "2", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    killed = 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not killed:
        published = [p for p in out.glob("clip*") if (p / "result.json").exists()] if out.exists() else []
        workers = pool_workers(proc.pid)
        if published and workers:
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.02)
    proc.communicate(timeout=180)
    return proc.returncode, killed


def summary_rows(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def check_outputs(out: Path, rows: list[dict], n: int) -> None:
    """One row per video, one published folder per video, each complete; no partial folders left."""
    assert len(rows) == n and len({r["path"] for r in rows}) == n
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert [p.name for p in folders if p.name.startswith(".")] == []
    assert len(folders) == n and {r["output"] for r in rows if r["output"]} <= {str(p) for p in folders}
    for folder in folders:
        result = json.loads((folder / "result.json").read_text())
        assert folder.name.endswith(result["source"]["sha256"][:12])
        assert 14 <= len(result["frames"]["time_s"]) <= 16  # 3 s at 5 fps
        assert (folder / "frames.csv").read_text().count("\n") >= 16 and (folder / "report.html").stat().st_size > 0


@pytest.fixture(scope="module")
def videos(tmp_path_factory, model_files):
    folder = tmp_path_factory.mktemp("faults") / "in"
    for i in range(6):  # distinct content (so distinct sha256): each clip has its own frame rate
        make_sample_video(folder / f"clip{i}.mp4", seconds=3.0, fps=8 + i, size=(320, 180))
    return folder


def test_killed_worker_is_retried_without_loss_or_duplicates(videos, tmp_path, practice_args):
    out = tmp_path / "out"
    code, killed = run_and_kill_one_worker(videos, out, *practice_args)
    assert killed, "no worker was found to kill"
    assert code == 0
    rows = summary_rows(out)
    assert {r["status"] for r in rows} == {"done"}  # the batch finished every interview itself
    assert max(int(r["attempts"]) for r in rows) == 2  # at least one interview was interrupted and redone
    check_outputs(out, rows, 6)


def test_without_retries_the_lost_interview_is_failed_then_resumed(videos, tmp_path, practice_args):
    out = tmp_path / "out"
    code, killed = run_and_kill_one_worker(videos, out, "--retries", "0", *practice_args)
    assert killed and code == 1
    first = {r["path"]: r for r in summary_rows(out)}
    failed = [p for p, r in first.items() if r["status"] == "failed"]
    assert failed and all("died 1 times" in first[p]["error"] for p in failed)
    assert [p.name for p in out.iterdir() if p.name.startswith(".partial")] == []
    # The re-run completes exactly the interviews that were lost, and skips the rest.
    assert (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "facecue.cli",
                "batch",
                str(videos),
                "-o",
                str(out),
                "--workers",
                "2",
                *practice_args,
            ],
            check=False,
            capture_output=True,
        ).returncode
        == 0
    )
    second = {r["path"]: r for r in summary_rows(out)}
    assert {p for p, r in second.items() if r["status"] == "done"} == set(failed)
    assert {p for p, r in second.items() if r["status"] == "skipped"} == set(first) - set(failed)
    check_outputs(out, list(second.values()), 6)
