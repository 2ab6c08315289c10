"""Celery tasks of the accounts app: thin wrappers that re-fetch and call a function."""

from celery import shared_task


@shared_task(
    name="accounts.account_email_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def account_email_send(user_id: int, kind: str) -> None:
    """Send the `kind` account email to the user, if they still exist."""
    from accounts.emails import send_account_email
    from accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        send_account_email(user, kind)
