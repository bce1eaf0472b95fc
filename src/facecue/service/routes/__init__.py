"""The JSON API under /api/v1, one module per resource; each route checks its input, calls
`facecue.service.operations` and answers with a `facecue.service.schemas` model (so /openapi.json describes every
response body). Domain errors become HTTP answers in the app's error handler (`deps.http_status`)."""

from __future__ import annotations

from fastapi import APIRouter

from facecue.service.routes import admin, auth, candidates, consents, interviews, review

router = APIRouter(prefix="/api/v1")
for _module in (auth, candidates, consents, interviews, review, admin):
    router.include_router(_module.router)
