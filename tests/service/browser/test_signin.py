"""Signing in and out through the page: the session cookie, the CSRF token, the messages a user sees."""

from __future__ import annotations

from tests.service.browser.conftest import ADMIN_A, PASSWORD, check_accessible, screenshot, sign_in


def test_bad_password_shows_a_clear_message(page):
    page.goto("/login")
    page.fill("#email", ADMIN_A)
    page.fill("#password", "not the password")
    with page.expect_response("**/login") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    assert page.locator("#login-error").inner_text() == "Wrong e-mail address or password."
    assert page.input_value("#email") == ADMIN_A and page.input_value("#password") == ""
    screenshot(page, "signin-wrong-password")
    check_accessible(page)
    # Not signed in: a page behind the sign-in sends the browser back to it, remembering where it was going.
    page.goto("/jobs")
    assert page.url.endswith("/login?next=%2Fjobs")


def test_sign_in_and_out(page, context):
    sign_in(page, ADMIN_A)
    assert "admin@a.example" in page.locator(".who").inner_text()
    check_accessible(page)  # the candidates page
    cookie = next(c for c in context.cookies() if c["name"] == "facecue_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click(".who button")
    page.wait_for_url("**/login?done=signed-out")
    assert "You are signed out." in page.inner_text("main")
    page.goto("/candidates")
    assert "/login" in page.url


def test_forms_without_the_csrf_token_are_refused(page, context):
    sign_in(page, ADMIN_A)
    token = page.get_attribute("meta[name=csrf-token]", "content")
    form = {"external_ref": "csrf-cand-0001", "jurisdiction": "US"}
    # The session cookie alone (what a forged cross-site form would carry) is not enough ...
    r = context.request.post("/candidates", form=form, headers={"Accept": "text/html"})
    assert r.status == 403 and "CSRF check failed" in r.text()
    r = context.request.post("/candidates", form={**form, "csrf_token": "0" * 64})
    assert r.status == 403
    page.goto("/candidates")
    assert "csrf-cand-0001" not in page.inner_text("main")
    # ... the page's own token is.
    r = context.request.post("/candidates", form={**form, "csrf_token": token}, max_redirects=0)
    assert r.status == 303 and r.headers["location"].endswith("?done=candidate-added")


def test_rate_limited_sign_in_says_when_to_retry(browser, service):
    # The last test of the last file: its failures count against this client's address (X-Forwarded-For is not
    # believed without FACECUE_TRUSTED_PROXIES), far below that limit, and lock out only the account it guesses at.
    ctx = browser.new_context(base_url=service.url)
    page = ctx.new_page()
    try:
        # The page and the API's token endpoint share one limiter: the first failures go through the API (quicker).
        for attempt in range(9):
            r = ctx.request.post(
                "/api/v1/auth/token", form={"username": "nobody@a.example", "password": f"guess {attempt}"}
            )
            assert r.status == 401
        statuses = []
        for attempt in range(2):
            page.goto("/login")
            page.fill("#email", "nobody@a.example")
            page.fill("#password", f"guess number {attempt}")
            with page.expect_response("**/login") as answer:
                page.click("button[type=submit]")
            statuses.append(answer.value.status)
        assert statuses == [401, 429] and int(answer.value.headers["retry-after"]) > 0
        message = page.locator("#login-error").inner_text()
        assert message.startswith("Too many failed sign-ins; try again in ") and message.endswith(" seconds.")
        # That account waits until the window has passed; another account signs in from the same client.
        page.fill("#email", "nobody@a.example")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        assert "Too many failed sign-ins" in page.locator("#login-error").inner_text()
        page.fill("#email", ADMIN_A)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/candidates")
    finally:
        ctx.close()
