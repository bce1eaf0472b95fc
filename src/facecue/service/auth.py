"""Who is asking: passwords, bearer tokens, session cookies, CSRF, login rate limiting.

- Passwords: argon2id (argon2-cffi), `hash_password` / `verify_password`.
- API clients: `POST /api/v1/auth/token` gives a signed bearer token (`issue_token`).
- Pages: `login_response(user, settings, to="/")` signs the user in with an HttpOnly, SameSite=Lax session cookie
  (Secure when FACECUE_COOKIE_SECURE=1); `logout(session, request, response)` revokes it on the server (its nonce
  is kept in revoked_sessions until it would expire) and clears it.
- `current_user` (a FastAPI dependency) accepts either. A request authenticated by the cookie that changes
  something must carry the CSRF token: a form field checked with `check_csrf(request, token)`, or for API calls
  from page scripts the `X-CSRF-Token` header (checked here). `csrf_token(request)` makes the token to embed: tied
  to the session, or before sign-in to a random per-visitor cookie (so no one can sign a victim in to an account
  of theirs). A request whose Origin names another site is refused as well.
- Tokens and cookies name the user and their `token_version`; bumping it revokes them all.
- `authenticate(session, request, email, password)` checks a login under the rate limit: after
  `settings.login_attempts` failures in `login_window_s` for one e-mail address, or `login_address_attempts` from one
  client address (over all accounts), 429. An attempt counts from the moment it starts, so parallel guesses
  cannot overtake the limit. The address is the connecting one (a proxy's X-Forwarded-For is believed only from
  FACECUE_TRUSTED_PROXIES, see `facecue serve`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecue.service.db import SessionDep
from facecue.service.models import RevokedSession, User
from facecue.service.settings import Settings

SESSION_COOKIE = "facecue_session"
VISITOR_COOKIE = "facecue_visitor"  # before sign-in: the per-visitor nonce the sign-in form's CSRF token is tied to
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
        {"u": user.id, "v": user.token_version, "n": secrets.token_hex(16)}
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.token_max_age_s,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


def logout(session: Session, request: Request, response: Response) -> Response:
    """End the request's session on the server (a copy of the cookie no longer works) and clear the cookie."""
    data = _session_data(request)
    if data and isinstance(data.get("n"), str):
        now = datetime.now(UTC)
        session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))  # expired anyway
        if session.get(RevokedSession, data["n"][:32]) is None:
            session.add(
                RevokedSession(
                    nonce=data["n"][:32], expires_at=now + timedelta(seconds=request.app.state.settings.token_max_age_s)
                )
            )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def has_signed_credentials(request: Request, settings: Settings) -> bool:
    """Whether the request carries a token or session cookie with a valid signature (not yet checked against the
    database): enough to refuse an anonymous upload before its body is read."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _load(settings, "facecue-token", header[7:].strip()) is not None
    value = request.cookies.get(SESSION_COOKIE)
    return bool(value) and _load(settings, "facecue-session", value) is not None


def _session_data(request: Request) -> dict | None:
    value = request.cookies.get(SESSION_COOKIE)
    return _load(request.app.state.settings, "facecue-session", value) if value else None


def visitor_nonce(request: Request) -> str:
    """The visitor's random nonce from their cookie, or a new one (`render` then sets the cookie)."""
    nonce = request.cookies.get(VISITOR_COOKIE, "")
    if len(nonce) == 32 and all(ch in "0123456789abcdef" for ch in nonce):
        return nonce
    state = request.state
    if not getattr(state, "new_visitor_nonce", None):
        state.new_visitor_nonce = secrets.token_hex(16)
    return state.new_visitor_nonce


def csrf_token(request: Request) -> str:
    """The token a form (or a page script's X-CSRF-Token header) must send back; tied to the session, or before
    sign-in to the visitor's own nonce (never one token shared by every visitor)."""
    data = _session_data(request)
    nonce = data["n"] if data else "visitor:" + visitor_nonce(request)
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def _foreign_origin(request: Request) -> bool:
    """Whether the browser says the request comes from another site (Origin is sent with every cross-site POST)."""
    origin = request.headers.get("origin")
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    if origin is None or origin == "null":  # browsers send "null" under Referrer-Policy: no-referrer (ours)
        return False
    # Host to host (not scheme): behind a TLS proxy the app sees http while the browser says https.
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless `token` is this session's CSRF token and the request does not come from another site."""
    if _foreign_origin(request) or not token or not hmac.compare_digest(str(token), csrf_token(request)):
        raise HTTPException(
            403, "the form is out of date or came from another site (CSRF check failed); reload the page and try again."
        )


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
    data = _session_data(request)
    user = _user_from(session, data)
    if user is not None and session.get(RevokedSession, str(data.get("n", ""))[:32]) is not None:
        return None  # signed out: this cookie (or a copy of it) is dead
    if user is not None and request.method not in _SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(
            401,
            "sign in first: send a bearer token from /api/v1/auth/token or a session cookie.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def require_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise HTTPException(403, "only an administrator of this organisation can do this.")
    return user


class LoginLimiter:
    """Failed logins per key in a sliding window: `attempts` per account key ("acct:…"), `address_attempts` per
    client address key ("ip:…"), so one address guessing at one account does not lock out the others using it.
    In memory, per server process."""

    def __init__(self, attempts: int, window_s: float, address_attempts: int | None = None) -> None:
        self.attempts, self.window_s = attempts, window_s
        self.address_attempts = address_attempts or attempts
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _limit(self, key: str) -> int:
        return self.address_attempts if key.startswith("ip:") else self.attempts

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def begin(self, keys: list[str]) -> tuple[int, float]:
        """Start an attempt: (seconds to wait, 0) when limited, else (0, stamp) with the attempt already counted
        as a failure under every key, in one locked step, so parallel attempts cannot all pass the check before
        any of them fails. `succeeded(keys, stamp)` takes it back."""
        now = time.monotonic()
        with self._lock:
            waits = [
                times[0] + self.window_s - now
                for key in keys
                if len(times := self._recent(key, now)) >= self._limit(key)
            ]
            if waits:
                return int(max(waits)) + 1, 0.0
            for key in keys:
                self._recent(key, now).append(now)
        return 0, now

    def succeeded(self, keys: list[str], stamp: float | None = None, forgive: bool = True) -> None:
        """A right password: this attempt is taken back; with `forgive`, the account's earlier failures too (the
        client address keeps its other failures)."""
        with self._lock:
            for key in keys:
                if key.startswith("ip:") or not forgive:
                    times = self._failures.get(key)
                    if stamp is not None and times is not None and stamp in times:
                        times.remove(stamp)
                else:
                    self._failures.pop(key, None)


def _limit_keys(request: Request, email: str) -> list[str]:
    client = request.client.host if request.client else "unknown"
    # The account key is a hash: the limiter never holds an e-mail address.
    return [f"ip:{client}", "acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()]


def authenticate(session: Session, request: Request, email: str, password: str) -> User:
    """The user with these credentials; 429 when rate limited, 401 when wrong (same answer for unknown e-mail)."""
    limiter: LoginLimiter = request.app.state.login_limiter
    keys = _limit_keys(request, email)
    wait, stamp = limiter.begin(keys)  # counted as a failure until it succeeds
    if wait:
        raise HTTPException(
            429, f"too many failed sign-ins; try again in {wait} seconds.", headers={"Retry-After": str(wait)}
        )
    # An address is unique per organisation, so it may name accounts in several: the password picks one.
    accounts = sorted(
        session.scalars(select(User).where(User.email == email.strip().lower()).order_by(User.created_at)),
        key=lambda u: not u.is_active,
    )
    # Every hash is checked, not up to the first match: the time does not tell which organisation's account it is.
    user = next(iter([u for u in accounts if verify_password(u.password_hash, password)]), None)
    if not accounts:
        verify_password(_DUMMY_HASH, password)  # an unknown address takes as long as a wrong password
    if user is None or not user.is_active:  # a disabled account gets the same answer as a wrong password
        raise HTTPException(401, "wrong e-mail address or password.", headers={"WWW-Authenticate": "Bearer"})
    # The failures counted under this address may be guesses at another organisation's account with it: only its
    # sole account may forgive them, or one organisation could reset the limit on another's user.
    limiter.succeeded(keys, stamp, forgive=len(accounts) == 1)
    return user
