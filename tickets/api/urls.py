from django.urls import path
from rest_framework.routers import SimpleRouter

from tickets.api import categories, inbound, views

router = SimpleRouter()
# The agent routes first: "agent/" must never be taken for a reference.
router.register("agent", views.AgentTicketViewSet, basename="api-agent-ticket")
router.register("", views.CustomerTicketViewSet, basename="api-ticket")

urlpatterns = [
    # Before the router: "categories/" must never be taken for a reference.
    path("categories/", categories.CategoryListView.as_view(), name="api-ticket-categories"),
    path("inbound-email/", inbound.InboundEmailView.as_view(), name="api-inbound-email"),
    *router.urls,
]
