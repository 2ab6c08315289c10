"""A supervisor watches a request's first-response deadline come closer in the inbox.

The test controls both clocks. The browser's is Playwright's fake clock: the
countdown (tickets-console.js) reads `Date.now()`, so fast-forwarding it moves
the row from "On track" to "At risk" to "Breached" without waiting. The
server's is `django.utils.timezone.now`, patched while the inbox is loaded
again: the live server runs in this process, so the "At risk or breached"
view is then judged at the same later instant, after the sweep has recorded
the breach there. Nothing is waited for in real time.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from pathlib import Path
from unittest import mock

from django.core.cache import cache
from playwright.sync_api import Page, expect

from accounts.roles import Role
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import sign_in
from tests.tickets.factories import TicketCategoryFactory
from tickets import services, sla
from tickets.models import SlaMilestone, SlaPolicy


def _screenshot(page: Page, name: str) -> None:
    """Saved for a person to look at ($PORTAL_SCREENSHOT_DIR, default the temp folder)."""
    folder = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tempfile.gettempdir()))
    page.screenshot(path=folder / f"console-sla-{name}.png", full_page=True)


def test_a_supervisor_sees_a_request_turn_at_risk_then_breached(page: Page):
    # A first answer within 10 minutes, "at risk" after 5: the only policy.
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(name="Fast lane", first_response_minutes=10, warn_at_percent=50)
    supervisor = UserFactory(
        email="maria.chen@example.com", display_name="Maria Chen", role=Role.SUPERVISOR
    )
    customer = UserFactory(email="li.wei@example.com", display_name="Li Wei")
    ticket = services.ticket_create(
        requester=customer,
        category=TicketCategoryFactory(slug="browser-general", name_en="General"),
        subject="Deposit not credited",
        description="I deposited 0.5 ETH an hour ago and my balance has not changed.",
        fields={},
        language="en",
    )
    filed = ticket.created_at
    assert ticket.first_response_due_at == filed + datetime.timedelta(minutes=10)

    page.clock.install(time=filed)
    page.goto("/en/accounts/login/")
    sign_in(page, supervisor.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")
    page.goto("/en/console/tickets/?view=all")

    row = page.get_by_test_id("ticket-row").filter(has_text=ticket.reference)
    countdown = row.locator("[data-sla-due]")
    state = countdown.locator("[data-sla-label]")
    expect(state).to_have_text("On track")
    expect(countdown).to_have_class(re.compile(r"\btc-sla-ok\b"))
    expect(countdown).to_contain_text("10 min")

    page.clock.fast_forward("05:00")
    expect(state).to_have_text("At risk")
    expect(countdown).to_have_class(re.compile(r"\btc-sla-at_risk\b"))
    expect(countdown).to_contain_text("5 min")
    _screenshot(page, "at-risk")

    page.clock.fast_forward("05:00")
    expect(state).to_have_text("Breached")
    expect(countdown).to_have_class(re.compile(r"\btc-sla-breached\b"))
    expect(countdown).to_contain_text("overdue 1 min")
    _screenshot(page, "breached")

    # The server reaches the same instant: the sweep records the breach, and the
    # inbox, loaded again then, lists the request among those at risk or breached.
    later = filed + datetime.timedelta(minutes=10, seconds=30)
    sla.sla_sweep(now=later)
    assert SlaMilestone.objects.filter(ticket=ticket, stage="breach").exists()
    cache.clear()  # the sidebar counts are kept for COUNTS_SECONDS
    with mock.patch("django.utils.timezone.now", return_value=later):
        views = page.get_by_role("complementary", name="Inbox views")
        views.get_by_role("link", name=re.compile(r"^At risk or breached")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("At risk or breached")
        expect(views.get_by_role("link", name=re.compile(r"^At risk or breached"))).to_contain_text(
            "1"
        )
        expect(row.locator("[data-sla-label]")).to_have_text("Breached")
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    expect(page.get_by_role("link", name="Time left")).to_have_attribute("aria-current", "true")
