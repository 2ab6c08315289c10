"""Write the help center to a folder in the format import_articles reads."""

from pathlib import Path

from django.core.management.base import BaseCommand

from helpcenter.importing import export_folder


class Command(BaseCommand):
    help = "Export categories and every article translation to PATH (import_articles format)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        count = export_folder(path)
        self.stdout.write(f"{count} files written to {path}")
