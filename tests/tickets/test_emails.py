"""The shape of every notification email: parts, language, subject, headers, links."""

import datetime
import email
import email.policy
import re

import pytest
from django.core import mail
from django.utils import translation

from tests.accounts.factories import UserFactory
from tests.tickets.factories import AttachmentFactory, TicketFactory
from tickets import notifications, sla_targets
from tickets.emails import REPLY_MARKER_RE, build_notification_email, reply_address, reply_marker
from tickets.models import (
    InboundEmail,
    Message,
    Notification,
    NotificationKind,
    NotificationStatus,
    Priority,
)

Kind = NotificationKind
SLA_CONTEXT = {"target": "first_response", "due_at": "2026-03-02T01:30:00+00:00"}
CUSTOMER_KINDS = [
    Kind.TICKET_CREATED,
    Kind.AGENT_REPLY,
    Kind.WAITING,
    Kind.SOLVED,
    Kind.CLOSED,
    Kind.REMINDER,
    Kind.OUT_OF_HOURS,
]
AGENT_KINDS = [Kind.SLA_WARNING, Kind.SLA_BREACH, Kind.ASSIGNED]
LANGUAGES = ["zh-hans", "en", "ja", "ko"]


@pytest.fixture
def ticket(customer, general):
    """Li Wei (reads Chinese, Shanghai) filed it from an English page: emails are still Chinese."""
    return TicketFactory(
        requester=customer,
        category=general,
        subject='Withdrawal <b>stuck</b> & "pending"',
        language="en",
        priority=Priority.HIGH,
    )


@pytest.fixture
def agent_reply(ticket, agent):
    message = Message.objects.create(
        ticket=ticket, author=agent, body="Please send the TXID.\nThank you <3"
    )
    AttachmentFactory(message=message, uploaded_by=agent, original_name="fee-table.pdf")
    return message


def notification_for(kind, ticket, *, recipient=None, message=None, context=None, **fields):
    """A queued notification of `kind`, with the context its queuer would give it."""
    if kind in (Kind.SLA_WARNING, Kind.SLA_BREACH) and context is None:
        context = SLA_CONTEXT
    if kind == Kind.OUT_OF_HOURS and context is None:
        context = {"opens_at": "2026-03-05T00:00:00+00:00"}
    return notifications.queue(
        kind,
        ticket=ticket,
        recipient=recipient or ticket.requester,
        message=message,
        context=context,
        **fields,
    )


def parsed(message) -> email.message.EmailMessage:
    """The email as a mail client reads it (headers decoded, parts split)."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def parts(message) -> tuple[str, str]:
    received = parsed(message)
    return (
        received.get_body(preferencelist=("plain",)).get_content(),
        received.get_body(preferencelist=("html",)).get_content(),
    )


def test_confirmation_reaches_a_real_smtp_server_in_the_requesters_language(
    ticket, customer, smtp_server, settings
):
    settings.PORTAL_BASE_URL = "https://help.example.com"
    notification = notification_for(Kind.TICKET_CREATED, ticket)

    assert notifications.notification_deliver(notification.pk) == NotificationStatus.SENT

    message = smtp_server.wait_for(customer.email)
    # (Python folds a long encoded subject right after "Subject:"; readers strip that.)
    assert message["Subject"].strip().startswith(f"[{ticket.reference}] ")
    assert message.get_content_type() == "multipart/alternative"
    text, html = smtp_server.text_of(message), smtp_server.html_of(message)
    link = f"https://help.example.com/zh-hans/requests/{ticket.reference}/"
    with translation.override("zh-hans"):
        duration = sla_targets.describe_duration(sla_targets.first_response_target(Priority.HIGH))
        marker = "##- " + translation.gettext("Please type your reply above this line") + " -##"
    for body in (text, html):
        assert ticket.reference in body
        assert link in body
        assert duration in body
        assert marker in body
    assert text.startswith(marker)


def test_confirmation_subject_and_text_are_not_html_escaped_but_the_html_is(ticket):
    message = build_notification_email(notification_for(Kind.TICKET_CREATED, ticket))

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

    message = build_notification_email(notification_for(Kind.TICKET_CREATED, ticket))

    assert "Expected first response: within 2 hours." in message.body
    assert f"/en/requests/{ticket.reference}/" in message.body
    assert "never ask for your password" in message.body
    assert "reply to this email" in message.body


def test_headers_carry_our_message_id_and_a_reply_address_naming_the_request(
    ticket, customer, settings
):
    settings.SUPPORT_REPLY_ADDRESS = "help@mail.example-exchange.com"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "Mail.Example-Exchange.com"
    notification = notification_for(Kind.TICKET_CREATED, ticket)

    received = parsed(build_notification_email(notification))

    assert notification.email_message_id == (f"{notification.uuid.hex}@mail.example-exchange.com")
    assert received["Message-ID"] == f"<{notification.email_message_id}>"
    assert received["Reply-To"] == f"help+{ticket.reference.lower()}@mail.example-exchange.com"
    assert received["To"] == customer.email
    assert received["Auto-Submitted"] == "auto-generated"
    assert "In-Reply-To" not in received  # the first email of the thread


def test_reply_address_is_the_support_mailbox_plus_the_lower_case_reference(ticket, settings):
    settings.SUPPORT_REPLY_ADDRESS = "support@example.com"
    assert reply_address(ticket) == f"support+{ticket.reference.lower()}@example.com"


def test_later_emails_thread_onto_what_was_sent_and_received_before(ticket, customer, agent):
    first = notification_for(Kind.TICKET_CREATED, ticket)
    notifications.notification_deliver(first.pk)
    InboundEmail.objects.create(
        email_message_id="cafe@mail.gmail.com",
        source=InboundEmail.Source.IMAP,
        sender=customer.email,
        status=InboundEmail.Status.REPLY,
        ticket=ticket,
        received_at=first.created_at + datetime.timedelta(minutes=5),
    )
    # Neither a failed email nor one to somebody else is part of this thread.
    failed = notification_for(Kind.WAITING, ticket)
    Notification.objects.filter(pk=failed.pk).update(status=NotificationStatus.FAILED)
    notifications.notification_deliver(notification_for(Kind.ASSIGNED, ticket, recipient=agent).pk)

    later = parsed(build_notification_email(notification_for(Kind.SOLVED, ticket)))

    assert later["In-Reply-To"] == "<cafe@mail.gmail.com>"
    assert later["References"].split() == [f"<{first.email_message_id}>", "<cafe@mail.gmail.com>"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_every_customer_email_renders_in_every_language(
    kind, language, ticket, customer, agent_reply
):
    customer.preferred_language = language
    customer.save()
    notification = notification_for(
        kind, ticket, message=agent_reply if kind == Kind.AGENT_REPLY else None
    )

    message = build_notification_email(notification)
    text, html = parts(message)

    assert message.subject.startswith(f"[{ticket.reference}] ")
    assert message.to == [customer.email]
    with translation.override(language):
        marker = reply_marker()
    for body in (text, html):
        assert "{{" not in body and "{%" not in body
        assert f"/{language}/requests/{ticket.reference}/" in body
        assert marker in body
    # The first line of the text, as the incoming side recognises it.
    assert REPLY_MARKER_RE.match(text)
    with translation.override(language):
        reminder = translation.gettext(
            "Support will never ask for your password, 2FA codes, private keys or seed phrase, "
            "and never asks you to transfer funds."
        )
    assert reminder in text and reminder in html
    assert f'lang="{language}"' in html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", AGENT_KINDS)
def test_every_agent_email_links_to_the_console_in_the_agents_language(
    kind, language, ticket, agent
):
    agent.preferred_language = language
    agent.save()

    message = build_notification_email(notification_for(kind, ticket, recipient=agent))
    text, html = parts(message)

    assert message.subject.startswith(f"[{ticket.reference}] ")
    assert message.to == [agent.email]
    # Agents answer in the console: a reply by email would look like a customer's.
    assert message.reply_to == []
    for body in (text, html):
        assert "{{" not in body
        assert f"/{language}/console/tickets/{ticket.reference}/" in body
        assert not REPLY_MARKER_RE.search(body)
    assert f'lang="{language}"' in html


def test_agent_reply_carries_the_message_and_its_files_names(ticket, customer, agent_reply):
    customer.preferred_language = "en"
    customer.save()

    message = build_notification_email(
        notification_for(Kind.AGENT_REPLY, ticket, message=agent_reply)
    )
    text, html = parts(message)

    assert "from the support team answered your request" in text
    assert "Please send the TXID.\nThank you <3" in text
    assert "Please send the TXID.<br>Thank you &lt;3" in html
    assert "- fee-table.pdf" in text
    assert "<li>fee-table.pdf</li>" in html


def test_sla_emails_show_the_deadline_in_the_agents_time_zone(ticket, agent):
    agent.time_zone = "Asia/Tokyo"
    agent.preferred_language = "en"
    agent.save()

    warning = build_notification_email(notification_for(Kind.SLA_WARNING, ticket, recipient=agent))
    breach = build_notification_email(notification_for(Kind.SLA_BREACH, ticket, recipient=agent))

    # 01:30 UTC is 10:30 in Tokyo.
    assert (
        warning.subject
        == f"[{ticket.reference}] At risk: First response due March 2, 2026, 10:30 a.m."
    )
    assert "Due: March 2, 2026, 10:30 a.m. (Asia/Tokyo)" in warning.body
    assert breach.subject.startswith(f"[{ticket.reference}] Missed: First response was due")
    assert "Was due: March 2, 2026, 10:30 a.m. (Asia/Tokyo)" in breach.body


def test_optional_emails_carry_a_one_click_unsubscribe_and_essential_ones_do_not(
    ticket, customer, client
):
    reminder = parsed(build_notification_email(notification_for(Kind.REMINDER, ticket)))
    confirmation = parsed(build_notification_email(notification_for(Kind.TICKET_CREATED, ticket)))

    header = "".join(str(reminder["List-Unsubscribe"]).split())  # unfolded
    link = re.fullmatch(r"<(https?://[^>]+)>", header).group(1)
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in reminder.get_body(preferencelist=("plain",)).get_content()
    assert "List-Unsubscribe" not in confirmation
    assert "/accounts/unsubscribe/" not in confirmation.get_body(("plain",)).get_content()
    # What a mail client's "unsubscribe" button does (RFC 8058): a POST, no cookies.
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.wants_optional_emails


def test_refusal_answers_the_unknown_sender_in_their_thread(db):
    notification = notifications.queue(
        Kind.EMAIL_TOO_LARGE,
        to_email="stranger@example.org",
        language="ja",
        context={"subject": "写真", "in_reply_to": "<ABC@Example.org>", "limit_mb": 25},
        dedupe_key="inbound:email_too_large:abc@example.org",
    )

    message = build_notification_email(notification)
    received = parsed(message)

    assert message.to == ["stranger@example.org"]
    assert received["In-Reply-To"] == "<abc@example.org>"
    assert received["References"] == "<abc@example.org>"
    assert received["Auto-Submitted"] == "auto-replied"
    assert "Reply-To" not in received
    assert "写真" in message.subject
    with translation.override("ja"):
        hello = translation.gettext("Hello,")
    assert message.body.startswith(hello)
    assert "25 MB" in message.body
    assert "/ja/requests/new/" in message.body


def test_refusal_of_an_unknown_sender_points_to_sign_up(db):
    notification = notifications.queue(
        Kind.EMAIL_REFUSED,
        to_email="stranger@example.org",
        context={"subject": "Help", "in_reply_to": "x1@example.org"},
    )

    text, html = parts(build_notification_email(notification))

    assert "/en/accounts/signup/" in text and "/en/accounts/signup/" in html
    assert "accepted only from the email address of a support account" in text


def test_out_of_hours_reply_names_the_opening_in_the_customers_zone(ticket, customer):
    customer.preferred_language = "en"
    customer.save()

    message = build_notification_email(notification_for(Kind.OUT_OF_HOURS, ticket))

    # 00:00 UTC is 08:00 in Shanghai.
    assert "Support is back at March 5, 2026, 8 a.m. (Asia/Shanghai)" in message.body
    assert parsed(message)["Auto-Submitted"] == "auto-replied"


def test_each_kind_has_its_three_templates():
    from django.template.loader import get_template

    for kind in NotificationKind.values:
        for suffix in ("_subject.txt", ".txt", ".html"):
            get_template(f"tickets/email/{kind}{suffix}")


def test_delivery_uses_the_configured_backend_once(ticket, customer):
    notification = notification_for(Kind.TICKET_CREATED, ticket)

    notifications.notification_deliver(notification.pk)
    notifications.notification_deliver(notification.pk)

    assert [m.to for m in mail.outbox] == [[customer.email]]


@pytest.mark.parametrize(
    ("priority", "hours"),
    [(Priority.URGENT, 0.5), (Priority.HIGH, 2), (Priority.NORMAL, 24), (Priority.LOW, 72)],
)
def test_first_response_targets_by_priority(db, priority, hours):
    assert sla_targets.first_response_target(priority).total_seconds() == hours * 3600


def test_durations_read_naturally(db):
    with translation.override("en"):
        assert sla_targets.describe_duration(sla_targets.first_response_target(40)) == "30 minutes"
        assert sla_targets.describe_duration(sla_targets.first_response_target(20)) == "24 hours"
        assert sla_targets.describe_duration(sla_targets.first_response_target(999)) == "24 hours"


def test_an_agent_without_a_name_of_their_own_still_reads_naturally(ticket, customer):
    nameless = UserFactory(display_name="", email="ops.desk@example.com")
    customer.preferred_language = "en"
    customer.save()
    message = Message.objects.create(ticket=ticket, author=nameless, body="Done.")

    text, _html = parts(
        build_notification_email(notification_for(Kind.AGENT_REPLY, ticket, message=message))
    )

    assert "ops.desk from the support team answered your request" in text
