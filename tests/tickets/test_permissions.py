"""Who sees which request: personas × kinds of request, predicate and queryset alike."""

import pytest

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.tickets.factories import TicketFactory
from tickets.lifecycle import ActorKind
from tickets.permissions import (
    actor_kind_for,
    can_view_ticket,
    can_work_on_ticket,
    tickets_visible_to,
)


@pytest.fixture
def requests(customer, wallet_team, trading_team, agent_in_wallet, withdrawal):
    return {
        "wallet_queue": TicketFactory(requester=customer, category=withdrawal, team=wallet_team),
        "trading_queue": TicketFactory(requester=customer, team=trading_team),
        "triage": TicketFactory(requester=customer, team=None),
        "trading_but_assigned_to_agent": TicketFactory(
            requester=customer, team=trading_team, assignee=agent_in_wallet
        ),
    }


ALL = {"wallet_queue", "trading_queue", "triage", "trading_but_assigned_to_agent"}

# persona -> requests they may open (all of them belong to `customer`)
MATRIX = {
    "customer": ALL,
    "other_customer": set(),
    "agent_in_wallet": {"wallet_queue", "triage", "trading_but_assigned_to_agent"},
    "other_team_agent": {"trading_queue", "triage", "trading_but_assigned_to_agent"},
    "teamless_agent": {"triage"},
    "supervisor": ALL,
    "portal_admin": ALL,
}


@pytest.fixture
def teamless_agent(db):
    return UserFactory(role=Role.AGENT)


@pytest.mark.parametrize(("persona", "visible"), MATRIX.items())
def test_visibility_matrix(request, requests, persona, visible):
    user = request.getfixturevalue(persona)
    assert {name for name, t in requests.items() if can_view_ticket(user, t)} == visible
    queryset = set(tickets_visible_to(user))
    assert {name for name, t in requests.items() if t in queryset} == visible


@pytest.mark.parametrize(
    ("persona", "workable"),
    [
        ("customer", set()),
        ("agent_in_wallet", {"wallet_queue", "triage", "trading_but_assigned_to_agent"}),
        ("other_team_agent", {"trading_queue", "triage", "trading_but_assigned_to_agent"}),
        ("supervisor", ALL),
    ],
)
def test_working_on_requests_follows_visibility_for_agents(request, requests, persona, workable):
    user = request.getfixturevalue(persona)
    assert {name for name, t in requests.items() if can_work_on_ticket(user, t)} == workable


def test_deactivated_users_see_nothing(requests, customer):
    customer.is_active = False
    assert not can_view_ticket(customer, requests["triage"])
    assert not tickets_visible_to(customer).exists()


def test_the_requester_acts_as_a_customer_even_when_an_agent(requests, agent_in_wallet):
    own = TicketFactory(requester=agent_in_wallet, team=None)
    assert actor_kind_for(agent_in_wallet, own) == ActorKind.CUSTOMER
    assert actor_kind_for(agent_in_wallet, requests["triage"]) == ActorKind.AGENT
    assert actor_kind_for(None, own) == ActorKind.SYSTEM
