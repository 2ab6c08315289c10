import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from tests.tickets.factories import (
    TicketCategoryFactory,
    TicketFactory,
    team_agent,
)
from tickets import services
from tickets.models import Status, TeamMembership
from tickets.routing import choose_route, route_ticket


@pytest.fixture
def category(wallet_team):
    return TicketCategoryFactory(team=wallet_team)


def busy(agent, count, status=Status.OPEN):
    for _ in range(count):
        TicketFactory(assignee=agent, status=status)


def create(customer, category, language="en"):
    return services.ticket_create(
        requester=customer,
        category=category,
        subject="Help",
        description="Please.",
        fields={},
        language=language,
    )


def test_only_agents_speaking_the_language_are_candidates(customer, category, wallet_team):
    team_agent(wallet_team, languages=["ja"])
    speaker = team_agent(wallet_team, languages=["ko", "zh-hans"])
    ticket = create(customer, category, language="zh-hans")
    assert ticket.assignee == speaker


def test_the_least_busy_agent_wins(customer, category, wallet_team):
    busier, calmer = team_agent(wallet_team), team_agent(wallet_team)
    busy(busier, 3)
    busy(calmer, 2)
    busy(calmer, 5, status=Status.SOLVED)  # solved work does not count
    assert create(customer, category).assignee == calmer


def test_ties_go_round_robin_never_assigned_first(customer, category, wallet_team):
    first, second, third = (team_agent(wallet_team) for _ in range(3))
    now = timezone.now()
    TeamMembership.objects.filter(user=first).update(last_assigned_at=now)
    TeamMembership.objects.filter(user=second).update(
        last_assigned_at=now - datetime.timedelta(hours=1)
    )
    assert create(customer, category).assignee == third
    # third now has one open request; first and second are tied at zero.
    assert create(customer, category).assignee == second
    assert create(customer, category).assignee == first


def test_equal_load_rotates_through_the_team(customer, category, wallet_team):
    agents = [team_agent(wallet_team) for _ in range(3)]
    assignees = [create(customer, category).assignee for _ in range(6)]
    assert sorted(a.pk for a in assignees) == sorted([a.pk for a in agents] * 2)
    assert assignees[:3] == assignees[3:]


def test_supervisors_inactive_users_and_outsiders_are_not_auto_assigned(
    customer, category, wallet_team, trading_team
):
    team_agent(wallet_team, role=Role.SUPERVISOR)
    inactive = team_agent(wallet_team)
    inactive.is_active = False
    inactive.save()
    team_agent(trading_team)
    ticket = create(customer, category)
    assert (ticket.team, ticket.assignee) == (wallet_team, None)


def test_a_category_without_team_leaves_the_request_in_triage(customer, agent):
    ticket = create(customer, TicketCategoryFactory(team=None))
    assert (ticket.team, ticket.assignee) == (None, None)


def test_routing_updates_the_round_robin_clock(customer, category, wallet_team):
    chosen = team_agent(wallet_team)
    create(customer, category)
    assert TeamMembership.objects.get(user=chosen).last_assigned_at is not None


def test_choosing_costs_one_query_whatever_the_team_size(
    category, wallet_team, django_assert_num_queries
):
    for _ in range(2):
        team_agent(wallet_team)
    with django_assert_num_queries(1):
        choose_route(category=category, language="en")
    for _ in range(6):
        busy(team_agent(wallet_team), 1)
    with django_assert_num_queries(1):
        route = choose_route(category=category, language="en")
    assert route.assignee is not None


def test_rerouting_a_saved_request_records_internal_events(customer, wallet_team):
    ticket = create(customer, TicketCategoryFactory(team=None))
    ticket.category.team = wallet_team
    ticket.category.save()
    speaker = team_agent(wallet_team)
    route_ticket(ticket)
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee, ticket.version) == (wallet_team, speaker, 2)
    assert set(ticket.events.filter(is_public=False).values_list("kind", flat=True)) == {
        "team",
        "assignee",
    }
