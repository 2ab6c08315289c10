"""Print the API token of an active user, creating it if needed (--rotate: a new one)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Print the API token of the active user with this email address, creating it if "
        "needed. With --rotate the old token stops working and a new one is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the user's token with a new one."
        )

    @transaction.atomic
    def handle(self, *args, email: str, rotate: bool, **options):
        try:
            # Addresses are stored lower-cased (accounts.models.UserManager).
            user = User.objects.select_for_update().get(email=email.strip().lower())
        except User.DoesNotExist:
            raise CommandError(f"No user with the email address {email!r}.") from None
        if not user.is_active:
            raise CommandError(f"{user.email} is not active; tokens are only for active users.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _created = Token.objects.get_or_create(user=user)
        # Only the key on stdout, so scripts can capture it.
        self.stdout.write(token.key)
