"""The review of issue 16, item by item: each test reproduces what broke, against the real app (and a real server
or real worker processes where the item is about them)."""

from __future__ import annotations

import select
import socket
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.service.conftest import consent, login, make_candidate, make_settings, upload

MB = 1024 * 1024


def sign_in(client, app, email: str) -> str:
    """Give `client` a session cookie for `email` (as the sign-in page does); returns its CSRF token."""
    from types import SimpleNamespace

    from facecue.service.auth import SESSION_COOKIE, csrf_token, login_response
    from facecue.service.models import User

    with app.state.db.session() as s:
        user = s.query(User).filter_by(email=email).one()
    cookie = login_response(user, app.state.settings).headers["set-cookie"]
    client.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1])
    return csrf_token(SimpleNamespace(cookies=dict(client.cookies), app=app))


@pytest.fixture
def settings(backend, tmp_path):
    return make_settings(backend, tmp_path, max_upload_bytes=MB)  # the limit: 1 MB video + 5 MB for the form


def _chunked_upload(url: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """POST a chunked multipart upload (no Content-Length) of up to `total` bytes, stopping as soon as an answer
    comes; returns (status, bytes sent by then)."""
    parts = urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=30)
    lines = [
        "POST /api/v1/interviews HTTP/1.1",
        f"Host: {parts.netloc}",
        "Transfer-Encoding: chunked",
        "Content-Type: multipart/form-data; boundary=b0undary",
    ] + [f"{k}: {v}" for k, v in headers.items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = (
        b'--b0undary\r\nContent-Disposition: form-data; name="video"; filename="v.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n"
    )
    s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
    chunk, sent = b"\0" * 65536, 0
    s.settimeout(5)
    try:
        while sent < total and not select.select([s], [], [], 0)[0]:
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:  # the server answered and closed while we were still sending
        pass
    s.settimeout(60)
    answer = s.recv(4096)
    s.close()
    return int(answer.split()[1]), sent


# --- 1. upload limits before sign-in ------------------------------------------------------------------------------


def test_chunked_upload_is_refused_while_streaming(live_url, org_a, settings):
    # "sent" includes what the kernel's socket buffers took in (several MB on loopback) after the answer.
    status, sent = _chunked_upload(live_url, {}, 64 * MB)
    assert status == 401 and sent < 16 * MB  # before the body: nothing is spooled for an anonymous client
    token = org_a["admin"]["Authorization"]
    status, sent = _chunked_upload(live_url, {"Authorization": token}, 64 * MB)
    assert status == 413 and sent < 24 * MB  # at the 6 MB limit, not after the whole body
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert _chunked_upload(live_url, {"Authorization": forged}, 64 * MB)[0] == 401


def test_oversized_json_body_is_refused(client, org_a):
    r = client.post(
        "/api/v1/candidates",
        content=b'{"external_ref": "' + b"x" * (2 * MB) + b'"}',
        headers={**org_a["admin"], "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["detail"]


# --- 2. the jurisdiction lock ---------------------------------------------------------------------------------------


def test_another_jurisdiction_cannot_escape_the_candidates(client, org_a, sample_video):
    admin, reviewer = org_a["admin"], org_a["reviewer"]
    cand = make_candidate(client, admin, "cand-de-01", jurisdiction="DE")
    r = client.post(
        f"/api/v1/candidates/{cand['id']}/consents",
        headers=reviewer,
        json={"purpose": "assessment", "jurisdiction": "US", "scope": ["analysis", "share_with_reviewers"]},
    )
    assert r.status_code == 409 and "jurisdiction is DE" in r.json()["detail"]
    r = upload(client, reviewer, cand["id"], sample_video, jurisdiction="US")
    assert r.status_code == 409
    assert client.get("/api/v1/interviews", headers=admin).json() == []
    # Only an admin moves a candidate, and the move is audited.
    assert (
        client.patch(f"/api/v1/candidates/{cand['id']}", json={"jurisdiction": "US"}, headers=reviewer).status_code
        == 403
    )
    r = client.patch(f"/api/v1/candidates/{cand['id']}", json={"jurisdiction": "us"}, headers=admin)
    assert r.status_code == 200 and r.json()["jurisdiction"] == "US"
    changes = [e["details"].get("change") for e in client.get("/api/v1/audit", headers=admin).json()]
    assert "jurisdiction DE -> US" in changes
    assert (
        client.patch(f"/api/v1/candidates/{cand['id']}", json={"jurisdiction": "Atlantis"}, headers=admin).status_code
        == 422
    )
    consent(client, reviewer, cand["id"])
    assert upload(client, reviewer, cand["id"], sample_video, jurisdiction="US").status_code == 201


# --- 3. finite note times; deleting notes ----------------------------------------------------------------------------


def _done_interview(client, app, headers, video) -> str:
    """An uploaded interview marked done with an empty result set (no worker needed for notes)."""
    import json

    from facecue.service.models import Interview

    cand = make_candidate(client, headers)
    consent(client, headers, cand["id"])
    iid = upload(client, headers, cand["id"], video).json()["id"]
    with app.state.db.session() as s:
        i = s.get(Interview, iid)
        folder = app.state.settings.media_dir / i.folder / "result"
        folder.mkdir()
        (folder / "result.json").write_text(json.dumps({"segments": []}))
        i.status, i.result_dir = "done", str(folder.relative_to(app.state.settings.media_dir))
    return iid


def test_note_times_must_be_finite_and_notes_can_be_deleted(client, app, org_a, sample_video):
    admin, reviewer = org_a["admin"], org_a["reviewer"]
    iid = _done_interview(client, app, admin, sample_video)
    for bad in (b"1e309", b"-1", b"NaN", b"1e12"):
        r = client.post(
            f"/api/v1/interviews/{iid}/notes",
            content=b'{"text": "x", "time_s": ' + bad + b"}",
            headers={**reviewer, "Content-Type": "application/json"},
        )
        assert r.status_code == 422, bad
    # The page form too: "inf" is refused, and the review page keeps working.
    token = sign_in(client, app, "reviewer@a.example")
    assert client.get(f"/interviews/{iid}").status_code == 200
    r = client.post(
        f"/interviews/{iid}/notes",
        data={"csrf_token": token, "text": "x", "time_s": "inf"},
        headers={"Accept": "application/json"},
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert client.get(f"/interviews/{iid}").status_code == 200
    page_note = client.post(
        f"/api/v1/interviews/{iid}/notes", json={"text": "from the page"}, headers={"X-CSRF-Token": token}
    ).json()
    r = client.post(
        f"/interviews/{iid}/notes/{page_note['id']}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=note-deleted")
    client.cookies.clear()

    mine = client.post(
        f"/api/v1/interviews/{iid}/notes", json={"text": "reviewer's", "time_s": 1.5}, headers=reviewer
    ).json()
    other = client.post(f"/api/v1/interviews/{iid}/notes", json={"text": "admin's"}, headers=admin).json()
    assert client.delete(f"/api/v1/interviews/{iid}/notes/{other['id']}", headers=reviewer).status_code == 403
    assert client.delete(f"/api/v1/interviews/{iid}/notes/{mine['id']}", headers=reviewer).status_code == 200
    assert client.delete(f"/api/v1/interviews/{iid}/notes/{other['id']}", headers=org_a["other"]).status_code == 404
    assert client.delete(f"/api/v1/interviews/{iid}/notes/{other['id']}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/interviews/{iid}/notes", headers=admin).json() == []
    changes = [e["details"].get("change") for e in client.get("/api/v1/audit", headers=admin).json()]
    assert changes.count("note deleted") == 3


# --- 7. sessions that really end; per-visitor sign-in CSRF ---------------------------------------------------------


def test_signed_out_cookie_no_longer_works(client, app, org_a):
    from facecue.service.auth import SESSION_COOKIE

    token = sign_in(client, app, "reviewer@a.example")
    copied = client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/me").status_code == 200
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set(SESSION_COOKIE, copied)  # a copy kept from before the sign-out
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/candidates", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")  # back to sign-in


def _login_form_token(client) -> str:
    import re

    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)


def test_sign_in_form_token_is_per_visitor_and_origin_is_checked(app, client, org_a):
    from fastapi.testclient import TestClient

    mine = _login_form_token(client)
    with TestClient(app) as other_client:
        theirs = _login_form_token(other_client)
        assert theirs != mine
        # An attacker's token (from their own visit) does not sign the victim in.
        form = {"email": "reviewer@a.example", "password": "correct horse battery", "csrf_token": theirs}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 403
    form["csrf_token"] = mine
    for foreign in ({"Origin": "https://evil.example"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}):
        assert client.post("/login", data=form, headers=foreign, follow_redirects=False).status_code == 403
    # Our own pages send no referrer, so Chromium says "Origin: null" with "Sec-Fetch-Site: same-origin".
    r = client.post(
        "/login", data=form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/candidates"


# --- 8. sign-in limits ----------------------------------------------------------------------------------------------


def test_parallel_wrong_passwords_do_not_overtake_the_limit(live_url, org_a, app):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def guess(n: int) -> int:
        return httpx.post(
            f"{live_url}/api/v1/auth/token",
            timeout=120,
            data={"username": "reviewer@a.example", "password": f"wrong-{n}"},
        ).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(guess, range(20)))
    assert codes.count(401) == app.state.settings.login_attempts and codes.count(429) == 10


def test_one_account_locked_does_not_lock_the_address(client, app, org_a):
    for n in range(10):
        assert (
            client.post("/api/v1/auth/token", data={"username": "admin@a.example", "password": f"no-{n}"}).status_code
            == 401
        )
    right = {"username": "admin@a.example", "password": "correct horse battery"}
    assert client.post("/api/v1/auth/token", data=right).status_code == 429  # that account waits
    r = client.post("/api/v1/auth/token", data={"username": "reviewer@a.example", "password": "correct horse battery"})
    assert r.status_code == 200  # another account from the same address does not
    # Guessing across many accounts from one address still hits the address limit.
    limit = app.state.settings.login_address_attempts
    codes = [
        client.post("/api/v1/auth/token", data={"username": f"u{n}@a.example", "password": "x" * 8}).status_code
        for n in range(limit - 10 + 1)
    ]
    assert codes[-1] == 429 and codes.count(401) == limit - 10


# --- 9. every video download is audited ---------------------------------------------------------------------------


def test_every_video_range_is_audited(client, app, org_a, sample_video):
    h = org_a["admin"]
    iid = _done_interview(client, app, h, sample_video)

    def video_views() -> int:
        return sum(
            1
            for e in client.get("/api/v1/audit", headers=h).json()
            if e["action"] == "viewed" and e["details"].get("format") == "video"
        )

    r = client.get(f"/api/v1/interviews/{iid}/video", headers={**h, "Range": "bytes=1-1,0-"})
    assert r.status_code in (200, 206) and len(r.content) >= sample_video.stat().st_size
    assert r.headers["Cache-Control"] == "no-store"
    assert video_views() == 1
    client.get(f"/api/v1/interviews/{iid}/video", headers={**h, "Range": "bytes=100-"})
    assert video_views() == 2


# --- 10. erased rows leave the SQLite files -------------------------------------------------------------------------


def test_erased_candidate_is_not_left_in_the_sqlite_files(client, app, org_a, settings, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's WAL and free pages; PostgreSQL reuses dead rows' space by VACUUM")
    h = org_a["admin"]
    cand = make_candidate(client, h, "cand-wal-7731", name="Quentin Walberg-Erasable")
    consent(client, h, cand["id"])
    r = client.delete(f"/api/v1/candidates/{cand['id']}", headers=h)
    assert r.json()["verified"] is True
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            data = path.read_bytes()
            assert b"Walberg-Erasable" not in data and b"cand-wal-7731" not in data, path.name
    with sqlite3.connect(db) as conn:  # the database itself is whole
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- 11. nothing leaks to other organisations or through echoes -----------------------------------------------------


def test_audit_verify_does_not_count_other_organisations(client, org_a):
    make_candidate(client, org_a["admin"])
    v = client.get("/api/v1/audit/verify", headers=org_a["other"]).json()
    assert v == {"ok": True, "first_bad_seq": None, "reason": "chain intact"}


def test_errors_do_not_echo_large_values(client, org_a):
    h = org_a["admin"]
    for body in (
        {"external_ref": "cand-1", "jurisdiction": "Z" * 500_000},
        {"external_ref": "Y" * 500_000, "jurisdiction": "US"},
    ):
        r = client.post("/api/v1/candidates", json=body, headers=h)
        assert r.status_code == 422 and len(r.content) < 2000, len(r.content)


# --- 12. caching, API docs, file modes -------------------------------------------------------------------------------


def test_files_are_private_and_api_answers_are_not_cached(client, app, org_a, settings, sample_video, backend):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    r = upload(client, h, cand["id"], sample_video)
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/candidates", headers=h).headers["Cache-Control"] == "no-store"
    folder = settings.media_dir / "interviews" / r.json()["id"]
    for path in (settings.media_dir, settings.media_dir / "interviews", folder):
        assert path.stat().st_mode & 0o777 == 0o700, path
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    if backend == "sqlite":
        assert Path(settings.database_url.removeprefix("sqlite:///")).stat().st_mode & 0o777 == 0o600
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_api_docs_only_when_turned_on(backend, tmp_path):
    from fastapi.testclient import TestClient

    from facecue.service.app import create_app

    app = create_app(make_settings(backend, tmp_path, api_docs=True), migrate=True)
    with TestClient(app) as c:
        assert c.get("/docs").status_code == 200


def test_another_organisations_addresses_stay_unknown(client, org_a):
    # admin@a.example exists in organisation A; B's admin gets the same answer as for an unused address.
    for email in ("admin@a.example", "unused@a.example"):
        r = client.post(
            "/api/v1/users",
            json={"email": email, "role": "reviewer", "password": "another password"},
            headers=org_a["other"],
        )
        assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/users",
        json={"email": "unused@a.example", "role": "reviewer", "password": "another password"},
        headers=org_a["other"],
    )
    assert r.status_code == 409  # a duplicate within one's own organisation is still refused
    # Each account signs in with its own password; the tokens name different organisations.
    a = login(client, "admin@a.example")
    b = login(client, "admin@a.example", "another password")
    assert client.get("/api/v1/me", headers=a).json()["organisation"] == "Acme Hiring Ltd"
    assert client.get("/api/v1/me", headers=b).json()["organisation"] == "Beta Corp"
