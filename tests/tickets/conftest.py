"""Request fixtures: two teams, a withdrawal-like category, and an agent of each team."""

import pytest

from accounts.roles import Role
from tests.tickets.factories import (
    TRC20_ADDRESS,
    TRON_TXID,
    TeamFactory,
    TicketCategoryFactory,
    team_agent,
    transfer_category,
)
from tickets import services
from tickets.models import SlaPolicy, TeamMembership


@pytest.fixture
def wallet_team(db):
    """The deposits & withdrawals team; Wang Fang (`agent`) works in it."""
    return TeamFactory(slug="test-wallet", name_en="Wallet")


@pytest.fixture
def trading_team(db):
    return TeamFactory(slug="test-trading", name_en="Trading")


@pytest.fixture
def agent_in_wallet(agent, wallet_team):
    """`agent`, answering Chinese and English in the wallet team."""
    from accounts import services as account_services

    account_services.agent_profile_update(profile=agent.agent_profile, languages=["zh-hans", "en"])
    TeamMembership.objects.create(team=wallet_team, user=agent)
    return agent


@pytest.fixture
def other_team_agent(trading_team):
    """Kim Minji: an agent of the trading team; must not see the wallet team's requests."""
    return team_agent(
        trading_team,
        languages=["ko", "en"],
        email="kim.minji@example.com",
        display_name="김민지",
        role=Role.AGENT,
    )


@pytest.fixture
def withdrawal(wallet_team):
    """A withdrawal category routed to the wallet team (txid required)."""
    return transfer_category(slug="test-withdrawal", name_en="Withdrawal", team=wallet_team)


@pytest.fixture
def general(db):
    """A category without fields or team: its requests sit in the shared triage queue."""
    return TicketCategoryFactory(slug="test-general", name_en="General")


@pytest.fixture
def withdrawal_values():
    return {
        "coin": "usdt",
        "network": "TRC20",
        "amount": "100.50",
        "address": TRC20_ADDRESS,
        "txid": TRON_TXID,
    }


@pytest.fixture
def open_request(customer, general):
    """A request from `customer` in the triage queue, created through the service."""

    def _open(category=None, subject="Withdrawal not received", fields=None, **kwargs):
        kwargs.setdefault("language", "zh-hans")
        return services.ticket_create(
            requester=kwargs.pop("requester", customer),
            category=category or general,
            subject=subject,
            description=kwargs.pop("description", "I sent it yesterday and it is still missing."),
            fields=fields or {},
            **kwargs,
        )

    return _open


@pytest.fixture
def policy(db):
    """Make SLA policies; only the ones a test makes apply (the shipped ones are removed,
    tests/tickets/test_sla.py checks them on their own)."""
    SlaPolicy.objects.all().delete()

    def make(name="Policy", **fields):
        fields.setdefault("position", (SlaPolicy.objects.count() + 1) * 10)
        return SlaPolicy.objects.create(name=name, **fields)

    return make
