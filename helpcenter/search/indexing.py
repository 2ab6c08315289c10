"""Writes to the search index, one writer at a time across processes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from haystack import connections
from haystack.utils import get_identifier

from helpcenter.models import ArticleTranslation


def _lock():
    # The Whoosh backend also locks each write; holding the lock across a
    # whole batch keeps other writers from interleaving with it.
    engine = settings.HAYSTACK_CONNECTIONS["default"]["ENGINE"]
    if "whoosh" in engine.lower():
        from helpcenter.search.backend import index_write_lock

        return index_write_lock()
    from contextlib import nullcontext

    return nullcontext()


def _index_and_backend():
    connection = connections["default"]
    return connection.get_unified_index().get_index(ArticleTranslation), connection.get_backend()


def reindex_translation(translation_id: int) -> None:
    """Index the translation if it is published, remove it from the index otherwise."""
    index, backend = _index_and_backend()
    translation = index.index_queryset().filter(pk=translation_id).first()
    with _lock():
        if translation is not None:
            backend.update(index, [translation])
        else:
            backend.remove(f"helpcenter.articletranslation.{translation_id}")


def refresh_recent(*, hours: int = 2) -> int:
    """Reindex translations changed in the last `hours` and drop unpublished ones."""
    index, backend = _index_and_backend()
    since = timezone.now() - timedelta(hours=hours)
    recent = list(index.index_queryset().filter(updated_at__gte=since))
    unpublished = ArticleTranslation.objects.exclude(status="published").filter(
        updated_at__gte=since
    )
    with _lock():
        if recent:
            backend.update(index, recent)
        for translation in unpublished:
            backend.remove(get_identifier(translation))
    return len(recent)


def index_translations(translation_ids: list[int]) -> int:
    """Index (or remove) a batch of translations in one writer session."""
    if not translation_ids:
        return 0
    index, backend = _index_and_backend()
    published = list(index.index_queryset().filter(pk__in=translation_ids))
    published_ids = {t.pk for t in published}
    with _lock():
        if published:
            backend.update(index, published)
        for translation_id in translation_ids:
            if translation_id not in published_ids:
                backend.remove(f"helpcenter.articletranslation.{translation_id}")
    return len(translation_ids)
