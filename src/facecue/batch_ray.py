"""`facecue batch --ray ADDRESS|auto|local`: the same per-interview function as Ray tasks.

ADDRESS is a running cluster (`ray://head:10001` or `head:6379`), `auto` the cluster this machine
belongs to (RAY_ADDRESS or a local `ray start --head`), `local` a Ray instance started for this batch
on this machine alone. Every node must see the videos and OUTDIR at the same paths (a shared file
system). A task whose worker process dies is retried by Ray (`max_retries`); each worker process keeps
one Analyzer across the tasks it runs, so the models load once per worker, not once per interview.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from facecue.batch_worker import Job, Outcome, analyse_one, limit_threads, usable_cores, worker_died
from facecue.errors import FacecueError


def import_ray():
    try:
        import ray
    except ImportError:
        raise FacecueError("--ray needs Ray, which is not installed: pip install 'facecue[ray]'.") from None
    return ray


def _ray_task(job: Job, out_root: str, options: dict) -> Outcome:
    limit_threads(usable_cores())  # Ray gives each task one CPU: one OpenCV thread
    return analyse_one(job, out_root, options)


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a wrong host:port; ray.init itself retries an unreachable address for minutes."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        raise FacecueError(f"--ray takes HOST:PORT, ray://HOST:PORT, 'auto' or 'local', not '{address}'.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise FacecueError(f"cannot reach a Ray cluster at '{address}': {exc.strerror or exc}.") from None


def connect(ray, address: str, workers: int | None) -> None:
    """Join the cluster at `address`, or start one on this machine for `local`."""
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address not in ("local", "auto"):
        check_reachable(address)
    try:
        if address == "local":  # outcomes are small: a small object store, not Ray's 30% of memory
            ray.init(num_cpus=workers, object_store_memory=200 * 1024 * 1024, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FacecueError(f"cannot reach a Ray cluster at '{address}': {first}") from None


def run_on_ray(
    jobs: list[Job],
    out_root: Path,
    address: str,
    options: dict,
    workers: int | None,
    retries: int,
    advance: Callable[[int], object],
) -> dict[int, Outcome]:
    """Submit one task per interview and collect the outcomes as they finish (index -> Outcome)."""
    ray = import_ray()
    started_here = not ray.is_initialized()  # a caller (or a test) may have connected already
    if started_here:
        connect(ray, address, workers)
    try:
        task = ray.remote(num_cpus=1, max_retries=retries)(_ray_task)
        out = str(Path(out_root).resolve())
        refs = {task.remote(job, out, options): i for i, job in enumerate(jobs)}
        outcomes: dict[int, Outcome] = {}
        pending = list(refs)
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            for ref in finished:
                i = refs[ref]
                try:
                    outcomes[i] = ray.get(ref)
                except ray.exceptions.RayError:  # its worker (or node) died more often than retries allow
                    outcomes[i] = worker_died(jobs[i], retries + 1, "Ray worker")
                advance(1)
        return outcomes
    finally:
        if started_here:
            ray.shutdown()
