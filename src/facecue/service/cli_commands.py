"""`facecue serve`, `facecue worker` and `facecue users create`: thin over the service package."""

from __future__ import annotations

import argparse
import getpass
import os
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
    from facecue.service.db import configure
    from facecue.service.models import Organisation, User
    from facecue.service.settings import Settings

    org_name, email = args.org.strip(), args.email.strip().lower()
    if not org_name or len(org_name) > 200 or any(ch in org_name for ch in "\r\n\t"):
        raise InputError("--org must be the organisation's name on one line, at most 200 characters.")
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise InputError(f"--email {args.email!r} is not an e-mail address.")
    password = _read_password()
    db = configure(Settings.from_env(), migrate=True)
    with db.session() as session:
        if session.scalar(select(User).where(User.email == email)):
            raise FacecueError("a user with this e-mail address exists already.")
        org = session.scalar(select(Organisation).where(Organisation.name == org_name))
        if org is None:
            org = Organisation(name=org_name)
            session.add(org)
            session.flush()
        session.add(User(org_id=org.id, email=email, role=args.role, password_hash=hash_password(password)))
    print(f"created {args.role} in organisation {org_name}")  # no e-mail address in output that may be logged
    return 0


def run_worker(args: argparse.Namespace) -> int:
    from facecue.service.settings import Settings
    from facecue.service.worker import run_worker as loop

    loop(Settings.from_env(), once=args.once)
    return 0


def _stop_with_parent() -> None:
    """In the worker started by serve: SIGTERM when serve ends, however it ends (uvicorn re-raises the signal
    that stopped it, so serve's own clean-up may never run)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from facecue.service.app import create_app
    from facecue.service.settings import Settings

    settings = Settings.from_env()
    app = create_app(settings, migrate=True)  # migrations run before the worker starts and before any request
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "facecue.cli", "worker"],
                                  env={**os.environ, **settings.to_env()},
                                  preexec_fn=_stop_with_parent)  # noqa: PLW1509 (no threads yet)
    try:
        # Keep-alive longer than clients' idle gaps, so a busy client does not race the server's close.
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", timeout_keep_alive=75)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


RUNNERS = {"serve": run_serve, "worker": run_worker, "users": run_users}
