"""Public announcement pages."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_not_required
def announcement_list(request: HttpRequest) -> HttpResponse:
    return render(request, "announcements/list.html")
