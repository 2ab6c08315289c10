"""Outgoing email notifications through an outbox (the `Notification` table).

A notification is written in the same transaction as the event that causes
it, so it exists exactly when its cause does; sending happens after the
commit, in a Celery task, never in a web request. See docs/notifications.md.

Who gets what (the services call the `notify_*` functions):

- the requester: the confirmation of a new request (with its reference and
  the expected response time), every public agent reply, and the status
  changes an agent or the system makes to waiting, solved and closed (not the
  customer's own solve, not a merge);
- an agent: the requests assigned to them, by routing or by a colleague
  (not when they take one themselves);
- others queue their own kinds through `queue`: SLA warnings and breaches,
  reminders, refusals of incoming email, out-of-hours replies.

Internal notes never notify a customer. Reminders and out-of-hours replies
are optional (`OPTIONAL_KINDS`): a customer who turned optional emails off
gets none, and each one carries an unsubscribe link. Everything else about a
request is essential and always sent. Inactive recipients get nothing: their
rows are kept as "skipped".

Sending (`notification_deliver`) claims a row with a conditional UPDATE
(pending and due, or a lease that expired → sending, with a new lease in
`claimed_until` and `attempts` + 1), sends, and marks it sent only while it
still holds that claim. A failed send goes back to pending with an
exponential back-off, and is given up after `NOTIFICATION_MAX_ATTEMPTS`.
`notifications_dispatch` (beat) re-queues what is due and what a dead worker
left behind.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError

from accounts.models import User
from tickets import tasks
from tickets.lifecycle import ActorKind, Status
from tickets.models import Message, Notification, NotificationKind, NotificationStatus, Ticket

logger = logging.getLogger(__name__)

Kind = NotificationKind

# What a customer may turn off (User.wants_optional_emails). The confirmation,
# replies and status changes carry the conversation itself and always go out.
OPTIONAL_KINDS: frozenset[str] = frozenset({Kind.REMINDER, Kind.OUT_OF_HOURS})
# Written to the support staff, in the console's terms; everything else is
# written to a customer (or to an unknown sender).
AGENT_KINDS: frozenset[str] = frozenset({Kind.SLA_WARNING, Kind.SLA_BREACH, Kind.ASSIGNED})
# Status changes the customer hears about, and the kind of email each one sends.
STATUS_KINDS: dict[str, str] = {
    Status.WAITING: Kind.WAITING,
    Status.SOLVED: Kind.SOLVED,
    Status.CLOSED: Kind.CLOSED,
}

_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

INACTIVE_RECIPIENT = "The recipient's account is inactive."
OPTED_OUT = "The recipient turned optional emails off."


def message_id_for(notification_uuid: uuid.UUID) -> str:
    """The Message-ID of a notification's email, as stored: no brackets, lower case.

    The same normalisation tickets.mail_parsing applies to In-Reply-To and
    References, so a reply's headers match `Notification.email_message_id`.
    """
    return f"{notification_uuid.hex}@{settings.EMAIL_MESSAGE_ID_DOMAIN}".lower()


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

    Must be called inside the transaction of its cause; the email is handed to
    a worker once that commits. Returns None when nothing was recorded: the
    `dedupe_key` was already used (the email for that cause exists), or the
    kind is optional and the recipient turned optional emails off. An inactive
    recipient's row is recorded as skipped and never sent.
    """
    if recipient is None and not to_email:
        raise ValueError("A notification needs a recipient or an address.")
    if kind in OPTIONAL_KINDS and recipient is not None and not recipient.wants_optional_emails:
        return None
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
    notification.email_message_id = message_id_for(notification.uuid)
    if recipient is not None and not recipient.is_active:
        notification.status = NotificationStatus.SKIPPED
        notification.last_error = INACTIVE_RECIPIENT
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
    if notification.status == NotificationStatus.PENDING:
        transaction.on_commit(partial(_publish, notification.pk))
    return notification


def _publish(notification_id: int) -> None:
    """Hand a committed notification to a worker; never fail the caller.

    Runs after the commit of a web request (or task): if the broker is down,
    the request has succeeded all the same and the row stays pending, so the
    dispatch beat sends it once the broker is back. One quick retry only (a
    pooled connection the broker closed meanwhile): the web request must not
    wait on a broker that is away.
    """
    try:
        tasks.notification_send.apply_async((notification_id,), retry_policy=_PUBLISH_RETRY)
    except (KombuError, OSError) as exc:
        logger.warning(
            "Broker unreachable; notification %s waits for the dispatch beat: %s",
            notification_id,
            exc,
        )


# Who is told what ----------------------------------------------------------------------


def notify_ticket_created(ticket: Ticket) -> None:
    """Confirm a new request to its requester (reference, expected response time)."""
    queue(
        Kind.TICKET_CREATED,
        ticket=ticket,
        recipient=ticket.requester,
        dedupe_key=f"created:{ticket.pk}",
    )


def notify_agent_reply(ticket: Ticket, message: Message) -> None:
    """Send a public agent reply to the requester; internal notes are never sent."""
    if message.is_internal:
        return
    queue(
        Kind.AGENT_REPLY,
        ticket=ticket,
        recipient=ticket.requester,
        message=message,
        dedupe_key=f"reply:{message.pk}",
    )


def notify_status_changed(ticket: Ticket, *, to_status: str, actor_kind: str) -> None:
    """Tell the requester their request now waits on them, is solved or is closed.

    Only moves an agent or the system made: the customer knows what they did.
    """
    kind = STATUS_KINDS.get(to_status)
    if kind is None or actor_kind == ActorKind.CUSTOMER:
        return
    queue(kind, ticket=ticket, recipient=ticket.requester, context={"status": to_status})


def notify_assigned(ticket: Ticket, *, assignee: User | None, actor: User | None) -> None:
    """Tell an agent a request was given to them (by routing or by someone else)."""
    if assignee is None or (actor is not None and actor.pk == assignee.pk):
        return
    queue(Kind.ASSIGNED, ticket=ticket, recipient=assignee)


# Sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one notification: valid while the row still shows these values."""

    notification_id: int
    attempts: int
    claimed_until: datetime.datetime


def _due(now: datetime.datetime) -> Q:
    return Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, claimed_until__lt=now
    )


def notification_claim(
    notification_id: int, *, now: datetime.datetime | None = None
) -> Claim | None:
    """Take the notification for sending if it is due and nobody holds it; else None.

    One conditional UPDATE: of two workers (or two copies of the same task)
    only one matches the row. A claim is a lease: if its holder dies, the row
    is due again once `claimed_until` has passed. Must run outside a
    transaction (autocommit), so other workers see the claim at once.
    """
    now = now or timezone.now()
    claimed_until = now + datetime.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    claimed = Notification.objects.filter(
        _due(now), pk=notification_id, attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS
    ).update(
        status=NotificationStatus.SENDING,
        claimed_until=claimed_until,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    attempts = Notification.objects.values_list("attempts", flat=True).get(pk=notification_id)
    return Claim(notification_id, attempts, claimed_until)


def _held(claim: Claim) -> QuerySet[Notification]:
    return Notification.objects.filter(
        pk=claim.notification_id,
        status=NotificationStatus.SENDING,
        attempts=claim.attempts,
        claimed_until=claim.claimed_until,
    )


def _release(claim: Claim, **changes: Any) -> bool:
    """Write the outcome if the claim still holds; False if another worker took over."""
    released = bool(_held(claim).update(claimed_until=None, **changes))
    if not released:
        logger.warning(
            "Notification %s: claim lost before its outcome was recorded (lease expired)",
            claim.notification_id,
        )
    return released


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed send: 1, 2, 4 … × the base, capped."""
    seconds = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.NOTIFICATION_RETRY_MAX_SECONDS))


def _skip_reason(notification: Notification) -> str | None:
    """Why an email recorded earlier must not go out now, if it must not."""
    recipient = notification.recipient
    if recipient is not None and not recipient.is_active:
        return INACTIVE_RECIPIENT
    if (
        notification.kind in OPTIONAL_KINDS
        and recipient is not None
        and not recipient.wants_optional_emails
    ):
        return OPTED_OUT
    if notification.kind == Kind.AGENT_REPLY:
        message = notification.message
        # Deleted, or turned into an internal note by a merge since it was queued.
        if message is None or message.is_internal:
            return "The reply is no longer public."
    return None


def _is_permanent(exc: Exception) -> bool:
    """Whether the SMTP server refused the email for good (5xx for every recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _text in exc.recipients.values())
    return False


def notification_deliver(
    notification_id: int, *, now: datetime.datetime | None = None
) -> str | None:
    """Send one notification if it is due and nobody else is sending it.

    Returns the status it ended in, or None when it was not claimed (already
    sent, being sent, or not due yet). At least once: if the worker dies
    after the SMTP server accepted the email and before the row is marked
    sent, the email goes out again once the lease expires.
    """
    from tickets.emails import build_notification_email

    now = now or timezone.now()
    claim = notification_claim(notification_id, now=now)
    if claim is None:
        return None
    notification = Notification.objects.select_related(
        "ticket__requester", "ticket__category", "recipient", "message__author"
    ).get(pk=notification_id)
    reason = _skip_reason(notification)
    if reason is not None:
        _release(claim, status=NotificationStatus.SKIPPED, last_error=reason)
        return NotificationStatus.SKIPPED
    try:
        build_notification_email(notification).send()
    # Whatever went wrong (SMTP refused, timeout, a template error) is recorded
    # on the row and retried with back-off; an exception would leave the row
    # "sending" until its lease expires.
    except Exception as exc:  # noqa: BLE001
        return _failed(notification, claim, exc, now=now)
    _release(claim, status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    return NotificationStatus.SENT


def _failed(
    notification: Notification, claim: Claim, exc: Exception, *, now: datetime.datetime
) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if _is_permanent(exc) or claim.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        logger.error("Notification %s failed for good: %s", notification.pk, error)
        _release(claim, status=NotificationStatus.FAILED, last_error=error)
        return NotificationStatus.FAILED
    logger.warning(
        "Notification %s: attempt %d failed, retrying: %s", notification.pk, claim.attempts, error
    )
    _release(
        claim,
        status=NotificationStatus.PENDING,
        next_attempt_at=now + retry_delay(claim.attempts),
        last_error=error,
    )
    return NotificationStatus.PENDING


def notifications_dispatch(*, now: datetime.datetime | None = None) -> int:
    """Hand every due notification to a worker; return how many were queued.

    Due: pending retries whose back-off has passed, first attempts older than
    `NOTIFICATION_DISPATCH_GRACE_SECONDS` (their on-commit task was lost:
    the broker was down, or a worker died holding it), and claims whose lease
    expired. A row queued twice is sent once: the claim decides. Each task
    expires with the next dispatch, which queues whatever is still due.
    """
    now = now or timezone.now()
    max_attempts = settings.NOTIFICATION_MAX_ATTEMPTS
    # A worker died while sending on the last allowed attempt: give up on it.
    Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_until__lt=now, attempts__gte=max_attempts
    ).update(
        status=NotificationStatus.FAILED,
        claimed_until=None,
        last_error="The worker stopped while sending, too many times.",
    )
    grace = datetime.timedelta(seconds=settings.NOTIFICATION_DISPATCH_GRACE_SECONDS)
    due = (
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, attempts=0, next_attempt_at__lte=now - grace)
            | Q(status=NotificationStatus.PENDING, attempts__gt=0, next_attempt_at__lte=now)
            | Q(status=NotificationStatus.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: settings.NOTIFICATION_DISPATCH_BATCH]
    )
    ids = list(due)
    for notification_id in ids:
        tasks.notification_send.apply_async(
            (notification_id,), expires=settings.NOTIFICATION_DISPATCH_INTERVAL
        )
    return len(ids)


def notifications_retry_now(notification_ids: list[int]) -> int:
    """Make failed or waiting notifications due now, with a fresh set of attempts.

    Sent ones, skipped ones and ones a worker is sending are left alone, so a
    retry never sends an email twice. Returns how many were re-queued.
    """
    ids = list(
        Notification.objects.filter(
            pk__in=notification_ids,
            status__in=[NotificationStatus.PENDING, NotificationStatus.FAILED],
        ).values_list("pk", flat=True)
    )
    Notification.objects.filter(
        pk__in=ids, status__in=[NotificationStatus.PENDING, NotificationStatus.FAILED]
    ).update(
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_until=None,
    )
    for notification_id in ids:
        transaction.on_commit(partial(_publish, notification_id))
    return len(ids)
