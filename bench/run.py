"""The whole performance suite in one command (`make bench`): each benchmark, then one table of ratios.

Every benchmark runs as its own subprocess (its output streams through) and times its baseline in
the same run; this script picks the headline ratios out of their output. Skip any with its flag.
The robustness benchmark needs FER2013 (`--fer-data PATH`) and is skipped without it.
Usage: python bench/run.py [--no-classifier] [--no-pipeline] [--no-fer] [--no-interview] [--no-service]
                           [--no-scaling] [--no-faults]
                           [--fer-data fer2013.csv.gz] [--quick] [--markdown build/bench/summary.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (benchmark, what, regex on its output, how to show the number, target)
RATIOS = {
    "classifier": [
        ("int8 batch 1, ms per face (default)", r"^\S+\.onnx: batch 1 ([\d.]+) ms", "{} ms", "<= 2.5 ms"),
        ("int8 batch 256, faces per s (default)", r"^\S+\.onnx: batch 1 .*batch 256 (\d+) faces/s", "{}", ">= 600"),
    ],
    # v1 ships its float32 twin, so the gain of int8 inference is measured on it (v2 packages only int8)
    "classifier_v1": [
        ("int8 vs float32, batch-1 latency (v1)", r"batch-1 latency x([\d.]+)", "{}x", ""),
        ("int8 vs float32, batch-256 throughput (v1)", r"batch-256 throughput x([\d.]+)", "{}x", ""),
    ],
    "pipeline": [
        (
            "pipeline, x real time (720p)",
            r"facecue analyze .*= ([\d.]+)x real time",
            "{}x",
            ">= 15x (#15), >= 20x (#14)",
        ),
        ("pipeline / decode-only time", r"default \(emotions \+ behaviour\): ratio to decode-only ([\d.]+)", "{}", ""),
        ("facecue vs fer package, same clip", r"facecue is ([\d.]+)x faster", "{}x", ">= 10x"),
        ("peak memory, 60 s / 600 s clip", r"peak memory: (\d+ MB for \d+ s, \d+ MB)", "{}", "flat"),
    ],
    "robustness": [
        (
            "accuracy, loose photos aligned",
            r"loose 307 px photos, aligned \(--align auto\)\s+default\s+accuracy ([\d.]+)",
            "{}",
            "",
        ),
    ],
    "interview_overhead": [
        (
            "interview analysis + report, share of analyze",
            r"interview analysis \+ report: [+-][\d.]+ s = ([+-][\d.]+%)",
            "{}",
            "< 5%",
        ),
    ],
    "load_service": [
        ("service: result reads per s (50 clients)", r"result reads: \d+ \(([\d.]+)/s\)", "{}/s", ""),
        ("service: errors under load", r"^errors: (\d+)", "{}", "0"),
    ],
    "batch_scaling": [
        (
            "batch: 2 workers vs 1 (one core)",
            r"vs 1 worker on one core: median ([\d.]+x, spread [\d.-]+x)",
            "{}",
            ">= 1.8x",
        ),
        (
            "batch: 2 workers vs 1 (both cores)",
            r"vs 1 worker on both cores: median ([\d.]+x, spread [\d.-]+x)",
            "{}",
            "",
        ),
        ("batch: CPU per interview, 2 workers / 1", r"2 workers / 1 worker on one core: ([\d.]+)", "{}", "~1.0"),
        ("batch: interviews per hour, 2 workers", r"2 workers: best ([\d,]+) interviews/h", "{}", ""),
    ],
    "batch_faults": [
        ("worker killed: batch retries", r"retry: (no lost or duplicated results|FAILED)", "{}", "none lost"),
        ("worker killed: re-run resumes", r"resume: (no lost or duplicated results|FAILED)", "{}", "none lost"),
        ("Ray worker killed: Ray retries", r"ray: (no lost or duplicated results|FAILED)", "{}", "none lost"),
    ],
}


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], check=False, capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )


def run(name: str, args: list[str]) -> tuple[str, int]:
    """Run one benchmark script, echoing its output; (output, exit code)."""
    print(
        f"\n=== {name}: python bench/{args[0]} {' '.join(args[1:])}  (load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / args[0]), *args[1:]],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = []
    for line in proc.stdout:
        print("  " + line, end="", flush=True)
        lines.append(line)
    code = proc.wait()
    print(f"  ({time.perf_counter() - started:.0f} s)")
    return "".join(lines), code


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("classifier", "pipeline", "fer", "interview", "service", "scaling", "faults"):
        parser.add_argument(f"--no-{name}", action="store_true", help=f"skip the {name} benchmark")
    parser.add_argument("--fer-data", help="FER2013 CSV for the robustness benchmark (skipped without it)")
    parser.add_argument("--quick", action="store_true", help="smaller runs: a first look, not figures to quote")
    parser.add_argument("--markdown", help="also write the summary table to this file")
    args = parser.parse_args()

    plan: list[tuple[str, list[str]]] = []
    if not args.no_classifier:
        quick = ["--seconds", "1"] if args.quick else []
        plan.append(("classifier", ["classifier.py", *quick]))
        plan.append(("classifier_v1", ["classifier.py", "--model", "v1", *quick]))
    if not args.no_pipeline:
        plan.append(
            (
                "pipeline",
                ["pipeline.py"]
                + (["--no-fer"] if args.no_fer else [])
                + (["--seconds", "20", "--long-factor", "1"] if args.quick else []),
            )
        )
    if args.fer_data:
        plan.append(("robustness", ["robustness.py", "--data", args.fer_data]))
    if not args.no_interview:
        plan.append(
            (
                "interview_overhead",
                ["interview_overhead.py"] + (["--minutes", "2", "--repeat", "1"] if args.quick else []),
            )
        )
    if not args.no_service:
        if importlib.util.find_spec("fastapi") is None:
            print("service benchmark skipped: the service extra is not installed (pip install -e '.[service]')")
        else:
            plan.append(("load_service", ["load_service.py"] + (["--seconds", "15"] if args.quick else [])))
    if not args.no_scaling:
        plan.append(
            ("batch_scaling", ["batch_scaling.py"] + (["--videos", "8", "--repeats", "1"] if args.quick else []))
        )
    if not args.no_faults:
        plan.append(("batch_faults", ["batch_faults.py"] + (["--videos", "40"] if args.quick else [])))

    rows, failures = [], []
    for name, argv in plan:
        out, code = run(name, argv)
        if code != 0:
            failures.append(name)
        for what, pattern, shown, target in RATIOS[name]:
            found = re.search(pattern, out, re.MULTILINE)
            rows.append((what, shown.format(found.group(1)) if found else "n/a", target, f"bench/{argv[0]}"))
    if not args.fer_data:
        rows.append(("robustness (needs --fer-data)", "skipped", "", "bench/robustness.py"))

    table = ["| measurement | result | target | benchmark |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | `{d}` |" for a, b, c, d in rows]
    print(f"\nmachine: {machine()}; load average now {os.getloadavg()[0]:.1f}\n" + "\n".join(table))
    if failures:
        print(f"benchmarks that exited with an error: {', '.join(failures)}")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(f"Machine: {machine()}\n\n" + "\n".join(table) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
