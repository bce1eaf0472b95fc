"""The signals choice of an upload (issue 15): stored with the interview, decided by the policy, read by the worker,
and a behaviour-only analysis that names no emotion on the review page. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from facecue.labels import EMOTIONS
from facecue.service.worker import Worker
from tests.service.conftest import consent, make_candidate, upload
from tests.service.test_hardening import sign_in

QUESTIONS = b"start,end,question\n0,2,Tell me about yourself\n2,4,Why this role?\n"
EMOTION_WORDS = re.compile(r"\b(" + "|".join(EMOTIONS) + r"|valence|arousal|mean_probs|dominant)\b", re.IGNORECASE)


def test_eu_staff_practice_allows_behaviour_only(client, org_a, settings, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h, "staff-0007", jurisdiction="DE")
    consent(client, h, cand["id"], purpose="staff_practice", scope=("analysis",))

    refused = upload(client, h, cand["id"], sample_video, purpose="staff_practice")  # default: emotions too
    assert refused.status_code == 403 and "allows no emotion inference" in refused.json()["detail"]
    bad = upload(client, h, cand["id"], sample_video, purpose="staff_practice", signals="moods")
    assert bad.status_code == 422 and "signals must be" in bad.json()["detail"]
    audit = client.get("/api/v1/audit", headers=h).json()
    assert any(e["action"] == "refused" and e["details"].get("signals") == "emotions,behaviour" for e in audit)

    r = upload(client, h, cand["id"], sample_video, purpose="staff_practice", signals="behaviour")
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert client.get(f"/api/v1/interviews/{iid}", headers=h).json()["signals"] == "behaviour"
    Worker(settings).run(once=True)
    status = client.get(f"/api/v1/interviews/{iid}", headers=h).json()
    assert status["status"] == "done", status
    # Practice results go to the person practising, never to the organisation; read them from disk.
    assert client.get(f"/api/v1/interviews/{iid}/result", headers=h).status_code == 403
    folder = settings.media_dir / "interviews" / iid / "result"
    doc = json.loads((folder / "result.json").read_text())
    assert doc["options"]["signals"] == ["behaviour"] and "emotion" not in doc["models"]
    assert doc["summary"]["policy"]["signals"] == ["behaviour"]
    for name in ("result.json", "frames.csv", "report.html"):
        assert not EMOTION_WORDS.search((folder / name).read_text()), name


def test_behaviour_only_assessment_on_the_review_page(client, app, org_a, settings, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h, "cand-0099", jurisdiction="US")
    consent(client, h, cand["id"])
    with open(sample_video, "rb") as f:
        r = client.post(
            "/api/v1/interviews",
            headers=h,
            data={"candidate_id": cand["id"], "purpose": "assessment", "signals": "behaviour"},
            files={"video": ("clip.mp4", f, "video/mp4"), "questions": ("q.csv", QUESTIONS, "text/csv")},
        )
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    Worker(settings).run(once=True)
    doc = client.get(f"/api/v1/interviews/{iid}/result", headers=h).json()
    spans = doc["interview"]["spans"]
    assert [s["text"] for s in spans] == ["Tell me about yourself", "Why this role?"]
    assert all("smiles" in s["behaviour_cues"] and "cues" not in s for s in spans)

    sign_in(client, app, "admin@a.example")
    page = client.get(f"/interviews/{iid}")
    assert page.status_code == 200
    html = page.text
    assert "behaviour only" in html and 'id="behaviour"' in html
    for panel in ("eye-contact", "head-movement", "smiles", "posture"):
        assert html.count(f'data-panel="{panel}"') == 3, panel  # the whole interview and each question
    assert "Smiled in" in html and 'id="timeline-section"' not in html and 'id="segments"' not in html
    assert not EMOTION_WORDS.search(html), EMOTION_WORDS.search(html)


def test_default_upload_reads_both_and_shows_behaviour_beside_expressions(client, app, org_a, settings, sample_video):
    h = org_a["admin"]
    cand = make_candidate(client, h, "cand-0100", jurisdiction="US")
    consent(client, h, cand["id"])
    iid = upload(client, h, cand["id"], sample_video).json()["id"]
    assert client.get(f"/api/v1/interviews/{iid}", headers=h).json()["signals"] == "emotions,behaviour"
    Worker(settings).run(once=True)
    doc = client.get(f"/api/v1/interviews/{iid}/result", headers=h).json()
    assert doc["options"]["signals"] == ["emotions", "behaviour"] and "behaviour_cues" in doc["interview"]["overall"]
    sign_in(client, app, "admin@a.example")
    html = client.get(f"/interviews/{iid}").text
    assert "emotions and behaviour" in html and 'data-panel="eye-contact"' in html and 'id="timeline-section"' in html
