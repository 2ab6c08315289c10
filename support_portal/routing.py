"""Every WebSocket route of the portal; apps contribute their own lists."""

from livechat.routing import websocket_urlpatterns as livechat_patterns
from tickets.websocket_routing import websocket_urlpatterns as ticket_patterns

websocket_urlpatterns = [*livechat_patterns, *ticket_patterns]
