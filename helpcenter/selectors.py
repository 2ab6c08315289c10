"""Reads of help-center content; views and the API never touch the ORM or haystack directly."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.safestring import SafeString
from haystack.query import SearchQuerySet

from helpcenter.models import (
    Article,
    ArticleStatus,
    ArticleTranslation,
    Category,
    SearchLog,
    SearchSynonym,
)
from helpcenter.search.query import plan_search
from helpcenter.search.snippets import build_snippet, mark_terms

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
MAX_QUERY_LENGTH = 200
SYNONYM_CACHE_SECONDS = 60

# ----------------------------------------------------------------------------
# Categories and articles
# ----------------------------------------------------------------------------


def _sections() -> Prefetch:
    return Prefetch("sections", queryset=Category.objects.order_by("position", "slug"))


def categories_for_home() -> QuerySet[Category]:
    """Top-level categories with their sections, in editor order (two queries)."""
    return Category.objects.top_level().prefetch_related(_sections())


def category_get(slug: str) -> Category | None:
    return (
        Category.objects.select_related("parent")
        .prefetch_related(_sections())
        .filter(slug=slug)
        .first()
    )


def published_translations(language: str) -> QuerySet[ArticleTranslation]:
    return ArticleTranslation.objects.published().filter(language=language)


def category_translations(category: Category, language: str) -> QuerySet[ArticleTranslation]:
    """Published articles of a category and its sections: pinned first, then editor order."""
    return (
        published_translations(language)
        .filter(Q(article__category=category) | Q(article__category__parent=category))
        .select_related("article__category")
        .order_by("-article__promoted", "article__position", "title")
    )


def promoted_for_home(language: str, limit: int = 6) -> QuerySet[ArticleTranslation]:
    return (
        published_translations(language)
        .filter(article__promoted_on_home=True)
        .select_related("article")
        .order_by("article__position", "title")[:limit]
    )


def latest_for_home(language: str, limit: int = 6) -> QuerySet[ArticleTranslation]:
    return (
        published_translations(language).select_related("article").order_by("-updated_at")[:limit]
    )


def translation_get(key: str, language: str) -> ArticleTranslation | None:
    """The published translation of `key` in `language`, with what the page shows."""
    return (
        published_translations(language)
        .filter(article__key=key)
        .select_related("article__category__parent", "author")
        .first()
    )


def available_languages(article: Article) -> list[str]:
    """Languages the article is published in, in the portal's language order."""
    published = set(
        article.translations.filter(status=ArticleStatus.PUBLISHED).values_list(
            "language", flat=True
        )
    )
    return [code for code in LANGUAGE_CODES if code in published]


def related_translations(
    translation: ArticleTranslation, limit: int = 5
) -> list[ArticleTranslation]:
    """Editors' choice of related articles, else the closest articles by search."""
    chosen = list(
        published_translations(translation.language)
        .filter(article__in=translation.article.related.all())
        .select_related("article")[:limit]
    )
    if chosen:
        return chosen
    query = " ".join([translation.title, *translation.tags[:5]])
    hits = article_search(query, language=translation.language, page_size=limit + 1).results
    keys = [hit.key for hit in hits if hit.key != translation.article.key][:limit]
    found = {
        t.article.key: t
        for t in published_translations(translation.language)
        .filter(article__key__in=keys)
        .select_related("article")
    }
    return [found[key] for key in keys if key in found]


def article_url(key: str, language: str) -> str:
    from django.utils import translation as i18n

    with i18n.override(language):
        return reverse("helpcenter:article", args=[key])


# ----------------------------------------------------------------------------
# Search
# ----------------------------------------------------------------------------

_synonym_cache: dict[str, tuple[float, list[list[str]]]] = {}


def synonym_groups(language: str | None) -> list[list[str]]:
    """Synonym groups that apply in `language` (cached in-process for a minute)."""
    cache_key = language or ""
    cached = _synonym_cache.get(cache_key)
    if cached is not None and time.monotonic() - cached[0] < SYNONYM_CACHE_SECONDS:
        return cached[1]
    groups = [
        group.term_list
        for group in SearchSynonym.objects.filter(Q(language="") | Q(language=cache_key))
    ]
    _synonym_cache[cache_key] = (time.monotonic(), groups)
    return groups


def forget_synonyms() -> None:
    _synonym_cache.clear()


@dataclass
class SearchHit:
    key: str
    language: str
    title: str
    title_html: SafeString
    category: str
    url: str
    snippet: SafeString


@dataclass
class SearchPage:
    query: str
    language: str
    count: int
    page: int
    page_size: int
    results: list[SearchHit] = field(default_factory=list)
    suggestion: str | None = None

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_rank(self) -> int:
        return (self.page - 1) * self.page_size + 1


def article_search(
    query: str,
    *,
    language: str,
    category: str | None = None,
    page: int = 1,
    page_size: int = 10,
) -> SearchPage:
    """Published articles in `language` matching what the reader typed, best first."""
    query = query[:MAX_QUERY_LENGTH]
    result = SearchPage(query=query, language=language, count=0, page=page, page_size=page_size)
    if not query.strip():
        return result
    sqs = SearchQuerySet().models(ArticleTranslation).filter(language=language)
    if category:
        sqs = sqs.filter(categories=category)
    sqs = sqs.auto_query(query)
    start = (page - 1) * page_size
    hits = list(sqs[start : start + page_size])
    result.count = sqs.count()
    result.suggestion = sqs.spelling_suggestion() if result.count < 3 else None
    terms = plan_search(query, language, synonym_groups(language)).highlight_terms
    result.results = [
        SearchHit(
            key=hit.key,
            language=hit.language,
            title=hit.title,
            title_html=mark_terms(hit.title, terms),
            category=hit.category,
            url=article_url(hit.key, hit.language),
            # The stored text is title, summary, tags, then the body: quote the body.
            snippet=build_snippet(hit.text.split("\n", 3)[-1], terms, fallback=hit.summary),
        )
        for hit in hits
    ]
    return result


def title_suggestions(query: str, *, language: str, limit: int = 8) -> list[dict]:
    """Article titles for the search box while the reader types."""
    page = article_search(query, language=language, page_size=limit)
    return [{"title": hit.title, "url": hit.url, "key": hit.key} for hit in page.results]


def search_log_top(*, language: str | None = None, limit: int = 20, misses_only: bool = False):
    """Most frequent searches (optionally only those that found nothing)."""
    from django.db.models import Count, Max

    logs = SearchLog.objects.all()
    if language:
        logs = logs.filter(language=language)
    if misses_only:
        logs = logs.filter(result_count=0)
    return (
        logs.values("query", "language")
        .annotate(times=Count("pk"), last=Max("created_at"), clicks=Count("clicked"))
        .order_by("-times", "-last")[:limit]
    )


def paginate(queryset, page_number, per_page: int | None = None):
    return Paginator(queryset, per_page or settings.HELPCENTER_PAGE_SIZE).get_page(page_number)
