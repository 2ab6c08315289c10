from rest_framework.routers import SimpleRouter

from tickets.api import views

router = SimpleRouter()
# The agent routes first: "agent/" must never be taken for a reference.
router.register("agent", views.AgentTicketViewSet, basename="api-agent-ticket")
router.register("", views.CustomerTicketViewSet, basename="api-ticket")

urlpatterns = router.urls
