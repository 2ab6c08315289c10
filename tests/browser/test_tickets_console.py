"""Agents answer requests in the console; a second agent on the same request is shown live.

The pages here open a WebSocket, which pytest-django's live server (WSGI, in a
thread) cannot serve: these tests use the `asgi_url` daphne server (conftest).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import sign_in
from tests.tickets.factories import (
    TRC20_ADDRESS,
    TRON_TXID,
    MacroFactory,
    TeamFactory,
    team_agent,
    transfer_category,
)
from tickets import services
from tickets.models import Message, Status, Ticket, TicketField


def _screenshot(page: Page, name: str) -> None:
    """Saved for a person to look at ($PORTAL_SCREENSHOT_DIR, default the temp folder)."""
    folder = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tempfile.gettempdir()))
    page.screenshot(path=folder / f"tickets-console-{name}.png", full_page=True)


@pytest.fixture
def wallet():
    """The wallet team, its withdrawal category, and a USDT withdrawal from Li Wei (English).

    Wang Fang speaks only Chinese, so routing leaves the request unassigned.
    """
    team = TeamFactory(slug="browser-wallet", name_en="Wallet")
    category = transfer_category(slug="browser-withdrawal", name_en="Withdrawal", team=team)
    TicketField.objects.filter(category=category, key="txid").update(label_en="TXID")
    TicketField.objects.filter(category=category, key="address").update(label_en="Address")
    agent = team_agent(
        team, languages=["zh-hans"], email="wang.fang@example.com", display_name="Wang Fang"
    )
    customer = UserFactory(email="li.wei@example.com", display_name="Li Wei")
    ticket = services.ticket_create(
        requester=customer,
        category=category,
        subject="USDT withdrawal not received",
        description="I withdrew 100 USDT on TRC20 six hours ago and it has not arrived.",
        fields={
            "coin": "USDT",
            "network": "TRC20",
            "amount": "100",
            "address": TRC20_ADDRESS,
            "txid": TRON_TXID,
        },
        language="en",
    )
    assert ticket.assignee is None
    return {"team": team, "agent": agent, "customer": customer, "ticket": ticket}


def _sign_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/en/accounts/login/")
    sign_in(page, user.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")


def test_agent_answers_a_withdrawal_from_the_inbox(page: Page, asgi_url, wallet):
    ticket = wallet["ticket"]
    MacroFactory(
        title="Withdrawal being checked",
        language="en",
        body="Hello {customer_name}, we are checking {reference} with the TRON network.",
    )
    _sign_in(page, asgi_url, wallet["agent"])

    page.goto(f"{asgi_url}/en/console/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assigned to me")
    expect(page.get_by_text("No requests here.")).to_be_visible()

    views = page.get_by_role("complementary", name="Inbox views")
    views.get_by_role("link", name=re.compile(r"^Unassigned")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unassigned")
    row = page.get_by_test_id("ticket-row").filter(has_text=ticket.reference)
    expect(row).to_contain_text("Withdrawal")
    _screenshot(page, "inbox")
    row.get_by_role("link", name="USDT withdrawal not received").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("USDT withdrawal not received")
    explorer = page.get_by_role("link", name="View on explorer (TXID)")
    expect(explorer).to_have_attribute("href", re.compile(re.escape(TRON_TXID)))
    expect(explorer).to_have_attribute("target", "_blank")
    expect(explorer).to_have_attribute("rel", "noopener noreferrer")

    reply = page.get_by_label("Message")
    page.get_by_label("Macro").select_option(label="Withdrawal being checked")
    page.get_by_role("button", name="Insert macro").click()
    macro_text = f"Hello Li Wei, we are checking {ticket.reference} with the TRON network."
    expect(reply).to_have_value(macro_text)
    assert "macro=" not in page.url  # inserted in place, not by reloading
    reply.press("End")
    reply.type(" It has 20 confirmations so far.")
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("status").first).to_contain_text("Reply sent.")
    thread = page.get_by_test_id("message").last
    expect(thread).to_contain_text(macro_text + " It has 20 confirmations so far.")
    expect(page.get_by_label("Message")).to_have_value("")

    page.get_by_label("Internal note").check()
    expect(page.get_by_text("Internal note: not visible to the customer.")).to_be_visible()
    page.get_by_label("Message").fill("Hot wallet queue was stuck; finance is re-broadcasting.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("status").first).to_contain_text("Internal note added.")
    note = page.get_by_test_id("internal-note")
    expect(note).to_contain_text("Hot wallet queue was stuck")
    expect(note).to_contain_text("not visible to the customer")

    page.get_by_role("button", name="Waiting on customer").click()
    expect(page.get_by_role("status").first).to_contain_text("Status changed.")
    expect(page.get_by_role("alert").filter(has_text="This request changed")).to_be_hidden()
    header = page.locator(".tc-header")
    expect(header).to_contain_text("Waiting on customer")
    _screenshot(page, "workspace")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.WAITING
    assert ticket.first_response_at is not None
    public, internal = Message.objects.filter(ticket=ticket, author=wallet["agent"]).order_by("pk")
    assert not public.is_internal and public.body.startswith("Hello Li Wei")
    assert internal.is_internal


def test_a_second_agent_on_the_same_request_is_shown_live(new_context, asgi_url, wallet):
    ticket = wallet["ticket"]
    colleague = team_agent(
        wallet["team"],
        languages=["zh-hans"],
        email="zhao.lei@example.com",
        display_name="Zhao Lei",
        role=Role.AGENT,
    )
    workspace = f"{asgi_url}/en/console/tickets/{ticket.reference}/"

    first = new_context().new_page()
    _sign_in(first, asgi_url, wallet["agent"])
    first.goto(workspace)
    presence = first.get_by_role("status").filter(has_text=re.compile("viewing|typing"))
    expect(first.get_by_role("heading", level=1)).to_have_text("USDT withdrawal not received")

    second = new_context().new_page()
    _sign_in(second, asgi_url, colleague)
    second.goto(workspace)

    expect(presence).to_have_text("Zhao Lei is also viewing this request")
    expect(second.locator("#ticket-presence")).to_have_text(
        "Wang Fang is also viewing this request"
    )

    second.get_by_label("Message").type("Checking the")
    expect(first.locator("#ticket-presence")).to_have_text("Zhao Lei is typing a reply")
    _screenshot(first, "collision")

    banner = first.get_by_role("alert").filter(has_text="This request changed")
    expect(banner).to_be_hidden()
    second.get_by_label("Priority").select_option(label="High")
    second.get_by_role("button", name="Change (Priority)").click()
    expect(second.get_by_role("status").first).to_contain_text("Priority changed.")
    expect(banner).to_be_visible()
    # Not on the page of the agent who made the change.
    expect(second.get_by_role("alert").filter(has_text="This request changed")).to_be_hidden()
    # What the colleague had typed survived their page reloading.
    expect(second.get_by_label("Message")).to_have_value("Checking the")

    second.close()
    expect(first.locator("#ticket-presence")).to_have_text("")
