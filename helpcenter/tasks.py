"""Celery tasks of the help center: search-index updates, serialised by a lock."""

from celery import shared_task


@shared_task(name="helpcenter.article_reindex", autoretry_for=(OSError,), retry_backoff=True)
def article_reindex(translation_id: int) -> None:
    """Bring one translation's search document in line with the database."""
    from helpcenter.search.indexing import reindex_translation

    reindex_translation(translation_id)


@shared_task(name="helpcenter.search_index_refresh")
def search_index_refresh(hours: int = 2) -> None:
    """Safety net: reindex what changed lately and drop what is no longer published.

    Catches changes that bypassed the services (bulk updates, restored backups).
    """
    from helpcenter.search.indexing import refresh_recent

    refresh_recent(hours=hours)
