"""Template context shared by every page of the portal."""

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "brand_name": settings.SUPPORT_BRAND_NAME,
        "official_channels": settings.OFFICIAL_CHANNELS,
        "time_zone_cookie": settings.TIME_ZONE_COOKIE_NAME,
        "can_use_console": bool(
            user and user.is_authenticated and user.has_perm("accounts.access_agent_console")
        ),
    }
