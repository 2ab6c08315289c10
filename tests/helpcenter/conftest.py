"""Help-center test helpers: publish articles and keep the search index per test."""

import pytest
from haystack import connections

from helpcenter import services
from helpcenter.models import Category
from helpcenter.search.indexing import index_translations


@pytest.fixture
def search_index(db):
    """An empty search index for this test (the index outlives database rollbacks)."""
    backend = connections["default"].get_backend()
    backend.clear()
    yield backend
    backend.clear()


@pytest.fixture
def publish(db):
    """Create or update an article translation and index it, as the services would on commit."""
    categories: dict[str, Category] = {}

    def _publish(
        key,
        language,
        title,
        body="",
        *,
        category="general",
        tags=(),
        summary="",
        status="published",
        editor=None,
    ):
        if category not in categories:
            categories[category], _ = Category.objects.get_or_create(
                slug=category,
                defaults={
                    "name_en": category.title(),
                    "name_zh_hans": category,
                    "name_ja": category,
                    "name_ko": category,
                },
            )
        article = services.Article.objects.filter(key=key).first() or services.article_create(
            key=key, category=categories[category]
        )
        translation, _changed = services.translation_save(
            article=article,
            language=language,
            title=title,
            summary=summary,
            body=body,
            tags=tags,
            status=status,
            editor=editor,
            reindex=False,
        )
        index_translations([translation.pk])
        return translation

    return _publish
