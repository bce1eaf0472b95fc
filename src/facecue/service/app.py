"""`create_app(settings)`: the FastAPI application: the API under /api/v1, the reviewer pages (when present),
static files at /static, security headers on every response, and JSON 4xx answers for every bad request.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from facecue.errors import FacecueError
from facecue.service.auth import LoginLimiter, has_signed_credentials
from facecue.service.db import configure
from facecue.service.deps import http_status
from facecue.service.settings import Settings
from facecue.service.storage import private_folder

log = logging.getLogger("facecue.service")
STATIC = Path(__file__).with_name("static")

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI and ReDoc load their scripts from a CDN; only those two pages may (and only when turned on).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "worker-src blob:; frame-ancestors 'none'"
)
# A form's text fields (questions, transcript, names) may add this much to the video's size limit.
FORM_SLACK = 5 * 1024 * 1024
# Every body that is not a multipart upload (JSON, sign-in and page forms) is small.
SMALL_BODY = 1024 * 1024
DETAIL_LIMIT = 500  # characters of an error detail: never a whole submitted value back
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(settings: Settings | None = None, migrate: bool = False) -> FastAPI:
    settings = settings or Settings.from_env()
    # Swagger UI and ReDoc load their scripts from a CDN: only where a deployer turns them on (FACECUE_API_DOCS=1,
    # for development); the OpenAPI document itself is always at /openapi.json.
    docs = settings.api_docs
    app = FastAPI(
        title="facecue review service",
        version="1",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        description="Facial-expression analysis of interviews for human reviewers: observations with "
        "their uncertainty, never a hire/no-hire verdict.",
    )
    app.state.settings = settings
    app.state.db = configure(settings, migrate=migrate)
    app.state.login_limiter = LoginLimiter(
        settings.login_attempts, settings.login_window_s, settings.login_address_attempts
    )
    private_folder(settings.media_dir)

    from facecue.service.routes import router

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
    app.add_middleware(BodyLimits, settings=settings)  # added first: inside the headers middleware below
    _add_middleware(app, settings)
    return app


class BodyLimits:
    """Sign-in and size limits enforced while a request body streams in, before anything is spooled to disk.

    FastAPI parses a multipart form (spooling its files) before it resolves the endpoint's dependencies, so
    the endpoint's own 401 and the storage layer's 413 would come only after the whole body was read. Here a
    multipart body needs a validly signed token or session cookie first (the endpoint still checks it fully),
    and every body is counted as it arrives, Content-Length or not (chunked)."""

    def __init__(self, app, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        request = Request(scope)
        multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.settings.max_upload_bytes + FORM_SLACK if multipart else SMALL_BODY
        too_large = {"detail": f"the request is larger than the limit of {limit // (1024 * 1024)} MB."}
        if multipart and not has_signed_credentials(request, self.settings):
            response = JSONResponse(
                {"detail": "sign in first: send a bearer token from /api/v1/auth/token or a session cookie."},
                401,
                {"WWW-Authenticate": "Bearer"},
            )
            return await response(scope, receive, send)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return await JSONResponse(too_large, 413)(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI lets an HTTPException from body parsing through as it is
                    raise HTTPException(413, too_large["detail"])
            return message

        await self.app(scope, counted, send)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else PAGE_CSP)
        if request.url.path.startswith("/api/"):  # personal data: never kept by a browser or shared cache
            response.headers.setdefault("Cache-Control", "no-store")
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _add_error_handlers(app: FastAPI, pages) -> None:
    error_page = getattr(pages, "error_page", None)  # pages may render errors as HTML for browsers

    def answer(request: Request, status: int, detail, headers: dict | None = None):
        if isinstance(detail, str) and len(detail) > DETAIL_LIMIT:  # a message may quote what was sent
            detail = detail[:DETAIL_LIMIT] + "…"
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
        return answer(request, http_status(exc), str(exc))  # the domain's errors, mapped in one place

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": "internal error; it was logged. Please report it."}, status_code=500)
