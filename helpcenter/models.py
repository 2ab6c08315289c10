"""The help center's content model."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
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


class CategoryQuerySet(models.QuerySet):
    def top_level(self) -> CategoryQuerySet:
        return self.filter(parent__isnull=True)


class Category(models.Model):
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

    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_ja = models.CharField(_("name (Japanese)"), max_length=120)
    name_ko = models.CharField(_("name (Korean)"), max_length=120)
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

    def _localized(self, field: str, language: str | None = None) -> str:
        suffix = LANGUAGE_SUFFIXES.get(language or get_language() or "")
        value = getattr(self, f"{field}_{suffix}", "") if suffix else ""
        return value or getattr(self, f"{field}_{LANGUAGE_SUFFIXES[FALLBACK_LANGUAGE]}")

    @property
    def name(self) -> str:
        """The name in the active language (English when missing)."""
        return self._localized("name")

    @property
    def description(self) -> str:
        return self._localized("description")
