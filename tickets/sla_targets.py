"""What a customer is promised: when to expect the first answer.

The numbers come from the SLA policy that applies (tickets.sla, edited in the
admin); this module only turns them into a promise. The confirmation page,
the confirmation email and the API all read it from here, so the promise a
customer sees never disagrees with itself, nor with the deadline agents
work to.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import ngettext

from tickets import sla
from tickets.models import Ticket
from tickets.sla_calendar import add_working_time


@dataclass(frozen=True)
class ExpectedResponse:
    """The first-response promise for one request."""

    # The policy's target, e.g. 2 hours.
    duration: datetime.timedelta
    # When it runs out: the request's deadline (later than created + duration
    # when the target counts business hours only).
    due_at: datetime.datetime
    # Whether the target counts support's business hours rather than every hour.
    business_hours: bool


def expected_first_response(ticket: Ticket) -> ExpectedResponse | None:
    """The first response `ticket`'s customer can expect; None when no target applies.

    Reads the policy chosen when the request was opened, and its stored
    deadline; a request without them (older than SLA policies) is matched
    now. At most two queries.
    """
    policy = ticket.sla_policy if ticket.sla_policy_id is not None else sla.policy_for(ticket)
    if policy is None or policy.first_response_minutes is None:
        return None
    duration = datetime.timedelta(minutes=policy.first_response_minutes)
    due_at = ticket.first_response_due_at
    if due_at is None:
        due_at = add_working_time(
            sla.business_calendar(policy.calendar), ticket.created_at, duration
        )
    return ExpectedResponse(
        duration=duration, due_at=due_at, business_hours=policy.calendar_id is not None
    )


def first_response_target(priority: int) -> datetime.timedelta | None:
    """The first-response target of the policy for a bare `priority`; None if there is none.

    For a promise made before there is a request; with a request, use
    `expected_first_response`, which also honours policies by category and
    team. An unknown priority is read as normal.
    """
    policy = sla.policy_for_priority(priority)
    if policy is None or policy.first_response_minutes is None:
        return None
    return datetime.timedelta(minutes=policy.first_response_minutes)


def describe_duration(duration: datetime.timedelta) -> str:
    """`duration` in words in the active language ("30 minutes", "24 hours")."""
    minutes = int(duration.total_seconds() // 60)
    if minutes % 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
