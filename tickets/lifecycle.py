"""The request status machine: the one place that knows which moves are legal.

`TRANSITIONS` maps every legal (from, to) pair to the kinds of actor that may
make it. Pages and the API read it (through `allowed_transitions`) to offer
only legal next states; `tickets.services` enforces it with `check_transition`
before every status write. Pure: no database access.

    from      to        who
    new       open      agent, system
    new       waiting   agent
    new       solved    customer, agent
    open      waiting   agent
    open      solved    customer, agent
    waiting   open      customer, agent, system
    waiting   solved    customer, agent, system
    solved    open      customer (within the reopen window), agent   -- a reopen
    solved    closed    agent, system
    new       closed    system, only through a merge
    open      closed    system, only through a merge
    waiting   closed    system, only through a merge
    closed    -         nobody: closed is final (later customer replies open a follow-up)
"""

from __future__ import annotations

import datetime
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


class Status(models.TextChoices):
    NEW = "new", gettext_lazy("New")
    OPEN = "open", gettext_lazy("Open")
    WAITING = "waiting", gettext_lazy("Waiting on customer")
    SOLVED = "solved", gettext_lazy("Solved")
    CLOSED = "closed", gettext_lazy("Closed")


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", gettext_lazy("Customer")
    AGENT = "agent", gettext_lazy("Agent")
    SYSTEM = "system", gettext_lazy("System")


# Requests somebody still has to act on: the inbox and routing workload count these.
ACTIVE_STATUSES: frozenset[str] = frozenset({Status.NEW, Status.OPEN, Status.WAITING})

_C, _A, _S = ActorKind.CUSTOMER, ActorKind.AGENT, ActorKind.SYSTEM

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.NEW, Status.OPEN): frozenset({_A, _S}),
    (Status.NEW, Status.WAITING): frozenset({_A}),
    (Status.NEW, Status.SOLVED): frozenset({_C, _A}),
    (Status.OPEN, Status.WAITING): frozenset({_A}),
    (Status.OPEN, Status.SOLVED): frozenset({_C, _A}),
    (Status.WAITING, Status.OPEN): frozenset({_C, _A, _S}),
    # System: a future sweeper may solve requests left waiting on the customer.
    (Status.WAITING, Status.SOLVED): frozenset({_C, _A, _S}),
    (Status.SOLVED, Status.OPEN): frozenset({_C, _A}),
    (Status.SOLVED, Status.CLOSED): frozenset({_A, _S}),
    (Status.NEW, Status.CLOSED): frozenset({_S}),
    (Status.OPEN, Status.CLOSED): frozenset({_S}),
    (Status.WAITING, Status.CLOSED): frozenset({_S}),
}

# Closing an unsolved request hides it from every queue: only a merge, which
# moves its conversation elsewhere, may do that.
MERGE_ONLY: frozenset[tuple[str, str]] = frozenset(
    {(Status.NEW, Status.CLOSED), (Status.OPEN, Status.CLOSED), (Status.WAITING, Status.CLOSED)}
)


class TicketState(Protocol):
    """What the state machine reads from a ticket."""

    status: str
    solved_at: datetime.datetime | None


class TransitionError(ValidationError):
    """A status change the table does not allow for this actor.

    The API answers it with 400 and the code "invalid_transition".
    """


def reopen_window() -> datetime.timedelta:
    """How long after `solved_at` a customer may still reopen a request."""
    return datetime.timedelta(days=settings.TICKET_REOPEN_WINDOW_DAYS)


def within_reopen_window(ticket: TicketState, now: datetime.datetime) -> bool:
    """Whether `now` is at most `reopen_window()` after the request was solved (inclusive)."""
    return ticket.solved_at is not None and now <= ticket.solved_at + reopen_window()


def check_transition(
    ticket: TicketState,
    to_status: str,
    actor_kind: str,
    now: datetime.datetime | None = None,
    *,
    via_merge: bool = False,
) -> None:
    """Raise `TransitionError` unless `actor_kind` may move `ticket` to `to_status` at `now`."""
    now = now or timezone.now()
    from_status = ticket.status
    labels = {"from": Status(from_status).label, "to": Status(to_status).label}
    if from_status == Status.CLOSED:
        raise TransitionError(_("A closed request cannot be changed."), code="closed")
    if from_status == to_status:
        raise TransitionError(_("The request is already “%(to)s”.") % labels, code="unchanged")
    allowed = TRANSITIONS.get((from_status, to_status))
    if allowed is None:
        raise TransitionError(
            _("A request cannot go from “%(from)s” to “%(to)s”.") % labels, code="invalid"
        )
    if (from_status, to_status) in MERGE_ONLY and not via_merge:
        raise TransitionError(
            _("A request that is not solved can only be closed by merging it into another."),
            code="merge_only",
        )
    if actor_kind not in allowed:
        raise TransitionError(
            _("You cannot move this request from “%(from)s” to “%(to)s”.") % labels,
            code="not_allowed",
        )
    if (
        from_status == Status.SOLVED
        and to_status == Status.OPEN
        and actor_kind == ActorKind.CUSTOMER
        and not within_reopen_window(ticket, now)
    ):
        days = settings.TICKET_REOPEN_WINDOW_DAYS
        raise TransitionError(
            ngettext(
                "This request was solved more than %(days)d day ago and cannot be reopened; "
                "please submit a new request.",
                "This request was solved more than %(days)d days ago and cannot be reopened; "
                "please submit a new request.",
                days,
            )
            % {"days": days},
            code="reopen_window",
        )


def can_transition(
    ticket: TicketState,
    to_status: str,
    actor_kind: str,
    now: datetime.datetime | None = None,
    *,
    via_merge: bool = False,
) -> bool:
    """`check_transition` as a predicate."""
    try:
        check_transition(ticket, to_status, actor_kind, now, via_merge=via_merge)
    except TransitionError:
        return False
    return True


def allowed_transitions(
    ticket: TicketState, actor_kind: str, now: datetime.datetime | None = None
) -> list[str]:
    """The statuses `actor_kind` may move `ticket` to now, in the order of `Status` (no merges)."""
    return [status for status in Status.values if can_transition(ticket, status, actor_kind, now)]
