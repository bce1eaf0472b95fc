"""Load test of the review service on loopback: concurrent result reads and uploads against `facecue serve`.

Starts a real server (uvicorn + its worker process) in a temporary FACECUE_HOME, makes an admin, a candidate
with consent and one analysed interview, then for --seconds runs --readers clients reading that interview's
result (GET /api/v1/interviews/{id}/result) and --uploaders clients uploading the sample video
(POST /api/v1/interviews) as fast as answers come. Bounded in time and count (--max-requests). Prints request
counts, errors (any non-2xx answer or transport error; must be 0) and read latency percentiles.

Usage: python bench/load_service.py [--seconds 60] [--readers 50] [--uploaders 10] [--database-url URL]
Needs the service extra (pip install -e '.[service]') and the face models (facecue setup).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "load-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))] if values else float("nan")


def start_server(home: Path, port: int, database_url: str | None) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "FACECUE_HOME": str(home), "FACECUE_MEDIA_DIR": str(home / "media")}
    env.pop("FACECUE_DATABASE_URL", None)
    if database_url:
        env["FACECUE_DATABASE_URL"] = database_url
    models = Path(os.environ.get("FACECUE_HOME") or Path.home() / ".local/share/facecue") / "models"
    if models.is_dir():  # reuse the installed face models instead of fetching them again
        (home / "models").symlink_to(models)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "facecue.cli",
            "users",
            "create",
            "--org",
            "Load Test Ltd",
            "--email",
            "admin@load.example",
            "--role",
            "admin",
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open(home / "server.log", "w") as log:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [sys.executable, "-m", "facecue.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return server, env


async def wait_until_up(base: str, timeout: float = 60) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if (await c.get("/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit("the server did not start; see server.log")


async def prepare(base: str, video: Path) -> tuple[dict, str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        r = await c.post("/api/v1/auth/token", data={"username": "admin@load.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        cand = (
            await c.post(
                "/api/v1/candidates", json={"external_ref": "load-0001", "jurisdiction": "US"}, headers=headers
            )
        ).json()
        await c.post(
            f"/api/v1/candidates/{cand['id']}/consents",
            json={"purpose": "assessment", "scope": ["analysis", "share_with_reviewers"]},
            headers=headers,
        )
        r = await c.post(
            "/api/v1/interviews",
            headers=headers,
            data={"candidate_id": cand["id"], "purpose": "assessment"},
            files={"video": ("v.mp4", video.read_bytes(), "video/mp4")},
        )
        iid = r.json()["id"]
        end = time.monotonic() + 300
        while (status := (await c.get(f"/api/v1/interviews/{iid}", headers=headers)).json()["status"]) != "done":
            if status == "failed" or time.monotonic() > end:
                raise SystemExit(f"the first analysis did not finish ({status})")
            await asyncio.sleep(0.5)
        return headers, cand["id"], iid


async def run_load(
    base: str,
    headers: dict,
    cand: str,
    iid: str,
    video: bytes,
    seconds: float,
    readers: int,
    uploaders: int,
    max_requests: int,
) -> dict:
    stats = {"reads": [], "uploads": [], "errors": [], "sent": 0}
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=readers + uploaders + 4)

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as c:

        async def loop(kind: str) -> None:
            while time.monotonic() < stop_at and stats["sent"] < max_requests:
                stats["sent"] += 1
                t = time.perf_counter()
                try:
                    if kind == "reads":
                        r = await c.get(f"/api/v1/interviews/{iid}/result")
                    else:
                        r = await c.post(
                            "/api/v1/interviews",
                            data={"candidate_id": cand, "purpose": "assessment"},
                            files={"video": ("v.mp4", video, "video/mp4")},
                        )
                    ok = r.status_code < 300
                    if not ok:
                        stats["errors"].append(f"{kind}: HTTP {r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    ok = False
                    stats["errors"].append(f"{kind}: {type(exc).__name__}")
                if ok:
                    stats[kind].append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*[loop("reads") for _ in range(readers)], *[loop("uploads") for _ in range(uploaders)])
        stats["elapsed"] = time.perf_counter() - started
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--uploaders", type=int, default=10)
    ap.add_argument("--max-requests", type=int, default=200_000)
    ap.add_argument("--database-url", help="PostgreSQL URL to test instead of the default SQLite file")
    args = ap.parse_args()
    from facecue.io.sample import make_sample_video

    with tempfile.TemporaryDirectory(prefix="facecue-load-", ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        video = make_sample_video(home / "sample.mp4", seconds=4.0, fps=15, size=(640, 360))
        port = free_port()
        server, _ = start_server(home, port, args.database_url)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_until_up(base))
            headers, cand, iid = asyncio.run(prepare(base, video))
            s = asyncio.run(
                run_load(
                    base,
                    headers,
                    cand,
                    iid,
                    video.read_bytes(),
                    args.seconds,
                    args.readers,
                    args.uploaders,
                    args.max_requests,
                )
            )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        if s["errors"]:
            print("server log (last lines):\n" + "\n".join((home / "server.log").read_text().splitlines()[-25:]))
        reads, ups = s["reads"], s["uploads"]
        db = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{db}, {args.readers} readers + {args.uploaders} uploaders for {s['elapsed']:.1f} s "
            f"({video.stat().st_size // 1024} KB video per upload)"
        )
        print(
            f"result reads: {len(reads)} ({len(reads) / s['elapsed']:.1f}/s)  "
            f"p50 {percentile(reads, 50) * 1000:.0f} ms"
            f"  p95 {percentile(reads, 95) * 1000:.0f} ms  p99 {percentile(reads, 99) * 1000:.0f} ms"
        )
        print(f"uploads: {len(ups)} ({len(ups) / s['elapsed']:.1f}/s)  p95 {percentile(ups, 95) * 1000:.0f} ms")
        print(f"errors: {len(s['errors'])}")
        for line in sorted(set(s["errors"]))[:10]:
            print(f"  {line}")
        return 1 if s["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
