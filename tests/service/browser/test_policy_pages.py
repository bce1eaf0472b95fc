"""The responsible-use rules as a browser user meets them: refused uploads say why, practice results never reach
an organisation's pages, erasure needs a typed confirmation and leaves nothing behind, deadlines are shown, and an
admin can close an account at once."""

from __future__ import annotations

import re

from tests.service.browser.conftest import ADMIN_A, PASSWORD, check_accessible, screenshot, sign_in
from tests.service.browser.test_review_flow import _upload_through_page


def test_upload_refusals_show_the_api_reason(page, admin_api, sample_clip):
    admin_api.candidate("eu-cand-0001", jurisdiction="DE", consent=None)
    admin_api.candidate("us-cand-0001", jurisdiction="US", consent=None)
    sign_in(page, ADMIN_A)

    message = _upload_through_page(page, "eu-cand-0001", sample_clip)
    assert message.get_attribute("class") == "flash error"
    assert message.inner_text().startswith(
        "Refused: the EU AI Act, Art. 5(1)(f), prohibits AI systems that infer the emotions of people in the workplace"
    )
    assert page.inner_text("#upload-progress-text") == "Not uploaded."
    screenshot(page, "upload-refused-eu")

    message = _upload_through_page(page, "us-cand-0001", sample_clip)
    assert message.get_attribute("class") == "flash error" and "consent" in message.inner_text().lower()
    # Nothing was queued by either attempt.
    page.goto("/jobs")
    assert "eu-cand-0001" not in page.inner_text("main") and "us-cand-0001" not in page.inner_text("main")


def test_practice_results_never_reach_the_organisation(page, admin_api, sample_clip):
    cand = admin_api.candidate("prac-cand-0001", jurisdiction="US", consent=None)
    admin_api.post(f"/api/v1/candidates/{cand['id']}/consents", data={"purpose": "practice", "scope": ["analysis"]})
    interview = admin_api.upload(cand["id"], sample_clip, purpose="practice")
    admin_api.wait_done(interview["id"])
    sign_in(page, ADMIN_A)  # even an admin of the organisation

    page.goto("/jobs")
    row = page.locator(f"#job-{interview['id']}")
    assert row.locator(".badge").text_content() == "done"
    assert row.locator("a.open").count() == 0 and "results go only to the candidate" in row.inner_text()
    page.goto(f"/candidates/{cand['id']}")
    assert "results not shown to reviewers" in page.inner_text("#candidate-interviews")

    response = page.goto(f"/interviews/{interview['id']}")
    assert response.status == 403 and page.inner_text("h1") == "Not allowed"
    assert "practice" in page.inner_text("main").lower() and page.locator("#timeline").count() == 0
    screenshot(page, "practice-refused")
    check_accessible(page)
    for path in ("video", "result", "report"):
        assert page.goto(f"/api/v1/interviews/{interview['id']}/{path}").status == 403, path


def test_erasure_request_deadline_and_confirmed_erase(page, admin_api, service, sample_clip):
    cand = admin_api.candidate("erase-cand-0001", jurisdiction="US-IL")
    interview = admin_api.upload(cand["id"], sample_clip)
    admin_api.wait_done(interview["id"])
    folder = service.media_dir / "interviews" / interview["id"]
    assert folder.is_dir()
    sign_in(page, ADMIN_A)

    # The request starts the clock; the deletion-deadline page shows it with the days left.
    page.goto(f"/candidates/{cand['id']}")
    page.click("form[action$='/erasure-request'] button")
    assert "Erasure request recorded" in page.inner_text("main") and page.locator("#erasure-pending").is_visible()
    screenshot(page, "candidate")
    check_accessible(page)
    page.goto("/admin/erasures")
    row = page.locator("#erasures tr", has_text="erase-cand-0001")
    assert row.locator(".badge").text_content() == "pending"
    assert row.locator("td").nth(3).inner_text() in ("29 days", "30 days")
    assert "video 30 d · erasure within 30 d" in page.inner_text("#policy-retention")
    assert "erase-cand-0001" not in page.inner_text("#videos-kept")  # no names there, only dates and purposes
    screenshot(page, "deletion-deadlines")
    check_accessible(page)

    # A wrong confirmation deletes nothing.
    page.goto(f"/candidates/{cand['id']}")
    page.fill("#confirm_ref", "erase-cand-000")
    page.click("#erase-form button[type=submit]")
    assert "nothing was deleted" in page.inner_text(".flash.error") and folder.is_dir()

    page.fill("#confirm_ref", "erase-cand-0001")
    page.click("#erase-form button[type=submit]")
    page.wait_for_url("**/candidates?done=erased")
    assert "found nothing left that names them" in page.inner_text(".flash.ok")
    assert "erase-cand-0001" not in page.inner_text("main") and not folder.exists()
    assert page.goto(f"/interviews/{interview['id']}").status == 404

    page.goto("/admin/erasures")
    row = page.locator("#erasures tr", has_text="(erased)").last
    assert row.locator(".badge").text_content() == "done"
    assert "erase-cand-0001" not in page.inner_text("main")
    page.goto("/admin/audit")
    assert page.text_content("#audit-state") == "chain verified"
    assert "erased" in page.text_content("#audit") and "erase-cand-0001" not in page.text_content("#audit")


def test_admin_pages_refuse_reviewers(browser, service, admin_api):
    admin_api.post(
        "/api/v1/users",
        data={"email": "plain-reviewer@a.example", "role": "reviewer", "password": "correct horse battery"},
    )
    ctx = browser.new_context(base_url=service.url)
    page = ctx.new_page()
    try:
        sign_in(page, "plain-reviewer@a.example")
        assert "Audit log" not in page.inner_text("nav")
        for path in ("/admin/users", "/admin/audit", "/admin/erasures"):
            response = page.goto(path)
            assert response.status == 403, path
            assert page.inner_text("main").startswith("Not allowed\n\nOnly an administrator of this organisation")
    finally:
        ctx.close()


def test_upload_works_without_javascript(browser, service, admin_api, sample_clip):
    admin_api.candidate("nojs-cand-0001")
    admin_api.candidate("nojs-eu-0001", jurisdiction="FR", consent=None)
    ctx = browser.new_context(base_url=service.url, java_script_enabled=False)
    page = ctx.new_page()
    try:
        sign_in(page, ADMIN_A)
        for ref in ("nojs-cand-0001", "nojs-eu-0001"):
            page.goto("/upload")
            page.select_option(
                "#candidate_id", page.locator("#candidate_id option", has_text=ref).get_attribute("value")
            )
            page.set_input_files("#video", str(sample_clip))
            with page.expect_navigation() as nav:
                page.click("#upload-form button[type=submit]")
            if ref.startswith("nojs-eu"):  # refused: an HTML page with the policy's reason
                assert nav.value.status == 403 and page.inner_text("h1") == "Not allowed"
                assert "EU AI Act" in page.inner_text("main")
            else:
                assert re.search(r"/jobs#job-[0-9a-f]{32}$", page.url)
                job = page.url.rsplit("#", 1)[1]
                assert "nojs-cand-0001" in page.locator(f"#{job}").inner_text()
                admin_api.post(f"/api/v1/interviews/{job.removeprefix('job-')}/cancel")  # frees the worker
    finally:
        ctx.close()


def test_admin_disables_an_account_on_the_users_page(browser, page, service, admin_api):
    leaver_id = admin_api.post(
        "/api/v1/users", data={"email": "leaver@a.example", "role": "reviewer", "password": PASSWORD}
    )["id"]
    ctx = browser.new_context(base_url=service.url)
    leaver = ctx.new_page()
    try:
        sign_in(leaver, "leaver@a.example")
        sign_in(page, ADMIN_A)
        page.goto("/admin/users")
        page.select_option(f"#role-{leaver_id}", "disabled")
        page.click(f"form[action='/admin/users/{leaver_id}/role'] button")
        assert "Role changed" in page.inner_text("main")
        assert page.locator("#users tr", has_text="leaver@a.example").locator(".badge").text_content() == "disabled"
        check_accessible(page)
        # The open session ends at once, and signing in again is refused.
        leaver.goto("/candidates")
        assert "/login" in leaver.url
        leaver.fill("#email", "leaver@a.example")
        leaver.fill("#password", PASSWORD)
        leaver.click("button[type=submit]")
        assert leaver.locator("#login-error").inner_text() == "Wrong e-mail address or password."
    finally:
        ctx.close()
