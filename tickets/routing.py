"""Which team and agent a new request goes to.

The category names the team. Within it, candidates are active members in the
agent role (supervisors are not auto-assigned) whose agent profile lists the
request's language. The one with the fewest active (new/open/waiting)
requests assigned wins; ties go round-robin to the membership assigned
longest ago (never assigned first). With no candidate the request waits,
unassigned, in the team's queue. Presence is ignored: requests are answered
asynchronously, unlike chats.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from tickets.lifecycle import ACTIVE_STATUSES
from tickets.models import Team, TeamMembership, Ticket, TicketCategory, TicketEvent


@dataclass(frozen=True)
class Route:
    team: Team | None
    assignee: User | None
    membership_id: int | None = None


def _open_assigned_count() -> Subquery:
    return Subquery(
        Ticket.objects.filter(assignee=OuterRef("user_id"), status__in=ACTIVE_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(count=Count("pk"))
        .values("count")[:1],
        output_field=IntegerField(),
    )


def choose_route(*, category: TicketCategory, language: str) -> Route:
    """Pick the team and agent for a request; one query. Writes nothing."""
    team = category.team
    if team is None:
        return Route(team=None, assignee=None)
    in_agent_role = User.groups.through.objects.filter(
        user_id=OuterRef("user_id"), group__name=Role.AGENT.group_name
    )
    memberships = (
        TeamMembership.objects.filter(team=team, user__is_active=True)
        .filter(Exists(in_agent_role))
        .select_related("user__agent_profile")
        .annotate(open_count=Coalesce(_open_assigned_count(), Value(0)))
        .order_by("open_count", F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    # Languages are a JSON list, which SQLite cannot search inside; teams are
    # small, so the filter runs over the already ordered rows.
    for membership in memberships:
        profile = getattr(membership.user, "agent_profile", None)
        if profile is not None and language in (profile.languages or []):
            return Route(team=team, assignee=membership.user, membership_id=membership.pk)
    return Route(team=team, assignee=None)


def record_assignment(route: Route, *, now=None) -> None:
    """Move the chosen membership to the back of the round-robin."""
    if route.membership_id is not None:
        TeamMembership.objects.filter(pk=route.membership_id).update(
            last_assigned_at=now or timezone.now()
        )


def assignee_snapshot(user: User | None) -> dict | None:
    """How an assignee is recorded in an event: public UID and name at the time."""
    if user is None:
        return None
    return {"uid": user.uid, "name": str(user)}


# No savepoint: nothing here is worth recovering from on its own, and a new
# request is routed inside the transaction that creates it.
@transaction.atomic(savepoint=False)
def route_ticket(ticket: Ticket) -> None:
    """Set `ticket`'s team and assignee from its category and language.

    On an unsaved request (as `ticket_create` uses it) only the instance
    changes; the caller saves it. On a saved one the change is written with
    team/assignee events (not public) and bumps `version` like every write.
    """
    route = choose_route(category=ticket.category, language=ticket.language)
    now = timezone.now()
    if ticket.pk is None:
        ticket.team, ticket.assignee = route.team, route.assignee
        record_assignment(route, now=now)
        return
    events = []
    if route.team != ticket.team:
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=TicketEvent.Kind.TEAM,
                old_value=ticket.team.slug if ticket.team else None,
                new_value=route.team.slug if route.team else None,
                created_at=now,
            )
        )
    if route.assignee != ticket.assignee:
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=TicketEvent.Kind.ASSIGNEE,
                old_value=assignee_snapshot(ticket.assignee),
                new_value=assignee_snapshot(route.assignee),
                created_at=now,
            )
        )
    if not events:
        return
    Ticket.objects.filter(pk=ticket.pk).update(
        team=route.team, assignee=route.assignee, updated_at=now, version=F("version") + 1
    )
    TicketEvent.objects.bulk_create(events)
    if route.assignee != ticket.assignee:
        record_assignment(route, now=now)
    ticket.team, ticket.assignee, ticket.updated_at = route.team, route.assignee, now
    ticket.version += 1
