"""`facecue users create`, and the migrations agreeing with the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import replace

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from facecue.cli import main
from facecue.service.db import open_database
from facecue.service.models import Base, Organisation, User


def test_migrations_create_exactly_the_models(settings):
    db = open_database(settings.database_url)
    db.migrate()
    db.migrate()  # idempotent: a second start changes nothing
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff  # a model change without a migration fails here


def run_users(monkeypatch, settings, stdin: str, *args: str) -> int:
    monkeypatch.setenv("FACECUE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FACECUE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("FACECUE_MEDIA_DIR", str(settings.media_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", "create", *args])


def test_users_create_from_stdin(monkeypatch, settings, capsys):
    args = ("--org", "Acme Hiring Ltd", "--email", "Boss@Acme.example", "--role", "admin")
    assert run_users(monkeypatch, settings, "a long passphrase\n", *args) == 0
    out = capsys.readouterr().out
    assert "created admin" in out and "boss@acme.example" not in out.lower()  # no e-mail in output or logs
    with open_database(settings.database_url).session() as s:
        user = s.scalars(select(User)).one()
        assert user.email == "boss@acme.example" and user.role == "admin"
        assert s.get(Organisation, user.org_id).name == "Acme Hiring Ltd"
    assert run_users(monkeypatch, settings, "a long passphrase\n", *args) == 2
    assert "exists already" in capsys.readouterr().err


def test_users_create_rejects_bad_input(monkeypatch, settings, capsys):
    assert (
        run_users(monkeypatch, settings, "short\n", "--org", "Acme", "--email", "a@b.example", "--role", "reviewer")
        == 2
    )
    assert capsys.readouterr().err.startswith("error: a password must be at least 8 characters")
    assert (
        run_users(
            monkeypatch, settings, "long enough pw\n", "--org", "Acme", "--email", "not-an-email", "--role", "reviewer"
        )
        == 2
    )
    assert "is not an e-mail address" in capsys.readouterr().err


def test_serve_starts_a_worker_that_stops_with_it(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "FACECUE_DATABASE_URL": f"sqlite:///{tmp_path / 'facecue.db'}",
        "FACECUE_MEDIA_DIR": str(tmp_path / "media"),
        "FACECUE_SECRET_KEY": "s" * 32,
    }
    serve = subprocess.Popen(
        [sys.executable, "-m", "facecue.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json") as r:
                    assert r.status == 200
                break
            except OSError:
                assert time.monotonic() < end and serve.poll() is None, "serve did not start"
                time.sleep(0.3)
        workers = [
            int(p.parent.name)
            for p in Path("/proc").glob("[0-9]*/stat")
            if p.read_text().rsplit(")", 1)[1].split()[1] == str(serve.pid)
        ]
        assert workers, "serve started no worker"
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    end = time.monotonic() + 30
    while any(
        Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1][:3]
        for w in workers
    ):
        assert time.monotonic() < end, "the worker outlived serve"
        time.sleep(0.3)


def test_a_database_that_cannot_be_opened_is_one_sentence(monkeypatch, settings, tmp_path, capsys):
    """No such driver, a server that does not answer, a SQLite file under a file: exit 2, one line, no traceback."""
    (tmp_path / "afile").write_text("x")
    args = ("--org", "Acme", "--email", "a@b.example", "--role", "admin")
    for url, why in (
        ("bogus://", "Can't load plugin: sqlalchemy.dialects:bogus"),
        ("postgresql://user:secret-pw@127.0.0.1:1/facecue", "Connection refused"),
        (f"sqlite:///{tmp_path / 'afile' / 'facecue.db'}", "File exists"),
    ):
        assert run_users(monkeypatch, replace(settings, database_url=url), "long enough pw\n", *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: cannot open the database of FACECUE_DATABASE_URL: ") and why in err, err
        assert err.count("\n") == 1 and "secret-pw" not in err


def test_worker_and_serve_settings_are_checked(monkeypatch, settings, tmp_path, capsys):
    import os

    monkeypatch.setenv("FACECUE_HOME", str(tmp_path))
    monkeypatch.setenv("FACECUE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FACECUE_SECRET_KEY", settings.secret_key)
    umask = os.umask(0o022)  # the worker narrows it for itself
    try:
        for name in ("FACECUE_ANALYSIS_FPS", "FACECUE_WORKER_STALE_S", "FACECUE_WORKER_HEARTBEAT_S"):
            for value, why in (("abc", "must be a number, not 'abc'"), ("0", "must be a number above 0, not '0'")):
                monkeypatch.setenv(name, value)
                assert main(["worker", "--once"]) == 2
                assert capsys.readouterr().err == f"error: {name} {why}.\n"
            monkeypatch.delenv(name)
        monkeypatch.setenv("FACECUE_ANALYSIS_FPS", "2000")  # every job would fail, naming --fps
        assert main(["worker", "--once"]) == 2
        assert (
            capsys.readouterr().err == "error: FACECUE_ANALYSIS_FPS must be at most 1000 frames per second, not 2000.\n"
        )
        monkeypatch.delenv("FACECUE_ANALYSIS_FPS")
    finally:
        os.umask(umask)
    for port in ("-1", "0", "99999"):
        assert main(["serve", "--port", port]) == 2
        assert capsys.readouterr().err == f"error: --port must be from 1 to 65535, not {port}.\n"
