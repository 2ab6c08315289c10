"""Reads of help-center content; views never touch the ORM or haystack directly."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from helpcenter.models import Category


def categories_for_home() -> QuerySet[Category]:
    """Top-level categories with their sections, in editor order (two queries)."""
    return Category.objects.top_level().prefetch_related(
        Prefetch("sections", queryset=Category.objects.order_by("position", "slug"))
    )


def category_get(slug: str) -> Category | None:
    return (
        Category.objects.select_related("parent")
        .prefetch_related(
            Prefetch("sections", queryset=Category.objects.order_by("position", "slug"))
        )
        .filter(slug=slug)
        .first()
    )
