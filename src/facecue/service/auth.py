"""Who is asking: passwords, bearer tokens, session cookies, CSRF, login rate limiting.

- Passwords: argon2id (argon2-cffi), `hash_password` / `verify_password`.
- API clients: `POST /api/v1/auth/token` gives a signed bearer token (`issue_token`).
- Pages: `login_response(user, settings, to="/")` signs the user in with an HttpOnly, SameSite=Lax session cookie
  (Secure when FACECUE_COOKIE_SECURE=1); `logout(response)` clears it.
- `current_user` (a FastAPI dependency) accepts either. A request authenticated by the cookie that changes
  something must carry the CSRF token: a form field checked with `check_csrf(request, token)`, or for API calls
  from page scripts the `X-CSRF-Token` header (checked here). `csrf_token(request)` makes the token to embed.
- Tokens and cookies name the user and their `token_version`; bumping it revokes them all.
- `authenticate(session, request, email, password)` checks a login under the rate limit: after
  `settings.login_attempts` failures in `login_window_s` from one client or for one account, 429.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecue.service.db import SessionDep
from facecue.service.models import User
from facecue.service.settings import Settings

SESSION_COOKIE = "facecue_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_hasher = PasswordHasher()
# A fixed hash to verify against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("facecue-no-such-user")


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < 8:
        from facecue.errors import InputError

        raise InputError("a password must be at least 8 characters.")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def issue_token(user: User, settings: Settings) -> str:
    return _serializer(settings, "facecue-token").dumps({"u": user.id, "v": user.token_version})


def _load(settings: Settings, salt: str, value: str) -> dict | None:
    try:
        data = _serializer(settings, salt).loads(value, max_age=settings.token_max_age_s)
    except BadSignature:  # also covers expiry (SignatureExpired)
        return None
    return data if isinstance(data, dict) else None


def login_response(user: User, settings: Settings, to: str = "/") -> RedirectResponse:
    """A 303 redirect to `to` that sets the session cookie for `user`."""
    if not to.startswith("/") or to.startswith("//"):
        to = "/"  # only local redirects: no open redirect through ?next=
    response = RedirectResponse(to, status_code=303)
    value = _serializer(settings, "facecue-session").dumps(
        {"u": user.id, "v": user.token_version, "n": secrets.token_hex(16)})
    response.set_cookie(SESSION_COOKIE, value, max_age=settings.token_max_age_s, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/")
    return response


def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _session_data(request: Request) -> dict | None:
    value = request.cookies.get(SESSION_COOKIE)
    return _load(request.app.state.settings, "facecue-session", value) if value else None


def csrf_token(request: Request) -> str:
    """The token a form (or a page script's X-CSRF-Token header) must send back; tied to the session."""
    data = _session_data(request)
    nonce = data["n"] if data else "anonymous"
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless `token` is this session's CSRF token."""
    if not token or not hmac.compare_digest(str(token), csrf_token(request)):
        raise HTTPException(403, "the form is out of date or came from another site (CSRF check failed); "
                                 "reload the page and try again.")


def _user_from(session: Session, data: dict | None) -> User | None:
    if not data or not isinstance(data.get("u"), str):
        return None
    user = session.get(User, data["u"])
    return user if user is not None and user.is_active and user.token_version == data.get("v") else None


def optional_user(request: Request, session: Annotated[Session, SessionDep]) -> User | None:
    """The signed-in user, or None (for pages that show a sign-in link instead)."""
    settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _user_from(session, _load(settings, "facecue-token", header[7:].strip()))
    user = _user_from(session, _session_data(request))
    if user is not None and request.method not in _SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(401, "sign in first: send a bearer token from /api/v1/auth/token or a session cookie.",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


def require_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise HTTPException(403, "only an administrator of this organisation can do this.")
    return user


class LoginLimiter:
    """Failed logins per key (client address, account) in a sliding window; in memory, per server process."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until a login may be tried again under every key (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [times[0] + self.window_s - now for key in keys
                     if len(times := self._recent(key, now)) >= self.attempts]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def _limit_keys(request: Request, email: str) -> list[str]:
    client = request.client.host if request.client else "unknown"
    # The account key is a hash: the limiter never holds an e-mail address.
    return [f"ip:{client}", "acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()]


def authenticate(session: Session, request: Request, email: str, password: str) -> User:
    """The user with these credentials; 429 when rate limited, 401 when wrong (same answer for unknown e-mail)."""
    limiter: LoginLimiter = request.app.state.login_limiter
    keys = _limit_keys(request, email)
    if wait := limiter.retry_after(keys):
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait} seconds.",
                            headers={"Retry-After": str(wait)})
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user.password_hash if user else _DUMMY_HASH, password) or user is None \
            or not user.is_active:  # a disabled account gets the same answer as a wrong password
        limiter.failed(keys)
        raise HTTPException(401, "wrong e-mail address or password.", headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(keys[1:])  # the account's count; the client's failures still count
    return user
