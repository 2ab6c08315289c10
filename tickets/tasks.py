"""Celery tasks of the tickets app: thin wrappers that re-fetch and call a function."""

from celery import shared_task


@shared_task(name="tickets.notification_send", ignore_result=True)
def notification_send(notification_id: int) -> None:
    """Send one outbox email unless it is sent, being sent, or not due (safe to run twice).

    Failures are recorded on the row and retried by the dispatch beat, not by Celery.
    """
    from tickets.notifications import notification_deliver

    notification_deliver(notification_id)


@shared_task(name="tickets.notifications_dispatch", ignore_result=True)
def notifications_dispatch() -> None:
    """Queue the outbox emails that are due: retries, lost tasks, expired claims."""
    from tickets.notifications import notifications_dispatch as dispatch

    dispatch()


@shared_task(name="tickets.sla_sweep", ignore_result=True)
def sla_sweep() -> None:
    """Record the SLA warning points and deadlines passed by now, once each (idempotent)."""
    from django.utils import timezone

    from tickets.sla import sla_sweep as sweep

    sweep(now=timezone.now())


@shared_task(name="tickets.sla_recompute", ignore_result=True)
def sla_recompute(policy_ids: list[int] | None = None) -> None:
    """Recompute active requests' deadlines after policies changed (admin action)."""
    from tickets.sla import sla_recompute as recompute

    recompute(policy_ids=policy_ids)


@shared_task(name="tickets.automations_run", ignore_result=True)
def automations_run() -> None:
    """Reminders, auto-solve and auto-close that are due now (idempotent)."""
    from django.utils import timezone

    from tickets.automations import automations_run as run

    run(now=timezone.now())


@shared_task(name="tickets.imap_poll", ignore_result=True)
def imap_poll() -> None:
    """Import the unread mail of the IMAP mailbox, if one is configured (safe to run twice)."""
    from tickets.mail_imap import imap_poll as poll

    poll()
