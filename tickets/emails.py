"""Build and send the request emails, in the requester's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tickets import sla_targets
from tickets.models import Ticket


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def build_ticket_confirmation(ticket: Ticket) -> EmailMultiAlternatives:
    """The "we received your request" email (text and HTML) for the requester.

    In the requester's preferred language, not the language of the page they
    submitted from; the link opens the request page in that language.
    """
    requester = ticket.requester
    with translation.override(requester.preferred_language):
        context = {
            "ticket": ticket,
            "user": requester,
            "brand_name": settings.SUPPORT_BRAND_NAME,
            "official_channels": settings.OFFICIAL_CHANNELS,
            "response_time": sla_targets.describe_duration(
                sla_targets.first_response_target(ticket.priority)
            ),
            "request_url": _absolute(reverse("tickets:detail", args=[ticket.reference])),
        }
        subject = render_to_string("tickets/email/ticket_created_subject.txt", context)
        text = render_to_string("tickets/email/ticket_created.txt", context)
        html = render_to_string("tickets/email/ticket_created.html", context)
    message = EmailMultiAlternatives(
        # One line: a subject typed with odd whitespace must not fold the header.
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[requester.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def send_ticket_confirmation(ticket: Ticket) -> None:
    build_ticket_confirmation(ticket).send()
