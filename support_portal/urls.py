"""URL map of the portal: language-prefixed pages, plus unprefixed machine endpoints."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import set_language
from helpcenter.views import article_image
from support_portal import views

admin.site.site_header = admin.site.site_title = f"{settings.SUPPORT_BRAND_NAME} Support"

api_v1 = [
    path("", include("accounts.api.urls")),
    path("helpcenter/", include("helpcenter.api.urls")),
    path("tickets/", include("tickets.api.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("help-images/<str:name>", article_image, name="article_image"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns += i18n_patterns(
    path("", include("helpcenter.urls")),
    path("accounts/", include("accounts.urls")),
    path("requests/", include("tickets.urls")),
    path("chat/", include("livechat.urls")),
    path("announcements/", include("announcements.urls")),
    path("console/", views.console_home, name="console"),
    path("console/helpcenter/", include("helpcenter.console_urls")),
    path("console/tickets/", include("tickets.console_urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=True,
)
