"""Reads of help-center content; views and the API never touch the ORM or haystack directly."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
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
    """Editors' choice of related articles, else the closest articles by search.

    The search-based choice is cached per version of the translation: it costs
    a search, and an article page should not.
    """
    # Two small queries: SQLite plans an `article__in=<related subquery>` join as a
    # scan of every published translation.
    chosen_ids = list(translation.article.related.values_list("pk", flat=True)[:limit])
    if chosen_ids:
        return list(
            published_translations(translation.language)
            .filter(article_id__in=chosen_ids)
            .select_related("article")
            .only("title", "language", "article__key")
        )
    cache_key = f"helpcenter:related:{translation.pk}:{translation.updated_at.timestamp()}"
    keys = cache.get(cache_key)
    if keys is None:
        query = " ".join([translation.title, *translation.tags[:5]])
        hits = article_search(query, language=translation.language, page_size=limit + 1).results
        keys = [hit.key for hit in hits if hit.key != translation.article.key][:limit]
        cache.set(cache_key, keys, timeout=60 * 60)
    found = {
        t.article.key: t
        for t in published_translations(translation.language)
        .filter(article__key__in=keys)
        .select_related("article")
        .only("title", "language", "article__key")
    }
    return [found[key] for key in keys if key in found]


def article_url(key: str, language: str) -> str:
    from django.utils import translation as i18n

    with i18n.override(language):
        return reverse("helpcenter:article", args=[key])


# ----------------------------------------------------------------------------
# Search
# ----------------------------------------------------------------------------

_synonym_cache: dict[str, tuple[object, list[list[str]]]] = {}
SYNONYM_VERSION_KEY = "helpcenter:synonyms:version"


def synonym_groups(language: str | None) -> list[list[str]]:
    """Synonym groups that apply in `language`.

    Kept in each process and reloaded when an editor changes a group in any
    process (a version number in the shared cache says when).
    """
    cache_key = language or ""
    version = cache.get(SYNONYM_VERSION_KEY)
    cached = _synonym_cache.get(cache_key)
    if cached is not None and version is not None and cached[0] == version:
        return cached[1]
    if version is None:
        version = time.time_ns()
        cache.add(SYNONYM_VERSION_KEY, version, timeout=None)
        version = cache.get(SYNONYM_VERSION_KEY, version)
    groups = [
        group.term_list
        for group in SearchSynonym.objects.filter(Q(language="") | Q(language=cache_key))
    ]
    _synonym_cache[cache_key] = (version, groups)
    return groups


def forget_synonyms() -> None:
    """Make every process reload the synonym groups on its next search."""
    _synonym_cache.clear()
    cache.set(SYNONYM_VERSION_KEY, time.time_ns(), timeout=None)


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

    # The same paging interface as a Django Page, for helpcenter.paging and the
    # pagination template.
    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def number(self) -> int:
        return self.page

    def has_next(self) -> bool:
        return self.page < self.num_pages

    def has_previous(self) -> bool:
        return self.page > 1

    def has_other_pages(self) -> bool:
        return self.num_pages > 1

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


def paginate(queryset, page_number, per_page: int | None = None):
    return Paginator(queryset, per_page or settings.HELPCENTER_PAGE_SIZE).get_page(page_number)


# ----------------------------------------------------------------------------
# -- console --
# Reads of the editor console (helpcenter.console_views). The functions above are unchanged.
# ----------------------------------------------------------------------------

CONSOLE_STATUS_MISSING = "missing"
# Listing columns of a translation: everything but the (possibly long) body and its HTML.
_TRANSLATION_LIST_FIELDS = (
    "id",
    "article_id",
    "language",
    "title",
    "status",
    "updated_at",
    "helpful_yes",
    "helpful_no",
)


def console_articles(
    *, query: str = "", category: Category | None = None, language: str = "", status: str = ""
) -> QuerySet[Article]:
    """Every article (any status) for the console list, most recently edited first.

    `query` matches the key or a title in any language. `language` with `status` keeps
    articles whose translation in that language has that status ("missing": has none);
    `status` alone keeps articles with a translation in that status (or missing a language).
    Translations are prefetched without their bodies: the page costs the same few queries
    whatever its length.
    """
    from django.db.models import Count, Exists, F, Max, OuterRef

    articles = Article.objects.all()
    translations = ArticleTranslation.objects.filter(article=OuterRef("pk"))
    if query:
        articles = articles.filter(
            Q(key__icontains=query) | Exists(translations.filter(title__icontains=query))
        )
    if category is not None:
        articles = articles.filter(Q(category=category) | Q(category__parent=category))
    if language:
        in_language = translations.filter(language=language)
        if status == CONSOLE_STATUS_MISSING:
            articles = articles.filter(~Exists(in_language))
        elif status:
            articles = articles.filter(Exists(in_language.filter(status=status)))
        else:
            articles = articles.filter(Exists(in_language))
    elif status == CONSOLE_STATUS_MISSING:
        articles = articles.annotate(language_count=Count("translations", distinct=True)).filter(
            language_count__lt=len(LANGUAGE_CODES)
        )
    elif status:
        articles = articles.filter(Exists(translations.filter(status=status)))
    return (
        articles.select_related("category__parent")
        .prefetch_related(
            Prefetch(
                "translations",
                queryset=ArticleTranslation.objects.only(*_TRANSLATION_LIST_FIELDS),
            )
        )
        .annotate(last_updated=Max("translations__updated_at"))
        .order_by(F("last_updated").desc(nulls_last=True), "key")
    )


@dataclass
class ConsoleArticleRow:
    article: Article
    # One (language, translation or None) per portal language, in portal order.
    cells: list[tuple[str, ArticleTranslation | None]]
    updated_at: object
    helpful_yes: int
    helpful_no: int


def console_article_rows(articles) -> list[ConsoleArticleRow]:
    """Rows of the console list from articles of `console_articles` (no further queries)."""
    rows = []
    for article in articles:
        by_language = {t.language: t for t in article.translations.all()}
        rows.append(
            ConsoleArticleRow(
                article=article,
                cells=[(code, by_language.get(code)) for code in LANGUAGE_CODES],
                updated_at=article.last_updated or article.created_at,
                helpful_yes=sum(t.helpful_yes for t in by_language.values()),
                helpful_no=sum(t.helpful_no for t in by_language.values()),
            )
        )
    return rows


def console_article_get(key: str) -> Article | None:
    """An article in any state, with what the editor shows (category, related keys)."""
    return (
        Article.objects.select_related("category__parent")
        .prefetch_related(Prefetch("related", queryset=Article.objects.only("id", "key")))
        .filter(key=key)
        .first()
    )


def console_translations(article: Article) -> dict[str, ArticleTranslation]:
    """All translations of `article` (any status) by language."""
    return {t.language: t for t in article.translations.all()}


def articles_by_keys(keys: list[str]) -> dict[str, Article]:
    return {a.key: a for a in Article.objects.filter(key__in=keys)}


def console_categories() -> QuerySet[Category]:
    """Categories for choosers, each with its parent (for "Parent › Section" labels)."""
    from django.db.models import F
    from django.db.models.functions import Coalesce

    # Tree order: each top-level category, then its sections.
    return Category.objects.select_related("parent").order_by(
        Coalesce("parent__position", "position"),
        Coalesce("parent__slug", "slug"),
        F("parent").asc(nulls_first=True),
        "position",
        "slug",
    )


def console_translation_get(key: str, language: str) -> ArticleTranslation | None:
    """A translation in any status, with its article."""
    return (
        ArticleTranslation.objects.select_related("article")
        .filter(article__key=key, language=language)
        .first()
    )


def translation_revisions(translation: ArticleTranslation):
    """Revisions of a translation, newest first, with their editors."""
    from helpcenter.models import ArticleRevision

    return ArticleRevision.objects.filter(translation=translation).select_related("editor")


def latest_revision(translation: ArticleTranslation):
    return translation_revisions(translation).first()


@dataclass
class DiffLine:
    kind: str  # "equal", "insert", "delete" or "skip" (unchanged lines left out)
    text: str
    old_number: int | None = None
    new_number: int | None = None


@dataclass
class FieldDiff:
    name: str
    changed: bool
    lines: list[DiffLine]


DIFF_CONTEXT_LINES = 3


def text_diff(old: str, new: str, *, context: int = DIFF_CONTEXT_LINES) -> list[DiffLine]:
    """A line diff of two texts; unchanged runs longer than 2×`context` are folded.

    The lines are plain text: templates escape them like any other value.
    """
    import difflib

    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            numbered = [
                DiffLine("equal", old_lines[i], i + 1, j1 + (i - i1) + 1) for i in range(i1, i2)
            ]
            head = numbered[:context] if index > 0 else []
            tail = numbered[-context:] if index < len(opcodes) - 1 else []
            if len(numbered) <= len(head) + len(tail) or len(opcodes) == 1:
                lines.extend(numbered)
            else:
                lines.extend(head)
                lines.append(DiffLine("skip", ""))
                lines.extend(tail)
            continue
        lines.extend(DiffLine("delete", old_lines[i], old_number=i + 1) for i in range(i1, i2))
        lines.extend(DiffLine("insert", new_lines[j], new_number=j + 1) for j in range(j1, j2))
    return lines


def revision_compare(revision) -> list[FieldDiff]:
    """What differs between `revision` and the current text of its translation, per field."""
    current = revision.translation
    diffs = []
    for name in ("title", "summary", "tags", "body"):
        old, new = getattr(revision, name), getattr(current, name)
        if name == "tags":
            old, new = "\n".join(old or []), "\n".join(new or [])
        diffs.append(FieldDiff(name=name, changed=old != new, lines=text_diff(old, new)))
    return diffs


def votes_with_comments(*, language: str = "", key: str = "") -> QuerySet:
    """Readers' "what was missing" comments, newest first."""
    from helpcenter.models import ArticleVote

    votes = ArticleVote.objects.exclude(comment="").select_related("translation__article")
    if language:
        votes = votes.filter(translation__language=language)
    if key:
        votes = votes.filter(translation__article__key=key)
    return votes.order_by("-created_at", "-pk")


def translation_feedback_counts(*, language: str = "", key: str = "") -> QuerySet:
    """Translations that have votes, most "no" answers first."""
    translations = (
        ArticleTranslation.objects.filter(Q(helpful_yes__gt=0) | Q(helpful_no__gt=0))
        .select_related("article")
        .only(*_TRANSLATION_LIST_FIELDS, "article__key")
    )
    if language:
        translations = translations.filter(language=language)
    if key:
        translations = translations.filter(article__key=key)
    return translations.order_by("-helpful_no", "-helpful_yes", "article__key", "language")


def search_log_summary(*, language: str = "", since=None, misses_only: bool = False) -> QuerySet:
    """Most frequent searches since `since` (optionally only those that found nothing).

    Rows are dicts: query, language, times, last, clicks (searches followed by a click).
    """
    from django.db.models import Count, Max

    logs = SearchLog.objects.all()
    if language:
        logs = logs.filter(language=language)
    if since is not None:
        logs = logs.filter(created_at__gte=since)
    if misses_only:
        logs = logs.filter(result_count=0)
    return (
        logs.values("query", "language")
        .annotate(times=Count("pk"), last=Max("created_at"), clicks=Count("clicked"))
        .order_by("-times", "-last", "query")
    )


def synonym_list() -> QuerySet[SearchSynonym]:
    return SearchSynonym.objects.order_by("language", "pk")
