"""`facecue serve` as a user runs it (a real uvicorn and a real worker process): it keeps a worker running, and
it believes X-Forwarded-For only from proxies it was told to trust."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from tests.service.test_worker_restart import alive, descendants_of, wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path, model_files):
    port = _free_port()
    env = {
        **os.environ,
        "FACECUE_HOME": str(tmp_path),
        "FACECUE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
        "FACECUE_MEDIA_DIR": str(tmp_path / "media"),
        "FACECUE_SECRET_KEY": "serve-test-secret-" + "s" * 24,
    }
    env.pop("FACECUE_TRUSTED_PROXIES", None)
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "facecue.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/openapi.json", timeout=2).status == 200
        except OSError:
            return proc.poll() is not None  # ended: the assertion below says so

    wait_for(up, 120, "the server to start")
    assert proc.poll() is None, (tmp_path / "serve.log").read_text()
    yield url, proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _workers(serve_pid: int) -> list[int]:
    found = []
    for pid in descendants_of(serve_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"facecue.cli" in cmd and b"worker" in cmd:
            found.append(pid)
    return found


def test_serve_restarts_a_dead_worker(served):
    _, proc = served
    first = wait_for(lambda: _workers(proc.pid), 60, "the worker to start")[0]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(first) and not Path(f"/proc/{first}").exists(), 15, "the dead worker to be reaped")
    second = wait_for(lambda: [p for p in _workers(proc.pid) if p != first and alive(p)], 30, "a new worker")[0]
    time.sleep(1)
    assert alive(second) and proc.poll() is None


def test_forwarded_for_is_not_believed_from_any_client(served):
    url, _ = served
    # Every guess forges another address; without trusted proxies they all count against the real one.
    codes = [
        httpx.post(
            f"{url}/api/v1/auth/token",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            timeout=60,
            data={"username": f"nobody{n}@a.example", "password": "wrong password"},
        ).status_code
        for n in range(51)
    ]
    assert codes[:50] == [401] * 50 and codes[50] == 429
