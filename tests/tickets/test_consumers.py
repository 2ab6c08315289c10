"""The console workspace socket: who else is on a request, typing, leaving, "it changed",
and who may connect at all. Registry expiry is tested on `tickets.presence` directly."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from tests.tickets.factories import team_agent
from tickets import presence, services
from tickets.models import Priority
from tickets.websocket_routing import websocket_urlpatterns

# The consumer's ORM work runs in other threads: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


def path(ticket) -> str:
    return f"/ws/console/tickets/{ticket.reference}/"


@pytest.fixture
def ticket(open_request, agent_in_wallet, withdrawal, withdrawal_values):
    """A withdrawal request in the wallet team, where Wang Fang (`agent`) works."""
    return open_request(category=withdrawal, fields=withdrawal_values)


@pytest.fixture
def colleague(wallet_team):
    """Zhao Lei: another agent of the wallet team."""
    return team_agent(wallet_team, email="zhao.lei@example.com", display_name="Zhao Lei")


@pytest.fixture(params=["anonymous", "customer", "other_team_agent"])
def outsider(request):
    """Someone who may not work on the wallet team's request."""
    if request.param == "anonymous":
        return AnonymousUser()
    return request.getfixturevalue(request.param)


def communicator_for(ticket, user) -> WebsocketCommunicator:
    """A socket on the consumer with `user` already authenticated (as AuthMiddleware would)."""
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path(ticket))
    communicator.scope["user"] = user
    return communicator


async def connect(ticket, user) -> WebsocketCommunicator:
    communicator = communicator_for(ticket, user)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def next_presence(communicator) -> list[dict]:
    message = await communicator.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "presence", message
    return message["viewers"]


@pytest.mark.asyncio
async def test_two_agents_see_each_other(ticket, agent_in_wallet, colleague):
    first = await connect(ticket, agent_in_wallet)
    assert await next_presence(first) == []  # alone: nobody else is shown
    second = await connect(ticket, colleague)
    assert await next_presence(second) == [{"name": "王芳", "typing": False}]
    assert await next_presence(first) == [{"name": "Zhao Lei", "typing": False}]
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_typing_is_relayed_to_the_others(ticket, agent_in_wallet, colleague):
    first = await connect(ticket, agent_in_wallet)
    await next_presence(first)
    second = await connect(ticket, colleague)
    await next_presence(second)
    await next_presence(first)

    await second.send_json_to({"type": "typing"})

    assert await next_presence(first) == [{"name": "Zhao Lei", "typing": True}]
    assert await next_presence(second) == [{"name": "王芳", "typing": False}]
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_leaving_removes_the_agent(ticket, agent_in_wallet, colleague):
    first = await connect(ticket, agent_in_wallet)
    await next_presence(first)
    second = await connect(ticket, colleague)
    await next_presence(first)
    await second.disconnect()
    assert await next_presence(first) == []
    assert [viewer.name for viewer in presence.viewers(ticket.pk)] == ["王芳"]
    await first.disconnect()
    assert presence.viewers(ticket.pk) == []


@pytest.mark.asyncio
async def test_the_same_agent_in_two_tabs_is_not_shown_to_themself(ticket, agent_in_wallet):
    first = await connect(ticket, agent_in_wallet)
    await next_presence(first)
    second = await connect(ticket, agent_in_wallet)
    assert await next_presence(second) == []
    assert await next_presence(first) == []
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_a_saved_change_reaches_the_other_pages_but_not_the_author(
    ticket, agent_in_wallet, colleague
):
    first = await connect(ticket, agent_in_wallet)
    await next_presence(first)
    second = await connect(ticket, colleague)
    await next_presence(second)
    await next_presence(first)

    @sync_to_async
    def change():
        services.ticket_set_priority(
            ticket=ticket, actor=colleague, priority=Priority.HIGH, expected_version=ticket.version
        )
        presence.ticket_changed(ticket, actor=colleague)  # outside atomic: sent at once

    await change()
    assert await first.receive_json_from(timeout=TIMEOUT) == {
        "type": "changed",
        "version": ticket.version,
        "kind": "update",
        "by": "Zhao Lei",
    }
    assert await second.receive_nothing(timeout=0.2)
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_heartbeats_and_unknown_messages(ticket, agent_in_wallet):
    first = await connect(ticket, agent_in_wallet)
    await next_presence(first)
    await first.send_json_to({"type": "viewing"})
    assert await first.receive_nothing(timeout=0.2)  # nothing changed: nothing broadcast
    for message in ('{"type": "shout"}', "not json", "[1, 2]"):
        await first.send_to(text_data=message)
        assert await first.receive_json_from(timeout=TIMEOUT) == {
            "type": "error",
            "code": "unknown_type",
        }
    await first.disconnect()


@pytest.mark.asyncio
async def test_who_may_not_work_on_the_request_is_closed_with_4403(ticket, outsider):
    communicator = communicator_for(ticket, outsider)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected  # accepted first, so the close code reaches the page
    assert await communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4403,
    }
    assert presence.viewers(ticket.pk) == []
    await communicator.wait(timeout=TIMEOUT)


@pytest.mark.asyncio
async def test_the_triage_queue_is_open_to_every_agent(open_request, other_team_agent, general):
    triage = await sync_to_async(open_request)(category=general)
    communicator = await connect(triage, other_team_agent)
    assert await next_presence(communicator) == []
    await communicator.disconnect()


# Through the real ASGI application: session cookie, Origin check -------------------------


@pytest.mark.asyncio
async def test_the_portal_application_authenticates_by_session(ticket, agent_in_wallet):
    from support_portal.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(agent_in_wallet)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application,
        path(ticket),
        headers=[(b"cookie", cookie), (b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert await next_presence(communicator) == []
    assert [viewer.name for viewer in presence.viewers(ticket.pk)] == ["王芳"]
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_the_portal_application_closes_anonymous_sockets(ticket):
    from support_portal.asgi import application

    communicator = WebsocketCommunicator(
        application, path(ticket), headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await communicator.receive_output(timeout=TIMEOUT))["code"] == 4403
    await communicator.wait(timeout=TIMEOUT)


@pytest.mark.asyncio
async def test_other_sites_cannot_open_the_socket(ticket):
    from support_portal.asgi import application

    communicator = WebsocketCommunicator(
        application, path(ticket), headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected


# The registry ----------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """Group messages the registry broadcasts, captured instead of sent."""
    events = []

    class Layer:
        async def group_send(self, group, message):
            events.append((group, message))

    monkeypatch.setattr(presence, "get_channel_layer", lambda: Layer())
    return events


class TestRegistry:
    pytestmark = pytest.mark.django_db

    def test_a_page_that_stops_sending_heartbeats_expires(self, agent, supervisor, sent):
        presence.join(7, channel_name="a", user=agent, now=1000.0)
        presence.join(7, channel_name="b", user=supervisor, now=1010.0)
        assert [v.name for v in presence.viewers(7, now=1010.0)] == ["Maria Chen", "王芳"]
        expired = 1000.0 + presence.PRESENCE_TTL
        assert [v.name for v in presence.viewers(7, now=expired)] == ["Maria Chen"]
        sent.clear()
        # The surviving page's next heartbeat notices, and everyone is told.
        presence.heartbeat(7, channel_name="b", user=supervisor, now=expired + 1)
        assert sent == [
            (
                "tickets.ticket.7",
                {
                    "type": "presence.update",
                    "viewers": [{"user_id": supervisor.pk, "name": "Maria Chen", "typing": False}],
                },
            )
        ]

    def test_a_heartbeat_restores_a_lost_entry(self, agent, sent):
        presence.heartbeat(8, channel_name="a", user=agent, now=50.0)
        assert [v.name for v in presence.viewers(8, now=50.0)] == ["王芳"]
        assert len(sent) == 1

    def test_typing_fades_and_is_not_rebroadcast_on_every_key(self, agent, sent):
        presence.join(9, channel_name="a", user=agent, now=100.0)
        presence.typing(9, channel_name="a", user=agent, now=101.0)
        presence.typing(9, channel_name="a", user=agent, now=101.5)
        assert len(sent) == 2  # the join and the first "typing"
        presence.typing(9, channel_name="a", user=agent, now=104.0)
        assert len(sent) == 3
        assert presence.viewers(9, now=105.0)[0].typing
        assert not presence.viewers(9, now=104.0 + presence.TYPING_SECONDS)[0].typing

    def test_the_last_leave_clears_the_registry(self, agent, sent):
        presence.join(11, channel_name="a", user=agent, now=10.0)
        presence.leave(11, channel_name="a", now=11.0)
        assert presence.viewers(11, now=11.0) == []
        assert sent[-1] == ("tickets.ticket.11", {"type": "presence.update", "viewers": []})

    def test_pages_are_told_about_others_only_and_never_see_user_ids(self):
        event = {
            "type": "presence.update",
            "viewers": [
                {"user_id": 1, "name": "A", "typing": False},
                {"user_id": 2, "name": "B", "typing": True},
            ],
        }
        assert presence.presence_message(event, user_id=1) == {
            "type": "presence",
            "viewers": [{"name": "B", "typing": True}],
            "typing_seconds": presence.TYPING_SECONDS,
        }
        changed = {
            "type": "ticket.changed",
            "version": 3,
            "actor_id": 2,
            "name": "B",
            "kind": "update",
        }
        assert presence.changed_message(changed, user_id=2) is None
        assert presence.changed_message(changed, user_id=1) == {
            "type": "changed",
            "version": 3,
            "kind": "update",
            "by": "B",
        }


def test_group_names_are_valid_for_every_layer():
    assert get_channel_layer().require_valid_group_name(presence.ticket_group(10**12))
