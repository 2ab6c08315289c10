"""Celery tasks of the tickets app: thin wrappers that re-fetch and call a function."""

from celery import shared_task


@shared_task(
    name="tickets.ticket_confirmation_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def ticket_confirmation_send(ticket_id: int) -> None:
    """Email the requester that their request arrived, if it and they still exist.

    At least once: a retry after the SMTP server accepted the message but
    before the task finished sends it a second time.
    """
    from tickets.emails import send_ticket_confirmation
    from tickets.models import Ticket

    ticket = (
        Ticket.objects.select_related("requester")
        .filter(pk=ticket_id, requester__is_active=True)
        .first()
    )
    if ticket is not None:
        send_ticket_confirmation(ticket)


@shared_task(name="tickets.automations_run", ignore_result=True)
def automations_run() -> None:
    """Reminders, auto-solve and auto-close that are due now (idempotent)."""
    from django.utils import timezone

    from tickets.automations import automations_run as run

    run(now=timezone.now())
