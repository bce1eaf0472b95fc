"""Upload -> worker (real pipeline in a real child process) -> results, review, audit and erasure, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import text

from facecue.service.worker import Worker
from tests.service.conftest import consent, make_candidate

QUESTIONS = b"start,end,question\n0,2,Tell me about yourself\n2,4,Why this role?\n"


def analysed(
    client,
    headers,
    settings,
    sample_video,
    purpose="assessment",
    ref="cand-0042",
    name=None,
    questions: bytes | None = None,
):
    cand = make_candidate(client, headers, ref, name=name)
    scope = ("analysis",) if purpose != "assessment" else ("analysis", "share_with_reviewers")
    consent(client, headers, cand["id"], purpose=purpose, scope=scope)
    with open(sample_video, "rb") as f:
        files = {"video": ("clip.mp4", f, "video/mp4")}
        if questions is not None:
            files["questions"] = ("questions.csv", questions, "text/csv")
        r = client.post(
            "/api/v1/interviews", headers=headers, data={"candidate_id": cand["id"], "purpose": purpose}, files=files
        )
    assert r.status_code == 201 and r.json()["status"] == "queued", r.text
    Worker(settings).run(once=True)
    return cand, r.json()["id"]


def test_analysis_result_review_and_audit(client, org_a, settings, sample_video):
    h, reviewer = org_a["admin"], org_a["reviewer"]
    _, iid = analysed(client, h, settings, sample_video, questions=QUESTIONS)
    status = client.get(f"/api/v1/interviews/{iid}", headers=reviewer).json()
    assert status["status"] == "done" and status["progress"] == 1.0 and status["job"]["attempts"] == 1
    assert status["draft"] is True

    r = client.get(f"/api/v1/interviews/{iid}/result", headers=reviewer)
    assert r.status_code == 200 and r.headers["X-Facecue-Draft"] == "true"
    on_disk = (settings.media_dir / "interviews" / iid / "result" / "result.json").read_bytes()
    assert r.content == on_disk  # the same JSON as result.json
    data = r.json()
    assert data["schema"] == "facecue.result/1" and data["summary"]["frames_analysed"] >= 7
    assert data["summary"]["face_presence"] > 0.5  # the astronaut's face is found in most frames

    # The question timeline went through to the interview section.
    assert data["interview"]["span_kind"] == "questions" and data["interview"]["subject_id"] is None
    assert [q["text"] for q in data["interview"]["spans"]] == ["Tell me about yourself", "Why this role?"]

    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/interviews/{iid}/result?format=csv", headers=reviewer).text))
    )
    assert len({row["frame"] for row in rows}) == data["summary"]["frames_analysed"] and "happy" in rows[0]
    report = client.get(f"/api/v1/interviews/{iid}/report", headers=reviewer)
    assert report.status_code == 200 and "sandbox" in report.headers["Content-Security-Policy"]

    note = client.post(
        f"/api/v1/interviews/{iid}/notes", json={"text": "Paused before Q2", "time_s": 1.5}, headers=reviewer
    )
    assert note.status_code == 201
    assert [n["text"] for n in client.get(f"/api/v1/interviews/{iid}/notes", headers=h).json()] == ["Paused before Q2"]
    n_segments = len(data["segments"])
    assert (
        client.post(
            f"/api/v1/interviews/{iid}/overrides", json={"segment_index": n_segments, "label": "sad"}, headers=reviewer
        ).status_code
        == 422
    )
    if n_segments:
        o = client.post(
            f"/api/v1/interviews/{iid}/overrides",
            json={"segment_index": 0, "label": "neutral", "reason": "reading notes"},
            headers=reviewer,
        )
        assert o.status_code == 201 and o.json()["model_label"] == data["segments"][0]["label"]
        assert client.get(f"/api/v1/interviews/{iid}/result", headers=reviewer).json()["segments"] == data["segments"]

    ack = client.post(f"/api/v1/interviews/{iid}/acknowledge", headers=reviewer).json()
    assert ack["draft"] is False
    assert client.get(f"/api/v1/interviews/{iid}/result", headers=reviewer).headers["X-Facecue-Draft"] == "false"

    def video_views() -> int:
        return sum(e["details"].get("format") == "video" for e in client.get("/api/v1/audit", headers=h).json())

    before = video_views()
    for byte_range in ("bytes=0-", "bytes=1000-", "bytes=2000-2999"):  # a player starting, then seeking
        ranged = {**reviewer, "Range": byte_range}
        assert client.get(f"/api/v1/interviews/{iid}/video", headers=ranged).status_code == 206
    assert video_views() == before + 3  # every range is recorded: any of them can carry the whole video

    # Organisation B sees none of it.
    for path in ("", "/result", "/notes", "/report", "/video"):
        assert client.get(f"/api/v1/interviews/{iid}{path}", headers=org_a["other"]).status_code == 404
    assert client.get("/api/v1/interviews", headers=org_a["other"]).json() == []
    assert client.get("/api/v1/audit", headers=org_a["other"]).json() == []

    entries = client.get("/api/v1/audit", headers=h).json()
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["consented", "analysed"] and actions.count("viewed") >= 3 and "exported" in actions
    assert all("cand-0042" not in json.dumps(e) for e in entries)  # subjects only as pseudonyms
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True


def test_forged_audit_entry_is_detected(client, org_a, app):
    h = org_a["admin"]
    cand = make_candidate(client, h)
    c = consent(client, h, cand["id"])
    client.post(f"/api/v1/consents/{c['id']}/withdraw", headers=h)
    assert client.get("/api/v1/audit/verify", headers=h).json() == {
        "ok": True,
        "first_bad_seq": None,
        "reason": "chain intact",
    }
    with app.state.db.engine.begin() as conn:  # someone with database access rewrites who withdrew
        conn.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 1"))
    v = client.get("/api/v1/audit/verify", headers=h).json()
    assert v["ok"] is False and v["first_bad_seq"] == 1 and "changed" in v["reason"]


def test_deleted_audit_entry_is_detected(client, org_a, app):
    h = org_a["admin"]
    for ref in ("cand-0001", "cand-0002", "cand-0003"):
        consent(client, h, make_candidate(client, h, ref)["id"])
    with app.state.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    v = client.get("/api/v1/audit/verify", headers=h).json()
    assert v["ok"] is False and v["first_bad_seq"] == 1


def test_practice_results_never_reach_reviewers(client, org_a, settings, sample_video):
    h = org_a["admin"]
    _, iid = analysed(client, h, settings, sample_video, purpose="practice")
    assert client.get(f"/api/v1/interviews/{iid}", headers=h).json()["status"] == "done"
    for who in ("admin", "reviewer"):
        r = client.get(f"/api/v1/interviews/{iid}/result", headers=org_a[who])
        assert r.status_code == 403 and "never shared" in r.json()["detail"]
    assert client.get(f"/api/v1/interviews/{iid}/video", headers=org_a["reviewer"]).status_code == 403
    notes = f"/api/v1/interviews/{iid}/notes"
    assert client.post(notes, json={"text": "looked calm"}, headers=org_a["reviewer"]).status_code == 403
    for path in (notes, f"/api/v1/interviews/{iid}/overrides"):
        assert client.get(path, headers=org_a["reviewer"]).status_code == 403


def test_erasure_leaves_nothing_that_names_the_candidate(client, org_a, settings, sample_video, app):
    h = org_a["admin"]
    cand, iid = analysed(client, h, settings, sample_video, ref="cand-7788", name="Jane Q. Example")
    client.post(f"/api/v1/interviews/{iid}/notes", json={"text": "spoke clearly"}, headers=h)
    req = client.post("/api/v1/erasure-requests", json={"candidate_id": cand["id"]}, headers=h).json()
    assert req["days_left"] in (29, 30) and req["done_at"] is None
    assert client.delete(f"/api/v1/candidates/{cand['id']}", headers=org_a["reviewer"]).status_code == 403

    r = client.delete(f"/api/v1/candidates/{cand['id']}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified"] is True and body["remaining"] == [] and body["counts"]["interviews"] == 1
    assert client.get(f"/api/v1/candidates/{cand['id']}", headers=h).status_code == 404
    assert client.get(f"/api/v1/interviews/{iid}/result", headers=h).status_code == 404
    assert client.get(f"/api/v1/interviews/{iid}/notes", headers=h).status_code == 404
    assert not (settings.media_dir / "interviews" / iid).exists()

    # Independent check: no row of any table and no media file mentions the id or the name.
    from facecue.service.erasure import remaining_mentions

    with app.state.db.session() as s:
        assert remaining_mentions(s, settings, ["cand-7788", "Jane Q. Example"]) == []
        assert remaining_mentions(s, settings, ["cand-7788", "spoke clearly"]) == []
    done = client.get("/api/v1/erasure-requests", headers=h).json()
    assert done[0]["id"] == req["id"] and done[0]["done_at"] and done[0]["candidate_id"] is None
    erased = [e for e in client.get("/api/v1/audit", headers=h).json() if e["action"] == "erased"]
    assert len(erased) == 1 and erased[0]["subject"] == req["subject_ref"]
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True


def test_retention_deletes_raw_video_keeps_results_until_withdrawal(client, org_a, settings, sample_video, app):
    from datetime import UTC, datetime, timedelta

    from facecue.service.retention import apply_retention

    h = org_a["admin"]
    cand, iid = analysed(client, h, settings, sample_video)
    assert apply_retention(app.state.db, settings) == 0
    assert apply_retention(app.state.db, settings, now=datetime.now(UTC) + timedelta(days=31)) == 1
    status = client.get(f"/api/v1/interviews/{iid}", headers=h).json()
    assert status["video_available"] is False
    assert not list((settings.media_dir / "interviews" / iid).glob("video.*"))
    assert client.get(f"/api/v1/interviews/{iid}/video", headers=h).status_code == 410
    assert client.get(f"/api/v1/interviews/{iid}/result", headers=h).status_code == 200

    # Withdrawing consent after the analysis hides the results from then on.
    consent_id = client.get(f"/api/v1/candidates/{cand['id']}/consents", headers=h).json()[0]["id"]
    client.post(f"/api/v1/consents/{consent_id}/withdraw", headers=h)
    r = client.get(f"/api/v1/interviews/{iid}/result", headers=h)
    assert r.status_code == 403 and "withdrawn" in r.json()["detail"]


def test_bad_question_file_fails_the_job_with_its_reason(client, org_a, settings, sample_video):
    h = org_a["admin"]
    _, iid = analysed(client, h, settings, sample_video, questions=b"start,end,question\n3,1,Backwards\n")
    status = client.get(f"/api/v1/interviews/{iid}", headers=h).json()
    assert status["status"] == "failed" and status["job"]["attempts"] == 1  # a user error is not retried
    assert status["error"].startswith("questions.csv, line 2: the end")
    assert str(settings.media_dir) not in status["error"]
    # A reviewer reads one plain sentence, in the API as on the pages: the server's reason is for admins.
    seen = [
        client.get(f"/api/v1/interviews/{iid}", headers=org_a["reviewer"]).json(),
        *client.get("/api/v1/jobs", headers=org_a["reviewer"]).json(),
        *client.get("/api/v1/interviews", headers=org_a["reviewer"]).json(),
    ]
    errors = {x["error"] for x in seen} | {seen[0]["job"]["error"]}
    assert errors == {"The analysis could not run on the server; an administrator has the details."}
