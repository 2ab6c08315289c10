"""The demo requests: every state a visitor should see, created once."""

import io

import pytest
from django.core.management import call_command

from tickets.models import Macro, Message, TeamMembership, Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_files_requests_in_several_states_once():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Ticket.objects.count(), Message.objects.count(), Macro.objects.count())
    call_command("seed_demo", stdout=io.StringIO())

    assert (Ticket.objects.count(), Message.objects.count(), Macro.objects.count()) == counts
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"open", "waiting", "solved"} <= statuses
    withdrawal = Ticket.objects.get(category__slug="withdrawal")
    assert withdrawal.assignee is not None
    assert withdrawal.fields["txid"]
    assert withdrawal.messages.filter(is_internal=True).exists()
    assert Ticket.objects.get(status="solved").rating == "good"
    assert TeamMembership.objects.filter(user__email="agent.zh@example.com").exists()
    linked = Ticket.objects.values_list("category__helpcenter_category__slug", flat=True)
    assert "withdrawal" in set(linked)
