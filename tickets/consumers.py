"""WebSocket of the console workspace: who else has the request open, and when it changed.

Protocol, on ``/ws/console/tickets/<reference>/`` (JSON text frames):

- client → server: ``{"type": "viewing"}`` when the page opens and then every
  `presence.HEARTBEAT_SECONDS`; ``{"type": "typing"}`` while the reply box
  changes (the page sends it at most every few seconds);
- server → client: ``{"type": "presence", "viewers": [{"name", "typing"}],
  "typing_seconds"}`` with the *other* agents on the request;
  ``{"type": "changed", "version", "kind", "by"}`` when another agent saved a
  change; ``{"type": "error", "code": "unknown_type"}`` for anything else.

Anonymous users and agents who may not work on the request are accepted and
closed at once with code 4403, so the page can tell "not allowed" (stop) from
a dropped connection (reconnect). Authorised once, at connect, with the same
lookup the workspace page uses. State and broadcasts live in `tickets.presence`.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.http import Http404

from tickets import presence, selectors

CLOSE_FORBIDDEN = 4403


class TicketWorkspaceConsumer(JsonWebsocketConsumer):
    ticket_id: int | None = None

    def connect(self) -> None:
        user = self.scope.get("user")
        try:
            ticket = selectors.ticket_for_agent(
                user, self.scope["url_route"]["kwargs"]["reference"]
            )
        except Http404:
            ticket = None
        self.accept()
        if ticket is None:
            self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.ticket_id = ticket.pk
        async_to_sync(self.channel_layer.group_add)(
            presence.ticket_group(ticket.pk), self.channel_name
        )
        presence.join(ticket.pk, channel_name=self.channel_name, user=user)

    def disconnect(self, code: int) -> None:
        if self.ticket_id is None:
            return
        async_to_sync(self.channel_layer.group_discard)(
            presence.ticket_group(self.ticket_id), self.channel_name
        )
        presence.leave(self.ticket_id, channel_name=self.channel_name)

    @classmethod
    def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    def receive_json(self, content: Any, **kwargs) -> None:
        if self.ticket_id is None:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        match kind:
            case "viewing":
                presence.heartbeat(self.ticket_id, channel_name=self.channel_name, user=self.user)
            case "typing":
                presence.typing(self.ticket_id, channel_name=self.channel_name, user=self.user)
            case _:
                self.send_json({"type": "error", "code": "unknown_type"})

    # Group events ------------------------------------------------------------

    def presence_update(self, event: dict[str, Any]) -> None:
        self.send_json(presence.presence_message(event, user_id=self.user.pk))

    def ticket_changed(self, event: dict[str, Any]) -> None:
        message = presence.changed_message(event, user_id=self.user.pk)
        if message is not None:
            self.send_json(message)
