"""`create_app(settings)`: the FastAPI application: the API under /api/v1, the reviewer pages (when present),
static files at /static, security headers on every response, and JSON 4xx answers for every bad request.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from facecue.errors import FacecueError, InputError
from facecue.governance import PolicyError
from facecue.service.auth import LoginLimiter
from facecue.service.db import configure
from facecue.service.settings import Settings
from facecue.service.storage import UnsupportedMedia, UploadTooLarge

log = logging.getLogger("facecue.service")
STATIC = Path(__file__).with_name("static")

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
# Swagger UI and ReDoc load their scripts from a CDN; only those two pages may.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "worker-src blob:; frame-ancestors 'none'")
_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()"}


def create_app(settings: Settings | None = None, migrate: bool = False) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="facecue review service", version="1",
                  description="Facial-expression analysis of interviews for human reviewers: observations with "
                              "their uncertainty, never a hire/no-hire verdict.")
    app.state.settings = settings
    app.state.db = configure(settings, migrate=migrate)
    app.state.login_limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    settings.media_dir.mkdir(parents=True, exist_ok=True)

    from facecue.service.api import router

    app.include_router(router)
    try:
        pages = importlib.import_module("facecue.service.pages")
    except ModuleNotFoundError as exc:  # the pages are optional while they are being written
        if exc.name != "facecue.service.pages":
            raise
        pages = None
    if pages is not None:
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    _add_error_handlers(app, pages)
    _add_middleware(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        length = request.headers.get("content-length")
        # Refuse an oversized upload before reading it (the form parts add a little to the video's size).
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + 4 * 1024 * 1024:
            response = JSONResponse({"detail": f"the upload is larger than the limit of "
                                               f"{settings.max_upload_bytes // (1024 * 1024)} MB."}, status_code=413)
        else:
            response = await call_next(request)
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else PAGE_CSP)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _status_for(exc: FacecueError) -> int:
    if isinstance(exc, PolicyError):
        return 403
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, UnsupportedMedia):
        return 415
    return 422 if isinstance(exc, InputError) else 400


def _add_error_handlers(app: FastAPI, pages) -> None:
    error_page = getattr(pages, "error_page", None)  # pages may render errors as HTML for browsers

    def answer(request: Request, status: int, detail, headers: dict | None = None):
        wants_html = "text/html" in request.headers.get("accept", "")
        if error_page is not None and wants_html and not request.url.path.startswith("/api/"):
            return error_page(request, status, detail if isinstance(detail, str) else "the request is not valid.")
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return answer(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # Where and what, never the submitted value (it may be a password).
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in exc.errors()]
        return answer(request, 422, detail)

    @app.exception_handler(FacecueError)
    async def facecue_error(request: Request, exc: FacecueError):
        return answer(request, _status_for(exc), str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=exc)
        return JSONResponse({"detail": "internal error; it was logged. Please report it."}, status_code=500)
