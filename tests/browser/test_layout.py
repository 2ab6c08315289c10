"""What people relying on a keyboard, a screen reader or a phone need from every page."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import DESKTOP, PHONE, main_navigation, sign_in
from tests.helpcenter.factories import CategoryFactory


@pytest.fixture
def phone_page(new_context) -> Page:
    """A phone-sized browser (iPhone 14 class: 390×844 CSS pixels, touch)."""
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    return context.new_page()


@pytest.fixture
def topics(transactional_db):
    """A few published help-center topics, so the home page looks as it does in production."""
    for slug, icon, name, description in [
        ("deposit", "deposit", "Deposit", "Crypto deposits, missing tags and memos"),
        ("withdrawal", "withdraw", "Withdrawal", "Pending withdrawals, fees, address book"),
        ("security", "shield", "Account security", "2FA, passwords, suspicious activity"),
        ("verification", "id-card", "Identity verification", "KYC levels and documents"),
    ]:
        CategoryFactory(slug=slug, icon=icon, name_en=name, description_en=description)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Page):
    page.goto("/en/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The hero search, the first control in main.
    expect(page.get_by_role("main").get_by_role("combobox").first).to_be_focused()


def test_phone_navigation_hides_behind_the_menu_button(phone_page: Page):
    page = phone_page
    page.goto("/en/")
    menu = page.get_by_role("button", name="Menu")
    navigation = main_navigation(page)

    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation).to_be_visible()
    for name in ["Help Center", "Announcements", "Submit a request", "My requests", "Chat"]:
        link = navigation.get_by_role("link", name=name)
        expect(link).to_be_visible()
        expect(link).to_be_in_viewport()
    expect(page.get_by_role("combobox", name="Language")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()

    # The links are reachable by keyboard too, once the menu is open.
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(navigation.get_by_role("link", name="Help Center")).to_be_focused()
    navigation.get_by_role("link", name="Announcements").tap()
    expect(page).to_have_url(re.compile(r"/en/announcements/$"))


def test_phone_page_does_not_scroll_sideways(phone_page: Page, topics):
    page = phone_page
    for path in [
        "/en/",
        "/en/accounts/login/",
        "/en/accounts/signup/",
        "/en/search/?q=withdrawal",
        "/zh-hans/",
        "/ja/accounts/signup/",
        "/ko/",
    ]:
        page.goto(path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"


def test_header_search_has_a_label_and_shows_the_query(page: Page):
    page.goto("/en/announcements/")
    header = page.get_by_role("banner")
    search_box = header.get_by_role("combobox", name="Search the Help Center")
    expect(search_box).to_be_visible()
    expect(header.get_by_label("Search the Help Center")).to_have_count(1)

    search_box.fill("withdrawal not received")
    header.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/en/search/\?q=withdrawal\+not\+received$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results")
    expect(page.get_by_role("status")).to_have_text("No articles match “withdrawal not received”.")
    # The results page has one search box, in the page itself, holding the query.
    results_box = page.get_by_role("main").get_by_role("combobox", name="Search the Help Center")
    expect(results_box).to_have_value("withdrawal not received")


def test_keyboard_only_sign_in(page: Page):
    user = UserFactory(email="keys@example.com", display_name="Kim Keys")
    page.goto("/en/accounts/login/")

    email = page.get_by_label("Email address")
    expect(email).to_be_focused()  # autofocus: no hunting for the first field
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.get_by_role("banner").get_by_text("Kim Keys")).to_be_visible()


def test_visitor_opening_my_requests_signs_in_and_lands_back_there(page: Page):
    user = UserFactory(email="back@example.com", display_name="Bo Back")
    page.goto("/en/")

    main_navigation(page).get_by_role("link", name="My requests").click()

    expect(page).to_have_url(re.compile(r"/en/accounts/login/\?next=/en/requests/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Support")
    sign_in(page, user.email, DEFAULT_PASSWORD)

    expect(page).to_have_url(re.compile(r"/en/requests/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")
    expect(page.get_by_role("main")).to_contain_text(f"Your UID is {user.uid}.")


@pytest.mark.parametrize(
    ("form_factor", "viewport"),
    [("phone", PHONE), ("desktop", DESKTOP)],
    ids=["phone", "desktop"],
)
def test_home_page_screenshot(new_context, topics, form_factor, viewport):
    """Not an assertion on pixels: saves the home page for a person to look at.

    Written to $PORTAL_SCREENSHOT_DIR (default: the system temp folder, /tmp) as
    portal-home-phone.png and portal-home-desktop.png; never committed.
    """
    folder = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tempfile.gettempdir()))
    path = folder / f"portal-home-{form_factor}.png"
    phone = form_factor == "phone"
    context = new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.goto("/en/")
    expect(page.get_by_role("link", name="Deposit")).to_be_visible()
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.screenshot(path=path, full_page=True)
