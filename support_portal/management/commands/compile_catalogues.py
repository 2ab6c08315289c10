"""Compile every locale/*/LC_MESSAGES/*.po into .mo, without GNU gettext.

Django's `compilemessages` needs `msgfmt`, which a fresh machine may lack; the
setup script runs this instead so the portal starts with nothing but Python.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po → .mo) with polib."

    def handle(self, *args, **options):
        catalogues = sorted(
            po for folder in settings.LOCALE_PATHS for po in Path(folder).glob("*/LC_MESSAGES/*.po")
        )
        if not catalogues:
            raise CommandError("No .po catalogues found under LOCALE_PATHS.")
        for po_path in catalogues:
            catalogue = polib.pofile(str(po_path))
            # Fuzzy entries are guesses: gettext leaves them out, and so does this.
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(
                f"{po_path.relative_to(settings.BASE_DIR)}: "
                f"{len(catalogue.translated_entries())} messages"
            )
