"""Sign-in and users: `POST /auth/token`, `GET /me`, `GET/POST /users`, `PATCH /users/{id}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from facecue.service import operations, schemas
from facecue.service.auth import authenticate, issue_token
from facecue.service.deps import Admin, CurrentSettings, Db, Me

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: Db, settings: CurrentSettings
) -> schemas.Token:
    """OAuth2 password flow: username is the e-mail address."""
    user = authenticate(session, request, form.username, form.password)
    return schemas.Token(access_token=issue_token(user, settings), token_type="bearer")


@router.get("/me")
def me(user: Me) -> schemas.Me:
    return schemas.Me.of(user)


@router.post("/users", status_code=201)
def create_user(body: schemas.NewUser, user: Admin, session: Db) -> schemas.UserOut:
    return schemas.UserOut.of(operations.create_user(session, user, body))


@router.get("/users")
def list_users(user: Admin, session: Db) -> list[schemas.UserOut]:
    return [schemas.UserOut.of(u) for u in operations.org_users(session, user)]


@router.patch("/users/{user_id}")
def change_role(user_id: str, body: schemas.RoleChange, user: Admin, session: Db) -> schemas.UserOut:
    """Change a user's role, or close the account with 'disabled' (audited); the organisation's only admin stays."""
    return schemas.UserOut.of(operations.change_role(session, user, user_id, body.role))
