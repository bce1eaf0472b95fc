"""What the routes and pages share: their FastAPI dependencies, and the one map from domain errors to HTTP status.

- `Db`: the request's database session (one transaction, committed before the response goes out);
- `Me` / `Admin`: the signed-in user (bearer token or session cookie), an administrator for `Admin`;
- `CurrentSettings`, `CurrentDatabase`: the app's settings and database.

`http_status(exc)` says which status a `FacecueError` answers with: the app's error handler uses it for every
domain error raised by `facecue.service.operations` (and the pages for a form they show again with the reason).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from facecue.errors import FacecueError, InputError
from facecue.governance import PolicyError
from facecue.service.auth import current_user, require_admin
from facecue.service.db import Database, SessionDep
from facecue.service.models import User
from facecue.service.operations import Conflict, Forbidden, Gone, NotFound
from facecue.service.settings import Settings
from facecue.service.storage import UnsupportedMedia, UploadTooLarge


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def database_of(request: Request) -> Database:
    return request.app.state.db


Db = Annotated[Session, SessionDep]
Me = Annotated[User, Depends(current_user)]
Admin = Annotated[User, Depends(require_admin)]
CurrentSettings = Annotated[Settings, Depends(settings_of)]
CurrentDatabase = Annotated[Database, Depends(database_of)]

# The first class an error is an instance of decides (subclasses before their bases).
_STATUS: tuple[tuple[type[FacecueError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (PolicyError, 403),
    (Gone, 410),
    (UploadTooLarge, 413),
    (UnsupportedMedia, 415),
    (InputError, 422),  # operations.Invalid among them
)


def http_status(exc: FacecueError) -> int:
    """The HTTP status a domain error answers with (400 for any other mistake a user can fix)."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)
