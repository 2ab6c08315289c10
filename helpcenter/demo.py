"""Demo help center for `seed_demo`: the Markdown folder in demo_content/, plus synonyms."""

from __future__ import annotations

from pathlib import Path

import yaml

from helpcenter import services
from helpcenter.importing import import_folder
from helpcenter.models import Article, SearchSynonym
from helpcenter.search.indexing import index_translations

DEMO_CONTENT = Path(__file__).resolve().parent / "demo_content"

# What a stressed reader most often needs, pinned on the home page.
PINNED_ON_HOME = [
    "withdrawal-not-received",
    "deposit-not-credited",
    "reset-google-authenticator",
    "account-compromised-freeze",
    "kyc-rejected-reasons",
    "verify-official-channels",
]


def seed_synonyms() -> int:
    """Create the demo synonym groups that do not exist yet; return how many exist."""
    groups = yaml.safe_load((DEMO_CONTENT / "_synonyms.yaml").read_text(encoding="utf-8"))
    existing = {(g.language, g.terms) for g in SearchSynonym.objects.all()}
    for group in groups:
        language = group.get("language") or ""
        terms = ", ".join(group["terms"])
        if (language, terms) not in existing:
            services.synonym_save(terms=terms, language=language)
    return SearchSynonym.objects.count()


def seed(*, reveal_secrets: bool) -> list[str]:  # noqa: ARG001 - no secrets here
    """Import the demo articles (idempotent), index what changed, pin the essentials."""
    report = import_folder(DEMO_CONTENT)
    indexed = index_translations(report.changed_translations)
    synonyms = seed_synonyms()
    Article.objects.filter(key__in=PINNED_ON_HOME).update(promoted_on_home=True)
    return [*report.lines(), f"search index: {indexed} updated", f"synonym groups: {synonyms}"]
