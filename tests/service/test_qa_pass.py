"""The QA pass's findings, one test each, against the real app: what one organisation could learn about or do to
another, inputs that answered 500 or the wrong status, and changes that went unaudited."""

from __future__ import annotations

from tests.service.conftest import consent, make_candidate, upload
from tests.service.test_hardening import sign_in

# --- 1. erasure's search covers only the caller's organisation --------------------------------------------------------


def test_erasure_search_ignores_other_organisations(client, app, org_a, sample_video):
    a, b = org_a["admin"], org_a["other"]
    theirs = make_candidate(client, b, "cand-001", name="Zed Otherorg")
    consent(client, b, theirs["id"])
    assert upload(client, b, theirs["id"], sample_video).status_code == 201  # its folder names cand-001

    # A's candidate with the same reference and name: the erasure is complete, and says nothing about B.
    mine = make_candidate(client, a, "cand-001", name="Zed Otherorg")
    consent(client, a, mine["id"])
    r = client.delete(f"/api/v1/candidates/{mine['id']}", headers=a)
    assert r.status_code == 200 and r.json()["remaining"] == [] and r.json()["verified"] is True
    probe = make_candidate(client, a, "probe-1", name="Zed Otherorg")  # a throwaway to ask about B's names
    assert client.delete(f"/api/v1/candidates/{probe['id']}", headers=a).json()["verified"] is True

    # Something of A's own still naming the candidate is reported, as a column or a path inside the media folder.
    gone = make_candidate(client, a, "cand-002")
    other = make_candidate(client, a, "cand-003")
    consent(client, a, other["id"])
    iid = upload(client, a, other["id"], sample_video).json()["id"]
    client.post(f"/api/v1/interviews/{iid}/notes", json={"text": "compare with cand-002"}, headers=a)
    token = sign_in(client, app, "admin@a.example")
    page = client.post(f"/candidates/{gone['id']}/erase", data={"csrf_token": token, "confirm_ref": "cand-002"})
    assert page.status_code == 200 and "Erasure incomplete" in page.text  # reported, never a 500
    again = make_candidate(client, a, "cand-002")
    r = client.delete(f"/api/v1/candidates/{again['id']}", headers=a).json()
    assert r["remaining"] == ["notes.text"] and r["verified"] is False


# --- 2. another organisation cannot reset the sign-in limit on an address ---------------------------------------------


def test_same_address_in_another_organisation_does_not_reset_the_limit(client, org_a):
    # Organisation B's admin makes an account with A's reviewer's address and a password B knows.
    body = {"email": "reviewer@a.example", "role": "reviewer", "password": "b knows this one"}
    assert client.post("/api/v1/users", json=body, headers=org_a["other"]).status_code == 201
    ours = {"username": "reviewer@a.example", "password": "b knows this one"}
    for n in range(10):  # each guess at A's reviewer, then a right password for B's account (which reset it)
        guess = {"username": "reviewer@a.example", "password": f"guess-{n}"}
        assert client.post("/api/v1/auth/token", data=guess).status_code == 401
        if n < 9:
            assert client.post("/api/v1/auth/token", data=ours).status_code == 200
    r = client.post("/api/v1/auth/token", data={"username": "reviewer@a.example", "password": "guess-10"})
    assert r.status_code == 429


# --- 3, 4. a consent's date: not in the future, not before the notice existed, never a 500 ----------------------------


def test_consent_dates_are_checked(client, org_a, sample_video):
    from datetime import UTC, datetime, timedelta, timezone

    h = org_a["admin"]
    cand = make_candidate(client, h)
    url = f"/api/v1/candidates/{cand['id']}/consents"
    for given in (
        "2999-01-01T00:00:00Z",  # the future: it would refuse every upload until then
        (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "1970-01-01T00:00:00Z",  # before the notice was published
        "9999-12-31T23:59:59-23:59",  # in the year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # in the year 0
    ):
        r = client.post(url, json={"purpose": "assessment", "given_at": given}, headers=h)
        assert r.status_code == 422 and isinstance(r.json()["detail"], str), (given, r.text)
        assert given[:10] not in r.text  # the value is not echoed
    # A clock a minute ahead is taken as now: uploads go through at once and a withdrawal comes after it.
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    body = {"purpose": "assessment", "given_at": ahead, "scope": ["analysis", "share_with_reviewers"]}
    x = client.post(url, json=body, headers=h).json()
    assert datetime.fromisoformat(x["given_at"]) <= datetime.now(UTC)
    assert upload(client, h, cand["id"], sample_video).status_code == 201
    withdrawn = client.post(f"/api/v1/consents/{x['id']}/withdraw", headers=h).json()
    assert withdrawn["withdrawn_at"] >= withdrawn["given_at"]
    # A past time on or after the current notice's publication, in another time zone, is kept (in UTC).
    from facecue.governance import NOTICE_VERSION_SINCE

    then = NOTICE_VERSION_SINCE + timedelta(hours=1)
    given = then.astimezone(timezone(timedelta(hours=1))).isoformat()
    past = client.post(url, json={"purpose": "assessment", "given_at": given}, headers=h)
    assert past.status_code == 201 and past.json()["given_at"] == then.isoformat()
    # The day before it is refused: the candidate cannot have agreed to notice text published later.
    before = (NOTICE_VERSION_SINCE - timedelta(days=1)).isoformat()
    assert client.post(url, json={"purpose": "assessment", "given_at": before}, headers=h).status_code == 422


# --- 5. the audit log does not show other organisations' entries through seq or prev_hash -----------------------------


def test_audit_entries_are_numbered_within_the_organisation(client, app, org_a):
    a, b = org_a["admin"], org_a["other"]
    for n in range(3):  # the organisations' entries interleave in the shared chain
        consent(client, a, make_candidate(client, a, f"cand-a{n}")["id"])
        consent(client, b, make_candidate(client, b, f"cand-b{n}")["id"])
    entries = client.get("/api/v1/audit", headers=a).json()
    assert [e["seq"] for e in entries] == [0, 1, 2] and all("prev_hash" not in e for e in entries)
    assert [e["seq"] for e in client.get("/api/v1/audit?after=0", headers=a).json()] == [1, 2]
    token = sign_in(client, app, "admin@a.example")
    assert token and client.get("/admin/audit").status_code == 200


# --- 6. an organisation's admin applies retention to its own videos only ----------------------------------------------


def test_retention_run_is_scoped_to_the_organisation(client, app, org_a, sample_video):
    from dataclasses import replace

    from facecue.service.retention import apply_retention

    app.state.settings = replace(app.state.settings, retention_days=0)  # every finished video is due
    ids = {}
    for who in ("admin", "other"):
        cand = make_candidate(client, org_a[who])
        consent(client, org_a[who], cand["id"])
        ids[who] = upload(client, org_a[who], cand["id"], sample_video).json()["id"]
        client.post(f"/api/v1/interviews/{ids[who]}/cancel", headers=org_a[who])
    assert client.post("/api/v1/retention/run", headers=org_a["admin"]).json() == {"videos_deleted": 1}
    video = client.get(f"/api/v1/interviews/{ids['other']}", headers=org_a["other"]).json()
    assert video["video_available"] is True  # B's video stays until B's admin or the hourly run removes it
    assert apply_retention(app.state.db, app.state.settings) == 1  # the workers' run covers every organisation


# --- 7. mistakes in a request are 4xx with a JSON detail, and the right 4xx -------------------------------------------


def test_bad_requests_get_the_right_status_and_json(client, app, org_a, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    r = client.get(f"/api/v1/candidates/{cand['id']}/notice?purpose=bogus", headers=h)
    assert r.status_code == 422 and "bogus" not in r.text
    for scope in ([], ["share_with_reviewers"]):  # no 'analysis': invalid, not a refusal
        body = {"purpose": "assessment", "scope": scope}
        r = client.post(f"/api/v1/candidates/{cand['id']}/consents", json=body, headers=h)
        assert r.status_code == 422 and isinstance(r.json()["detail"], str), r.text
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    url = f"/api/v1/interviews/{iid}/video"
    for byte_range, status in (("bytes=abc", 400), ("bytes=5-1", 400), ("bytes=99999999-", 416)):
        r = client.get(url, headers={**h, "Range": byte_range})
        assert r.status_code == status and r.headers["content-type"] == "application/json", byte_range
        assert isinstance(r.json()["detail"], str)
    assert client.get(url, headers={**h, "Range": "bytes=0-9"}).status_code == 206  # a good range still works
    page_token = sign_in(client, app, "admin@a.example")
    assert page_token and client.get(f"/candidates/{cand['id']}/notice?purpose=bogus").status_code == 422


# --- 8. validation errors do not echo what was sent ----------------------------------------------------------------


def test_validation_errors_do_not_echo_the_values(client, org_a, sample_video):
    h = org_a["admin"]
    for body, sent in (
        ({"external_ref": "bob@example.com", "jurisdiction": "US"}, "bob@example.com"),
        ({"external_ref": "cand-1", "jurisdiction": "XQ-ZZ"}, "XQ-ZZ"),
    ):
        r = client.post("/api/v1/candidates", json=body, headers=h)
        assert r.status_code == 422 and sent not in r.text, r.text
    cand = make_candidate(client, h)
    consent(client, h, cand["id"])
    r = upload(client, h, cand["id"], sample_video, signals="<img src=x>emotions")
    assert r.status_code == 422 and "<img" not in r.text, r.text


# --- 9. new users and erasure requests are audited; one open request per candidate ----------------------------------


def test_new_users_and_erasure_requests_are_audited(client, org_a):
    h = org_a["admin"]
    body = {"email": "second-admin@a.example", "role": "admin", "password": "long enough"}
    new = client.post("/api/v1/users", json=body, headers=h).json()
    cand = make_candidate(client, h)
    first = client.post("/api/v1/erasure-requests", json={"candidate_id": cand["id"]}, headers=h)
    again = client.post("/api/v1/erasure-requests", json={"candidate_id": cand["id"]}, headers=h)
    assert first.status_code == 201 and again.status_code == 409 and isinstance(again.json()["detail"], str)
    assert len(client.get("/api/v1/erasure-requests", headers=h).json()) == 1
    changes = [e for e in client.get("/api/v1/audit", headers=h).json() if e["action"] == "changed"]
    assert [e["details"] for e in changes] == [
        {"user": new["id"], "change": "user created as admin"},
        {"erasure_request": first.json()["id"], "change": "erasure requested"},
    ]
    assert changes[1]["subject"] == first.json()["subject_ref"]


def test_an_attempts_server_reason_reaches_admins_only_whatever_the_status():
    """A job done on its second try kept its first try's reason (a server path) in `error`, shown to reviewers."""
    from facecue.service.schemas import FAILED, error_for

    reason = "model file /srv/facecue/models/x.tflite is missing"
    assert error_for(reason, "done", admin=False) is None and error_for(reason, "done", admin=True) == reason
    assert error_for(reason, "queued", admin=False) == FAILED == error_for(reason, "failed", admin=False)
    cancelled = "cancelled before the analysis finished"  # the service's own sentence
    assert error_for(cancelled, "cancelled", admin=False) == cancelled and error_for(None, "failed", False) is None


def test_an_error_message_quoting_an_impossible_date_keeps_it_as_written():
    """The error page makes quoted times readable; a string that only looks like one raised inside the error page."""
    from facecue.service.pages import _readable_moments

    said = _readable_moments("withdrawn at 2026-12-05T11:57:30.834409+00:00; not a date: 2026-02-30T10:00")
    assert said == "withdrawn at 5 Dec 2026, 11:57 UTC; not a date: 2026-02-30T10:00"
