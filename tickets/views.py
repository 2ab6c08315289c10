"""Customer pages for support requests."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def request_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/request_list.html")


def request_new(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/request_new.html")
