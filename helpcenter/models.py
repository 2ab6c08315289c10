"""The help center's content model.

An article is a stable `key` plus one translation per language; every save of
a translation keeps a revision. Writes go through `helpcenter.services`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# Icons shipped in static/img/icons.svg; editors pick one per category.
CATEGORY_ICONS = [
    ("wallet", _("Wallet")),
    ("deposit", _("Deposit")),
    ("withdraw", _("Withdrawal")),
    ("shield", _("Security")),
    ("id-card", _("Identity verification")),
    ("chart", _("Trading")),
    ("futures", _("Futures")),
    ("people", _("P2P")),
    ("gift", _("Rewards")),
    ("question", _("Other")),
]

# Column suffix per language code ("zh-hans" -> "zh_hans").
LANGUAGE_SUFFIXES = {"zh-hans": "zh_hans", "en": "en", "ja": "ja", "ko": "ko"}
FALLBACK_LANGUAGE = "en"


class LocalizedMixin:
    """`<field>_<language suffix>` columns read in a given language, English as fallback."""

    def _localized(self, field: str, language: str | None = None) -> str:
        suffix = LANGUAGE_SUFFIXES.get(language or get_language() or "")
        value = getattr(self, f"{field}_{suffix}", "") if suffix else ""
        return value or getattr(self, f"{field}_{LANGUAGE_SUFFIXES[FALLBACK_LANGUAGE]}")


class CategoryQuerySet(models.QuerySet):
    def top_level(self) -> CategoryQuerySet:
        return self.filter(parent__isnull=True)


class Category(LocalizedMixin, models.Model):
    """A help-center category (top level) or section (its child): two levels at most."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sections",
        verbose_name=_("parent category"),
    )
    icon = models.CharField(_("icon"), max_length=20, choices=CATEGORY_ICONS, default="question")
    position = models.PositiveSmallIntegerField(pgettext_lazy("sort order", "order"), default=0)

    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120, blank=True)
    # English is required: it is what the other languages fall back to.
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_ja = models.CharField(_("name (Japanese)"), max_length=120, blank=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=120, blank=True)
    description_zh_hans = models.CharField(
        _("description (Simplified Chinese)"), max_length=300, blank=True
    )
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    description_ja = models.CharField(_("description (Japanese)"), max_length=300, blank=True)
    description_ko = models.CharField(_("description (Korean)"), max_length=300, blank=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own parent.")})
            if self.parent.parent_id is not None:
                raise ValidationError(
                    {
                        "parent": _(
                            "Sections cannot have sections of their own (two levels at most)."
                        )
                    }
                )
            if self.pk and self.sections.exists():
                raise ValidationError(
                    {"parent": _("A category with sections cannot become a section.")}
                )

    @property
    def name(self) -> str:
        """The name in the active language (English when missing)."""
        return self._localized("name")

    @property
    def description(self) -> str:
        return self._localized("description")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(models.Model):
    """What all translations of one article share: key, category, promotion, related articles."""

    key = models.SlugField(_("key"), max_length=120, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="articles", verbose_name=_("category")
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("sort order", "order"), default=0)
    promoted = models.BooleanField(
        _("pinned in its category"), default=False, help_text=_("Shown first on its category page.")
    )
    promoted_on_home = models.BooleanField(_("pinned on the home page"), default=False)
    related = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="+",
        verbose_name=_("related articles"),
        help_text=_("Chosen by editors; when empty, related articles come from search."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        permissions = [("edit_helpcenter", _("Can edit the help center"))]

    def __str__(self) -> str:
        return self.key


class ArticleTranslationQuerySet(models.QuerySet):
    def published(self) -> ArticleTranslationQuerySet:
        return self.filter(status=ArticleStatus.PUBLISHED)


class ArticleTranslation(models.Model):
    """One language version of an article: what readers see and search finds."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="translations", verbose_name=_("article")
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    # Rendered and sanitised from `body` by the service on every save.
    body_html = models.TextField(editable=False, blank=True)
    toc = models.JSONField(editable=False, default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus, default=ArticleStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    helpful_yes = models.PositiveIntegerField(default=0, editable=False)
    helpful_no = models.PositiveIntegerField(default=0, editable=False)

    objects = ArticleTranslationQuerySet.as_manager()

    class Meta:
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language"], name="one_translation_per_language"
            )
        ]
        indexes = [
            models.Index(fields=["language", "status", "-updated_at"], name="translation_listing")
        ]

    def __str__(self) -> str:
        return f"{self.article.key} [{self.language}]"

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """A snapshot taken on every save of a translation (who, when, what changed)."""

    translation = models.ForeignKey(
        ArticleTranslation, on_delete=models.CASCADE, related_name="revisions"
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=400, blank=True)
    body = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ArticleStatus)
    changed_fields = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")

    def __str__(self) -> str:
        return f"{self.translation} @ {self.created_at:%Y-%m-%d %H:%M}"


class ArticleVote(models.Model):
    """A reader's "Was this helpful?" answer: once per user, or per visitor cookie."""

    translation = models.ForeignKey(
        ArticleTranslation, on_delete=models.CASCADE, related_name="votes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visitor = models.CharField(max_length=64, blank=True)
    helpful = models.BooleanField()
    comment = models.TextField(_("what was missing"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation", "user"],
                condition=models.Q(user__isnull=False),
                name="one_vote_per_user",
            ),
            models.UniqueConstraint(
                fields=["translation", "visitor"],
                condition=~models.Q(visitor=""),
                name="one_vote_per_visitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.translation_id}: {'yes' if self.helpful else 'no'}"


def _image_name(instance: ArticleImage, filename: str) -> str:
    # Unguessable and free of whatever the uploader called the file.
    return f"helpcenter/images/{secrets.token_urlsafe(18)}.{instance.format_extension}"


class ArticleImage(models.Model):
    """An image uploaded by an editor, verified and re-encoded before it is stored."""

    file = models.FileField(upload_to=_image_name, max_length=200)
    format_extension = models.CharField(max_length=8, default="png")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]


class SearchSynonym(models.Model):
    """Words that mean the same to readers (提现 = 提币); applied when searching."""

    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Leave empty to apply in every language."),
    )
    terms = models.TextField(
        _("terms"),
        help_text=_("Two or more words or phrases, one per line or separated by commas."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "pk"]
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")

    def __str__(self) -> str:
        return " = ".join(self.term_list)

    @property
    def term_list(self) -> list[str]:
        raw = self.terms.replace("，", ",").replace("\n", ",")
        return list(dict.fromkeys(term.strip() for term in raw.split(",") if term.strip()))

    def clean(self) -> None:
        super().clean()
        if len(self.term_list) < 2:
            raise ValidationError({"terms": _("A synonym group needs at least two terms.")})


class SearchLog(models.Model):
    """One search as typed by a reader, with how many results it had and what was opened."""

    query = models.CharField(max_length=200)
    language = models.CharField(max_length=10, db_index=True)
    result_count = models.PositiveIntegerField()
    clicked = models.ForeignKey(
        ArticleTranslation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["language", "result_count", "created_at"], name="search_log_misses"
            )
        ]

    def __str__(self) -> str:
        return self.query
