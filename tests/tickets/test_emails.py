"""The "we received your request" email and the task that sends it."""

import pytest
from django.core import mail
from django.utils import translation

from tests.tickets.factories import TicketFactory
from tickets import sla_targets
from tickets.emails import build_ticket_confirmation, send_ticket_confirmation
from tickets.models import Priority
from tickets.tasks import ticket_confirmation_send


@pytest.fixture
def ticket(customer, general):
    """Li Wei (reads Chinese) filed it from an English page: the email is still Chinese."""
    return TicketFactory(
        requester=customer,
        category=general,
        subject='Withdrawal <b>stuck</b> & "pending"',
        language="en",
        priority=Priority.HIGH,
    )


def test_confirmation_reaches_a_real_smtp_server_in_the_requesters_language(
    ticket, customer, smtp_server, settings
):
    settings.PORTAL_BASE_URL = "https://help.example.com"
    send_ticket_confirmation(ticket)

    message = smtp_server.wait_for(customer.email)
    assert f"[{ticket.reference}]" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = smtp_server.text_of(message), smtp_server.html_of(message)
    link = f"https://help.example.com/zh-hans/requests/{ticket.reference}/"
    with translation.override("zh-hans"):
        duration = sla_targets.describe_duration(sla_targets.first_response_target(Priority.HIGH))
    for body in (text, html):
        assert ticket.reference in body
        assert link in body
        assert duration in body


def test_confirmation_subject_and_text_are_not_html_escaped_but_the_html_is(ticket):
    message = build_ticket_confirmation(ticket)
    assert message.subject.startswith(f"[{ticket.reference}]")
    assert 'Withdrawal <b>stuck</b> & "pending"' in message.subject
    assert "\n" not in message.subject
    assert 'Withdrawal <b>stuck</b> & "pending"' in message.body
    html = message.alternatives[0][0]
    assert "<b>stuck</b>" not in html
    assert "Withdrawal &lt;b&gt;stuck&lt;/b&gt; &amp; &quot;pending&quot;" in html


def test_confirmation_in_english_promises_the_priority_target(ticket, customer):
    customer.preferred_language = "en"
    customer.save()
    message = build_ticket_confirmation(ticket)
    assert "Expected first response: within 2 hours." in message.body
    assert f"/en/requests/{ticket.reference}/" in message.body
    assert "never ask for your password" in message.body


def test_the_task_refetches_and_sends(ticket, customer):
    ticket_confirmation_send(ticket.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]


def test_the_task_skips_missing_tickets_and_inactive_requesters(ticket, customer):
    ticket_confirmation_send(ticket.pk + 1000)
    customer.is_active = False
    customer.save()
    ticket_confirmation_send(ticket.pk)
    assert mail.outbox == []


def test_submitting_queues_the_email_only_after_commit(
    client, customer, general, django_capture_on_commit_callbacks
):
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(
            "/en/requests/new/",
            {"category": general.slug, "subject": "Card declined", "description": "Twice today."},
        )
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    assert "[HD-" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("priority", "hours"),
    [(Priority.URGENT, 0.5), (Priority.HIGH, 2), (Priority.NORMAL, 24), (Priority.LOW, 72)],
)
def test_first_response_targets_by_priority(priority, hours):
    assert sla_targets.first_response_target(priority).total_seconds() == hours * 3600


def test_durations_read_naturally():
    with translation.override("en"):
        assert sla_targets.describe_duration(sla_targets.first_response_target(40)) == "30 minutes"
        assert sla_targets.describe_duration(sla_targets.first_response_target(20)) == "24 hours"
        assert sla_targets.describe_duration(sla_targets.first_response_target(999)) == "24 hours"
