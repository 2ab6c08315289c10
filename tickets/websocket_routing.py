"""WebSocket routes of the request console (consumed by support_portal.routing).

Not `tickets/routing.py`: that module decides which team and agent a new
request goes to.
"""

from django.urls import path

from tickets.consumers import TicketWorkspaceConsumer

websocket_urlpatterns = [
    path(
        "ws/console/tickets/<str:reference>/",
        TicketWorkspaceConsumer.as_asgi(),
        name="tickets_console_ws",
    ),
]
