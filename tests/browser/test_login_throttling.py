"""Guessing passwords through the sign-in form is stopped after five failures."""

from playwright.sync_api import Page, expect

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import sign_in

WRONG = "not-the-password"


def _fail_five_times(page: Page, email: str, *, headers_for_attempt=None) -> None:
    for attempt in range(1, 6):
        if headers_for_attempt:
            page.set_extra_http_headers(headers_for_attempt(attempt))
        page.goto("/en/accounts/login/")
        sign_in(page, email, WRONG)
        if attempt < 5:
            expect(page.get_by_role("alert")).to_have_text(
                "That email address and password do not match an account."
            )


def _sign_in_status(page: Page, email: str, password: str) -> int:
    """Submit the sign-in form; return the HTTP status of the answer to the POST."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        sign_in(page, email, password)
    return answer.value.status


def _expect_locked_out(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many sign-in attempts")
    expect(page.get_by_role("alert")).to_contain_text("sign-in is paused for 15 minutes")
    expect(page.get_by_role("link", name="Reset your password")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_sixth_attempt_is_refused_even_with_the_right_password(page: Page):
    user = UserFactory(email="target@example.com", display_name="Tara Target")

    _fail_five_times(page, user.email)

    page.goto("/en/accounts/login/")
    assert _sign_in_status(page, user.email, DEFAULT_PASSWORD) == 429

    _expect_locked_out(page)
    expect(page.get_by_role("banner").get_by_text("Tara Target")).to_have_count(0)


def test_lockout_is_per_address(page: Page):
    target = UserFactory(email="target@example.com")
    bystander = UserFactory(email="bystander@example.com", display_name="Ben Bystander")
    _fail_five_times(page, target.email)

    page.goto("/en/accounts/login/")
    sign_in(page, bystander.email, DEFAULT_PASSWORD)

    expect(page.get_by_role("banner").get_by_text("Ben Bystander")).to_be_visible()


def test_forged_forwarded_for_header_does_not_escape_the_lockout(page: Page):
    user = UserFactory(email="target@example.com")
    _fail_five_times(
        page,
        user.email,
        headers_for_attempt=lambda n: {"X-Forwarded-For": f"203.0.113.{n}"},
    )

    page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.77"})
    page.goto("/en/accounts/login/")
    status = _sign_in_status(page, user.email, DEFAULT_PASSWORD)

    assert status == 429, "signed in: a forged X-Forwarded-For reset the failure count"
    _expect_locked_out(page)
