"""Service configuration, read once from the environment.

FACECUE_DATABASE_URL     SQLAlchemy URL; default a SQLite file in the data dir (FACECUE_HOME or ~/.local/share/facecue)
FACECUE_MEDIA_DIR        uploaded videos and analysis outputs; default <data dir>/media
FACECUE_SECRET_KEY       signs tokens, cookies and CSRF tokens, keys audit pseudonyms; default: generated once and
                         kept in <data dir>/secret_key (mode 600)
FACECUE_MAX_UPLOAD_MB    largest accepted video (default 500)
FACECUE_WORKER_CONCURRENCY  analyses one worker runs at once (default 1)
FACECUE_RETENTION_DAYS   delete raw video this many days after analysis, when sooner than the policy (default: policy)
FACECUE_ANALYSIS_FPS     frames analysed per second of video (default 5)
FACECUE_EMOTION_MODEL    emotion model of every analysis: a packaged name or an .onnx path (default `default`, v2
                         since 2026-12-05; `v1` keeps new analyses comparable with ones made before)
FACECUE_JOB_MAX_ATTEMPTS tries per job before it fails (default 3)
FACECUE_WORKER_STALE_S   a running job whose heartbeat is older than this is taken back (default 60)
FACECUE_WORKER_HEARTBEAT_S  how often a worker reports progress and checks for cancellation (default 2)
FACECUE_COOKIE_SECURE    1 to mark session cookies Secure (behind HTTPS); default 0 for loopback use
FACECUE_TRUSTED_PROXIES  addresses of reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated,
                         as uvicorn's forwarded_allow_ips); default none: the connecting address is the client
FACECUE_API_DOCS         1 to serve the interactive API docs at /docs and /redoc (they load Swagger UI / ReDoc
                         from a CDN); default 0. /openapi.json is always served.
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from facecue.errors import FacecueError


def data_dir() -> Path:
    """The user data dir, the same rule as the model cache: $FACECUE_HOME, else $XDG_DATA_HOME/facecue,
    else ~/.local/share/facecue."""
    if home := os.environ.get("FACECUE_HOME"):
        return Path(home)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "facecue"


def _stored_secret(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        except FileExistsError:  # another process made it first: use theirs
            pass
    return path.read_text().strip()


def _int(name: str, default: int | None, minimum: int = 1) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FacecueError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise FacecueError(f"{name} must be at least {minimum}.")
    return value


def _fps(value: float) -> float:
    """FACECUE_ANALYSIS_FPS within the analysis's own bound: above it every job would fail, naming a CLI flag."""
    from facecue.options import MAX_FPS

    if value > MAX_FPS:
        raise FacecueError(f"FACECUE_ANALYSIS_FPS must be at most {MAX_FPS:g} frames per second, not {value:g}.")
    return value


def _float(name: str, default: float) -> float:
    """A positive, finite number of the environment (seconds, frames per second)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise FacecueError(f"{name} must be a number, not {raw!r}.") from None
    if not (value > 0 and math.isfinite(value)):
        raise FacecueError(f"{name} must be a number above 0, not {raw!r}.")
    return value


def _emotion_model(name: str) -> str:
    """A model name or path that loads, checked when the service starts rather than at its first analysis."""
    from facecue.emotion.model import resolve_model_path

    try:
        resolve_model_path(name)
    except FacecueError as exc:
        raise FacecueError(f"FACECUE_EMOTION_MODEL: {exc}") from None
    return name


@dataclass(frozen=True)
class Settings:
    database_url: str
    media_dir: Path
    secret_key: str
    max_upload_bytes: int = 500 * 1024 * 1024
    worker_concurrency: int = 1
    retention_days: int | None = None  # None: the policy table's media_retention_days
    analysis_fps: float = 5.0
    emotion_model: str = "default"  # FACECUE_EMOTION_MODEL
    job_max_attempts: int = 3
    worker_stale_s: float = 60.0
    heartbeat_s: float = 2.0
    cookie_secure: bool = False
    token_max_age_s: int = 12 * 3600
    login_attempts: int = 10  # failed logins allowed per account ...
    login_window_s: int = 300  # ... in this many seconds, then 429
    login_address_attempts: int = 50  # failed logins from one address, over all accounts, in the same window
    trusted_proxies: str = ""  # FACECUE_TRUSTED_PROXIES
    api_docs: bool = False  # FACECUE_API_DOCS

    @classmethod
    def from_env(cls, **changes) -> Settings:
        base = data_dir()
        url = os.environ.get("FACECUE_DATABASE_URL") or f"sqlite:///{base / 'facecue.db'}"
        media = Path(os.environ.get("FACECUE_MEDIA_DIR") or base / "media")
        secret = os.environ.get("FACECUE_SECRET_KEY") or _stored_secret(base)
        if len(secret) < 16:
            raise FacecueError("FACECUE_SECRET_KEY must be at least 16 characters.")
        settings = cls(
            database_url=url,
            media_dir=media,
            secret_key=secret,
            max_upload_bytes=_int("FACECUE_MAX_UPLOAD_MB", 500) * 1024 * 1024,
            worker_concurrency=_int("FACECUE_WORKER_CONCURRENCY", 1),
            retention_days=_int("FACECUE_RETENTION_DAYS", None, minimum=0),
            analysis_fps=_fps(_float("FACECUE_ANALYSIS_FPS", 5.0)),
            emotion_model=_emotion_model(os.environ.get("FACECUE_EMOTION_MODEL") or "default"),
            job_max_attempts=_int("FACECUE_JOB_MAX_ATTEMPTS", 3),
            worker_stale_s=_float("FACECUE_WORKER_STALE_S", 60.0),
            heartbeat_s=_float("FACECUE_WORKER_HEARTBEAT_S", 2.0),
            cookie_secure=os.environ.get("FACECUE_COOKIE_SECURE", "0") == "1",
            trusted_proxies=os.environ.get("FACECUE_TRUSTED_PROXIES", "").strip(),
            api_docs=os.environ.get("FACECUE_API_DOCS", "0") == "1",
        )
        return replace(settings, **changes)

    def to_env(self) -> dict[str, str]:
        """Environment for a child process (the worker started by `serve`) that must see the same settings."""
        env = {
            "FACECUE_DATABASE_URL": self.database_url,
            "FACECUE_MEDIA_DIR": str(self.media_dir),
            "FACECUE_SECRET_KEY": self.secret_key,
            "FACECUE_MAX_UPLOAD_MB": str(max(1, self.max_upload_bytes // (1024 * 1024))),
            "FACECUE_WORKER_CONCURRENCY": str(self.worker_concurrency),
            "FACECUE_ANALYSIS_FPS": str(self.analysis_fps),
            "FACECUE_EMOTION_MODEL": self.emotion_model,
            "FACECUE_JOB_MAX_ATTEMPTS": str(self.job_max_attempts),
            "FACECUE_WORKER_STALE_S": str(self.worker_stale_s),
            "FACECUE_WORKER_HEARTBEAT_S": str(self.heartbeat_s),
            "FACECUE_COOKIE_SECURE": "1" if self.cookie_secure else "0",
            "FACECUE_TRUSTED_PROXIES": self.trusted_proxies,
            "FACECUE_API_DOCS": "1" if self.api_docs else "0",
        }
        if self.retention_days is not None:
            env["FACECUE_RETENTION_DAYS"] = str(self.retention_days)
        return env
