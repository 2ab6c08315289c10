"""A newcomer signs up, confirms the address, signs in, reads the portal in Japanese, signs out."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import main_navigation, open_account_menu, sign_in, translated
from tests.smtp import SMTPSink

EMAIL = "newcomer@example.com"
NAME = "Nadia Newcomer"
PASSWORD = "a-long-unusual-passphrase"

NAV_LABELS = ["Help Center", "Announcements", "Submit a request", "My requests", "Chat"]


@pytest.fixture
def browser_context_args(browser_context_args):
    """The newcomer's browser lives in Tokyo: sign-up should pick the zone up by itself."""
    return {**browser_context_args, "timezone_id": "Asia/Tokyo"}


def _verification_link(smtp_server, live_server, address: str) -> str:
    message = smtp_server.wait_for(address)
    text = SMTPSink.text_of(message)
    match = re.search(r"https?://\S+/accounts/verify/\S+/", text)
    assert match, text
    link = match.group(0)
    assert link.startswith(live_server.url + "/en/"), link
    return link


def test_sign_up_confirm_sign_in_switch_to_japanese_and_sign_out(
    page: Page, live_server, smtp_server
):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")

    # Sign up.
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your support account")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Name shown to support").fill(NAME)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("main")).to_contain_text(f"We sent a confirmation link to {EMAIL}")

    # Confirm the address from the email.
    page.goto(_verification_link(smtp_server, live_server, EMAIL))
    expect(page.get_by_role("heading", level=1)).to_have_text("Email address confirmed")
    expect(page.get_by_role("main")).to_contain_text("Thank you. Your account is ready.")

    # Sign in.
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Support")
    sign_in(page, EMAIL, PASSWORD)
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")
    expect(page.get_by_role("banner").get_by_text(NAME)).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_have_count(0)

    # Switch the language with the header switcher.
    expected_nav = [translated("ja", label) for label in NAV_LABELS]
    assert expected_nav != NAV_LABELS
    page.get_by_role("combobox", name="Language").select_option(label="日本語")
    expect(page).to_have_url(re.compile(r"/ja/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(main_navigation(page).get_by_role("link")).to_have_text(expected_nav)
    expect(page.get_by_role("combobox", name=translated("ja", "Language"))).to_have_value("ja")

    # The profile, from the account menu: UID and the saved language.
    open_account_menu(page, NAME)
    page.get_by_role("link", name=translated("ja", "Profile")).click()
    expect(page).to_have_url(re.compile(r"/ja/accounts/profile/$"))
    user = User.objects.get(email=EMAIL)
    expect(page.get_by_test_id("profile-uid")).to_have_text(user.uid)
    assert re.fullmatch(r"[1-9]\d{8}", user.uid)
    language = page.get_by_label(translated("ja", "Language for pages and emails"))
    expect(language).to_have_value("ja")
    expect(language.locator("option:checked")).to_have_text("日本語")
    expect(page.get_by_label(translated("ja", "Time zone"))).to_have_value("Asia/Tokyo")

    # Sign out.
    open_account_menu(page, NAME)
    page.get_by_role("button", name=translated("ja", "Sign out")).click()
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name=translated("ja", "Sign in"))).to_be_visible()
    expect(banner.get_by_text(NAME)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/ja/$"))


def test_unverified_user_is_told_to_confirm_first_and_can_ask_for_a_new_link(
    page: Page, smtp_server
):
    user = UserFactory(email="pending@example.com", unverified=True)

    page.goto("/en/accounts/login/")
    sign_in(page, user.email, DEFAULT_PASSWORD)

    expect(page.get_by_role("alert")).to_contain_text("Please confirm your email address first")
    expect(page).to_have_url(re.compile(r"/en/accounts/login/$"))
    resend = page.locator("form.resend-form")
    expect(resend.get_by_label("Email address")).to_have_value(user.email)
    resend.get_by_role("button", name="Send a new confirmation link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("status")).to_contain_text(
        f"If {user.email} has an unconfirmed account, a new link is on its way."
    )
    assert "/en/accounts/verify/" in SMTPSink.text_of(smtp_server.wait_for(user.email))
    assert urlsplit(page.url).path == "/en/accounts/signup/check-your-inbox/"
