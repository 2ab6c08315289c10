"""Which events email whom, and how the outbox sends: claims, retries, dispatch, opt-out."""

import datetime
import logging
import threading

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.celery_children import (  # noqa: F401 - fixture
    free_port,
    publishing_to,
    queue_to_broker_fixture,
    unreachable_broker,
)
from tickets import notifications, services
from tickets.lifecycle import Status
from tickets.models import Notification, NotificationKind, NotificationStatus, Ticket

Kind = NotificationKind
SENT, PENDING, SENDING, FAILED, SKIPPED = (
    NotificationStatus.SENT,
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.FAILED,
    NotificationStatus.SKIPPED,
)
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def queued(ticket: Ticket | None = None) -> list[tuple[str, str]]:
    """(kind, address) of every notification recorded, oldest first."""
    rows = Notification.objects.select_related("recipient").order_by("pk")
    if ticket is not None:
        rows = rows.filter(ticket=ticket)
    return [(row.kind, row.recipient.email if row.recipient else row.to_email) for row in rows]


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def due_at_t0(ticket: Ticket) -> Notification:
    """The request's first notification, as if it had been queued at T0."""
    row = ticket.notifications.order_by("pk").first()
    Notification.objects.filter(pk=row.pk).update(created_at=T0, next_attempt_at=T0)
    return row


# Which events queue what ------------------------------------------------------------------


@pytest.mark.django_db
class TestWhoIsTold:
    def test_a_new_request_is_confirmed_to_its_requester(self, open_request, customer, settings):
        settings.EMAIL_MESSAGE_ID_DOMAIN = "mail.example.com"
        ticket = open_request()

        assert queued(ticket) == [(Kind.TICKET_CREATED, customer.email)]
        row = ticket.notifications.get()
        assert (row.status, row.language) == (PENDING, "zh-hans")
        assert row.email_message_id == f"{row.uuid.hex}@mail.example.com"

    def test_the_agent_routing_chose_is_told_too(
        self, open_request, customer, agent_in_wallet, withdrawal, withdrawal_values
    ):
        ticket = open_request(category=withdrawal, fields=withdrawal_values)

        assert ticket.assignee == agent_in_wallet
        assert queued(ticket) == [
            (Kind.TICKET_CREATED, customer.email),
            (Kind.ASSIGNED, agent_in_wallet.email),
        ]

    def test_a_public_agent_reply_is_emailed_with_its_message(self, open_request, agent, customer):
        ticket = open_request()

        message = services.ticket_reply(ticket=ticket, author=agent, body="Which network?")

        reply = ticket.notifications.get(kind=Kind.AGENT_REPLY)
        assert (reply.recipient, reply.message) == (customer, message)

    def test_internal_notes_and_the_customers_own_replies_email_nobody(
        self, open_request, agent, customer
    ):
        ticket = open_request()

        services.ticket_reply(ticket=ticket, author=agent, body="Looks like fraud.", internal=True)
        services.ticket_reply(ticket=ticket, author=customer, body="Any news?")

        assert queued(ticket) == [(Kind.TICKET_CREATED, customer.email)]

    @pytest.mark.parametrize(
        ("moves", "kind"),
        [
            ([Status.WAITING], Kind.WAITING),
            ([Status.SOLVED], Kind.SOLVED),
            ([Status.SOLVED, Status.CLOSED], Kind.CLOSED),
        ],
    )
    def test_an_agents_status_change_is_emailed(self, open_request, agent, customer, moves, kind):
        ticket = open_request()
        for status in moves:
            ticket = fresh(ticket)
            services.ticket_change_status(
                ticket=ticket, actor=agent, to_status=status, expected_version=ticket.version
            )

        assert queued(ticket)[-1] == (kind, customer.email)
        assert ticket.notifications.get(kind=kind).context == {"status": moves[-1]}

    def test_opening_and_reopening_are_not_emailed(self, open_request, agent, customer):
        ticket = open_request()
        for status in (Status.OPEN, Status.SOLVED, Status.OPEN):
            ticket = fresh(ticket)
            services.ticket_change_status(
                ticket=ticket, actor=agent, to_status=status, expected_version=ticket.version
            )

        assert [kind for kind, _to in queued(ticket)] == [Kind.TICKET_CREATED, Kind.SOLVED]

    def test_the_customers_own_solve_is_not_emailed_but_the_systems_is(
        self, open_request, agent, customer
    ):
        mine = open_request()
        services.ticket_solve_by_customer(ticket=mine, customer=customer)
        abandoned = open_request()
        services.ticket_change_status(
            ticket=abandoned, actor=agent, to_status=Status.WAITING, expected_version=1
        )
        abandoned = fresh(abandoned)
        services.ticket_change_status(
            ticket=abandoned, actor=None, to_status=Status.SOLVED, expected_version=2
        )

        assert [kind for kind, _to in queued(mine)] == [Kind.TICKET_CREATED]
        assert [kind for kind, _to in queued(abandoned)] == [
            Kind.TICKET_CREATED,
            Kind.WAITING,
            Kind.SOLVED,
        ]

    def test_assignment_by_a_colleague_tells_the_assignee_but_taking_one_does_not(
        self, open_request, agent, supervisor
    ):
        given = open_request()
        taken = open_request()

        services.ticket_assign(ticket=given, actor=supervisor, assignee=agent, expected_version=1)
        services.ticket_assign(ticket=taken, actor=agent, assignee=agent, expected_version=1)
        given = fresh(given)
        services.ticket_assign(
            ticket=given, actor=supervisor, assignee=None, expected_version=given.version
        )

        assert queued(given)[1:] == [(Kind.ASSIGNED, agent.email)]
        assert queued(taken)[1:] == []

    def test_a_merge_closes_the_source_without_emailing_a_closure(
        self, open_request, agent, customer
    ):
        source, target = open_request(), open_request()

        services.ticket_merge(source=source, target=target, actor=agent)

        assert fresh(source).status == Status.CLOSED
        assert [kind for kind, _to in queued(source)] == [Kind.TICKET_CREATED]

    def test_customers_who_opted_out_get_no_optional_email_but_every_essential_one(
        self, open_request, agent, customer
    ):
        customer.wants_optional_emails = False
        customer.save()
        ticket = open_request()

        reminder = notifications.queue(Kind.REMINDER, ticket=ticket, recipient=customer)
        services.ticket_reply(ticket=ticket, author=agent, body="Done.")

        assert reminder is None
        assert [kind for kind, _to in queued(ticket)] == [Kind.TICKET_CREATED, Kind.AGENT_REPLY]

    def test_an_inactive_recipient_is_recorded_as_skipped_and_sent_nothing(self, open_request):
        former = UserFactory(is_active=False)
        ticket = open_request()

        row = notifications.queue(Kind.ASSIGNED, ticket=ticket, recipient=former)

        assert (row.status, row.last_error) == (SKIPPED, notifications.INACTIVE_RECIPIENT)
        assert notifications.notification_deliver(row.pk) is None
        assert mail.outbox == []

    def test_the_same_cause_is_recorded_once(self, open_request, customer):
        ticket = open_request()
        key = f"reminder:{ticket.pk}:2026-03-02T09:00:00+00:00"

        first = notifications.queue(
            Kind.REMINDER, ticket=ticket, recipient=customer, dedupe_key=key
        )
        again = notifications.queue(
            Kind.REMINDER, ticket=ticket, recipient=customer, dedupe_key=key
        )

        assert first is not None and again is None
        assert ticket.notifications.filter(kind=Kind.REMINDER).count() == 1


# Sending ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestSending:
    def test_nothing_is_handed_to_a_worker_before_the_commit(
        self, open_request, customer, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            ticket = open_request()
        assert mail.outbox == []
        assert ticket.notifications.get().status == PENDING

        for callback in callbacks:
            callback()

        assert [email.to for email in mail.outbox] == [[customer.email]]
        row = ticket.notifications.get()
        assert (row.status, row.attempts, row.claimed_until) == (SENT, 1, None)
        assert row.sent_at is not None

    def test_a_sent_notification_is_never_sent_again(self, open_request):
        row = open_request().notifications.get()

        statuses = [notifications.notification_deliver(row.pk) for _ in range(3)]

        assert statuses == [SENT, None, None]
        assert len(mail.outbox) == 1

    def test_a_claim_holds_until_its_lease_expires(self, open_request, settings):
        settings.NOTIFICATION_LEASE_SECONDS = 60
        row = due_at_t0(open_request())

        first = notifications.notification_claim(row.pk, now=T0)
        during = notifications.notification_claim(row.pk, now=T0 + datetime.timedelta(seconds=59))
        after = notifications.notification_claim(row.pk, now=T0 + datetime.timedelta(seconds=61))

        assert first.attempts == 1 and during is None and after.attempts == 2
        # The first holder lost its claim: it can no longer record an outcome.
        assert notifications._release(first, status=SENT) is False
        assert notifications._release(after, status=SENT) is True

    def test_a_reply_turned_internal_before_sending_is_not_sent(
        self, open_request, agent, other_customer
    ):
        ticket = open_request()
        services.ticket_reply(ticket=ticket, author=agent, body="Your TXID is …")
        row = ticket.notifications.get(kind=Kind.AGENT_REPLY)
        # Merged into another customer's request: the reply becomes an internal note.
        elsewhere = open_request(requester=other_customer)
        services.ticket_merge(source=ticket, target=elsewhere, actor=agent)

        assert notifications.notification_deliver(row.pk) == SKIPPED
        assert fresh_row(row).last_error == "The reply is no longer public."

    def test_a_recipient_deactivated_or_opted_out_meanwhile_is_skipped(
        self, open_request, customer
    ):
        ticket = open_request()
        reminder = notifications.queue(Kind.REMINDER, ticket=ticket, recipient=customer)
        customer.wants_optional_emails = False
        customer.save()

        assert notifications.notification_deliver(reminder.pk) == SKIPPED
        customer.is_active = False
        customer.save()
        assert notifications.notification_deliver(ticket.notifications.first().pk) == SKIPPED
        assert mail.outbox == []


def fresh_row(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_claims_exactly_one_wins(open_request):
    """Two workers race for each of ten rows at the same instant: one claim per row."""
    rows = [open_request().notifications.get() for _ in range(10)]
    # Committed, so their on-commit tasks ran (eagerly): make them pending again,
    # as if the broker had lost those tasks.
    Notification.objects.update(status=PENDING, attempts=0, sent_at=None)
    results: dict[int, list] = {row.pk: [] for row in rows}

    def race(pk: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            results[pk].append(notifications.notification_claim(pk))
        finally:
            connection.close()

    for row in rows:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=race, args=(row.pk, barrier)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for row in rows:
        claims = [claim for claim in results[row.pk] if claim is not None]
        assert len(claims) == 1, results[row.pk]
        assert fresh_row(row).attempts == 1


# Retries ----------------------------------------------------------------------------------


@pytest.fixture
def smtp_down(settings):
    """SMTP pointed at a loopback port nothing listens on: every connection is refused."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.mark.django_db
class TestRetries:
    def test_a_refused_smtp_connection_is_retried_with_growing_back_off(
        self, open_request, smtp_down
    ):
        smtp_down.NOTIFICATION_RETRY_BASE_SECONDS = 60
        smtp_down.NOTIFICATION_MAX_ATTEMPTS = 3
        row = due_at_t0(open_request())

        assert notifications.notification_deliver(row.pk, now=T0) == PENDING
        first = fresh_row(row)
        assert (first.status, first.attempts) == (PENDING, 1)
        assert first.next_attempt_at == T0 + datetime.timedelta(seconds=60)
        assert "ConnectionRefusedError" in first.last_error
        # Not due yet: nothing happens.
        not_yet = T0 + datetime.timedelta(seconds=30)
        assert notifications.notification_deliver(row.pk, now=not_yet) is None

        second_try = T0 + datetime.timedelta(seconds=61)
        assert notifications.notification_deliver(row.pk, now=second_try) == PENDING
        assert fresh_row(row).next_attempt_at == second_try + datetime.timedelta(seconds=120)

        third_try = second_try + datetime.timedelta(seconds=121)
        assert notifications.notification_deliver(row.pk, now=third_try) == FAILED
        assert fresh_row(row).attempts == 3
        much_later = third_try + datetime.timedelta(days=1)
        assert notifications.notification_deliver(row.pk, now=much_later) is None

    def test_back_off_doubles_up_to_its_cap(self, settings):
        settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
        settings.NOTIFICATION_RETRY_MAX_SECONDS = 3600

        delays = [notifications.retry_delay(n).total_seconds() for n in range(1, 9)]

        assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]

    def test_the_retry_is_delivered_once_the_smtp_server_is_back(
        self, open_request, customer, smtp_down, smtp_server
    ):
        # smtp_server re-pointed the settings at itself; start from a refused send.
        smtp_down.EMAIL_PORT = free_port()
        row = open_request().notifications.get()
        notifications.notification_deliver(row.pk)
        smtp_down.EMAIL_PORT = smtp_server.port

        assert notifications.notifications_dispatch() == 0
        # A minute later the back-off has passed.
        Notification.objects.filter(pk=row.pk).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        queued_now = notifications.notifications_dispatch()

        assert queued_now == 1
        smtp_server.wait_for(customer.email)
        assert len(smtp_server.inbox) == 1
        assert (fresh_row(row).status, fresh_row(row).attempts) == (SENT, 2)

    def test_an_address_the_server_rejects_for_good_fails_at_once(
        self, open_request, customer, settings
    ):
        class RejectRecipients:
            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                return "550 5.1.1 No such mailbox"

        server = Controller(RejectRecipients(), hostname="127.0.0.1", port=free_port())
        server.start()
        try:
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
            settings.EMAIL_USE_TLS = False
            row = open_request().notifications.get()

            assert notifications.notification_deliver(row.pk) == FAILED
        finally:
            server.stop()
        assert "No such mailbox" in fresh_row(row).last_error
        assert fresh_row(row).attempts == 1


# The dispatch beat ------------------------------------------------------------------------


@pytest.mark.django_db
class TestDispatch:
    def test_it_sends_what_the_broker_never_got_but_leaves_fresh_rows_to_their_task(
        self, open_request, customer, settings
    ):
        settings.NOTIFICATION_DISPATCH_GRACE_SECONDS = 30
        lost = open_request().notifications.get()
        Notification.objects.filter(pk=lost.pk).update(next_attempt_at=T0)
        fresh_one = open_request().notifications.get()
        Notification.objects.filter(pk=fresh_one.pk).update(
            next_attempt_at=T0 + datetime.timedelta(seconds=50)
        )

        sent = notifications.notifications_dispatch(now=T0 + datetime.timedelta(seconds=60))

        assert sent == 1
        assert (fresh_row(lost).status, fresh_row(fresh_one).status) == (SENT, PENDING)
        assert len(mail.outbox) == 1

    def test_it_takes_back_what_a_dead_worker_held_once_the_lease_expires(
        self, open_request, customer, settings
    ):
        settings.NOTIFICATION_LEASE_SECONDS = 60
        row = due_at_t0(open_request())
        # A worker claimed it and died: the row says "sending" until its lease ends.
        notifications.notification_claim(row.pk, now=T0)

        early = notifications.notifications_dispatch(now=T0 + datetime.timedelta(seconds=30))
        assert (early, fresh_row(row).status, mail.outbox) == (0, SENDING, [])

        late = notifications.notifications_dispatch()
        assert late == 1
        assert (fresh_row(row).status, fresh_row(row).attempts) == (SENT, 2)
        assert [email.to for email in mail.outbox] == [[customer.email]]

    def test_it_gives_up_on_a_row_whose_workers_keep_dying(self, open_request, settings):
        settings.NOTIFICATION_MAX_ATTEMPTS = 2
        settings.NOTIFICATION_LEASE_SECONDS = 60
        row = due_at_t0(open_request())
        notifications.notification_claim(row.pk, now=T0)
        notifications.notification_claim(row.pk, now=T0 + datetime.timedelta(seconds=61))

        notifications.notifications_dispatch(now=T0 + datetime.timedelta(seconds=200))

        assert fresh_row(row).status == FAILED
        assert mail.outbox == []


# Broker outage and manual retry ---------------------------------------------------------


@pytest.mark.django_db
def test_a_request_filed_while_the_broker_is_down_succeeds_and_waits_in_the_outbox(
    client,
    customer,
    general,
    queue_to_broker,
    tmp_path,
    caplog,
    django_capture_on_commit_callbacks,
):
    client.force_login(customer)
    url, options = unreachable_broker(tmp_path)

    with (
        publishing_to(url, options),
        caplog.at_level(logging.WARNING, logger="tickets.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            "/en/requests/new/",
            {"category": general.slug, "subject": "Card declined", "description": "Twice."},
        )

    assert response.status_code == 302
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (PENDING, 0)
    assert "waits for the dispatch beat" in caplog.text
    assert mail.outbox == []


@pytest.mark.django_db
def test_retry_now_requeues_failed_emails_and_leaves_sent_ones_alone(
    open_request, customer, django_capture_on_commit_callbacks
):
    failed = open_request().notifications.get()
    Notification.objects.filter(pk=failed.pk).update(status=FAILED, attempts=8)
    done = open_request().notifications.get()
    notifications.notification_deliver(done.pk)

    with django_capture_on_commit_callbacks(execute=True):
        retried = notifications.notifications_retry_now([failed.pk, done.pk])

    assert retried == 1
    assert (fresh_row(failed).status, fresh_row(failed).attempts) == (SENT, 1)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_admin_lists_searches_and_retries_notifications(
    client, portal_admin, open_request, django_capture_on_commit_callbacks
):
    ticket = open_request()
    row = ticket.notifications.get()
    Notification.objects.filter(pk=row.pk).update(status=FAILED, last_error="SMTP said no")
    client.force_login(portal_admin)
    changelist = reverse("admin:tickets_notification_changelist")

    found = client.get(changelist, {"q": ticket.reference, "status__exact": FAILED})
    assert found.status_code == 200
    assert ticket.reference in found.content.decode()
    assert client.get(reverse("admin:tickets_notification_add")).status_code == 403
    detail = client.get(reverse("admin:tickets_notification_change", args=[row.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_now", "_selected_action": [row.pk]}, follow=True
        )

    assert "1 notification queued again" in response.content.decode()
    assert fresh_row(row).status == SENT


@pytest.mark.django_db
def test_supervisors_read_the_outbox_but_agents_cannot(client, supervisor, agent):
    client.force_login(supervisor)
    assert client.get(reverse("admin:tickets_notification_changelist")).status_code == 200
    client.force_login(agent)
    # Agents have no admin site at all: sent to its sign-in page.
    assert client.get(reverse("admin:tickets_notification_changelist")).status_code == 302
