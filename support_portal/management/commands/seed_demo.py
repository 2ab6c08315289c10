"""Create the demo content of every app; safe to run again (it updates, never duplicates)."""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

# Apps that ship demo content, in dependency order: agents' skills need categories,
# demo requests need agents.
DEMO_MODULES = ["helpcenter.demo", "accounts.demo", "tickets.demo"]


class Command(BaseCommand):
    help = "Create or update demo users for every role and demo content in all four languages."

    def add_arguments(self, parser):
        parser.add_argument(
            "--show-passwords",
            action="store_true",
            help="Print demo passwords even when DEBUG is off.",
        )

    def handle(self, *args, show_passwords: bool = False, **options):
        reveal = settings.DEBUG or show_passwords
        with transaction.atomic():
            reports = [
                (name, import_module(name).seed(reveal_secrets=reveal)) for name in DEMO_MODULES
            ]
        for name, lines in reports:
            self.stdout.write(self.style.MIGRATE_HEADING(name))
            for line in lines:
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo content is ready."))
