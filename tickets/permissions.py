"""Who may see and work on which request: a predicate and a queryset per rule.

- A customer sees the requests they submitted, and nothing else.
- An agent (`tickets.work_tickets`) sees, and may work on, requests assigned
  to them, requests in the queue of a team they belong to, and requests with
  no team yet (the shared triage queue). A request in another team's queue
  stays invisible to them, even when unassigned.
- Supervisors and admins (`tickets.supervise_tickets`) see every request.
- Everyone also sees requests they submitted themselves.

"Not visible" is answered with 404 by the selectors, so a reference that
exists and one that does not look the same.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from accounts.models import User
from tickets.lifecycle import ActorKind
from tickets.models import Attachment, TeamMembership, Ticket

WORK_PERMISSION = "tickets.work_tickets"
SUPERVISE_PERMISSION = "tickets.supervise_tickets"


def is_agent(user: User | None) -> bool:
    """Whether `user` may work in the agent inbox at all."""
    return bool(user and user.is_active and user.has_perm(WORK_PERMISSION))


def is_ticket_supervisor(user: User | None) -> bool:
    return bool(user and user.is_active and user.has_perm(SUPERVISE_PERMISSION))


def agent_queues_q(user: User) -> Q:
    """The queues an agent works: no team yet (triage) or one of their teams.

    Half of the agent rule; the other half is "assigned to them". A list that
    keeps only unassigned requests needs only this half, and is then spared an
    OR across two columns that no single index serves.
    """
    return Q(team__isnull=True) | Q(
        team__in=TeamMembership.objects.filter(user=user).values("team")
    )


def agent_scope_q(user: User) -> Q:
    """The agent rule as a filter: assigned to `user`, or in one of their queues.

    For agents only; supervisors see everything and need no filter.
    """
    return Q(assignee=user) | agent_queues_q(user)


def tickets_workable_by(user: User) -> QuerySet[Ticket]:
    """Requests `user` may work on as an agent (none for customers)."""
    if is_ticket_supervisor(user):
        return Ticket.objects.all()
    if is_agent(user):
        return Ticket.objects.filter(agent_scope_q(user))
    return Ticket.objects.none()


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Every request `user` may open: their own, plus their agent scope."""
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    if is_ticket_supervisor(user):
        return Ticket.objects.all()
    if is_agent(user):
        return Ticket.objects.filter(agent_scope_q(user) | Q(requester=user))
    return Ticket.objects.filter(requester=user)


def can_work_on_ticket(user: User | None, ticket: Ticket) -> bool:
    """Whether `user` may act on `ticket` as an agent (reply, note, assign, change)."""
    if is_ticket_supervisor(user):
        return True
    if not is_agent(user):
        return False
    if ticket.assignee_id == user.pk or ticket.team_id is None:
        return True
    return TeamMembership.objects.filter(user=user, team_id=ticket.team_id).exists()


def can_view_ticket(user: User | None, ticket: Ticket) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return ticket.requester_id == user.pk or can_work_on_ticket(user, ticket)


def can_view_attachment(user: User | None, attachment: Attachment) -> bool:
    """The rule of the request it belongs to; an upload not sent yet only for its uploader.

    Internal notes are for agents: their files never reach the requester, even
    a requester who is also an agent. Reads `attachment.message.ticket`: fetch
    the attachment with `select_related("message__ticket")`.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    message = attachment.message
    if message is None:
        return attachment.uploaded_by_id == user.pk
    ticket = message.ticket
    if message.is_internal:
        return ticket.requester_id != user.pk and can_work_on_ticket(user, ticket)
    return can_view_ticket(user, ticket)


def actor_kind_for(user: User | None, ticket: Ticket) -> str:
    """How the status machine sees `user` acting on `ticket`; PermissionDenied if not at all.

    The requester acts as a customer on their own request even when they are
    also an agent, so an agent cannot skip the customer rules on a request
    they filed themselves.
    """
    if user is None:
        return ActorKind.SYSTEM
    if user.is_active and ticket.requester_id == user.pk:
        return ActorKind.CUSTOMER
    if can_work_on_ticket(user, ticket):
        return ActorKind.AGENT
    raise PermissionDenied


def ensure_can_work_on(user: User | None, ticket: Ticket) -> None:
    if not can_work_on_ticket(user, ticket):
        raise PermissionDenied


def ensure_is_requester(user: User | None, ticket: Ticket) -> None:
    if user is None or not user.is_active or ticket.requester_id != user.pk:
        raise PermissionDenied
