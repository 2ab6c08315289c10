"""Project-level views: the health endpoint and the agent console shell."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import agent_profile_for
from support_portal.health import system_health


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, components = system_health(include_details=settings.DEBUG or request.user.is_staff)
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "time": timezone.now().isoformat(),
            "components": components,
        },
        status=200 if healthy else 503,
    )


@permission_required("accounts.access_agent_console", raise_exception=True)
def console_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/home.html",
        {"agent_profile": agent_profile_for(request.user)},
    )
