"""200 short generated videos, one pool worker SIGKILLed mid-run: no lost and no duplicated results.

Three scenarios, each a real `facecue batch --workers 2` subprocess:
  retry  - default retries: the batch itself redoes the interrupted interviews and finishes all of them;
  resume - --retries 0: the interrupted interviews are recorded as failed, a second run completes
           exactly those and skips the rest;
  ray    - `--ray local`: a Ray worker process is killed instead; Ray retries its task (skipped
           when ray is not installed).
Checks after each: one summary row per video, one published folder per video (named by its sha256,
holding a complete result.json), no `.partial-*` folder left, and the killed worker really died.
Usage: python bench/batch_faults.py [--videos 200] [--kill-at 0.5] [--scenario retry|resume|ray|all]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from batch_tools import distinct_copies, pool_workers, practice_args, ray_task_workers, read_summary

ROOT = Path(__file__).resolve().parent.parent


def batch_cmd(folder: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "facecue.cli",
        "batch",
        str(folder),
        "-o",
        str(out),
        "--workers",
        "2",
        *practice_args(out.parent),
        *extra,
    ]


def run_with_kill(folder: Path, out: Path, kill_after: int, *extra: str) -> tuple[int, int, float]:
    """Run the batch; SIGKILL one worker once `kill_after` interviews are published. (exit code, pid, seconds)"""
    started = time.perf_counter()
    proc = subprocess.Popen(batch_cmd(folder, out, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    killed = 0
    while proc.poll() is None and not killed:
        published = sum(1 for p in out.glob("interview*") if (p / "result.json").exists()) if out.exists() else 0
        find = ray_task_workers if "--ray" in extra else pool_workers
        workers = find(proc.pid) if published >= kill_after else []
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
            print(f"  killed worker {killed} after {published} interviews were published")
        time.sleep(0.02)
    proc.communicate()
    return proc.returncode, killed, time.perf_counter() - started


def check(out: Path, videos: list[Path]) -> list[str]:
    """Problems found (empty = none lost, none duplicated, nothing half-written)."""
    problems = []
    rows = read_summary(out)
    paths = [r["path"] for r in rows]
    if sorted(paths) != sorted(str(v) for v in videos):
        problems.append(f"summary rows: {len(rows)} for {len(videos)} videos, {len(set(paths))} distinct")
    folders = [p for p in out.iterdir() if p.is_dir()]
    partial = [p.name for p in folders if p.name.startswith(".")]
    if partial:
        problems.append(f"partial folders left: {partial}")
    published = [p for p in folders if not p.name.startswith(".")]
    if len(published) != len(videos):
        problems.append(f"{len(published)} result folders for {len(videos)} videos")
    for folder in published:
        try:
            sha = json.loads((folder / "result.json").read_text())["source"]["sha256"]
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"{folder.name}: unreadable result.json ({exc})")
            continue
        if not folder.name.endswith(sha[:12]) or not (folder / "frames.csv").exists():
            problems.append(f"{folder.name}: does not hold its own complete result")
    outputs = [r["output"] for r in rows if r["output"]]
    if len(outputs) != len(set(outputs)):
        problems.append("two summary rows point at the same result folder")
    return problems


def scenario(name: str, folder: Path, videos: list[Path], work: Path, kill_at: float) -> bool:
    out = work / f"out_{name}"
    shutil.rmtree(out, ignore_errors=True)
    extra = {"resume": ("--retries", "0"), "ray": ("--ray", "local")}.get(name, ())
    code, killed, seconds = run_with_kill(folder, out, int(len(videos) * kill_at), *extra)
    rows = read_summary(out)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed")}
    retried = sum(int(r["attempts"]) > 1 for r in rows)
    print(f"  run 1: exit {code}, {seconds:.1f} s, {counts}, interviews redone after the kill: {retried}")
    ok = bool(killed) and not Path(f"/proc/{killed}").exists()
    if name == "resume":
        failed = {r["path"] for r in rows if r["status"] == "failed"}
        again = subprocess.run(batch_cmd(folder, out), check=False, capture_output=True, cwd=ROOT)
        rows2 = read_summary(out)
        done2 = {r["path"] for r in rows2 if r["status"] == "done"}
        print(
            f"  run 2: exit {again.returncode}, redone {len(done2)} (the {len(failed)} failed ones: "
            f"{'yes' if done2 == failed else 'NO'}), skipped {sum(r['status'] == 'skipped' for r in rows2)}"
        )
        ok = ok and code == 1 and bool(failed) and done2 == failed and again.returncode == 0
    else:  # Ray retries inside its scheduler, so attempts stay 1 in the summary there
        ok = ok and code == 0 and counts["done"] == len(videos) and (retried >= 1 or name == "ray")
    problems = check(out, videos)
    for p in problems:
        print(f"  PROBLEM: {p}")
    ok = ok and not problems
    print(f"  {name}: {'no lost or duplicated results' if ok else 'FAILED'}")
    return ok


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction published before the kill")
    parser.add_argument("--scenario", default="all", choices=["retry", "resume", "ray", "all"])
    args = parser.parse_args(argv)
    from facecue.io.sample import make_sample_video

    work = ROOT / "build" / "bench" / "batch_faults"
    base = work / "base_320x180_2s.mp4"
    if not base.exists():
        make_sample_video(base, seconds=2.0, fps=15, size=(320, 180))
    folder = work / f"in_{args.videos}"
    videos = distinct_copies(base, folder, args.videos)
    print(f"{args.videos} videos of 2 s, 320x180; 2 workers; one killed with SIGKILL mid-run")
    names = ["retry", "resume", "ray"] if args.scenario == "all" else [args.scenario]
    if "ray" in names and importlib.util.find_spec("ray") is None:
        print("scenario ray skipped: ray is not installed (pip install -e '.[ray]')")
        names.remove("ray")
    results = {}
    for name in names:
        print(f"scenario {name}:")
        results[name] = scenario(name, folder, videos, work, args.kill_at)
    return results


if __name__ == "__main__":
    sys.exit(0 if all(main().values()) else 1)
