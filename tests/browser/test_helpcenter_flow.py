"""A reader finds an answer in the help center, the way a stressed user would."""

import re

import pytest
from haystack import connections
from playwright.sync_api import Page, expect

from helpcenter.demo import DEMO_CONTENT, seed_synonyms
from helpcenter.importing import import_folder
from helpcenter.models import ArticleTranslation
from helpcenter.search.indexing import index_translations
from tests.browser.helpers import translated


@pytest.fixture
def demo_help_center(transactional_db):
    """The demo help center, imported and indexed from helpcenter/demo_content."""
    connections["default"].get_backend().clear()
    report = import_folder(DEMO_CONTENT)
    index_translations(report.changed_translations)
    seed_synonyms()
    yield
    connections["default"].get_backend().clear()


def test_search_suggestion_article_vote_and_switch_to_english(page: Page, demo_help_center):
    page.goto("/zh-hans/")
    search = page.get_by_role("main").get_by_role(
        "combobox", name=translated("zh_Hans", "Search the Help Center")
    )
    search.click()
    search.press_sequentially("提币失败", delay=60)

    suggestions = page.get_by_role("main").get_by_role("listbox")
    expect(suggestions).to_be_visible()
    first = suggestions.get_by_role("option").first
    title = first.inner_text().strip()
    assert title
    search.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"/zh-hans/articles/[a-z0-9-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    key = page.url.rstrip("/").rsplit("/", 1)[-1]

    feedback = page.locator("#feedback")
    feedback.get_by_role("button", name=translated("zh_Hans", "Yes")).click()
    expect(page.locator("#feedback").get_by_role("status")).to_be_visible()
    translation = ArticleTranslation.objects.get(article__key=key, language="zh-hans")
    assert translation.helpful_yes == 1

    page.get_by_role(
        "navigation", name=translated("zh_Hans", "This article in other languages")
    ).get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(rf"/en/articles/{key}/$"))
    english = ArticleTranslation.objects.get(article__key=key, language="en")
    expect(page.get_by_role("heading", level=1)).to_have_text(english.title)
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_sentence_search_results_page_and_no_results_help(page: Page, demo_help_center):
    page.goto("/zh-hans/")
    search = page.get_by_role("main").get_by_role(
        "combobox", name=translated("zh_Hans", "Search the Help Center")
    )
    search.fill("我提币三个小时了还没到账怎么办")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/zh-hans/search/\?q="))
    first = page.locator(".search-results li").first
    expect(first.locator("mark").first).to_be_visible()
    first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/articles/withdrawal-not-received/"))

    page.goto("/en/search/?q=qqqq+zzzz")
    expect(page.get_by_role("status")).to_contain_text("No articles match")
    expect(page.get_by_role("link", name="Chat with support").first).to_be_visible()
    expect(page.get_by_role("link", name="Submit a request").first).to_be_visible()
