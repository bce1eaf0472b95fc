"""`facecue batch --ray`: a real Ray cluster runs the batch; its outputs equal the local pool's.

By default the test starts a two-node Ray cluster on loopback (a head node and a second worker node,
one CPU each, no dashboard, small object stores; about 15 s) with Ray's own `ray.cluster_utils.Cluster`.
With FACECUE_TEST_RAY_ADDRESS set (e.g. `127.0.0.1:6379` after `ray start --head`) it runs on that
cluster instead.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from facecue.batch import Job, run_batch
from facecue.cli import main
from facecue.io.sample import make_sample_video

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

VOLATILE = {"analysed_at", "processing_s", "realtime_factor"}  # wall-clock facts, different on every run


@pytest.fixture(scope="module")
def ray_cluster():
    """The address of a running cluster this process is connected to."""
    address = os.environ.get("FACECUE_TEST_RAY_ADDRESS")
    cluster = None
    if not address:
        from ray.cluster_utils import Cluster

        store = 80 * 1024 * 1024
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "object_store_memory": store, "include_dashboard": False},
        )
        cluster.add_node(num_cpus=1, object_store_memory=store)
        address = cluster.address
    ray.init(address=address, log_to_driver=False, configure_logging=False)
    if cluster is not None:
        cluster.wait_for_nodes()
        assert sum(node["Alive"] for node in ray.nodes()) == 2
    yield address
    ray.shutdown()
    if cluster is not None:
        cluster.shutdown()


def comparable(folder: Path) -> tuple[dict, str]:
    result = json.loads((folder / "result.json").read_text())
    result["summary"] = {k: v for k, v in result["summary"].items() if k not in VOLATILE}
    return result, (folder / "frames.csv").read_text()


def test_unreachable_cluster_is_one_clear_error(tmp_path, capsys, model_files, practice_args):
    folder = tmp_path / "in"
    make_sample_video(folder / "one.mp4", seconds=1.0, fps=10, size=(160, 90))
    if ray.is_initialized():
        pytest.skip("Ray is already connected in this process")
    assert main(["batch", str(folder), "-o", str(tmp_path / "out"), "--ray", "127.0.0.1:9", *practice_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach a Ray cluster at '127.0.0.1:9'") and "Traceback" not in err


def practice_job(path: Path, consent: Path) -> Job:
    return Job(str(path), purpose="practice", jurisdiction="OTHER", consent=str(consent))


def test_ray_batch_equals_local_pool(tmp_path, model_files, ray_cluster, practice_consent):
    folder = tmp_path / "in"
    for i in range(3):
        make_sample_video(folder / f"talk{i}.mp4", seconds=2.0 + i, fps=10, size=(320, 180))
    (folder / "broken.mp4").write_bytes(b"not a video" * 50)
    jobs = [practice_job(p, practice_consent) for p in sorted(folder.iterdir())]
    local = run_batch(jobs, tmp_path / "local", workers=2)
    on_ray = run_batch(jobs, tmp_path / "ray", ray_address=ray_cluster)
    assert [o.status for o in on_ray] == [o.status for o in local] == ["failed", "done", "done", "done"]
    assert on_ray[0].error == local[0].error and "broken.mp4" in on_ray[0].error
    for a, b in zip(local[1:], on_ray[1:], strict=False):
        assert (a.sha256, a.frames_analysed, a.dominant) == (b.sha256, b.frames_analysed, b.dominant)
        assert Path(a.output).name == Path(b.output).name
        assert comparable(Path(a.output)) == comparable(Path(b.output))
        assert comparable(Path(b.output))[0]["summary"]["policy"]["purpose"] == "practice"  # Ray got the row's policy
    assert [o.frames_analysed for o in on_ray[1:]] == [10, 15, 20]
    # Resumable on Ray too: the second run skips every finished interview.
    again = run_batch(jobs, tmp_path / "ray", ray_address=ray_cluster)
    assert [o.status for o in again] == ["failed", "skipped", "skipped", "skipped"]
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["counts"] == {"done": 0, "skipped": 3, "failed": 1}


def ray_task_processes() -> list[int]:
    """Ray worker processes running a batch task right now (Ray renames them after the task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::_ray_task"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc to find Ray's workers")
def test_ray_retries_a_task_whose_worker_was_killed(tmp_path, model_files, ray_cluster, practice_consent):
    folder = tmp_path / "in"
    for i in range(6):
        make_sample_video(folder / f"clip{i}.mp4", seconds=3.0, fps=8 + i, size=(320, 180))
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_one_when_results_appear() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            workers = ray_task_processes() if any(out.glob("clip*/result.json")) else []
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_one_when_results_appear, daemon=True)
    watcher.start()
    outcomes = run_batch(
        [practice_job(p, practice_consent) for p in sorted(folder.iterdir())], out, ray_address=ray_cluster
    )
    watcher.join(timeout=1)
    assert killed, "the batch ended before a worker could be killed"
    # Ray ran the killed worker's task again. A worker killed after it had published its result (but before
    # returning) leaves a finished interview, which the retry finds by content hash and skips: still one each.
    statuses = [o.status for o in outcomes]
    assert set(statuses) <= {"done", "skipped"} and statuses.count("skipped") <= 1, statuses
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == sorted(Path(o.output).name for o in outcomes)  # one each, no partial folder left
    for o in outcomes:
        assert json.loads((Path(o.output) / "result.json").read_text())["source"]["sha256"] == o.sha256


def test_a_refused_row_submits_no_ray_task(tmp_path, model_files, ray_cluster, practice_consent):
    folder = tmp_path / "in"
    make_sample_video(folder / "one.mp4", seconds=1.0, fps=10, size=(160, 90))
    jobs = [
        practice_job(folder / "one.mp4", practice_consent),
        Job(str(folder / "one.mp4"), purpose="assessment", jurisdiction="DE", row="manifest row 2"),
    ]
    from facecue.governance import PolicyError

    with pytest.raises(PolicyError, match=r"^manifest row 2: refused: the EU AI Act"):
        run_batch(jobs, tmp_path / "out", ray_address=ray_cluster)
    assert not (tmp_path / "out").exists()
