"""Import help-center categories and articles from a folder of Markdown files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from helpcenter.importing import ImportProblem, import_folder
from helpcenter.search.indexing import index_translations


class Command(BaseCommand):
    help = (
        "Import PATH/_categories.yaml and PATH/*.md (YAML front matter: key, language, title, "
        "category, tags, summary, status). All or nothing; running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            report = import_folder(path)
        except ImportProblem as problem:
            raise CommandError(f"Nothing imported. {problem}") from problem
        indexed = index_translations(report.changed_translations)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"search index: {indexed} translations updated")
