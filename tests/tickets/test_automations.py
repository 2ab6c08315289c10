"""Reminders, auto-solve, auto-close and the out-of-hours reply (tickets.automations)."""

from __future__ import annotations

import datetime

import pytest

from tickets import automations, services
from tickets.lifecycle import Status
from tickets.models import (
    EventKind,
    Notification,
    NotificationKind,
    SlaCalendar,
    SlaHoliday,
    Ticket,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday


@pytest.fixture
def waiting_request(open_request, agent):
    """A request an agent answered and put to "waiting on customer" at START."""

    def _make(at=START):
        ticket = open_request()
        services.ticket_reply(ticket=ticket, author=agent, body="Please send the TXID.", now=at)
        ticket.refresh_from_db()
        services.ticket_change_status(
            ticket=ticket,
            actor=agent,
            to_status=Status.WAITING,
            expected_version=ticket.version,
            now=at,
        )
        ticket.refresh_from_db()
        return ticket

    return _make


def reminders(ticket: Ticket) -> list[Notification]:
    return list(ticket.notifications.filter(kind=NotificationKind.REMINDER))


def test_no_reminder_before_three_days(waiting_request):
    ticket = waiting_request()

    report = automations.automations_run(now=START + 3 * DAY - datetime.timedelta(minutes=1))

    assert report.reminded == 0
    assert reminders(ticket) == []


def test_one_reminder_per_waiting_period(waiting_request, customer):
    ticket = waiting_request()

    first = automations.automations_run(now=START + 3 * DAY)
    again = automations.automations_run(now=START + 4 * DAY)

    assert (first.reminded, again.reminded) == (1, 0)
    [reminder] = reminders(ticket)
    assert reminder.recipient == customer
    assert ticket.events.filter(kind=EventKind.REMINDER, is_public=True).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING


def test_a_new_waiting_period_gets_its_own_reminder(waiting_request, customer, agent):
    ticket = waiting_request()
    automations.automations_run(now=START + 3 * DAY)
    # The customer answers, the agent asks again: a second waiting period.
    later = START + 3 * DAY + datetime.timedelta(hours=1)
    services.ticket_reply(ticket=ticket, author=customer, body="Here it is.", now=later)
    ticket.refresh_from_db()
    services.ticket_change_status(
        ticket=ticket,
        actor=agent,
        to_status=Status.WAITING,
        expected_version=ticket.version,
        now=later,
    )

    report = automations.automations_run(now=later + 3 * DAY)

    assert report.reminded == 1
    assert len(reminders(ticket)) == 2


def test_solved_by_the_system_after_seven_days_waiting(waiting_request):
    ticket = waiting_request()

    report = automations.automations_run(now=START + 7 * DAY)

    ticket.refresh_from_db()
    assert report.solved == 1
    assert ticket.status == Status.SOLVED
    event = ticket.events.filter(kind=EventKind.STATUS).last()
    assert (event.actor, event.old_value, event.new_value) == (None, "waiting", "solved")
    # Solved instead: no reminder at the same time.
    assert reminders(ticket) == []


def test_closed_seven_days_after_solved(waiting_request):
    ticket = waiting_request()
    automations.automations_run(now=START + 7 * DAY)

    too_early = automations.automations_run(now=START + 14 * DAY - datetime.timedelta(seconds=1))
    report = automations.automations_run(now=START + 14 * DAY)

    ticket.refresh_from_db()
    assert (too_early.closed, report.closed) == (0, 1)
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at == START + 14 * DAY


def test_a_customer_reply_in_time_stops_the_automation(waiting_request, customer):
    ticket = waiting_request()
    services.ticket_reply(ticket=ticket, author=customer, body="Found it.", now=START + 6 * DAY)

    report = automations.automations_run(now=START + 8 * DAY)

    ticket.refresh_from_db()
    assert report == automations.AutomationReport()
    assert ticket.status == Status.OPEN


def test_batch_limit_leaves_the_rest_for_the_next_run(waiting_request, settings):
    settings.TICKET_AUTOMATION_BATCH = 2
    tickets = [waiting_request(at=START + n * datetime.timedelta(minutes=1)) for n in range(3)]

    first = automations.automations_run(now=START + 8 * DAY)
    second = automations.automations_run(now=START + 8 * DAY)

    assert (first.solved, second.solved) == (2, 1)
    assert {Ticket.objects.get(pk=t.pk).status for t in tickets} == {Status.SOLVED}


def test_limits_are_configurable(waiting_request, settings):
    settings.TICKET_REMIND_AFTER_DAYS = 1
    settings.TICKET_AUTO_SOLVE_AFTER_DAYS = 2
    ticket = waiting_request()

    assert automations.automations_run(now=START + DAY).reminded == 1
    assert automations.automations_run(now=START + 2 * DAY).solved == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


# Support hours --------------------------------------------------------------------------


@pytest.fixture
def office_hours(settings):
    """Weekdays 09:00-18:00 in Tokyo, with 2026-03-04 a holiday."""
    calendar = SlaCalendar.objects.create(
        name="Tokyo office",
        time_zone="Asia/Tokyo",
        weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    SlaHoliday.objects.create(calendar=calendar, date=datetime.date(2026, 3, 4), name="Holiday")
    settings.SUPPORT_HOURS_CALENDAR = "Tokyo office"
    return calendar


def tokyo(*args) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    return datetime.datetime(*args, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_no_out_of_hours_reply_without_configured_hours(open_request):
    ticket = open_request()

    assert automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 7, 3, 0)) is None


def test_no_out_of_hours_reply_during_hours(open_request, office_hours):
    ticket = open_request()

    assert automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 2, 10, 0)) is None


def test_out_of_hours_reply_names_the_next_opening(open_request, office_hours, customer):
    ticket = open_request()

    # Tuesday night: Wednesday is a holiday, so support opens Thursday 09:00 Tokyo.
    notification = automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 3, 22, 0))

    assert notification.kind == NotificationKind.OUT_OF_HOURS
    assert notification.recipient == customer
    opens_at = datetime.datetime.fromisoformat(notification.context["opens_at"])
    assert opens_at == tokyo(2026, 3, 5, 9, 0)


def test_out_of_hours_reply_at_most_once_a_day(open_request, office_hours):
    ticket = open_request()

    first = automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 7, 10, 0))
    second = automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 7, 11, 0))

    assert first is not None
    assert second is None
    assert ticket.notifications.filter(kind=NotificationKind.OUT_OF_HOURS).count() == 1


def test_unknown_hours_calendar_means_round_the_clock(open_request, settings):
    settings.SUPPORT_HOURS_CALENDAR = "No such calendar"
    ticket = open_request()

    assert automations.reply_out_of_hours(ticket, now=tokyo(2026, 3, 7, 3, 0)) is None
