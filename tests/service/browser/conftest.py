"""Browser fixtures: Debian's headless Chromium driven by Playwright, against the real service.

`service` starts `facecue serve` (uvicorn, the API, the pages and a real worker running the real pipeline) on a
free loopback port with its own SQLite file and media folder, after creating the first users with
`facecue users create`, exactly as the README tells a user to. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FACECUE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"
PASSWORD = "correct horse battery"
ORG_A, ORG_B = "Acme Hiring Ltd", "Beta Corp"
ADMIN_A, ADMIN_B = "admin@a.example", "admin@b.example"

try:
    from playwright import sync_api
except ImportError:  # the browser fixtures skip with the reason
    sync_api = None


def _chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _create_user(env: dict, org: str, email: str, role: str) -> subprocess.Popen:
    """`facecue users create`, as the README tells the first admin to; wait for it with _finish."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "facecue.cli", "users", "create", "--org", org, "--email", email, "--role", role],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    proc.stdin.write(PASSWORD + "\n")
    proc.stdin.close()
    return proc


def _finish(proc: subprocess.Popen) -> None:
    assert proc.wait(timeout=120) == 0, proc.stderr.read()


@dataclass(frozen=True)
class Service:
    url: str
    media_dir: Path
    log: Path


@pytest.fixture(scope="session")
def service(tmp_path_factory, model_files, playwright_instance) -> Service:
    home = tmp_path_factory.mktemp("service")
    env = {
        **os.environ,
        "FACECUE_DATABASE_URL": f"sqlite:///{home / 'facecue.db'}",
        "FACECUE_MEDIA_DIR": str(home / "media"),
        "FACECUE_SECRET_KEY": "browser-test-secret-" + "x" * 24,
        "FACECUE_ANALYSIS_FPS": "5",
        "PYTHONUNBUFFERED": "1",
    }
    _finish(_create_user(env, ORG_A, ADMIN_A, "admin"))  # the first one also creates the database
    second = _create_user(env, ORG_B, ADMIN_B, "admin")  # while the server starts
    port = _free_port()
    log = home / "serve.log"
    with open(log, "wb") as out:
        # A session of its own, so teardown can stop the server and the worker it started together.
        proc = subprocess.Popen(
            [sys.executable, "-m", "facecue.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"facecue serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    _finish(second)
    try:
        yield Service(url, home / "media", log)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the worker too, if the server could not stop it


@pytest.fixture(scope="session")
def playwright_instance():
    if sync_api is None:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    if _chromium() is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian's chromium package; .ci/run installs it)")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    # Debian's Chromium, never a browser build downloaded by `playwright install`.
    browser = playwright_instance.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser, service):
    ctx = browser.new_context(base_url=service.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield p
    # A script error or a blocked resource (CSP) on any page is a failure, not noise.
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/candidates")


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory, model_files) -> Path:
    """A 4-second talking-head clip from the astronaut photo: enough for a timeline, quick to analyse."""
    from facecue.io.sample import make_sample_video

    return make_sample_video(tmp_path_factory.mktemp("clip") / "interview.mp4", seconds=4.0, fps=15, size=(640, 360))


class Api:
    """The JSON API with a bearer token, for arranging what a test does not click through itself."""

    def __init__(self, playwright, url: str, email: str, password: str = PASSWORD) -> None:
        anon = playwright.request.new_context(base_url=url)
        r = anon.post("/api/v1/auth/token", form={"username": email, "password": password})
        assert r.ok, r.text()
        token = r.json()["access_token"]
        anon.dispose()
        self.ctx = playwright.request.new_context(base_url=url, extra_http_headers={"Authorization": f"Bearer {token}"})

    def post(self, path: str, **kwargs) -> dict:
        r = self.ctx.post(path, **kwargs)
        assert r.ok, (path, r.status, r.text())
        return r.json()

    def get(self, path: str) -> dict:
        r = self.ctx.get(path)
        assert r.ok, (path, r.status, r.text())
        return r.json()

    def candidate(self, ref: str, jurisdiction: str = "US-IL", consent: str | None = "assessment") -> dict:
        cand = self.post("/api/v1/candidates", data={"external_ref": ref, "jurisdiction": jurisdiction})
        if consent:
            self.post(
                f"/api/v1/candidates/{cand['id']}/consents",
                data={"purpose": consent, "scope": ["analysis", "share_with_reviewers"]},
            )
        return cand

    def upload(self, candidate_id: str, video: Path, purpose: str = "assessment") -> dict:
        return self.post(
            "/api/v1/interviews",
            multipart={
                "candidate_id": candidate_id,
                "purpose": purpose,
                "video": {"name": "interview.mp4", "mimeType": "video/mp4", "buffer": video.read_bytes()},
            },
        )

    def wait_done(self, interview_id: str, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.get(f"/api/v1/interviews/{interview_id}")
            if status["status"] in ("done", "failed", "cancelled"):
                assert status["status"] == "done", status
                return status
            time.sleep(0.3)
        raise AssertionError(f"interview {interview_id} not analysed within {timeout_s} s")


@pytest.fixture(scope="session")
def admin_api(playwright_instance, service) -> Api:
    api = Api(playwright_instance, service.url, ADMIN_A)
    yield api
    api.ctx.dispose()


def check_accessible(page) -> None:
    """The basics a screen-reader or keyboard user needs on every page: a language, one h1, a name for every
    control, an alt text for every image, and no positive tabindex reordering the page."""
    problems = page.evaluate("""() => {
        const out = [];
        if (!document.documentElement.lang) out.push('no lang on <html>');
        const h1 = document.querySelectorAll('h1').length;
        if (h1 !== 1) out.push(h1 + ' h1 elements');
        for (const el of document.querySelectorAll('input, select, textarea, button')) {
            if (el.type === 'hidden') continue;
            const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
                || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
            if (!named) out.push('unnamed ' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''));
        }
        for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.push('img without alt');
        for (const el of document.querySelectorAll('[tabindex]')) if (el.tabIndex > 0) out.push('positive tabindex');
        return out;
    }""")
    assert not problems, (page.url, problems)
