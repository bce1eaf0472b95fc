"""Signing in and out through the page: the session cookie, the CSRF token, the messages a user sees."""

from __future__ import annotations

from tests.service.browser.conftest import ADMIN_A, PASSWORD, screenshot, sign_in


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
    # Not signed in: a page behind the sign-in sends the browser back to it, remembering where it was going.
    page.goto("/jobs")
    assert page.url.endswith("/login?next=%2Fjobs")


def test_sign_in_and_out(page, context):
    sign_in(page, ADMIN_A)
    assert "admin@a.example" in page.locator(".who").inner_text()
    cookie = next(c for c in context.cookies() if c["name"] == "facecue_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click(".who button")
    page.wait_for_url("**/login?done=signed-out")
    assert "You are signed out." in page.inner_text("main")
    page.goto("/candidates")
    assert "/login" in page.url


def test_rate_limited_sign_in_says_when_to_retry(browser, service):
    # A client address of its own (uvicorn trusts X-Forwarded-For from loopback), so the failures below do not
    # lock the other tests out.
    ctx = browser.new_context(base_url=service.url, extra_http_headers={"X-Forwarded-For": "203.0.113.7"})
    page = ctx.new_page()
    try:
        # The page and the API's token endpoint share one limiter: the first failures go through the API (quicker).
        for attempt in range(9):
            r = ctx.request.post("/api/v1/auth/token", form={"username": "nobody@a.example", "password": f"guess {attempt}"})
            assert r.status == 401
        statuses = []
        for attempt in range(2):
            page.goto("/login")
            page.fill("#email", "nobody@a.example")
            page.fill("#password", f"guess number {attempt}")
            with page.expect_response("**/login") as answer:
                page.click("button[type=submit]")
            statuses.append(answer.value.status)
        assert statuses == [401, 429]
        message = page.locator("#login-error").inner_text()
        assert message.startswith("Too many failed sign-ins; try again in ") and message.endswith(" seconds.")
        # Even the right password waits until the window has passed.
        page.fill("#email", ADMIN_A)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        assert "Too many failed sign-ins" in page.locator("#login-error").inner_text()
    finally:
        ctx.close()
