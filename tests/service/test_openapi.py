"""/openapi.json describes every response body of the API: each 2xx answer of each /api/v1 operation names its
media types and a schema that says what is in them (a named model with its fields, a list of one, or for files
what kind of file), never an empty or "any object" schema. And the models say what the API really answers."""

from __future__ import annotations

import pytest

from tests.service.conftest import consent, make_candidate, make_settings

JSON = "application/json"


@pytest.fixture
def openapi_client(tmp_path):
    from fastapi.testclient import TestClient

    from facecue.service.app import create_app

    with TestClient(create_app(make_settings("sqlite", tmp_path), migrate=True)) as client:
        yield client


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def _describes(doc: dict, media_type: str, schema: dict) -> bool:
    """Whether `schema` says what the body holds."""
    schema = _resolve(doc, schema)
    if schema.get("type") == "array":
        return _describes(doc, media_type, schema.get("items", {}))
    if media_type == JSON:
        return schema.get("type") == "object" and bool(schema.get("properties"))
    return schema.get("type") == "string"  # a file: text, HTML or binary


def test_every_api_response_has_a_schema(openapi_client):
    doc = openapi_client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, ops in doc["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in ops.items()
    ]
    assert len(operations) >= 30  # the whole API is in the document
    missing = []
    for path, method, op in operations:
        answers = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if not answers:
            missing.append(f"{method.upper()} {path}: no 2xx answer")
        for code, answer in answers.items():
            content = answer.get("content") or {}
            if not content:
                missing.append(f"{method.upper()} {path} {code}: no content")
            missing += [
                f"{method.upper()} {path} {code} {media}: schema {body.get('schema')}"
                for media, body in content.items()
                if not _describes(doc, media, body.get("schema", {}))
            ]
    assert not missing, "\n".join(missing)


def test_models_name_what_the_api_answers(client, org_a):
    doc = client.get("/openapi.json").json()
    models = doc["components"]["schemas"]

    def fields(name: str) -> set[str]:
        return set(models[name]["properties"])

    admin = org_a["admin"]
    cand = make_candidate(client, admin)
    assert set(cand) == fields("CandidateOut")
    assert set(consent(client, admin, cand["id"])) == fields("ConsentOut")
    detail = client.get(f"/api/v1/candidates/{cand['id']}", headers=admin).json()
    assert set(detail) == fields("CandidateDetail")
    assert set(client.get("/api/v1/me", headers=admin).json()) == fields("Me")
    created = models["CandidateOut"]["properties"]["created_at"]
    assert {"type": "string", "format": "date-time"} in created.get("anyOf", [created])
    # Times read as they always did: ISO 8601 with the UTC offset.
    assert cand["created_at"].endswith("+00:00")
