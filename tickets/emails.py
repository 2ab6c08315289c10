"""Build the notification emails, in the recipient's language and time zone.

One builder for every `NotificationKind`: the templates are
`templates/tickets/email/<kind>.txt`, `<kind>.html` and `<kind>_subject.txt`.
Emails about a request carry its reference in the subject ("[HD-7K3P9Q] …"),
a Message-ID we recognise, In-Reply-To/References to the earlier emails of
the same thread, and a Reply-To plus address that routes replies back to the
request (tickets.mail_parsing / the incoming-email side read all three).
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.services import user_unsubscribe_token
from tickets import sla_targets
from tickets.lifecycle import Status
from tickets.models import (
    InboundEmail,
    Notification,
    NotificationKind,
    NotificationStatus,
    SlaTarget,
    Ticket,
)
from tickets.notifications import AGENT_KINDS, OPTIONAL_KINDS

Kind = NotificationKind

# The first line of every email a customer can answer. Mail clients quote the
# whole email below the answer, so everything from this line down is history:
# the incoming side cuts a reply there (whatever the language, the line starts
# with "##-" and ends with "-##").
REPLY_MARKER_RE = re.compile(r"^[>\s]*##-.*-##\s*$", re.MULTILINE)
# Kinds about a request that the customer may answer by email.
_ANSWERABLE = frozenset(
    {
        Kind.TICKET_CREATED,
        Kind.AGENT_REPLY,
        Kind.WAITING,
        Kind.SOLVED,
        Kind.CLOSED,
        Kind.REMINDER,
        Kind.OUT_OF_HOURS,
    }
)
# Replies to incoming mail: automatic answers in the sense of RFC 3834.
_AUTO_REPLIES = frozenset({Kind.EMAIL_REFUSED, Kind.EMAIL_TOO_LARGE, Kind.OUT_OF_HOURS})
# A long References header is trimmed to the first id and the latest ones (RFC 5322 §3.6.4).
_MAX_REFERENCES = 10


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def reply_marker() -> str:
    """The "reply above this line" line, in the active language."""
    return "##- " + _("Please type your reply above this line") + " -##"


def reply_address(ticket: Ticket) -> str:
    """The plus address replies to `ticket`'s emails go to: support+hd-7k3p9q@example.com."""
    local, _at, domain = settings.SUPPORT_REPLY_ADDRESS.partition("@")
    return f"{local}+{ticket.reference.lower()}@{domain}"


def recipient_address(notification: Notification) -> str:
    if notification.recipient_id is not None:
        return notification.recipient.email
    return notification.to_email


def _parse_time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


def _time_zone(notification: Notification) -> zoneinfo.ZoneInfo:
    name = notification.recipient.time_zone if notification.recipient_id else "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _label(choices, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _context(notification: Notification) -> dict[str, Any]:
    """Everything the templates of `notification.kind` read; call with its language active."""
    ticket = notification.ticket
    data = notification.context or {}
    context: dict[str, Any] = {
        "notification": notification,
        "kind": notification.kind,
        "user": notification.recipient,
        "ticket": ticket,
        "brand_name": settings.SUPPORT_BRAND_NAME,
        "official_channels": settings.OFFICIAL_CHANNELS,
        "time_zone_name": str(_time_zone(notification)),
    }
    if ticket is not None:
        context["reference"] = ticket.reference
        if notification.kind in AGENT_KINDS:
            context["workspace_url"] = _absolute(
                reverse("tickets_console:workspace", args=[ticket.reference])
            )
        else:
            context["request_url"] = _absolute(reverse("tickets:detail", args=[ticket.reference]))
    if notification.kind in _ANSWERABLE:
        context["reply_marker"] = reply_marker()
    if notification.kind in OPTIONAL_KINDS and notification.recipient_id is not None:
        context["unsubscribe_url"] = unsubscribe_url(notification)
    context.update(_kind_context(notification, data))
    return context


def _kind_context(notification: Notification, data: dict[str, Any]) -> dict[str, Any]:
    ticket = notification.ticket
    kind = notification.kind
    if kind == Kind.TICKET_CREATED:
        # The same promise as the confirmation page (tickets.sla_targets).
        expected = sla_targets.expected_first_response(ticket)
        if expected is None:
            return {}
        return {
            "response_time": sla_targets.describe_duration(expected.duration),
            "expected_by": expected.due_at,
            "business_hours": expected.business_hours,
        }
    if kind == Kind.AGENT_REPLY:
        message = notification.message
        return {
            "message": message,
            "author_name": message.author.get_short_name() if message.author else "",
            "attachment_names": [a.original_name for a in message.attachments.all()],
        }
    if kind == Kind.SOLVED:
        return {"reopen_days": settings.TICKET_REOPEN_WINDOW_DAYS}
    if kind in (Kind.SLA_WARNING, Kind.SLA_BREACH):
        return {
            "target": _label(SlaTarget, data.get("target")),
            "due_at": _parse_time(data.get("due_at")),
            "priority": ticket.get_priority_display(),
            "status": ticket.get_status_display(),
            "requester_name": ticket.requester.get_full_name(),
        }
    if kind == Kind.ASSIGNED:
        return {
            "priority": ticket.get_priority_display(),
            "category": ticket.category.name,
            "requester_name": ticket.requester.get_full_name(),
        }
    if kind == Kind.REMINDER:
        return {
            "waiting_since": ticket.status_changed_at if ticket.status == Status.WAITING else None
        }
    if kind == Kind.OUT_OF_HOURS:
        return {"opens_at": _parse_time(data.get("opens_at"))}
    if kind in (Kind.EMAIL_REFUSED, Kind.EMAIL_TOO_LARGE):
        return {
            "original_subject": data.get("subject", ""),
            "limit_mb": data.get("limit_mb"),
            "new_request_url": _absolute(reverse("tickets:new")),
            "signup_url": _absolute(reverse("accounts:signup")),
        }
    return {}


def unsubscribe_url(notification: Notification) -> str:
    """The one-click link that turns the recipient's optional emails off."""
    return _absolute(
        reverse("accounts:unsubscribe", args=[user_unsubscribe_token(notification.recipient)])
    )


def thread_message_ids(notification: Notification) -> list[str]:
    """Message-IDs of the earlier emails of this thread, oldest first.

    For a request: the emails this address was sent about it and the emails
    it sent us about it. For a reply to incoming mail: that mail.
    """
    ticket = notification.ticket
    if ticket is None:
        original = (notification.context or {}).get("in_reply_to")
        return [str(original).strip("<>").lower()] if original else []
    address = recipient_address(notification)
    sent = Notification.objects.filter(
        ticket=ticket, status=NotificationStatus.SENT, pk__lt=notification.pk
    ).exclude(email_message_id="")
    if notification.recipient_id is not None:
        sent = sent.filter(recipient_id=notification.recipient_id)
    else:
        sent = sent.filter(recipient__isnull=True, to_email=notification.to_email)
    sent = sent.values_list("sent_at", "email_message_id")
    received = InboundEmail.objects.filter(ticket=ticket, sender__iexact=address).values_list(
        "received_at", "email_message_id"
    )
    ordered = sorted([*sent, *received], key=lambda pair: pair[0])
    return list(dict.fromkeys(message_id for _when, message_id in ordered))


def _thread_headers(notification: Notification) -> dict[str, str]:
    ids = thread_message_ids(notification)
    if not ids:
        return {}
    if len(ids) > _MAX_REFERENCES:
        ids = [ids[0], *ids[-(_MAX_REFERENCES - 1) :]]
    return {
        "In-Reply-To": f"<{ids[-1]}>",
        "References": " ".join(f"<{message_id}>" for message_id in ids),
    }


def _headers(notification: Notification, context: dict[str, Any]) -> dict[str, str]:
    headers = {
        "Message-ID": f"<{notification.email_message_id}>",
        # Vacation responders must not answer us (RFC 3834; Exchange reads the X- header).
        "Auto-Submitted": "auto-replied"
        if notification.kind in _AUTO_REPLIES
        else "auto-generated",
        "X-Auto-Response-Suppress": "All",
        **_thread_headers(notification),
    }
    if "unsubscribe_url" in context:
        # RFC 8058: mail clients show their own "unsubscribe" and POST to it.
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def build_notification_email(notification: Notification) -> EmailMultiAlternatives:
    """Render `notification` as a multipart (text and HTML) email, ready to send."""
    with (
        translation.override(notification.language),
        timezone.override(_time_zone(notification)),
    ):
        context = _context(notification)
        base = f"tickets/email/{notification.kind}"
        subject = render_to_string(f"{base}_subject.txt", context)
        text = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
    reply_to = []
    if notification.ticket is not None and notification.kind not in AGENT_KINDS:
        reply_to = [reply_address(notification.ticket)]
    message = EmailMultiAlternatives(
        # One line: a subject typed with odd whitespace must not fold the header.
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient_address(notification)],
        reply_to=reply_to,
        headers=_headers(notification, context),
    )
    message.attach_alternative(html, "text/html")
    return message
