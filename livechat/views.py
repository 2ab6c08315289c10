"""Customer chat page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def chat(request: HttpRequest) -> HttpResponse:
    return render(request, "livechat/chat.html")
