"""One request from both sides: a customer files a withdrawal request with a screenshot and
a TXID, an agent answers it in the console, and the customer reads the answer and rates it."""

from __future__ import annotations

import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import main_navigation, sign_in
from tests.tickets.factories import TRC20_ADDRESS, TRON_TXID, team_agent
from tickets.defaults import ensure_default_categories, ensure_default_sla_policies
from tickets.models import Team, Ticket


@pytest.fixture
def people(transactional_db):
    """The shipped categories; an English-speaking wallet agent; a customer."""
    ensure_default_categories()
    ensure_default_sla_policies()
    agent = team_agent(
        Team.objects.get(slug="wallet"),
        languages=["en", "zh-hans"],
        email="chen.jie@example.com",
        display_name="Chen Jie",
    )
    customer = UserFactory(
        email="amir.customer@example.com", display_name="Amir", preferred_language="en"
    )
    return {"agent": agent, "customer": customer}


def _signed_in(new_context, base: str, user) -> Page:
    page = new_context().new_page()
    page.goto(f"{base}/en/accounts/login/")
    sign_in(page, user.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("banner").get_by_text(user.display_name)).to_be_visible()
    return page


def test_customer_files_agent_answers_customer_rates(new_context, asgi_url, people, tmp_path):
    screenshot = tmp_path / "wallet-history.png"
    image = Image.new("RGB", (400, 240), (250, 250, 250))
    ImageDraw.Draw(image).text((20, 20), "USDT 250 TRC20 pending", fill=(0, 0, 0))
    image.save(screenshot)

    customer = _signed_in(new_context, asgi_url, people["customer"])
    main_navigation(customer).get_by_role("link", name="Submit a request").click()
    form = customer.locator("#request-form")
    form.get_by_role("radio", name=re.compile(r"^Withdrawal\b")).check()
    details = form.get_by_role("group", name="Details: Withdrawal")
    details.get_by_label("Coin").select_option("USDT")
    details.get_by_label("Network").select_option("TRC20")
    details.get_by_label("Amount").fill("250")
    details.get_by_label("Withdrawal address").fill(TRC20_ADDRESS)
    details.get_by_label("Transaction ID (TXID)").fill(TRON_TXID)
    form.get_by_label("Subject").fill("USDT withdrawal has not arrived")
    form.get_by_label("Description").fill("Sent 250 USDT on TRC20 two hours ago; not received.")
    form.get_by_label("Attachments (optional)").set_input_files(screenshot)
    form.get_by_role("button", name="Submit request").click()

    expect(customer.get_by_role("heading", level=1)).to_have_text("We received your request")
    ticket = Ticket.objects.get()
    expect(customer.get_by_test_id("request-reference")).to_have_text(ticket.reference)
    assert ticket.assignee == people["agent"]  # routed: the wallet team, speaks English

    agent = _signed_in(new_context, asgi_url, people["agent"])
    agent.goto(f"{asgi_url}/en/console/tickets/")
    expect(agent.get_by_role("heading", level=1)).to_have_text("Assigned to me")
    row = agent.get_by_test_id("ticket-row").filter(has_text=ticket.reference)
    row.get_by_role("link", name="USDT withdrawal has not arrived").click()
    thumbnail = agent.get_by_role("link", name="wallet-history.png").locator("img")
    expect(thumbnail).to_be_visible()
    # The thumbnail loads lazily: wait for it to arrive, then check it decoded.
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("image => image.naturalWidth > 0")
    explorer = agent.get_by_role("link", name=re.compile(r"^View on explorer \(Transaction ID"))
    expect(explorer).to_have_attribute("href", re.compile(TRON_TXID))
    agent.get_by_label("Message").fill(
        "Hello Amir, the transfer has 19 confirmations on TRON; your wallet should show it now."
    )
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_role("status").first).to_contain_text("Reply sent.")

    customer.goto(f"{asgi_url}/en/requests/{ticket.reference}/")
    answer = customer.locator(".timeline-message.from-support")
    expect(answer).to_contain_text("the transfer has 19 confirmations on TRON")
    expect(answer).to_contain_text("Chen Jie")
    customer.get_by_role("button", name="Mark as solved").click()
    expect(customer.locator(".request-meta")).to_contain_text("Solved")
    rating = customer.get_by_role("region", name="Rate our support")
    rating.get_by_role("radio", name="Good").check()
    rating.get_by_role("button", name="Send rating").click()
    expect(customer.get_by_role("status").first).to_contain_text(
        "Thank you for rating our support."
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating) == ("solved", "good")
    assert ticket.first_response_at is not None
