"""Outgoing email notifications through an outbox (the `Notification` table).

A notification is written in the same transaction as the event that causes
it, so it exists exactly when its cause does; sending happens after the
commit, in a Celery task, never in a web request.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from tickets.models import Message, Notification, Ticket


def queue(
    kind: str,
    *,
    ticket: Ticket | None = None,
    recipient: User | None = None,
    to_email: str = "",
    language: str | None = None,
    message: Message | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Record one email to send to `recipient` (or to `to_email` when there is no account).

    Must be called inside the transaction of its cause. With a `dedupe_key`
    that was already used, nothing is recorded and None is returned: the
    email for that cause exists already.
    """
    if recipient is None and not to_email:
        raise ValueError("A notification needs a recipient or an address.")
    notification = Notification(
        kind=kind,
        ticket=ticket,
        recipient=recipient,
        to_email=to_email,
        language=language or (recipient.preferred_language if recipient else "en"),
        message=message,
        context=context or {},
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        notification.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            if not Notification.objects.filter(dedupe_key=dedupe_key).exists():
                raise
            return None
    return notification
