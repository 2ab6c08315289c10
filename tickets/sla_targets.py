"""How soon a customer can expect the first answer, by priority.

This is the shipped default until SLA policies land (per-team or per-plan
targets with deadline columns and a sweeper, see docs/architecture.md). It
is the only place that knows the numbers: the confirmation page and the
confirmation email both read them from here, so the promise a customer sees
never disagrees with itself.
"""

from __future__ import annotations

import datetime

from django.utils.translation import ngettext

from tickets.models import Priority

_FIRST_RESPONSE_TARGETS: dict[int, datetime.timedelta] = {
    Priority.URGENT: datetime.timedelta(minutes=30),
    Priority.HIGH: datetime.timedelta(hours=2),
    Priority.NORMAL: datetime.timedelta(hours=24),
    Priority.LOW: datetime.timedelta(hours=72),
}


def first_response_target(priority: int) -> datetime.timedelta:
    """The time within which support aims to send its first reply at `priority`.

    An unknown priority gets the normal target rather than an error: the
    promise is shown to customers and must not break a page.
    """
    return _FIRST_RESPONSE_TARGETS.get(priority, _FIRST_RESPONSE_TARGETS[Priority.NORMAL])


def describe_duration(duration: datetime.timedelta) -> str:
    """`duration` in words in the active language ("30 minutes", "24 hours")."""
    minutes = int(duration.total_seconds() // 60)
    if minutes % 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
