"""Who sees which request: personas × kinds of request, predicate and queryset alike."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.tickets.factories import AttachmentFactory, TicketFactory
from tickets.lifecycle import ActorKind
from tickets.models import Message
from tickets.permissions import (
    actor_kind_for,
    can_view_attachment,
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


# Attachments -------------------------------------------------------------------------


@pytest.fixture
def files(requests, customer, agent_in_wallet):
    """One file per situation, on the wallet team's request (`customer` asked)."""
    ticket = requests["wallet_queue"]

    def posted(author, *, internal=False):
        message = Message.objects.create(ticket=ticket, author=author, is_internal=internal)
        return AttachmentFactory(message=message, uploaded_by=author)

    return {
        "unsent_by_customer": AttachmentFactory(uploaded_by=customer),
        "customer_reply": posted(customer),
        "agent_reply": posted(agent_in_wallet),
        "internal_note": posted(agent_in_wallet, internal=True),
    }


# persona -> files they may download
ATTACHMENT_MATRIX = {
    "customer": {"unsent_by_customer", "customer_reply", "agent_reply"},
    "other_customer": set(),
    "agent_in_wallet": {"customer_reply", "agent_reply", "internal_note"},
    "other_team_agent": set(),
    "supervisor": {"customer_reply", "agent_reply", "internal_note"},
}


@pytest.mark.parametrize(("persona", "allowed"), ATTACHMENT_MATRIX.items())
def test_attachments_follow_their_request_and_notes_stay_with_agents(
    request, files, persona, allowed
):
    user = request.getfixturevalue(persona)
    assert {name for name, file in files.items() if can_view_attachment(user, file)} == allowed


def test_a_requester_who_is_an_agent_never_gets_internal_files(agent_in_wallet):
    ticket = TicketFactory(requester=agent_in_wallet, team=None)
    note = Message.objects.create(ticket=ticket, author=None, is_internal=True)
    assert not can_view_attachment(agent_in_wallet, AttachmentFactory(message=note))


def test_nobody_signed_out_or_deactivated_downloads_anything(files, customer):
    assert not can_view_attachment(None, files["customer_reply"])
    assert not can_view_attachment(AnonymousUser(), files["customer_reply"])
    customer.is_active = False
    assert not can_view_attachment(customer, files["unsent_by_customer"])
