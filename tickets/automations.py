"""Time-driven housekeeping of requests, run by beat (`tickets.automations_run`).

- A request waiting on the customer for `TICKET_REMIND_AFTER_DAYS` gets one
  reminder email per waiting period.
- After `TICKET_AUTO_SOLVE_AFTER_DAYS` waiting it is solved by the system.
- A solved request is closed by the system `TICKET_AUTO_CLOSE_AFTER_DAYS`
  after it was solved.
- An email that opens a request outside the support hours
  (`SUPPORT_HOURS_CALENDAR`, the name of an SLA calendar) is answered once
  that day with the time support opens again.

Each step reads only the requests due for it through an index on
(status, status_changed_at), at most `TICKET_AUTOMATION_BATCH` per run; the
rest wait for the next run. Every change goes through `tickets.services`
with the version it read, so an agent acting at the same moment wins and the
automation skips that request; running twice does nothing twice (reminders
are unique per waiting period in the outbox, status moves are checked by the
state machine).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef

from tickets import notifications, services
from tickets.lifecycle import Status
from tickets.models import (
    EventKind,
    Notification,
    NotificationKind,
    SlaCalendar,
    Ticket,
    TicketEvent,
)
from tickets.sla import business_calendar
from tickets.sla_calendar import BusinessCalendar, add_working_time, working_time_between

logger = logging.getLogger(__name__)

_SECOND = datetime.timedelta(seconds=1)


@dataclass(frozen=True)
class AutomationReport:
    reminded: int = 0
    solved: int = 0
    closed: int = 0


def _days(name: str) -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, name))


def automations_run(*, now: datetime.datetime) -> AutomationReport:
    """Send due reminders, solve requests left waiting, close old solved ones."""
    return AutomationReport(
        reminded=remind_waiting(now=now),
        solved=solve_abandoned(now=now),
        closed=close_solved(now=now),
    )


def remind_waiting(*, now: datetime.datetime) -> int:
    """Email a reminder to customers whose request has waited on them long enough."""
    remind_before = now - _days("TICKET_REMIND_AFTER_DAYS")
    already_reminded = TicketEvent.objects.filter(
        ticket=OuterRef("pk"),
        kind=EventKind.REMINDER,
        created_at__gte=OuterRef("status_changed_at"),
    )
    due = (
        Ticket.objects.filter(status=Status.WAITING, status_changed_at__lte=remind_before)
        .exclude(status_changed_at__lte=now - _days("TICKET_AUTO_SOLVE_AFTER_DAYS"))
        .exclude(Exists(already_reminded))
        .select_related("requester")
        .order_by("status_changed_at", "pk")[: settings.TICKET_AUTOMATION_BATCH]
    )
    reminded = 0
    for ticket in due:
        if _remind(ticket, now=now):
            reminded += 1
    return reminded


@transaction.atomic
def _remind(ticket: Ticket, *, now: datetime.datetime) -> bool:
    queued = notifications.queue(
        NotificationKind.REMINDER,
        ticket=ticket,
        recipient=ticket.requester,
        dedupe_key=f"reminder:{ticket.pk}:{ticket.status_changed_at.isoformat()}",
    )
    if queued is None:
        return False
    TicketEvent.objects.create(
        ticket=ticket, kind=EventKind.REMINDER, is_public=True, created_at=now
    )
    return True


def solve_abandoned(*, now: datetime.datetime) -> int:
    """Solve, as the system, requests that waited on the customer past the limit."""
    return _move_due(
        Ticket.objects.filter(
            status=Status.WAITING,
            status_changed_at__lte=now - _days("TICKET_AUTO_SOLVE_AFTER_DAYS"),
        ),
        Status.SOLVED,
        now=now,
    )


def close_solved(*, now: datetime.datetime) -> int:
    """Close, as the system, requests solved longer ago than the limit."""
    return _move_due(
        Ticket.objects.filter(
            status=Status.SOLVED,
            status_changed_at__lte=now - _days("TICKET_AUTO_CLOSE_AFTER_DAYS"),
        ),
        Status.CLOSED,
        now=now,
    )


def _move_due(due, to_status: str, *, now: datetime.datetime) -> int:
    moved = 0
    for ticket in due.order_by("status_changed_at", "pk")[: settings.TICKET_AUTOMATION_BATCH]:
        try:
            services.ticket_change_status(
                ticket=ticket,
                actor=None,
                to_status=to_status,
                expected_version=ticket.version,
                now=now,
            )
        except ValidationError as exc:
            # Changed since it was read (an agent or the customer acted): their move stands.
            logger.info("automation skipped %s: %s", ticket.reference, exc.messages)
            continue
        moved += 1
    return moved


# Support hours -------------------------------------------------------------------------


def support_hours() -> BusinessCalendar | None:
    """The calendar of the hours support answers email, or None for round the clock."""
    name = settings.SUPPORT_HOURS_CALENDAR
    if not name:
        return None
    calendar = SlaCalendar.objects.filter(name=name).first()
    if calendar is None:
        logger.warning("SUPPORT_HOURS_CALENDAR names no calendar: %r", name)
        return None
    return business_calendar(calendar)


def next_opening(calendar: BusinessCalendar, now: datetime.datetime) -> datetime.datetime | None:
    """When support opens next, or None if it is open at `now`."""
    if working_time_between(calendar, now, now + _SECOND):
        return None
    # The first working second after `now` starts at the opening.
    return add_working_time(calendar, now, _SECOND) - _SECOND


def reply_out_of_hours(ticket: Ticket, *, now: datetime.datetime) -> Notification | None:
    """Tell the requester of a request that came by email when support opens again.

    Call inside the transaction that recorded the email. Once per request and
    day at most; nothing when support is open or hours are not configured.
    """
    calendar = support_hours()
    if calendar is None:
        return None
    opens_at = next_opening(calendar, now)
    if opens_at is None:
        return None
    return notifications.queue(
        NotificationKind.OUT_OF_HOURS,
        ticket=ticket,
        recipient=ticket.requester,
        context={"opens_at": opens_at.isoformat()},
        dedupe_key=f"ooh:{ticket.pk}:{now.date().isoformat()}",
    )
