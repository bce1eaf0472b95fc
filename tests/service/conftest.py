"""Service fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from FACECUE_TEST_POSTGRES_URL (`.ci/run` starts a server on loopback and sets it); without
it those cases skip with the reason. The PostgreSQL database is migrated once per run and emptied before
each test; SQLite gets a fresh file per test.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from facecue.service.app import create_app
from facecue.service.auth import hash_password, issue_token
from facecue.service.db import open_database
from facecue.service.models import Base, Organisation, User
from facecue.service.settings import Settings

PG_URL = os.environ.get("FACECUE_TEST_POSTGRES_URL")
PASSWORD = "correct horse battery"
_migrated: set[str] = set()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("FACECUE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    return request.param


def _empty_postgres(url: str) -> None:
    db = open_database(url)
    if url not in _migrated:
        db.migrate()
        _migrated.add(url)
    with db.engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "audit_head")
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
        conn.execute(text("UPDATE audit_head SET seq = -1, hash = :h WHERE id = 1"), {"h": "0" * 64})


def make_settings(backend: str, tmp_path: Path, **changes) -> Settings:
    if backend == "postgresql":
        _empty_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'facecue.db'}"
    values = {
        "database_url": url,
        "media_dir": tmp_path / "media",
        "secret_key": "test-secret-" + "k" * 32,
        "analysis_fps": 2.0,
        "worker_stale_s": 3.0,
        "heartbeat_s": 0.5,
    }
    values.update(changes)
    return Settings(**values)


@pytest.fixture
def settings(backend, tmp_path) -> Settings:
    return make_settings(backend, tmp_path)


@pytest.fixture
def app(settings):
    return create_app(settings, migrate=True)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def add_user(app, org: str, email: str, role: str = "reviewer") -> User:
    with app.state.db.session() as s:
        o = s.query(Organisation).filter_by(name=org).one_or_none()
        if o is None:
            o = Organisation(name=org)
            s.add(o)
            s.flush()
        user = User(org_id=o.id, email=email, role=role, password_hash=password_hash())
        s.add(user)
    return user


def login(client, email: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def org_a(app, client) -> dict:
    """Headers of an admin and a reviewer of organisation A, and of an admin of organisation B."""
    users = {
        "admin": add_user(app, "Acme Hiring Ltd", "admin@a.example", "admin"),
        "reviewer": add_user(app, "Acme Hiring Ltd", "reviewer@a.example", "reviewer"),
        "other": add_user(app, "Beta Corp", "admin@b.example", "admin"),
    }
    # Tokens straight from the token issuer: logging in through HTTP is tested on its own (argon2 is slow).
    return {k: {"Authorization": f"Bearer {issue_token(u, app.state.settings)}"} for k, u in users.items()}


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory, model_files) -> Path:
    """A 4-second talking-head video built from the astronaut photo (and the face models it needs)."""
    from facecue.io.sample import make_sample_video

    return make_sample_video(tmp_path_factory.mktemp("video") / "sample.mp4", seconds=4.0, fps=15, size=(640, 360))


def make_candidate(client, headers, ref: str = "cand-0042", jurisdiction: str = "US", name: str | None = None) -> dict:
    r = client.post(
        "/api/v1/candidates", json={"external_ref": ref, "jurisdiction": jurisdiction, "name": name}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def consent(
    client, headers, candidate_id: str, purpose: str = "assessment", scope=("analysis", "share_with_reviewers")
) -> dict:
    r = client.post(
        f"/api/v1/candidates/{candidate_id}/consents", json={"purpose": purpose, "scope": list(scope)}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, headers, candidate_id: str, video: Path, purpose: str = "assessment", **extra):
    with open(video, "rb") as f:
        return client.post(
            "/api/v1/interviews",
            headers=headers,
            data={"candidate_id": candidate_id, "purpose": purpose, **extra},
            files={"video": ("clip.mp4", f, "video/mp4")},
        )


@pytest.fixture
def live_url(app):
    """The app served by a real uvicorn on a free loopback port (a thread of this process): for what a TestClient
    cannot show, such as when a response arrives while the request body is still being sent."""
    import asyncio
    import socket
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()
