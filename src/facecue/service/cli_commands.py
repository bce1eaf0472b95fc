"""`facecue serve`, `facecue worker` and `facecue users create`: thin over the service package."""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import subprocess
import sys

from facecue.errors import FacecueError, InputError


def add_parsers(sub) -> None:
    s = sub.add_parser("serve", help="run the review service (API, pages, and a worker process for analyses)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-worker", action="store_true", help="do not start a worker (run `facecue worker` elsewhere)")

    w = sub.add_parser("worker", help="run analysis jobs queued by the review service")
    w.add_argument("--once", action="store_true", help="exit when nothing is queued or running")

    u = sub.add_parser("users", help="manage the review service's users")
    us = u.add_subparsers(dest="users_command", required=True)
    c = us.add_parser("create", help="create a user (and the organisation, if new); password from stdin or a prompt")
    c.add_argument("--org", required=True, help="organisation name (the controller named in notices)")
    c.add_argument("--email", required=True)
    c.add_argument("--role", required=True, choices=["admin", "reviewer"])


def _read_password() -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ.")
    if len(password) < 8:
        raise InputError("a password must be at least 8 characters.")
    return password


def run_users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from facecue.service.auth import hash_password
    from facecue.service.models import Organisation, User
    from facecue.service.settings import Settings

    org_name, email = args.org.strip(), args.email.strip().lower()
    if not org_name or len(org_name) > 200 or any(ch in org_name for ch in "\r\n\t"):
        raise InputError("--org must be the organisation's name on one line, at most 200 characters.")
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise InputError(f"--email {args.email!r} is not an e-mail address.")
    password = _read_password()
    db = open_service_database(Settings.from_env())
    with db.session() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == org_name))
        if org is not None and session.scalar(select(User).where(User.org_id == org.id, User.email == email)):
            raise FacecueError("a user with this e-mail address exists already in this organisation.")
        if org is None:
            org = Organisation(name=org_name)
            session.add(org)
            session.flush()
        session.add(User(org_id=org.id, email=email, role=args.role, password_hash=hash_password(password)))
    print(f"created {args.role} in organisation {org_name}")  # no e-mail address in output that may be logged
    return 0


def open_service_database(settings):
    """The settings' database, opened and migrated; one sentence when it cannot be (no such driver, a server that
    does not answer, a SQLite file where no file can be made)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from facecue.service.db import configure

    try:
        return configure(settings, migrate=True)
    except (ArgumentError, DBAPIError, OSError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0].rstrip(".")
        raise FacecueError(f"cannot open the database of FACECUE_DATABASE_URL: {reason}.") from None


def run_worker(args: argparse.Namespace) -> int:
    from facecue.service.settings import Settings
    from facecue.service.worker import run_worker as loop

    os.umask(0o077)  # results and attempt folders: readable by this account only
    settings = Settings.from_env()
    open_service_database(settings)  # a wrong URL or a database down: one sentence, not a traceback
    _stop_with_parent()

    loop(settings, once=args.once)
    return 0


def _stop_with_parent() -> None:
    """In the worker started by serve (FACECUE_SERVE_PID names it): SIGTERM when serve ends, however it ends (even
    kill -9, when serve's own clean-up never runs). Set here, in the worker itself, rather than in a preexec_fn:
    serve has threads by the time it restarts a worker."""
    serve = os.environ.get("FACECUE_SERVE_PID")
    if not serve or not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(serve):  # serve ended before the line above took effect
        sys.exit(0)


class WorkerSupervisor:
    """Runs the worker process and starts it again when it dies, after a back-off that doubles (1 s up to 60 s)
    while it keeps dying young and starts over once it has run for a minute. A worker that died (even kill -9)
    leaves its jobs to the stale-heartbeat recovery of the next one."""

    def __init__(self, env: dict[str, str]) -> None:
        import threading

        self.env, self.stopping = env, threading.Event()
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._thread = threading.Thread(target=self._watch, daemon=True, name="worker-supervisor")

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "facecue.cli", "worker"], env={**self.env, "FACECUE_SERVE_PID": str(os.getpid())}
        )

    def start(self) -> None:
        self.process = self._spawn()
        self._thread.start()

    def _watch(self) -> None:
        import logging
        import time

        log, backoff, started = logging.getLogger("facecue.serve"), 1.0, time.monotonic()
        while not self.stopping.wait(0.5):
            code = self.process.poll()  # also reaps it: no defunct worker is left behind
            if code is None:
                continue
            backoff = 1.0 if time.monotonic() - started > 60 else backoff
            log.warning("the worker exited (code %s); starting a new one in %.0f s", code, backoff)
            if self.stopping.wait(backoff):
                return
            self.process, started = self._spawn(), time.monotonic()
            self.restarts += 1
            backoff = min(backoff * 2, 60.0)

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def uvicorn_options(settings) -> dict:
    """Forwarded headers (X-Forwarded-For, -Proto) are believed only from the proxies the deployer names in
    FACECUE_TRUSTED_PROXIES: otherwise any client could pick the address the sign-in limit counts."""
    trusted = settings.trusted_proxies
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        # Keep-alive longer than clients' idle gaps, so a busy client does not race the server's close.
        "timeout_keep_alive": 75,
    }


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from facecue.service.app import create_app
    from facecue.service.settings import Settings

    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be from 1 to 65535, not {args.port}.")
    settings = Settings.from_env()
    os.umask(0o077)  # the database, uploads and results are personal data: readable by this account only
    open_service_database(settings)  # a wrong URL or a database down: one sentence, not a traceback
    app = create_app(settings, migrate=True)  # migrations run before the worker starts and before any request
    worker = None
    if not args.no_worker:
        worker = WorkerSupervisor({**os.environ, **settings.to_env()})
        worker.start()
    # uvicorn shuts down gracefully on SIGTERM, then raises it again to whatever handler was there before: with the
    # default one serve would die before stopping its worker, so this one turns it into a normal exit.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", **uvicorn_options(settings))
    finally:
        if worker is not None:
            worker.stop()
    return 0


RUNNERS = {"serve": run_serve, "worker": run_worker, "users": run_users}
