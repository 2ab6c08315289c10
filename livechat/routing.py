"""WebSocket routes of live chat (consumed by support_portal.routing)."""

websocket_urlpatterns: list = []
