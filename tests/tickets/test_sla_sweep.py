"""The SLA sweep (tickets.sla.sla_sweep): at risk and breached, recorded and notified once."""

import datetime
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from tests.celery_children import celery_children_fixture, wait_for  # noqa: F401 - fixtures
from tests.tickets.factories import team_agent
from tickets import sla, tasks
from tickets.models import (
    EventKind,
    Notification,
    NotificationKind,
    Priority,
    SlaMilestone,
    Status,
    TeamMembership,
    Ticket,
    TicketEvent,
)
from tickets.services import ticket_change_status, ticket_reply

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def wallet_supervisor(wallet_team):
    """Zhang Min, who supervises the wallet team (and reads Japanese)."""
    user = team_agent(wallet_team, email="zhang.min@example.com", display_name="张敏")
    user.preferred_language = "ja"
    user.save()
    TeamMembership.objects.filter(team=wallet_team, user=user).update(is_supervisor=True)
    return user


@pytest.fixture
def withdrawal_request(open_request, withdrawal, withdrawal_values, agent_in_wallet):
    """A withdrawal request opened at T0; routing assigns it to `agent_in_wallet`."""

    def make(at=T0):
        ticket = open_request(category=withdrawal, fields=withdrawal_values, now=at)
        assert ticket.assignee == agent_in_wallet
        return ticket

    return make


def milestones(ticket):
    return list(
        SlaMilestone.objects.filter(ticket=ticket)
        .order_by("created_at", "pk")
        .values_list("target", "stage", "due_at")
    )


def sla_events(ticket):
    return list(
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACH]
        )
        .order_by("pk")
        .values_list("kind", "new_value", "is_public", "actor")
    )


def sla_emails(ticket):
    return sorted(
        Notification.objects.filter(
            ticket=ticket, kind__in=[NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH]
        ).values_list("kind", "recipient__email", "language", "context", "dedupe_key"),
        key=lambda row: row[4],
    )


def test_at_risk_then_breached_each_recorded_and_announced_once(
    policy, withdrawal_request, agent_in_wallet, wallet_supervisor
):
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = withdrawal_request()
    due = T0 + HOUR
    due_iso = "2026-03-02T09:00:00+00:00"

    assert sla.sla_sweep(now=T0 + 44 * MINUTE) == sla.SweepResult()
    assert milestones(ticket) == []

    first = sla.sla_sweep(now=T0 + 45 * MINUTE)
    assert (first.warnings, first.breaches, first.notifications) == (1, 0, 2)
    assert milestones(ticket) == [("first_response", "warning", due)]
    assert sla_events(ticket) == [
        ("sla_warning", {"target": "first_response", "due_at": due_iso}, False, None)
    ]
    assert sla_emails(ticket) == [
        (
            "sla_warning",
            agent_in_wallet.email,
            agent_in_wallet.preferred_language,
            {"target": "first_response", "due_at": due_iso},
            f"sla:{ticket.pk}:first_response:warning:{due_iso}:{agent_in_wallet.pk}",
        ),
        (
            "sla_warning",
            wallet_supervisor.email,
            "ja",
            {"target": "first_response", "due_at": due_iso},
            f"sla:{ticket.pk}:first_response:warning:{due_iso}:{wallet_supervisor.pk}",
        ),
    ]

    # Every later beat before the deadline finds nothing new.
    assert sla.sla_sweep(now=T0 + 45 * MINUTE) == sla.SweepResult()
    assert sla.sla_sweep(now=T0 + 59 * MINUTE) == sla.SweepResult()

    breached = sla.sla_sweep(now=T0 + 60 * MINUTE)
    assert (breached.warnings, breached.breaches, breached.notifications) == (0, 1, 2)
    assert sla.sla_sweep(now=T0 + 61 * MINUTE) == sla.SweepResult()
    assert milestones(ticket) == [
        ("first_response", "warning", due),
        ("first_response", "breach", due),
    ]
    assert [kind for kind, *_ in sla_events(ticket)] == ["sla_warning", "sla_breach"]
    assert [row[0] for row in sla_emails(ticket)] == ["sla_breach"] * 2 + ["sla_warning"] * 2


def test_only_the_assignee_and_the_supervisors_of_the_requests_team_are_told(
    policy, withdrawal_request, agent_in_wallet, wallet_team, trading_team, supervisor
):
    """Not other teams' supervisors, not an inactive supervisor; an assignee who also
    supervises is told once."""
    policy("7x24", first_response_minutes=60)
    TeamMembership.objects.filter(team=wallet_team, user=agent_in_wallet).update(is_supervisor=True)
    gone = team_agent(wallet_team, email="gone@example.com")
    TeamMembership.objects.filter(user=gone).update(is_supervisor=True)
    gone.is_active = False
    gone.save()
    other = team_agent(trading_team, email="other.lead@example.com")
    TeamMembership.objects.filter(user=other).update(is_supervisor=True)
    ticket = withdrawal_request()

    sla.sla_sweep(now=T0 + HOUR)
    assert [email for _kind, email, *_ in sla_emails(ticket)] == [agent_in_wallet.email]


def test_a_request_nobody_holds_is_recorded_without_an_email(policy, open_request):
    """Triage requests have no team and no assignee; the inbox's breached view shows them."""
    policy("7x24", first_response_minutes=60)
    ticket = open_request(now=T0)
    result = sla.sla_sweep(now=T0 + HOUR)
    assert (result.breaches, result.notifications) == (1, 0)
    assert milestones(ticket) == [("first_response", "breach", T0 + HOUR)]


def test_a_later_target_is_breached_too_after_the_nearest_one_was(policy, withdrawal_request):
    policy("7x24", first_response_minutes=60, resolution_minutes=120)
    ticket = withdrawal_request()
    sla.sla_sweep(now=T0 + HOUR)
    # Resolution's own warning point (T0 + 90 min) passes while the first response,
    # nearer, is already breached: that warning is not sent, its breach is.
    sla.sla_sweep(now=T0 + 90 * MINUTE)
    sla.sla_sweep(now=T0 + 2 * HOUR)
    sla.sla_sweep(now=T0 + 3 * HOUR)
    assert milestones(ticket) == [
        ("first_response", "breach", T0 + HOUR),
        ("resolution", "breach", T0 + 2 * HOUR),
    ]


def test_a_sweep_after_an_outage_records_the_breach_without_a_stale_warning(
    policy, withdrawal_request
):
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = withdrawal_request()
    sla.sla_sweep(now=T0 + 5 * HOUR)
    assert milestones(ticket) == [("first_response", "breach", T0 + HOUR)]


def test_a_deadline_moved_by_a_pause_is_not_warned_about_again(
    policy, withdrawal_request, agent_in_wallet, customer
):
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = withdrawal_request()
    sla.sla_sweep(now=T0 + 50 * MINUTE)
    ticket_change_status(
        ticket=ticket,
        actor=agent_in_wallet,
        to_status=Status.WAITING,
        expected_version=ticket.version,
        now=T0 + 52 * MINUTE,
    )
    assert sla.sla_sweep(now=T0 + 55 * MINUTE) == sla.SweepResult()  # paused
    ticket_reply(ticket=ticket, author=customer, body="Here is the TXID.", now=T0 + 62 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == T0 + 70 * MINUTE

    assert sla.sla_sweep(now=T0 + 63 * MINUTE) == sla.SweepResult()
    sla.sla_sweep(now=T0 + 70 * MINUTE)
    assert milestones(ticket) == [
        ("first_response", "warning", T0 + 60 * MINUTE),
        ("first_response", "breach", T0 + 70 * MINUTE),
    ]


def test_each_customer_message_awaiting_an_answer_gets_its_own_warning(
    policy, withdrawal_request, agent_in_wallet, customer
):
    policy("7x24", first_response_minutes=60, next_response_minutes=30, resolution_minutes=1000)
    ticket = withdrawal_request()
    ticket_reply(ticket=ticket, author=agent_in_wallet, body="Checking.", now=T0 + 10 * MINUTE)
    ticket_reply(ticket=ticket, author=customer, body="Any news?", now=T0 + 20 * MINUTE)
    sla.sla_sweep(now=T0 + 43 * MINUTE)
    ticket_reply(ticket=ticket, author=agent_in_wallet, body="Soon.", now=T0 + 45 * MINUTE)
    ticket_reply(ticket=ticket, author=customer, body="Still nothing.", now=T0 + 60 * MINUTE)
    sla.sla_sweep(now=T0 + 83 * MINUTE)
    sla.sla_sweep(now=T0 + 84 * MINUTE)
    sla.sla_sweep(now=T0 + 90 * MINUTE)
    assert milestones(ticket) == [
        ("next_response", "warning", T0 + 50 * MINUTE),
        ("next_response", "warning", T0 + 90 * MINUTE),
        ("next_response", "breach", T0 + 90 * MINUTE),
    ]


def test_requests_waiting_on_the_customer_are_left_alone(
    policy, withdrawal_request, agent_in_wallet
):
    policy("7x24", first_response_minutes=60, resolution_minutes=120)
    ticket = withdrawal_request()
    ticket_reply(ticket=ticket, author=agent_in_wallet, body="Need the TXID.", now=T0 + MINUTE)
    ticket_change_status(
        ticket=ticket,
        actor=agent_in_wallet,
        to_status=Status.WAITING,
        expected_version=ticket.version,
        now=T0 + 2 * MINUTE,
    )
    assert sla.sla_sweep(now=T0 + 10 * HOUR) == sla.SweepResult()


# Escalation -----------------------------------------------------------------------------


def test_a_breach_raises_the_priority_one_level_and_keeps_the_policy(policy, withdrawal_request):
    """The high-priority policy would be breached at once: it is not chosen."""
    policy("High", priority=Priority.HIGH, first_response_minutes=30)
    everything = policy("Everything", first_response_minutes=60, escalate_on_breach=True)
    ticket = withdrawal_request()
    assert (ticket.priority, ticket.sla_policy) == (Priority.NORMAL, everything)
    version = ticket.version

    result = sla.sla_sweep(now=T0 + HOUR)
    ticket.refresh_from_db()
    assert (result.breaches, result.escalations) == (1, 1)
    assert (ticket.priority, ticket.sla_policy) == (Priority.HIGH, everything)
    assert ticket.first_response_due_at == T0 + HOUR
    assert ticket.version == version + 1  # agents' pages learn of the new priority
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PRIORITY).values_list(
            "old_value", "new_value", "actor", "is_public"
        )
    ) == [(Priority.NORMAL, Priority.HIGH, None, False)]

    assert sla.sla_sweep(now=T0 + 2 * HOUR).escalations == 0
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH


def test_two_targets_breached_in_one_sweep_escalate_once_and_never_beyond_urgent(
    policy, withdrawal_request
):
    policy("All", first_response_minutes=60, resolution_minutes=60, escalate_on_breach=True)
    ticket = withdrawal_request()
    Ticket.objects.filter(pk=ticket.pk).update(priority=Priority.HIGH)
    assert sla.sla_sweep(now=T0 + HOUR).escalations == 1
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT

    urgent = withdrawal_request(at=T0 + HOUR)
    Ticket.objects.filter(pk=urgent.pk).update(priority=Priority.URGENT)
    result = sla.sla_sweep(now=T0 + 3 * HOUR)
    assert (result.breaches, result.escalations) == (2, 0)
    assert not TicketEvent.objects.filter(ticket=urgent, kind=EventKind.PRIORITY).exists()


def test_no_escalation_unless_the_policy_says_so(policy, withdrawal_request):
    policy("7x24", first_response_minutes=60)
    ticket = withdrawal_request()
    assert sla.sla_sweep(now=T0 + HOUR).escalations == 0
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL


# Batches, the task, concurrency ----------------------------------------------------------


def test_crossings_are_handled_in_batches(policy, open_request):
    policy("7x24", first_response_minutes=60)
    tickets = [open_request(now=T0 + n * MINUTE) for n in range(5)]
    result = sla.sla_sweep(now=T0 + 2 * HOUR, batch_size=2)
    assert result.breaches == 5
    assert all(milestones(ticket) for ticket in tickets)


def test_the_beat_task_sweeps_up_to_now(policy, open_request):
    policy("7x24", first_response_minutes=60)
    ticket = open_request(now=timezone.now() - 2 * HOUR)
    tasks.sla_sweep()
    assert [stage for _target, stage, _due in milestones(ticket)] == ["breach"]


def test_the_beat_schedule_runs_the_sweep_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["tickets-sla-sweep"]
    assert entry["task"] == tasks.sla_sweep.name == "tickets.sla_sweep"
    assert entry["schedule"] == settings.SLA_SWEEP_INTERVAL == 60.0


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_record_and_announce_each_crossing_once(
    policy, withdrawal_request, wallet_supervisor
):
    """Two sweeps at the same instant (a duplicate beat, or a slow one overtaken)."""
    policy("7x24", first_response_minutes=60)
    tickets = [withdrawal_request(at=T0 + n * MINUTE) for n in range(6)]
    start = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            start.wait(timeout=10)
            results.append(sla.sla_sweep(now=T0 + 2 * HOUR, batch_size=2))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(result.breaches for result in results) == 6
    assert sum(result.notifications for result in results) == 12
    for ticket in tickets:
        assert len(milestones(ticket)) == 1
        assert len(sla_events(ticket)) == 1
        assert len(sla_emails(ticket)) == 2


# A real beat and workers ------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beats_every_second_and_a_killed_worker_record_and_email_each_crossing_once(
    celery_children, smtp_server, policy, withdrawal_request, agent_in_wallet, wallet_supervisor
):
    """Two workers share the sweeps beat sends every second; one is killed and replaced.

    A request breached before the workers start, and one that reaches its
    warning point and then its deadline while they run: each crossing gets
    one milestone, one event and one email per recipient, and every email
    arrives. (An email whose worker is killed right after the SMTP server took
    it may arrive twice: the outbox's documented at-least-once window, tested
    with the outbox.)
    """
    policy("Fast", first_response_minutes=1)
    celery_children.extra_env["SLA_SWEEP_INTERVAL"] = "1"
    # A killed worker's emails are handed to another one within seconds.
    celery_children.extra_env.update(
        {
            "NOTIFICATION_DISPATCH_INTERVAL": "1",
            "NOTIFICATION_DISPATCH_GRACE_SECONDS": "2",
            "NOTIFICATION_LEASE_SECONDS": "3",
            "NOTIFICATION_RETRY_BASE_SECONDS": "1",
        }
    )
    celery_children.extra_env["TEST_EMAIL_URL"] = f"smtp://{smtp_server.host}:{smtp_server.port}"
    late = withdrawal_request(at=timezone.now() - HOUR)
    soon = withdrawal_request(at=timezone.now() - 30 * datetime.timedelta(seconds=1))
    celery_children.start_beat()
    celery_children.start_worker("worker-1")
    celery_children.start_worker("worker-2")

    wait_for(
        lambda: SlaMilestone.objects.filter(ticket=late).exists(),
        timeout=60,
        children=celery_children,
        what="the breach of the late request",
    )
    celery_children.kill("worker-1")
    celery_children.start_worker("worker-3")
    wait_for(
        lambda: SlaMilestone.objects.filter(ticket=soon, stage="breach").exists(),
        timeout=60,
        children=celery_children,
        what="the breach of the request that crossed while the workers ran",
    )
    # A few more beats after the last crossing.
    time.sleep(4)
    celery_children.check_alive()

    assert [stage for _t, stage, _d in milestones(late)] == ["breach"]
    assert [stage for _t, stage, _d in milestones(soon)] == ["warning", "breach"]
    assert len(sla_events(late)) == 1 and len(sla_events(soon)) == 2
    sla_notifications = Notification.objects.filter(
        ticket__in=[late, soon],
        kind__in=[NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH],
    )
    # (request, kind, recipient): each crossing's two recipients, once.
    assert sorted(sla_notifications.values_list("ticket", "kind", "recipient")) == sorted(
        (ticket.pk, kind, person.pk)
        for ticket, kinds in ((late, ["sla_breach"]), (soon, ["sla_warning", "sla_breach"]))
        for kind in kinds
        for person in (agent_in_wallet, wallet_supervisor)
    )
    wanted = set(sla_notifications.values_list("email_message_id", flat=True))

    def delivered():
        ids = {str(message["Message-ID"]).strip("<>").lower() for message in smtp_server.inbox}
        return wanted <= ids

    wait_for(delivered, timeout=60, children=celery_children, what="every SLA email")
