"""The API's rules, through HTTP, on SQLite and PostgreSQL: auth, organisation isolation, policy refusals,
validation, headers."""

from __future__ import annotations

from types import SimpleNamespace

from tests.service.conftest import PASSWORD, add_user, consent, login, make_candidate, upload


def test_token_login_and_wrong_password(client, org_a):
    me = client.get("/api/v1/me", headers=org_a["admin"]).json()
    assert me["role"] == "admin" and me["organisation"] == "Acme Hiring Ltd"
    r = client.post("/api/v1/auth/token", data={"username": "admin@a.example", "password": "wrong password"})
    assert r.status_code == 401 and r.json()["detail"].startswith("wrong e-mail")
    assert client.get("/api/v1/candidates").status_code == 401
    assert client.get("/api/v1/candidates", headers={"Authorization": "Bearer forged.token"}).status_code == 401


def test_password_hash_is_argon2(app, org_a):
    from facecue.service.models import User

    with app.state.db.session() as s:
        user = s.query(User).filter_by(email="admin@a.example").one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_login_rate_limited(backend, tmp_path):
    from fastapi.testclient import TestClient

    from facecue.service.app import create_app
    from tests.service.conftest import make_settings

    app = create_app(make_settings(backend, tmp_path, login_attempts=3, login_address_attempts=5), migrate=True)
    add_user(app, "Acme Hiring Ltd", "reviewer@a.example", "reviewer")
    with TestClient(app) as client:
        for _ in range(3):
            assert (
                client.post("/api/v1/auth/token", data={"username": "x@a.example", "password": "nope-nope"}).status_code
                == 401
            )
        r = client.post("/api/v1/auth/token", data={"username": "x@a.example", "password": "nope-nope"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and "too many" in r.json()["detail"]
        # That account waits; another one from the same client does not ...
        r = client.post("/api/v1/auth/token", data={"username": "reviewer@a.example", "password": PASSWORD})
        assert r.status_code == 200
        for n in range(2):
            assert (
                client.post(
                    "/api/v1/auth/token", data={"username": f"y{n}@a.example", "password": "nope-nope"}
                ).status_code
                == 401
            )
        # ... until the client reaches the limit per address, over all accounts.
        r = client.post("/api/v1/auth/token", data={"username": "reviewer@a.example", "password": PASSWORD})
        assert r.status_code == 429


def test_candidates_are_invisible_to_other_organisations(client, org_a):
    cand = make_candidate(client, org_a["admin"])
    listed = client.get("/api/v1/candidates", headers=org_a["reviewer"]).json()
    assert [c["id"] for c in listed] == [cand["id"]]
    assert client.get("/api/v1/candidates", headers=org_a["other"]).json() == []
    for method, path in (
        ("get", f"/api/v1/candidates/{cand['id']}"),
        ("delete", f"/api/v1/candidates/{cand['id']}"),
        ("get", f"/api/v1/candidates/{cand['id']}/consents"),
    ):
        r = getattr(client, method)(path, headers=org_a["other"])
        assert r.status_code == 404, (method, path, r.text)
    r = client.post(f"/api/v1/candidates/{cand['id']}/consents", json={"purpose": "assessment"}, headers=org_a["other"])
    assert r.status_code == 404


def test_candidate_validation_gives_json_4xx(client, org_a):
    h = org_a["admin"]
    r = client.post(
        "/api/v1/candidates", json={"external_ref": "jane.doe@example.com", "jurisdiction": "US"}, headers=h
    )
    assert r.status_code == 422 and "pseudonymous" in r.json()["detail"]
    r = client.post("/api/v1/candidates", json={"external_ref": "cand-0001", "jurisdiction": "Atlantis"}, headers=h)
    assert r.status_code == 422 and "unknown jurisdiction" in r.json()["detail"]
    r = client.post("/api/v1/candidates", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    make_candidate(client, h, "cand-0001")
    assert (
        client.post(
            "/api/v1/candidates", json={"external_ref": "cand-0001", "jurisdiction": "US"}, headers=h
        ).status_code
        == 409
    )
    assert client.get("/api/v1/candidates/../../etc/passwd", headers=h).status_code == 404
    assert client.get("/api/v1/interviews/" + "a" * 200, headers=h).status_code == 404


def test_validation_errors_never_echo_the_password(client, org_a):
    r = client.post(
        "/api/v1/users",
        json={"email": "new@a.example", "role": "boss", "password": "s3cret-value"},
        headers=org_a["admin"],
    )
    assert r.status_code == 422 and "s3cret-value" not in r.text


def test_only_admins_create_users_and_read_the_audit(client, org_a):
    body = {"email": "new@a.example", "role": "reviewer", "password": "another password"}
    assert client.post("/api/v1/users", json=body, headers=org_a["reviewer"]).status_code == 403
    assert client.post("/api/v1/users", json=body, headers=org_a["admin"]).status_code == 201
    assert login(client, "new@a.example", "another password")
    assert client.get("/api/v1/audit", headers=org_a["reviewer"]).status_code == 403


def test_admins_change_roles_and_disable_accounts(client, org_a):
    users = {u["email"]: u for u in client.get("/api/v1/users", headers=org_a["admin"]).json()}
    reviewer, admin = users["reviewer@a.example"], users["admin@a.example"]
    token = login(client, "reviewer@a.example")
    path = f"/api/v1/users/{reviewer['id']}"
    assert client.patch(path, json={"role": "admin"}, headers=org_a["reviewer"]).status_code == 403
    assert client.patch(path, json={"role": "admin"}, headers=org_a["other"]).status_code == 404  # other org
    assert client.patch(path, json={"role": "owner"}, headers=org_a["admin"]).status_code == 422

    r = client.patch(path, json={"role": "disabled"}, headers=org_a["admin"])
    assert r.status_code == 200 and r.json()["role"] == "disabled"
    # A disabled account: its tokens stop working, and signing in gets the wrong-password answer.
    assert client.get("/api/v1/me", headers=token).status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "reviewer@a.example", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["detail"].startswith("wrong e-mail")

    assert client.patch(path, json={"role": "admin"}, headers=org_a["admin"]).json()["role"] == "admin"
    assert client.get("/api/v1/me", headers=login(client, "reviewer@a.example")).json()["role"] == "admin"
    # An organisation keeps at least one administrator.
    assert (
        client.patch(f"/api/v1/users/{admin['id']}", json={"role": "reviewer"}, headers=org_a["admin"]).status_code
        == 200
    )
    r = client.patch(path, json={"role": "disabled"}, headers=login(client, "reviewer@a.example"))
    assert r.status_code == 409 and "only administrator" in r.json()["detail"]
    changes = [
        e["details"]["change"]
        for e in client.get("/api/v1/audit", headers=login(client, "reviewer@a.example")).json()
        if e["details"].get("user")
    ]
    assert sorted(changes) == ["role admin -> reviewer", "role disabled -> admin", "role reviewer -> disabled"]


def test_security_headers(client, org_a):
    r = client.get("/api/v1/me", headers=org_a["admin"])
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert client.get("/docs").status_code == 404  # Swagger UI loads from a CDN: off unless FACECUE_API_DOCS=1
    assert client.get("/openapi.json").json()["paths"]["/api/v1/interviews"]


def test_eu_assessment_is_refused_and_audited(client, org_a, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h, "cand-eu-01", jurisdiction="DE")
    r = client.post(f"/api/v1/candidates/{cand['id']}/consents", json={"purpose": "assessment"}, headers=h)
    assert r.status_code == 403 and "Art. 5(1)(f)" in r.json()["detail"]  # no notice exists for it
    r = upload(client, h, cand["id"], sample_video)
    assert r.status_code == 403 and "Art. 5(1)(f)" in r.json()["detail"]
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=h).json()]
    assert actions == ["refused"]
    assert client.get("/api/v1/interviews", headers=h).json() == []


def test_missing_consent_is_refused(client, org_a, sample_video, settings):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    r = upload(client, h, cand["id"], sample_video)
    assert r.status_code == 403 and "consent" in r.json()["detail"]
    assert not (settings.media_dir / "interviews").exists() or not any((settings.media_dir / "interviews").iterdir())


def test_consent_for_another_purpose_or_jurisdiction_is_refused(client, org_a, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h, jurisdiction="US")
    consent(client, h, cand["id"], purpose="research", scope=("analysis",))
    r = upload(client, h, cand["id"], sample_video, purpose="assessment")
    assert r.status_code == 403 and "consent" in r.json()["detail"] and "none was given" in r.json()["detail"]
    consent(client, h, cand["id"], purpose="assessment")
    r = upload(client, h, cand["id"], sample_video, purpose="assessment", jurisdiction="US-IL")
    assert r.status_code == 409 and "candidate's jurisdiction is US" in r.json()["detail"]
    # An admin moves the candidate: the consent given under US rules no longer covers an analysis.
    r = client.patch(f"/api/v1/candidates/{cand['id']}", json={"jurisdiction": "US-IL"}, headers=h)
    assert r.status_code == 200 and r.json()["jurisdiction"] == "US-IL"
    r = upload(client, h, cand["id"], sample_video, purpose="assessment")
    assert r.status_code == 403 and "different notice" in r.json()["detail"]


def test_withdrawn_consent_is_refused(client, org_a, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    c = consent(client, h, cand["id"])
    r = client.post(f"/api/v1/consents/{c['id']}/withdraw", headers=h)
    assert r.status_code == 200 and r.json()["withdrawn_at"]
    assert client.post(f"/api/v1/consents/{c['id']}/withdraw", headers=h).status_code == 409
    r = upload(client, h, cand["id"], sample_video)
    assert r.status_code == 403 and "withdrawn" in r.json()["detail"]


def test_notice_is_rendered_for_the_organisation(client, org_a):
    cand = make_candidate(client, org_a["admin"], jurisdiction="US-IL")
    n = client.get(
        f"/api/v1/candidates/{cand['id']}/notice", params={"purpose": "assessment"}, headers=org_a["reviewer"]
    ).json()
    assert "Acme Hiring Ltd" in n["text"] and n["jurisdiction"] == "US-IL" and len(n["sha256"]) == 64
    stale = client.post(
        f"/api/v1/candidates/{cand['id']}/consents",
        json={"purpose": "assessment", "notice_sha256": "0" * 64},
        headers=org_a["admin"],
    )
    assert stale.status_code == 409
    ok = client.post(
        f"/api/v1/candidates/{cand['id']}/consents",
        json={"purpose": "assessment", "notice_sha256": n["sha256"]},
        headers=org_a["admin"],
    )
    assert ok.status_code == 201 and ok.json()["notice_sha256"] == n["sha256"]


def test_uploads_are_sniffed_not_trusted(client, org_a, tmp_path):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    fake = tmp_path / "evil.mp4"
    fake.write_bytes(b"<?php echo 'not a video'; ?>" * 100)
    r = upload(client, h, cand["id"], fake)
    assert r.status_code == 415 and "not a video" in r.json()["detail"]
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 4000)
    r = upload(client, h, cand["id"], truncated)
    assert r.status_code == 415 and "no video frame" in r.json()["detail"]
    assert client.get("/api/v1/interviews", headers=h).json() == []


def test_upload_size_limit(backend, tmp_path, sample_video):
    from fastapi.testclient import TestClient

    from facecue.service.app import create_app
    from tests.service.conftest import make_settings

    app = create_app(make_settings(backend, tmp_path, max_upload_bytes=20_000), migrate=True)
    with TestClient(app) as client:
        add_user(app, "Acme Hiring Ltd", "admin@a.example", "admin")
        h = login(client, "admin@a.example")
        cand = make_candidate(client, h)
        consent(client, h, cand["id"])
        r = upload(client, h, cand["id"], sample_video)
        assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_path_traversal_in_file_names_is_impossible(client, org_a, sample_video, settings, tmp_path):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    with open(sample_video, "rb") as f:
        r = client.post(
            "/api/v1/interviews",
            headers=h,
            data={"candidate_id": cand["id"], "purpose": "assessment"},
            files={
                "video": ("../../../../tmp/owned.mp4", f, "video/mp4"),
                "questions": ("../../escape.sh", b"Q1 Tell me about yourself\n", "text/plain"),
            },
        )
    assert r.status_code == 201, r.text
    folder = settings.media_dir / "interviews" / r.json()["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["questions.txt", "subject.json", "video.mp4"]
    assert not (tmp_path / "owned.mp4").exists() and not list(settings.media_dir.rglob("escape*"))


def test_session_cookie_needs_csrf_token_for_changes(app, client, org_a):
    from facecue.service.auth import SESSION_COOKIE, csrf_token, login_response
    from facecue.service.models import User

    with app.state.db.session() as s:
        user = s.query(User).filter_by(email="reviewer@a.example").one()
    cookie = login_response(user, app.state.settings).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    client.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1])
    assert client.get("/api/v1/me").json()["email"] == "reviewer@a.example"
    body = {"external_ref": "cand-0100", "jurisdiction": "US"}
    r = client.post("/api/v1/candidates", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]

    page_request = SimpleNamespace(cookies=dict(client.cookies), app=app)  # what csrf_token reads of a request
    r = client.post("/api/v1/candidates", json=body, headers={"X-CSRF-Token": csrf_token(page_request)})
    assert r.status_code == 201


def test_results_of_unfinished_analysis_are_409_not_500(client, org_a, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    for path in ("/result", "/report", "/acknowledge"):
        r = (client.post if path == "/acknowledge" else client.get)(f"/api/v1/interviews/{iid}{path}", headers=h)
        detail = r.json()["detail"]
        assert r.status_code == 409 and ("queued" in detail or "finished" in detail), detail
    assert client.get(f"/api/v1/interviews/{iid}/result?format=xml", headers=h).status_code == 422
    r = client.post(f"/api/v1/interviews/{iid}/cancel", headers=h)
    assert r.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/interviews/{iid}/cancel", headers=h).status_code == 409
