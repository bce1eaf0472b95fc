"""End to end in Chromium: an admin adds a reviewer and a candidate, records consent, uploads a video through the
page, watches the job finish, and reviews it: the player follows the timeline, notes, a segment reading, the
acknowledgement of the limits. Another organisation sees none of it."""

from __future__ import annotations

import json
import re

import pytest

from tests.service.browser.conftest import ADMIN_A, ADMIN_B, PASSWORD, check_accessible, screenshot, sign_in

REVIEWER = "reviewer@a.example"


def _upload_through_page(page, candidate_ref: str, video, purpose: str = "assessment") -> str:
    page.goto("/upload")
    page.select_option(
        "#candidate_id", page.locator("#candidate_id option", has_text=candidate_ref).get_attribute("value")
    )
    page.select_option("#purpose", purpose)
    page.set_input_files("#video", str(video))
    page.click("#upload-form button[type=submit]")
    message = page.locator("#upload-message")
    message.wait_for(state="visible")
    return message


def _timeline_point(page, fraction: float) -> dict:
    """Viewport coordinates of a readable timeline point about `fraction` of the way along, and its time."""
    page.locator("#timeline").scroll_into_view_if_needed()
    return page.evaluate(
        """(fraction) => {
        const data = JSON.parse(document.getElementById('timeline-data').textContent);
        const svg = document.getElementById('timeline');
        const usable = data.t.map((t, i) => i).filter(i => data.p[i] !== null);
        const k = usable[Math.floor(fraction * (usable.length - 1))];
        const box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
        const x = Number(svg.dataset.left) + data.t[k] / Number(svg.dataset.tEnd) * Number(svg.dataset.width);
        return {t: data.t[k], x: box.left + x * box.width / vb.width, y: box.top + 120 * box.height / vb.height};
    }""",
        fraction,
    )


def _wait_seeked(page, t: float) -> float:
    page.wait_for_function(
        "(t) => { const v = document.getElementById('video');"
        " return !v.seeking && Math.abs(v.currentTime - t) < 0.01; }",
        arg=t,
    )
    return page.evaluate("document.getElementById('video').currentTime")


def test_review_an_uploaded_interview(page, context, service, sample_clip):
    media = []
    page.on("response", lambda r: media.append(r.status) if "/video" in r.url else None)
    sign_in(page, ADMIN_A)

    # The admin adds a reviewer on the users page.
    page.goto("/admin/users")
    page.fill("#new-email", REVIEWER)
    page.select_option("#new-role", "reviewer")
    page.fill("#new-password", PASSWORD)
    page.click("#user-form button[type=submit]")
    assert "User created." in page.inner_text("main")
    assert REVIEWER in page.locator("#users").inner_text()
    check_accessible(page)

    # A candidate in Illinois, then the consent the policy needs before an assessment.
    page.goto("/candidates")
    page.fill("#external_ref", "appl-2041")
    page.fill("#cand-jurisdiction", "US-IL")
    page.click("form[action='/candidates'] button[type=submit]")
    page.wait_for_url(re.compile(r"/candidates/[0-9a-f]{32}\?done=candidate-added"))
    candidate_url = page.url.split("?")[0]
    assert "No consent recorded" in page.inner_text("#no-consent")
    page.click("#consent-form button[type=submit]")
    assert page.locator("#consents .badge").text_content() == "given"

    # Upload through the page: the progress bar fills and the API's answer links to the job.
    message = _upload_through_page(page, "appl-2041", sample_clip)
    assert message.get_attribute("class") == "flash ok", message.inner_text()
    assert page.evaluate("document.getElementById('upload-progress').value") == 1
    assert page.inner_text("#upload-progress-text") == "Uploaded."
    screenshot(page, "upload-done")
    check_accessible(page)
    page.click("#upload-message a")

    # The job list polls the status API until the worker has finished the real analysis, without a reload.
    row = page.locator("tr[data-job]").first
    first_status = row.get_attribute("data-status")
    page.evaluate("window.notReloaded = true")
    row.locator(".badge.done").wait_for(timeout=120_000)
    assert page.evaluate("window.notReloaded === true")
    if first_status != "done":  # the page was loaded before the worker finished: the poll updated the row
        assert row.locator("a.open").is_visible()
    assert row.locator(".pct").inner_text() == "100%"
    screenshot(page, "jobs")
    check_accessible(page)
    row.locator("a.open").click()
    interview_url = page.url
    assert re.search(r"/interviews/[0-9a-f]{32}$", interview_url)
    sign_out_and_in(page, REVIEWER)
    page.goto(interview_url)

    # The review page: the draft banner, the video (served with Range support), the timeline.
    assert page.locator("#draft-banner").is_visible()
    page.wait_for_function("document.getElementById('video').readyState >= 1")
    duration = page.evaluate("document.getElementById('video').duration")
    assert duration == pytest.approx(4.0, abs=0.1)
    point = _timeline_point(page, 0.6)
    page.mouse.move(point["x"], point["y"])
    tip = page.locator("#timeline-tip")
    assert tip.is_visible() and "click to play from here" in tip.inner_text()
    page.mouse.click(point["x"], point["y"])
    assert _wait_seeked(page, point["t"]) == pytest.approx(point["t"], abs=0.01)
    assert 0.3 * duration < point["t"] < 0.9 * duration
    playhead = float(page.get_attribute("#timeline .playhead", "data-t"))
    assert playhead == pytest.approx(point["t"], abs=0.01)
    assert page.inner_text("#readout .now") == f"0:0{point['t']:.1f}"
    assert 206 in media, media  # the player fetched byte ranges: seeking works
    screenshot(page, "interview")
    check_accessible(page)

    # Clicking a segment plays from its start; the segment table's time buttons do the same.
    first = page.locator("#segments button.seek").first
    seg_start = float(first.get_attribute("data-seek"))
    page.locator("#timeline .segment rect").first.click()
    assert _wait_seeked(page, seg_start) == pytest.approx(seg_start, abs=0.02)

    # A note pinned to the playhead, and a reviewer's own reading of segment 0 beside the model's.
    _seek_to(page, point["t"])
    page.fill("#note-text", "Smiles while describing the team project.")
    page.check("#note-at-playhead")
    page.click("#note-form button[type=submit]")
    assert "Note added." in page.inner_text("main")
    note = page.locator(".notes-list .note").first
    assert "Smiles while describing the team project." in note.inner_text() and REVIEWER in note.inner_text()
    assert float(note.locator("button.seek").get_attribute("data-seek")) == pytest.approx(point["t"], abs=0.01)
    page.select_option("#ov-label-0", "neutral")
    page.fill("#ov-reason-0", "polite smile, not joy")
    page.locator("#segment-0 button[type=submit]").click()
    assert "neutral — “polite smile, not joy”" in page.inner_text("#segment-0")

    # Acknowledging the limits ends the draft.
    page.click("#acknowledge")
    assert "Limits acknowledged: this assessment is no longer a draft." in page.inner_text("main")
    assert page.locator("#draft-banner").count() == 0
    assert REVIEWER in page.inner_text("#acknowledged")
    assert "Never a hire/no-hire signal." in page.inner_text("#limits")
    screenshot(page, "interview-acknowledged")

    # The admin's audit page: the chain verifies and holds what just happened.
    sign_out_and_in(page, ADMIN_A)
    page.goto("/admin/audit")
    assert page.text_content("#audit-state") == "chain verified"
    log = page.text_content("#audit")
    assert "consented" in log and "note added" in log and "acknowledged limits" in log and REVIEWER in log
    assert "appl-2041" not in log  # subjects are pseudonyms
    screenshot(page, "audit-log")
    check_accessible(page)

    # Another organisation's admin sees none of it, by page or by video URL.
    sign_out_and_in(page, ADMIN_B)
    assert "appl-2041" not in page.inner_text("main")
    for url in (interview_url, candidate_url):
        response = page.goto(url)
        assert response.status == 404
        assert page.inner_text("h1") == "Not found"
    response = page.goto(interview_url.replace("/interviews/", "/api/v1/interviews/") + "/video")
    assert response.status == 404
    page.goto("/jobs")
    assert page.locator("tr[data-job]").count() == 0


def sign_out_and_in(page, email: str) -> None:
    page.goto("/candidates")
    page.click(".who button")
    page.wait_for_url("**/login?done=signed-out")
    sign_in(page, email)


def _seek_to(page, t: float) -> None:
    page.evaluate("(t) => { document.getElementById('video').currentTime = t; }", t)
    _wait_seeked(page, t)


def test_question_cards_and_highlights_seek(page, admin_api, service, sample_clip, tmp_path):
    questions = tmp_path / "questions.json"
    questions.write_text(
        json.dumps(
            [
                {"start": 0, "end": 2, "text": "Tell me about yourself."},
                {"start": 2, "end": 4, "text": "What went wrong last time?"},
            ]
        )
    )
    admin_api.candidate("qs-cand-0001")
    sign_in(page, ADMIN_A)
    # The question timeline goes up with the video, through the upload page's optional field.
    page.goto("/upload")
    page.select_option(
        "#candidate_id", page.locator("#candidate_id option", has_text="qs-cand-0001").get_attribute("value")
    )
    page.set_input_files("#video", str(sample_clip))
    page.set_input_files("#questions", str(questions))
    page.click("#upload-form button[type=submit]")
    link = page.locator("#upload-message a")
    link.wait_for()
    interview = {"id": link.get_attribute("href").rsplit("job-", 1)[1]}
    admin_api.wait_done(interview["id"])
    stored = json.loads(
        next((service.media_dir / "interviews" / interview["id"]).glob("result*/result.json")).read_text()
    )
    expected = stored["interview"]  # the worker ran the interview analysis with the uploaded questions
    assert expected["span_kind"] == "questions"
    page.goto(f"/interviews/{interview['id']}")
    page.wait_for_function("document.getElementById('video').readyState >= 1")

    cards = page.locator(".review-q h3")
    assert cards.all_inner_texts() == ["Q1. Tell me about yourself.", "Q2. What went wrong last time?"]
    # The second question's band under the chart, then its card's time button, play from the question's start.
    page.locator("#timeline .q-band").nth(1).click()
    assert _wait_seeked(page, 2.0) == pytest.approx(2.0)
    _seek_to(page, 0.5)
    page.locator("#q-2 button.seek").click()
    assert _wait_seeked(page, 2.0) == pytest.approx(2.0)
    # Each highlight: its pin on the chart and its row in the list seek to its moment.
    moments = [h["time_s"] for h in expected["highlights"]]
    assert moments, "the analysis found no highlight to test"
    assert page.locator("#highlights li").count() == len(moments)
    page.locator("#timeline .marker circle").first.click()
    assert _wait_seeked(page, moments[0]) == pytest.approx(moments[0], abs=0.01)
    _seek_to(page, 0.1)
    page.locator("#h-1 button.seek").click()
    assert _wait_seeked(page, moments[0]) == pytest.approx(moments[0], abs=0.01)
    # Keyboard: focus the chart, step from the playhead with the arrow keys, Enter plays from the chosen point.
    times = page.evaluate("JSON.parse(document.getElementById('timeline-data').textContent).t")
    _seek_to(page, times[0])
    page.mouse.move(0, 0)
    page.focus("#timeline")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#timeline-tip .tip-time").startswith(f"0:0{times[2]:.1f}")
    page.keyboard.press("Enter")
    assert _wait_seeked(page, times[2]) == pytest.approx(times[2], abs=0.01)
    page.locator("#questions").scroll_into_view_if_needed()
    screenshot(page, "interview-questions")
    check_accessible(page)
    # A phone-sized window: one column, nothing wider than the screen except the scrollable chart.
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "interview-phone", full_page=False)


def test_behaviour_only_review_shows_the_panels_and_no_emotion(page, admin_api, service, sample_clip, tmp_path):
    """Issue 15: an upload with "behaviour only" chosen on the page; its review page shows eye contact, head
    movement, smiles and posture for the interview and per question, and names no emotion anywhere."""
    questions = tmp_path / "questions.json"
    questions.write_text(json.dumps([{"start": 0, "end": 2, "text": "Hello."}, {"start": 2, "end": 4, "text": "Why?"}]))
    admin_api.candidate("bo-cand-0001")
    sign_in(page, ADMIN_A)
    page.goto("/upload")
    page.select_option(
        "#candidate_id", page.locator("#candidate_id option", has_text="bo-cand-0001").get_attribute("value")
    )
    page.select_option("#signals", "behaviour")
    page.set_input_files("#video", str(sample_clip))
    page.set_input_files("#questions", str(questions))
    page.click("#upload-form button[type=submit]")
    link = page.locator("#upload-message a")
    link.wait_for()
    interview_id = link.get_attribute("href").rsplit("job-", 1)[1]
    assert admin_api.wait_done(interview_id)["signals"] == "behaviour"

    page.goto(f"/interviews/{interview_id}")
    assert "behaviour only" in page.inner_text("#mode-line")
    panels = page.locator("#behaviour .bpanel h4")
    assert panels.all_inner_texts() == ["Eye contact", "Head movement", "Smiles", "Posture"]
    assert page.locator("#q-1 .bpanel").count() == 4 and page.locator("#q-2 .bpanel").count() == 4
    assert "Smiled in" in page.inner_text("#q-1") and "Looked at the camera" in page.inner_text("#behaviour")
    assert page.locator("#timeline-section").count() == 0 and page.locator("#segments").count() == 0
    text = page.inner_text("body").lower()
    found = [w for w in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "valence") if w in text]
    assert not found, found
    page.locator("#q-2 button.seek").click()  # the question's time still plays the video from its start
    assert _wait_seeked(page, 2.0) == pytest.approx(2.0)
    check_accessible(page)
    screenshot(page, "review-behaviour-only")
