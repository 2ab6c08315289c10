"""The outbox with a real worker, beat, broker and SMTP server: exactly once, whatever fails.

Children run with short intervals (dispatch every second, a 3-second lease) so
that what takes minutes in production takes seconds here.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings

from tests.celery_children import (  # noqa: F401 - fixtures
    CeleryChildren,
    RedisServer,
    celery_children_fixture,
    publishing_to,
    queue_to_broker_fixture,
    unreachable_broker,
    wait_for,
)
from tests.smtp import SMTPSink
from tickets.models import Notification, NotificationKind, NotificationStatus, Ticket

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
CHILD_SETTINGS = {
    "NOTIFICATION_DISPATCH_INTERVAL": "1",
    "NOTIFICATION_DISPATCH_GRACE_SECONDS": "2",
    "NOTIFICATION_LEASE_SECONDS": str(LEASE_SECONDS),
    "NOTIFICATION_RETRY_BASE_SECONDS": "1",
}
# Children import Django and connect in a few seconds; a loaded machine needs more.
DELIVERY_WAIT = 60.0


def use_sink(children: CeleryChildren, sink: SMTPSink) -> None:
    children.extra_env.update(CHILD_SETTINGS)
    children.extra_env["TEST_EMAIL_URL"] = f"smtp://{sink.host}:{sink.port}"


def file_request(client, general, subject: str) -> Ticket:
    """Submit the request form like a customer; the response must be a redirect, at once."""
    started = time.monotonic()
    response = client.post(
        "/en/requests/new/",
        # confirm_new: "not a duplicate of my other open request".
        {
            "category": general.slug,
            "subject": subject,
            "description": "Still missing.",
            "confirm_new": "1",
        },
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 302, re.findall(
        r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )
    # The page never waits on SMTP or on a broker that is away.
    assert elapsed < 5, f"the request took {elapsed:.1f} s"
    return Ticket.objects.get(subject=subject)


def emails_about(sink: SMTPSink, ticket: Ticket, to: str) -> list:
    return [
        message
        for message in list(sink.inbox)
        if ticket.reference in str(message["Subject"]) and to in str(message["To"])
    ]


def confirmation(ticket: Ticket) -> Notification:
    return Notification.objects.get(ticket=ticket, kind=NotificationKind.TICKET_CREATED)


def settle(seconds: float, children: CeleryChildren) -> None:
    """Let beat and the worker run a few more rounds: nothing may be sent twice."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children.check_alive()
        time.sleep(0.25)


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def test_a_request_filed_on_the_web_page_is_confirmed_exactly_once(
    signed_in, customer, general, celery_children, smtp_server, queue_to_broker
):
    use_sink(celery_children, smtp_server)
    celery_children.start_worker()
    celery_children.start_beat()

    ticket = file_request(signed_in, general, "USDT withdrawal missing")

    wait_for(
        lambda: emails_about(smtp_server, ticket, customer.email),
        timeout=DELIVERY_WAIT,
        children=celery_children,
        what="the confirmation",
    )
    settle(4, celery_children)  # four dispatch rounds
    [message] = emails_about(smtp_server, ticket, customer.email)
    row = confirmation(ticket)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    assert message["Message-ID"] == f"<{row.email_message_id}>"
    assert message["Reply-To"] == f"support+{ticket.reference.lower()}@example.com"
    assert message.get_content_type() == "multipart/alternative"


def test_a_request_filed_while_the_broker_is_down_is_confirmed_once_it_is_back(
    signed_in, customer, general, celery_children, smtp_server, queue_to_broker, tmp_path
):
    use_sink(celery_children, smtp_server)
    on_redis = django_settings.CELERY_BROKER_URL.startswith("redis")
    options = dict(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if on_redis:
        # The whole round shares its Redis (cache, channel layer): this test stops
        # a broker of its own instead, used by the web side, the worker and beat.
        redis = RedisServer(tmp_path).start()
        celery_children.extra_env["CELERY_BROKER_URL"] = redis.url
        broker = publishing_to(redis.url, options)
    else:
        broker = publishing_to(django_settings.CELERY_BROKER_URL, options)
    with broker:
        celery_children.start_worker()
        wait_for(
            lambda: "ready." in celery_children.log_text(),
            timeout=DELIVERY_WAIT,
            children=celery_children,
            what="the worker to be ready",
        )

        # The outage: Redis is stopped; the filesystem broker's folder is missing.
        if on_redis:
            redis.stop()
            ticket = file_request(signed_in, general, "Deposit not credited")
        else:
            with publishing_to(*unreachable_broker(tmp_path)):
                ticket = file_request(signed_in, general, "Deposit not credited")

        settle(3, celery_children)
        row = confirmation(ticket)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 0)
        assert emails_about(smtp_server, ticket, customer.email) == []

        # The broker is back; beat's dispatch finds the notification in the outbox.
        if on_redis:
            redis.start()
        celery_children.start_beat()
        wait_for(
            lambda: emails_about(smtp_server, ticket, customer.email),
            timeout=DELIVERY_WAIT,
            children=celery_children,
            what="the confirmation after the outage",
        )
        settle(4, celery_children)

    assert len(emails_about(smtp_server, ticket, customer.email)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    if on_redis:
        redis.stop()


class _StallFirstMessage:
    """Accept every email but the first, whose DATA is never answered (a hung server)."""

    def __init__(self, inbox: list) -> None:
        self.inbox = inbox
        self.stalled = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.1)
            return "451 4.3.0 Try again later"
        import email
        import email.policy

        self.inbox.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling_smtp():
    sink = SMTPSink()
    handler = _StallFirstMessage(sink.inbox)
    sink._controller = Controller(handler, hostname=sink.host, port=sink.port)
    sink.handler = handler
    sink.start()
    yield sink
    handler.released.set()
    sink.stop()


def test_a_worker_killed_while_sending_loses_nothing_and_sends_nothing_twice(
    signed_in, customer, general, celery_children, stalling_smtp, queue_to_broker
):
    use_sink(celery_children, stalling_smtp)
    celery_children.start_worker()

    first = file_request(signed_in, general, "Withdrawal stuck")
    # The worker claimed the first confirmation and hangs inside SMTP DATA.
    wait_for(
        stalling_smtp.handler.stalled.is_set,
        timeout=DELIVERY_WAIT,
        children=celery_children,
        what="the worker to start sending",
    )
    assert confirmation(first).status == NotificationStatus.SENDING
    # More requests while it hangs: their pages answer at once all the same.
    others = [file_request(signed_in, general, f"Second issue {n}") for n in range(2)]

    celery_children.kill("worker")
    killed_row = confirmation(first)
    assert (killed_row.status, killed_row.attempts) == (NotificationStatus.SENDING, 1)

    celery_children.start_worker()
    celery_children.start_beat()
    tickets = [first, *others]
    wait_for(
        lambda: all(emails_about(stalling_smtp, ticket, customer.email) for ticket in tickets),
        timeout=DELIVERY_WAIT,
        children=celery_children,
        what="every confirmation after the crash",
    )
    settle(LEASE_SECONDS + 2, celery_children)

    for ticket in tickets:
        assert len(emails_about(stalling_smtp, ticket, customer.email)) == 1
        assert confirmation(ticket).status == NotificationStatus.SENT
    # The crashed attempt counts: the lease expired and a new worker claimed it.
    assert confirmation(first).attempts == 2
