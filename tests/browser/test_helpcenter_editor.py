"""Editors write, preview and publish help-center articles from the console; readers find them."""

import io
import os
import re
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from accounts.roles import Role
from helpcenter.models import ArticleStatus, ArticleTranslation
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import PHONE, open_account_menu, sign_in
from tests.helpcenter.factories import ArticleFactory, ArticleTranslationFactory, CategoryFactory


def _screenshot(page: Page, name: str) -> None:
    """Not an assertion on pixels: saves the page for a person to look at.

    Written to $PORTAL_SCREENSHOT_DIR (default: the system temp folder) as
    helpcenter-<name>.png; never committed.
    """
    folder = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tempfile.gettempdir()))
    page.screenshot(path=folder / f"helpcenter-{name}.png", full_page=True)


def _supervisor():
    return UserFactory(
        email="supervisor@example.com", display_name="Maria Chen", role=Role.SUPERVISOR
    )


def test_supervisor_writes_previews_and_publishes_an_article_readers_can_find(page: Page):
    supervisor = _supervisor()
    CategoryFactory(slug="deposit", name_en="Deposits")

    page.goto("/en/accounts/login/")
    sign_in(page, supervisor.email, DEFAULT_PASSWORD)
    open_account_menu(page, "Maria Chen")
    page.get_by_role("link", name="Agent console").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Help Center").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help Center articles")

    page.get_by_role("link", name="New article").click()
    page.get_by_label("Key", exact=True).fill("usdt-trc20-deposit")
    page.get_by_label("Category").select_option(label="Deposits")
    page.get_by_role("button", name="Create and start writing").click()

    expect(page).to_have_url(re.compile(r"/en/console/helpcenter/articles/usdt-trc20-deposit/$"))
    english = page.locator("#side-en")
    expect(english.get_by_role("heading", level=2)).to_have_text("English")
    english.get_by_label("Title").fill("Crediting a TRC20 deposit")
    english.get_by_label("Body (Markdown)").fill(
        "## Network confirmations\n\nA TRC20 deposit is credited after 20 confirmations."
    )
    preview = page.get_by_test_id("preview-en")
    expect(preview.get_by_role("heading", level=2)).to_have_text("Network confirmations")
    expect(preview).to_contain_text("credited after 20 confirmations")

    english.get_by_role("button", name="Publish", exact=True).click()

    expect(page.get_by_role("status").first).to_contain_text("Published")
    expect(page.locator("#side-en .hc-status")).to_have_text("Published")
    translation = ArticleTranslation.objects.get(article__key="usdt-trc20-deposit", language="en")
    assert translation.status == ArticleStatus.PUBLISHED
    assert translation.revisions.get().editor == supervisor

    page.goto("/en/search/?q=TRC20")
    result = page.get_by_role("link", name="Crediting a TRC20 deposit")
    expect(result).to_be_visible()
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crediting a TRC20 deposit")


def _png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (40, 30), (11, 95, 89)).save(output, format="PNG")
    return output.getvalue()


def test_uploaded_image_is_inserted_at_the_cursor_and_previewed(page: Page):
    supervisor = _supervisor()
    ArticleFactory(key="deposit-history", category=CategoryFactory())
    page.goto("/en/accounts/login/")
    sign_in(page, supervisor.email, DEFAULT_PASSWORD)
    page.goto("/en/console/helpcenter/articles/deposit-history/?left=en&right=ja")

    english = page.locator("#side-en")
    body = english.get_by_label("Body (Markdown)")
    body.fill("Before.\nAfter.")
    body.evaluate("(textarea) => textarea.setSelectionRange(8, 8)")  # start of "After."

    english.get_by_label("Image", exact=True).set_input_files(
        files=[{"name": "history.png", "mimeType": "image/png", "buffer": _png()}]
    )
    english.get_by_label("Image description (alt text)").fill("Deposit history")
    english.get_by_role("button", name="Upload image").click()

    expect(english.locator("[data-upload-status]")).to_have_text(
        "Image uploaded and inserted into the body."
    )
    expect(body).to_have_value(
        re.compile(r"^Before\.\n!\[Deposit history\]\(/help-images/[\w-]+\.png\)\nAfter\.$")
    )
    image = page.get_by_test_id("preview-en").get_by_role("img", name="Deposit history")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.naturalWidth") == 40

    # A file that is not an image is refused next to the button, and the body is untouched.
    english.get_by_label("Image", exact=True).set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"plain text"}]
    )
    english.get_by_role("button", name="Upload image").click()
    expect(english.locator("[data-upload-status]")).to_have_text("This file is not a valid image.")
    expect(body).to_have_value(re.compile(r"^Before\.\n!\[Deposit history\]"))


def test_the_two_languages_sit_side_by_side_on_desktop_and_stack_on_phones(page: Page, new_context):
    supervisor = _supervisor()
    ArticleFactory(key="deposit-history", category=CategoryFactory())
    page.goto("/en/accounts/login/")
    sign_in(page, supervisor.email, DEFAULT_PASSWORD)
    page.goto("/en/console/helpcenter/articles/deposit-history/")
    left, right = page.locator("#side-en").bounding_box(), page.locator("#side-ja").bounding_box()
    assert right["x"] > left["x"] + left["width"] - 1
    assert abs(right["y"] - left["y"]) < 2
    _screenshot(page, "editor-desktop")

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto("/en/accounts/login/?next=/en/console/helpcenter/articles/deposit-history/")
    sign_in(phone, supervisor.email, DEFAULT_PASSWORD)
    expect(phone.locator("#side-ja")).to_be_attached()
    left, right = phone.locator("#side-en").bounding_box(), phone.locator("#side-ja").bounding_box()
    assert right["y"] >= left["y"] + left["height"]
    assert right["width"] <= PHONE["width"]
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the editor must not scroll sideways on a phone"
    _screenshot(phone, "editor-phone")


def test_console_lists_screenshot(page: Page):
    supervisor = _supervisor()
    deposit = CategoryFactory(slug="deposit", name_en="Deposits")
    CategoryFactory(slug="deposit-faq", name_en="Deposit questions", parent=deposit)
    for n, key in enumerate(["deposit-not-credited", "wrong-network", "reset-2fa"]):
        article = ArticleFactory(key=key, category=deposit)
        ArticleTranslationFactory(
            article=article, language="en", title=f"{key} title", published=True
        )
        if n != 1:
            ArticleTranslationFactory(article=article, language="zh-hans", title=f"{key} 标题")
    ArticleTranslationFactory(
        article=article,
        language="en",
        title="reset-2fa title",
        body="## New\n\n<b>Changed</b> body.",
    )
    page.goto("/en/accounts/login/")
    sign_in(page, supervisor.email, DEFAULT_PASSWORD)
    page.goto("/en/console/helpcenter/")
    expect(page.get_by_test_id("article-row")).to_have_count(3)
    _screenshot(page, "articles")
    page.goto("/en/console/helpcenter/categories/")
    _screenshot(page, "categories")
    page.goto("/en/console/helpcenter/articles/reset-2fa/en/revisions/")
    expect(page.get_by_test_id("revision-row")).to_have_count(2)
    _screenshot(page, "revisions")
    page.get_by_role("link", name="Compare with current").last.click()
    expect(page.locator("ins").first).to_be_visible()
    _screenshot(page, "diff")
