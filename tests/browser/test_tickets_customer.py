"""A customer files a withdrawal request with a screenshot, follows it up, solves and rates it;
another finds the answer in a suggested article instead."""

import re

import pytest
from django.core import mail
from django.utils import translation
from haystack import connections
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from helpcenter import services as helpcenter_services
from helpcenter.models import Category as HelpCategory
from helpcenter.search.indexing import index_translations
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import main_navigation, sign_in
from tests.tickets.factories import TRC20_ADDRESS, TRON_TXID
from tickets import networks
from tickets.defaults import ensure_default_categories, ensure_default_sla_policies
from tickets.models import Deflection, Ticket

ARTICLE_TITLE = "Withdrawal not received yet"


@pytest.fixture
def request_setup(transactional_db):
    """The shipped request categories and SLA policies, and one indexed help-center article."""
    ensure_default_categories()
    ensure_default_sla_policies()
    backend = connections["default"].get_backend()
    backend.clear()
    category, _ = HelpCategory.objects.get_or_create(
        slug="withdrawal", defaults={"name_en": "Withdrawal"}
    )
    article = helpcenter_services.article_create(key="withdrawal-not-received", category=category)
    translation_row, _changed = helpcenter_services.translation_save(
        article=article,
        language="en",
        title=ARTICLE_TITLE,
        summary="What to check when a withdrawal has not arrived.",
        body="A withdrawal is usually received within minutes. Check the TXID on the explorer.",
        tags=("withdrawal",),
        status="published",
        editor=None,
        reindex=False,
    )
    index_translations([translation_row.pk])
    yield
    backend.clear()


@pytest.fixture
def customer_in_english(request_setup):
    return UserFactory(
        email="lin.customer@example.com", display_name="Lin Customer", preferred_language="en"
    )


def _screenshot(tmp_path):
    path = tmp_path / "withdrawal-screenshot.png"
    image = Image.new("RGB", (480, 300), (245, 247, 249))
    ImageDraw.Draw(image).rectangle((20, 20, 460, 80), fill=(11, 95, 89))
    image.save(path, format="PNG")
    return path


def _start_request(page: Page, customer) -> None:
    page.goto("/en/accounts/login/")
    sign_in(page, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("banner").get_by_text(customer.display_name)).to_be_visible()
    main_navigation(page).get_by_role("link", name="Submit a request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a request")
    expect(page.get_by_role("complementary", name="Security reminder").first).to_contain_text(
        "never ask for your password, 2FA codes, private keys or seed phrase"
    )


def test_customer_files_a_withdrawal_request_and_follows_it_to_a_rating(
    page: Page, customer_in_english, tmp_path
):
    _start_request(page, customer_in_english)
    form = page.locator("#request-form")
    details = form.get_by_role("group", name="Details: Withdrawal")
    expect(details).to_have_count(0)  # hidden until the category is chosen
    expect(form.get_by_role("button", name="Continue")).to_be_hidden()  # JS replaced step one

    form.get_by_role("radio", name=re.compile(r"^Withdrawal\b")).check()
    expect(details).to_be_visible()
    txid = details.get_by_label("Transaction ID (TXID)")
    expect(txid).to_be_visible()
    coin, network = details.get_by_label("Coin"), details.get_by_label("Network")
    expect(coin).to_be_visible()
    expect(network).to_be_visible()

    subject = form.get_by_label("Subject")
    subject.press_sequentially("withdrawal not received", delay=20)
    suggestions = form.get_by_role("region", name="These articles may answer your question")
    expect(suggestions.get_by_role("link", name=re.compile(ARTICLE_TITLE))).to_be_visible()

    coin.select_option("USDT")
    expect(network.locator("option[value=BTC]")).to_be_disabled()
    network.select_option("TRC20")
    details.get_by_label("Amount").fill("250")
    details.get_by_label("Withdrawal address").fill(TRC20_ADDRESS)
    form.get_by_label("Description").fill(
        "I withdrew 250 USDT to my wallet this morning. The exchange says completed, "
        "my wallet shows nothing."
    )
    malformed = TRON_TXID[:40]
    txid.fill(malformed)
    form.get_by_role("button", name="Submit request").click()

    with translation.override("en"):
        try:
            networks.validate_txid("TRC20", malformed)
        except Exception as error:  # noqa: BLE001 - the message is what matters
            expected = error.messages[0]
    details = page.locator("#request-form").get_by_role("group", name="Details: Withdrawal")
    txid = details.get_by_label("Transaction ID (TXID)")
    field = details.locator(".field").filter(has=page.get_by_label("Transaction ID (TXID)"))
    expect(field.locator(".errorlist")).to_have_text(expected)
    expect(txid).to_have_value(malformed)  # what was typed is kept
    expect(page.locator("#request-form").get_by_label("Subject")).to_have_value(
        "withdrawal not received"
    )
    assert not Ticket.objects.exists()

    txid.fill(TRON_TXID)
    form = page.locator("#request-form")
    form.get_by_label("Attachments (optional)").set_input_files(_screenshot(tmp_path))
    form.get_by_role("button", name="Submit request").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("We received your request")
    ticket = Ticket.objects.get()
    expect(page.get_by_test_id("request-reference")).to_have_text(ticket.reference)
    expect(page.get_by_test_id("expected-response")).to_contain_text("within 24 hours")
    assert ticket.fields["txid"] == TRON_TXID
    assert any(ticket.reference in message.subject for message in mail.outbox)

    main_navigation(page).get_by_role("link", name="My requests").click()
    row = page.locator(".request-row").filter(has_text=ticket.reference)
    expect(row).to_contain_text("withdrawal not received")
    expect(row).to_contain_text("Received")
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("withdrawal not received")
    screenshot = page.get_by_role("img", name="withdrawal-screenshot.png")
    expect(screenshot).to_be_visible()
    # The thumbnail loads lazily: wait for it to arrive, then check it decoded.
    expect(screenshot).to_have_js_property("complete", True)
    assert screenshot.evaluate("image => image.naturalWidth > 0")
    expect(page.get_by_role("complementary", name="About this request")).to_contain_text(TRON_TXID)

    page.get_by_label("Your reply").fill("Any news? It is still missing.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Your message was added to {ticket.reference}."
    )
    expect(page.locator(".timeline")).to_contain_text("Any news? It is still missing.")

    page.get_by_role("button", name="Mark as solved").click()
    expect(page.get_by_role("status").first).to_contain_text("marked as solved")
    expect(page.locator(".request-meta")).to_contain_text("Solved")

    rating = page.get_by_role("region", name="Rate our support")
    rating.get_by_role("radio", name="Good").check()
    rating.get_by_label(re.compile("Anything you want to tell us")).fill("Quick and clear.")
    rating.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("status").first).to_contain_text("Thank you for rating our support.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating) == ("solved", "good")


def test_a_suggested_article_solves_the_problem_and_no_request_is_filed(
    page: Page, customer_in_english
):
    _start_request(page, customer_in_english)
    form = page.locator("#request-form")
    form.get_by_role("radio", name=re.compile(r"^Something else\b")).check()
    form.get_by_label("Subject").press_sequentially("withdrawal not received", delay=20)

    suggestion = form.get_by_role("region", name="These articles may answer your question")
    expect(suggestion.get_by_role("link", name=re.compile(ARTICLE_TITLE))).to_be_visible()
    suggestion.get_by_role("button", name="This solved my problem").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Glad it helped!")
    expect(page.get_by_role("main").get_by_role("link", name=ARTICLE_TITLE)).to_be_visible()
    deflection = Deflection.objects.get()
    assert deflection.article_key == "withdrawal-not-received"
    assert deflection.subject == "withdrawal not received"
    assert deflection.category.slug == "other"
    assert not Ticket.objects.exists()


def test_without_javascript_the_form_takes_two_steps(new_context, customer_in_english):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/en/accounts/login/")
    sign_in(page, customer_in_english.email, DEFAULT_PASSWORD)
    page.goto("/en/requests/new/")
    form = page.locator("#request-form")
    expect(form.get_by_label("Subject")).to_be_hidden()

    form.get_by_role("radio", name=re.compile(r"^Spot & futures trading\b")).check()
    form.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/en/requests/new/\?category=trading$"))
    details = form.get_by_role("group", name="Details: Spot & futures trading")
    details.get_by_label("Order ID").fill("884213377")
    details.get_by_label("Trading pair").fill("btc usdt")
    form.get_by_label("Subject").fill("Order filled at the wrong price")
    form.get_by_label("Description").fill("My limit order filled far from the limit.")
    form.get_by_role("button", name="Submit request").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("We received your request")
    ticket = Ticket.objects.get()
    assert ticket.fields == {"order_id": "884213377", "trading_pair": "BTC/USDT"}
