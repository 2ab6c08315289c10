"""Factories for requests. `TicketFactory` saves rows directly (fast, for inbox volume);
tests of behaviour create requests through `tickets.services.ticket_create`."""

import factory
from django.core.files.base import ContentFile

from accounts import services as account_services
from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tickets.models import (
    Attachment,
    FieldType,
    Macro,
    Team,
    TeamMembership,
    Ticket,
    TicketCategory,
    TicketField,
)

# A TRC20 USDT withdrawal that tickets.networks accepts.
TRC20_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
TRON_TXID = "0f89c6365796afa96ae05fab57207a4d8c5cc801b92ac2099c7dd9dcd5a91df0"
ETH_TXID = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    slug = factory.Sequence(lambda n: f"team-{n}")
    name_en = factory.Sequence(lambda n: f"Team {n}")
    name_zh_hans = factory.Sequence(lambda n: f"团队 {n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory, role=Role.AGENT)


def team_agent(team: Team, *, languages=("en",), role=Role.AGENT, **user_fields):
    """An agent (or `role`) who speaks `languages` and belongs to `team`."""
    user = UserFactory(role=role, **user_fields)
    account_services.agent_profile_update(profile=user.agent_profile, languages=languages)
    TeamMembership.objects.create(team=team, user=user)
    return user


class TicketCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketCategory

    slug = factory.Sequence(lambda n: f"request-category-{n}")
    name_en = factory.Sequence(lambda n: f"Request category {n}")
    team = None


class TicketFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketField

    category = factory.SubFactory(TicketCategoryFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label_en = factory.LazyAttribute(lambda field: field.key.replace("_", " ").title())
    field_type = FieldType.TEXT
    position = factory.Sequence(lambda n: n)


def transfer_category(**kwargs) -> TicketCategory:
    """A withdrawal-like category: coin, network, amount, address, memo, txid (required)."""
    category = TicketCategoryFactory(**kwargs)
    for key, required in [
        ("coin", True),
        ("network", True),
        ("amount", True),
        ("address", True),
        ("memo", False),
        ("txid", True),
    ]:
        TicketFieldFactory(category=category, key=key, field_type=key, required=required)
    return category


class TicketFactory(factory.django.DjangoModelFactory):
    """A request row saved directly: no first message, events or routing."""

    class Meta:
        model = Ticket

    requester = factory.SubFactory(UserFactory)
    category = factory.SubFactory(TicketCategoryFactory)
    subject = factory.Sequence(lambda n: f"Request subject {n}")
    description = "Something went wrong."
    language = "en"


class AttachmentFactory(factory.django.DjangoModelFactory):
    """An unattached upload (a small text file), as `attachment_store` would leave it."""

    class Meta:
        model = Attachment

    uploaded_by = factory.SubFactory(UserFactory)
    file = factory.LazyFunction(lambda: ContentFile(b"log line\n", name="upload.txt"))
    original_name = "log.txt"
    content_type = "text/plain; charset=utf-8"
    kind = "text"
    size = 9
    sha256 = "0" * 64


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Macro

    title = factory.Sequence(lambda n: f"Macro {n}")
    language = "en"
    body = "Hello {customer_name}, about {reference}: …\n{agent_name}"
