"""The reviewer pages' QA findings (issue list of 2026-12-05), one test each, in Chromium against `facecue serve`
with the real worker: the report's cue names, a consent form that keeps what was entered, withdrawn consent, error
pages, the timeline for keyboard and screen-reader users, failed analyses, the phone layout, downloads, fixed
windows, the presence legend, and small wording and markup faults."""

from __future__ import annotations

import json
import re
import time

import pytest

from facecue.report.interview import CUE_CAVEATS, CUE_NAMES
from facecue.service.schemas import NewNote
from tests.service.browser.conftest import ADMIN_A, PASSWORD, check_accessible, sign_in

QUESTIONS = [{"start": 0, "end": 2, "text": "Tell me about yourself."}, {"start": 2, "end": 4, "text": "Why us?"}]
REVIEWER = "qa-reviewer@a.example"
FAILED = "The analysis could not run on the server; an administrator has the details."
READABLE = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC\b")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:")


def _upload(api, candidate_id: str, clip, questions: bytes | None = None) -> str:
    parts = {
        "candidate_id": candidate_id,
        "purpose": "assessment",
        "video": {"name": "interview.mp4", "mimeType": "video/mp4", "buffer": clip.read_bytes()},
    }
    if questions is not None:
        parts["questions"] = {"name": "questions.json", "mimeType": "application/json", "buffer": questions}
    return api.post("/api/v1/interviews", multipart=parts)["id"]


@pytest.fixture(scope="module")
def interviews(admin_api, sample_clip) -> dict:
    """Two analysed interviews: one with a question timeline, one without (fixed windows)."""
    asked = admin_api.candidate("qa-cand-0001")
    plain = admin_api.candidate("qa-cand-0002")
    ids = {
        "questions": _upload(admin_api, asked["id"], sample_clip, json.dumps(QUESTIONS).encode()),
        "windows": _upload(admin_api, plain["id"], sample_clip),
    }
    for interview_id in ids.values():
        admin_api.wait_done(interview_id)
    return {**ids, "candidate": asked["id"]}


def test_cues_carry_the_reports_names_and_caveats(page, interviews):
    """1: "Visible discomfort", not "stress" (a state of the person); each with the report's caveat."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    names = page.locator("#q-1 dl.cues dt").all_inner_texts()
    assert names and set(names) <= set(CUE_NAMES.values()), names
    caveats = page.locator("#q-1 dl.cues .caveat").all_inner_texts()
    assert caveats == [CUE_CAVEATS[k] for k, name in CUE_NAMES.items() if name in names]
    assert not {"stress", "engagement", "composure"} & set(page.locator("dt").all_inner_texts())


def test_consent_form_keeps_every_choice_on_an_error(page, admin_api):
    """2: a refused consent comes back with the purpose, jurisdiction and sharing choice as entered, at the
    candidate page's own address."""
    cand = admin_api.candidate("qa-cand-0003", consent=None)
    sign_in(page, ADMIN_A)
    page.goto(f"/candidates/{cand['id']}")
    page.select_option("#consent-purpose", "research")
    page.uncheck("input[name=share]")
    page.fill("#consent-jurisdiction", "DE")
    page.click("#consent-form button[type=submit]")
    page.locator(".flash.error").wait_for()
    assert page.input_value("#consent-purpose") == "research"
    assert page.input_value("#consent-jurisdiction") == "DE"
    assert not page.is_checked("input[name=share]")
    assert page.url.endswith(f"/candidates/{cand['id']}")  # a reload shows the page, never posts the form again
    assert page.locator("#no-consent").is_visible()  # nothing was recorded


def test_withdrawn_consent_closes_the_interview_with_its_reason(page, admin_api, sample_clip):
    """3: withdrawal asks for confirmation; afterwards no "Open" link, but the reason with a readable date, and the
    refusal page names that date the same way."""
    cand = admin_api.candidate("qa-cand-0004")
    interview_id = _upload(admin_api, cand["id"], sample_clip)
    admin_api.wait_done(interview_id)
    sign_in(page, ADMIN_A)
    page.goto(f"/candidates/{cand['id']}")
    confirm = page.locator("#consents button[type=submit]")
    assert not confirm.is_visible()  # one click no longer withdraws
    page.click("#consents summary")
    confirm.click()
    page.wait_for_url("**?done=consent-withdrawn")
    row = page.locator("#candidate-interviews tbody tr").first
    assert row.locator("a").count() == 0 and READABLE.search(row.inner_text()), row.inner_text()
    assert "consent withdrawn on" in row.inner_text()
    assert READABLE.search(page.inner_text("#consents"))
    page.goto("/jobs")
    job = page.locator(f"#job-{interview_id}")
    assert job.locator("a.open").count() == 0 and "consent withdrawn on" in job.inner_text()
    response = page.goto(f"/interviews/{interview_id}")
    assert response.status == 403
    message = page.inner_text("#error-message")
    assert READABLE.search(message) and not ISO.search(message), message


def test_error_pages_keep_the_navigation_and_lead_back(page, interviews):
    """4: a refused note: the navigation stays, the limit the box enforces is the one the message names, and a link
    leads back to the interview."""
    sign_in(page, ADMIN_A)
    url = f"/interviews/{interviews['questions']}"
    page.goto(url)
    limit = NewNote.model_fields["text"].metadata[-1].max_length
    assert page.get_attribute("#note-text", "maxlength") == str(limit)
    page.fill("#note-text", "   ")
    page.click("#note-form button[type=submit]")
    page.locator("#error-message").wait_for()
    assert page.locator("nav[aria-label=Main] a", has_text="Candidates").is_visible()
    assert f"at most {limit:,} characters" in page.inner_text("#error-message")
    page.click("#error-back")
    page.wait_for_url(f"**{url}")
    response = page.goto("/candidates/no-such-candidate")
    assert response.status == 404 and page.locator("nav[aria-label=Main]").is_visible()
    check_accessible(page)


def test_timeline_shows_focus_and_announces_values(page, interviews):
    """5 (WCAG 2.4.7): the focused chart shows a ring inside its scrolling wrapper; arrowing is announced."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    page.mouse.move(0, 0)
    wrap = page.locator(".chart-wrap", has=page.locator("#timeline"))
    wrap.scroll_into_view_if_needed()
    before = wrap.screenshot()
    page.focus("#note-text")  # somewhere before the chart, then the keyboard alone
    page.focus("#video")
    for _ in range(60):
        if page.evaluate("document.activeElement.id") == "timeline":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches(':focus-visible')")
    assert wrap.screenshot() != before  # the ring is drawn where the wrapper does not clip it
    live = page.locator("#timeline-live")
    assert live.get_attribute("aria-live") == "polite"
    page.keyboard.press("ArrowRight")
    times = page.evaluate("JSON.parse(document.getElementById('timeline-data').textContent).t")
    assert live.text_content().startswith(f"0:0{times[1]:.1f}: ") and "%" in live.text_content()


def test_failed_analysis_shows_reviewers_one_plain_sentence(browser, service, page, admin_api, sample_clip):
    """6: reviewers read a plain sentence, admins the server's reason; no draft banner without a result."""
    cand = admin_api.candidate("qa-cand-0005")
    interview_id = _upload(admin_api, cand["id"], sample_clip, b"start,end,question\n3,1,Backwards\n")
    status = admin_api.get(f"/api/v1/interviews/{interview_id}")
    while status["status"] not in ("failed", "done"):
        time.sleep(0.3)
        status = admin_api.get(f"/api/v1/interviews/{interview_id}")
    assert status["status"] == "failed"
    admin_api.post("/api/v1/users", data={"email": REVIEWER, "role": "reviewer", "password": PASSWORD})
    reviewer = browser.new_context(base_url=service.url).new_page()
    sign_in(reviewer, REVIEWER)
    reviewer.goto(f"/interviews/{interview_id}")
    assert reviewer.inner_text("#no-result") == FAILED
    assert status["error"] not in reviewer.inner_text("main") and "line 2" not in reviewer.inner_text("main")
    assert reviewer.locator("#acknowledge").count() == 0 and reviewer.locator("#draft-banner").count() == 0
    reviewer.goto("/jobs")
    assert reviewer.inner_text(f"#job-{interview_id} .reason") == FAILED
    reviewer.context.close()
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interview_id}")
    assert page.inner_text("#failure-detail").endswith(status["error"].rstrip(".") + ".")


def test_phone_layout_does_not_pan_sideways(page, interviews):
    """7: at 390 px nothing is wider than the screen; tables scroll inside their own box."""
    sign_in(page, ADMIN_A)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (
        f"/candidates/{interviews['candidate']}",
        "/jobs",
        f"/interviews/{interviews['questions']}",
        "/admin/users",
    ):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    assert page.locator(".table-scroll #users").count() == 1


def test_review_page_links_the_report_and_exports(page, interviews):
    """8: the downloadable report and the data exports, through the same permission-checked routes."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    for link, kind in (("#download-report", "text/html"), ("#download-json", "json"), ("#download-csv", "text/csv")):
        href = page.get_attribute(link, "href")
        assert href.startswith(f"/api/v1/interviews/{interviews['questions']}/")
        answer = page.request.get(href)
        assert answer.status == 200 and kind in answer.headers["content-type"], (link, answer.status)


def test_windows_are_shown_as_parts_with_the_whole_interview_cues(page, interviews):
    """9: without a question timeline, the fixed windows are parts W1... as in the report, with cues."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['windows']}")
    assert "No per-question analysis" not in page.inner_text("main")
    titles = page.locator(".review-q h3").all_inner_texts()
    assert titles and titles[0].startswith("W1. ")
    report = page.request.get(f"/api/v1/interviews/{interviews['windows']}/report").text()
    assert '<span class="qnum">W1</span>' in report
    assert page.locator("#overall-cues dl.cues dt").count() >= 1


def test_face_presence_has_a_text_legend(page, interviews):
    """10: the strip's states in words, not colour only."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    legend = page.locator("#presence .legend li").all_inner_texts()
    assert "face seen and read" in legend and "face absent" in legend
    assert page.locator("#presence .ranges").is_visible()


def test_no_section_is_current_on_the_review_page(page, interviews):
    """11: arriving from a candidate, "Jobs" is not marked as the current page."""
    sign_in(page, ADMIN_A)
    page.goto(f"/candidates/{interviews['candidate']}")
    page.locator("#candidate-interviews a", has_text="Open").first.click()
    page.wait_for_url(re.compile(r"/interviews/"))
    assert page.locator("nav[aria-label=Main] [aria-current]").count() == 0


def test_wording_reference_name_and_mode(page, admin_api, interviews):
    """12: the form's label in its error, no stray separator without a name, no command-line option."""
    sign_in(page, ADMIN_A)
    page.goto("/candidates")
    # An address the page's own pattern would stop; without it (an old browser) the server's sentence shows.
    page.evaluate("document.getElementById('external_ref').removeAttribute('pattern')")
    page.fill("#external_ref", "x@example.org")
    page.fill("#cand-jurisdiction", "US")
    page.click("form[action='/candidates'] button[type=submit]")
    error = page.inner_text(".flash.error")
    assert error.startswith("The reference must be 4-128") and "external_ref" not in error
    page.goto(f"/candidates/{interviews['candidate']}")
    assert not page.inner_text(".page-head .muted").startswith("·")
    page.goto(f"/interviews/{interviews['questions']}")
    assert "--signals" not in page.inner_text("main")


def test_pages_ask_for_no_favicon(page, interviews):
    """13: no request for /favicon.ico (it answered 404 and logged a console error on every page)."""
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/favicon.ico") else None)
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    page.wait_for_load_state("networkidle")
    assert asked == []
    assert page.get_attribute("link[rel=icon]", "href") == "data:,"


def test_video_has_an_accessible_name(page, interviews):
    """14: the player is announced as the interview's video."""
    sign_in(page, ADMIN_A)
    page.goto(f"/interviews/{interviews['questions']}")
    assert page.get_attribute("#video", "aria-label") == "Interview video of qa-cand-0001"
