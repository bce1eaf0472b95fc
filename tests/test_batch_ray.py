"""`facecue batch --ray`: a real Ray instance runs the batch; its outputs equal the local pool's.

By default the test starts Ray on this machine (2 CPUs, no dashboard, a small object store; about
10 s). With FACECUE_TEST_RAY_ADDRESS set (e.g. `127.0.0.1:6379` after `ray start --head`) it runs
on that cluster instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from facecue.batch import Job, run_batch
from facecue.cli import main
from facecue.io.sample import make_sample_video

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

VOLATILE = {"analysed_at", "processing_s", "realtime_factor"}  # wall-clock facts, different on every run


@pytest.fixture(scope="module")
def ray_cluster():
    address = os.environ.get("FACECUE_TEST_RAY_ADDRESS")
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=2, object_store_memory=80 * 1024 * 1024, **quiet)
    yield
    ray.shutdown()


def comparable(folder: Path) -> tuple[dict, str]:
    result = json.loads((folder / "result.json").read_text())
    result["summary"] = {k: v for k, v in result["summary"].items() if k not in VOLATILE}
    return result, (folder / "frames.csv").read_text()


def test_unreachable_cluster_is_one_clear_error(tmp_path, capsys, model_files):
    folder = tmp_path / "in"
    make_sample_video(folder / "one.mp4", seconds=1.0, fps=10, size=(160, 90))
    if ray.is_initialized():
        pytest.skip("Ray is already connected in this process")
    assert main(["batch", str(folder), "-o", str(tmp_path / "out"), "--ray", "127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach a Ray cluster at '127.0.0.1:9'") and "Traceback" not in err


def test_ray_batch_equals_local_pool(tmp_path, model_files, ray_cluster):
    folder = tmp_path / "in"
    for i in range(3):
        make_sample_video(folder / f"talk{i}.mp4", seconds=2.0 + i, fps=10, size=(320, 180))
    (folder / "broken.mp4").write_bytes(b"not a video" * 50)
    jobs = [Job(str(p)) for p in sorted(folder.iterdir())]
    local = run_batch(jobs, tmp_path / "local", workers=2)
    on_ray = run_batch(jobs, tmp_path / "ray", ray_address="local")
    assert [o.status for o in on_ray] == [o.status for o in local] == ["failed", "done", "done", "done"]
    assert on_ray[0].error == local[0].error and "broken.mp4" in on_ray[0].error
    for a, b in zip(local[1:], on_ray[1:]):
        assert (a.sha256, a.frames_analysed, a.dominant) == (b.sha256, b.frames_analysed, b.dominant)
        assert Path(a.output).name == Path(b.output).name
        assert comparable(Path(a.output)) == comparable(Path(b.output))
    assert [o.frames_analysed for o in on_ray[1:]] == [10, 15, 20]
    # Resumable on Ray too: the second run skips every finished interview.
    again = run_batch(jobs, tmp_path / "ray", ray_address="local")
    assert [o.status for o in again] == ["failed", "skipped", "skipped", "skipped"]
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["counts"] == {"done": 0, "skipped": 3, "failed": 1}
