"""The portal's URLs plus one bare view, the yardstick every benchmark prints."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from support_portal.urls import urlpatterns as portal_urlpatterns


@login_not_required
def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bare", bare), *portal_urlpatterns]
