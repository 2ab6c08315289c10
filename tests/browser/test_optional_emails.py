"""A customer reminded by email stops optional emails from the link, then turns them back on."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import sign_in
from tests.smtp import SMTPSink
from tests.tickets.factories import TeamFactory, TicketCategoryFactory, team_agent
from tickets import automations, services
from tickets.lifecycle import Status
from tickets.models import NotificationKind, NotificationStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def waiting_customer(transactional_db):
    """Alex, whose request has waited on them for four days."""
    customer = UserFactory(email="alex.morgan@example.com", display_name="Alex Morgan")
    team = TeamFactory(slug="general-desk", name_en="General")
    agent = team_agent(team, email="agent@example.com", display_name="Wang Fang")
    category = TicketCategoryFactory(slug="account-help", name_en="Account help", team=team)
    asked = timezone.now() - datetime.timedelta(days=4)
    ticket = services.ticket_create(
        requester=customer,
        category=category,
        subject="Cannot change my phone number",
        description="My old number is gone.",
        fields={},
        language="en",
        now=asked,
    )
    services.ticket_reply(ticket=ticket, author=agent, body="Which country is it in?", now=asked)
    ticket.refresh_from_db()
    services.ticket_change_status(
        ticket=ticket,
        actor=agent,
        to_status=Status.WAITING,
        expected_version=ticket.version,
        now=asked,
    )
    return customer, ticket


def test_customer_stops_optional_emails_from_a_reminder_and_turns_them_back_on(
    page: Page, live_server, smtp_server, waiting_customer
):
    customer, ticket = waiting_customer

    assert automations.remind_waiting(now=timezone.now()) == 1
    reminder = smtp_server.wait_for(customer.email)  # the newest: sent after the commit
    assert reminder["Subject"].strip().startswith(f"[{ticket.reference}] Reminder")
    link = re.search(r"https?://\S+/accounts/unsubscribe/\S+/", SMTPSink.text_of(reminder))
    assert link, SMTPSink.text_of(reminder)
    assert reminder["List-Unsubscribe"].strip().strip("<>") == link.group(0)

    # Opening the link changes nothing by itself (mail scanners open links too).
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop optional emails?")
    assert User.objects.get(pk=customer.pk).wants_optional_emails
    page.get_by_role("button", name="Stop optional emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You will no longer get optional emails"
    )
    assert not User.objects.get(pk=customer.pk).wants_optional_emails

    page.get_by_role("link", name="Open your profile").click()
    sign_in(page, customer.email, DEFAULT_PASSWORD)
    optional = page.get_by_label("Email me reminders and other optional messages")
    expect(optional).not_to_be_checked()
    optional.check()
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_label("Email me reminders and other optional messages")).to_be_checked()
    assert User.objects.get(pk=customer.pk).wants_optional_emails
    assert ticket.notifications.get(kind=NotificationKind.REMINDER).status == (
        NotificationStatus.SENT
    )
