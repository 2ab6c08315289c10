"""Input shapes of the help-center editor console (HTML only; writes go through services)."""

from __future__ import annotations

import re
from datetime import datetime

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpcenter import selectors
from helpcenter.models import ArticleStatus, Category
from helpcenter.services import MAX_TAGS

MAX_BODY_LENGTH = 100_000
PREVIEW_MAX_LENGTH = MAX_BODY_LENGTH
_LIST_SEPARATORS = re.compile(r"[,，、\n]")


def split_list(value: str) -> list[str]:
    """Items of a comma-separated list (ASCII, full-width or ideographic commas, or lines)."""
    return list(dict.fromkeys(item.strip() for item in _LIST_SEPARATORS.split(value or "")))


def language_choices(blank_label=None) -> list[tuple[str, str]]:
    choices = list(settings.LANGUAGES)
    return [("", blank_label), *choices] if blank_label is not None else choices


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id else obj.name


# ----------------------------------------------------------------------------
# Articles
# ----------------------------------------------------------------------------


class ArticleFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("Any status")),
        *ArticleStatus.choices,
        (selectors.CONSOLE_STATUS_MISSING, _("Missing")),
    ]

    q = forms.CharField(label=_("Key or title"), required=False, max_length=200)
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("All categories"),
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=())
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.console_categories()
        self.fields["language"].choices = language_choices(_("Any language"))

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())


class ArticleCreateForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"),
        max_length=120,
        help_text=_(
            "Lowercase letters, digits and hyphens; it becomes the article's address "
            "and cannot be changed later."
        ),
    )
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.console_categories()

    def clean_key(self) -> str:
        return self.cleaned_data["key"].lower()


class ArticleSettingsForm(forms.Form):
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())
    position = forms.IntegerField(
        label=pgettext_lazy("sort order", "Order"),
        min_value=0,
        max_value=32767,
        help_text=_("Lower numbers come first."),
    )
    promoted = forms.BooleanField(label=_("Pinned in its category"), required=False)
    promoted_on_home = forms.BooleanField(label=_("Pinned on the home page"), required=False)
    related = forms.CharField(
        label=_("Related articles"),
        required=False,
        max_length=2000,
        help_text=_("Keys of other articles, separated by commas. Leave empty to use search."),
    )

    def __init__(self, *args, article=None, **kwargs):
        self.article = article
        if article is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "category": article.category_id,
                "position": article.position,
                "promoted": article.promoted,
                "promoted_on_home": article.promoted_on_home,
                "related": ", ".join(sorted(r.key for r in article.related.all())),
            }
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.console_categories()

    def clean_related(self) -> list:
        keys = [key.lower() for key in split_list(self.cleaned_data["related"]) if key]
        found = selectors.articles_by_keys(keys)
        unknown = [key for key in keys if key not in found]
        if unknown:
            raise forms.ValidationError(
                _("No article has the key: %(keys)s.") % {"keys": ", ".join(unknown)},
                code="unknown_article",
            )
        if self.article is not None and self.article.key in found:
            raise forms.ValidationError(
                _("An article cannot be related to itself."), code="self_related"
            )
        return [found[key] for key in keys]


class TranslationForm(forms.Form):
    """One language of an article, as typed in one half of the editor.

    `updated_at` is the version the editor started from; the save is refused when the
    translation changed since (see services.translation_save_unless_stale). After such a
    refusal `overwrite_version` carries the newer version the editor has been told about:
    ticking `overwrite` saves over that version, and only that one.
    """

    ACTIONS = {
        "save": ArticleStatus.DRAFT,
        "publish": ArticleStatus.PUBLISHED,
        "unpublish": ArticleStatus.DRAFT,
        "archive": ArticleStatus.ARCHIVED,
    }
    # overwrite_version when the newer "version" is that the translation no longer exists.
    NO_VERSION = "none"

    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or two sentences shown in lists and search results."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separated by commas; search also finds articles by their tags."),
    )
    body = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        strip=False,
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "true"}),
        error_messages={
            "max_length": _("The body is limited to %(limit_value)d characters."),
        },
    )
    note = forms.CharField(
        label=_("Note for the revision history (optional)"), required=False, max_length=200
    )
    updated_at = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    overwrite_version = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    overwrite = forms.BooleanField(
        label=_("Replace the newer version with mine"),
        required=False,
    )
    # Sent by the button that submitted the form (Save draft, Publish, Unpublish, Archive).
    action = forms.ChoiceField(
        choices=[(name, name) for name in ACTIONS],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Use one of the buttons: save, publish, unpublish or archive."),
            "invalid_choice": _("Use one of the buttons: save, publish, unpublish or archive."),
        },
    )

    def __init__(self, *args, language: str, translation=None, **kwargs):
        self.language = language
        self.translation = translation
        self.conflict = None
        self.conflicted = False
        kwargs.setdefault("prefix", language)
        if translation is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = {
                "title": translation.title,
                "summary": translation.summary,
                "tags": ", ".join(translation.tags),
                "body": translation.body,
                "updated_at": translation.updated_at.isoformat(),
            }
        super().__init__(*args, **kwargs)
        for name in ("title", "summary", "tags", "body"):
            self.fields[name].widget.attrs["lang"] = language

    def _parse_version(self, name: str) -> datetime | None:
        value = self.cleaned_data.get(name) or ""
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(
                _("The form was damaged. Reload the page and try again."), code="bad_version"
            ) from None

    def clean_tags(self) -> list[str]:
        tags = [tag for tag in split_list(self.cleaned_data["tags"]) if tag]
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(
                _("At most %(count)d tags.") % {"count": MAX_TAGS}, code="too_many_tags"
            )
        return tags

    def clean(self):
        cleaned = super().clean()
        cleaned["seen_updated_at"] = self._parse_version("updated_at")
        overwrite_version = cleaned.get("overwrite_version")
        if cleaned.get("overwrite") and overwrite_version:
            cleaned["seen_updated_at"] = (
                None
                if overwrite_version == self.NO_VERSION
                else self._parse_version("overwrite_version")
            )
        return cleaned

    @property
    def status(self) -> str:
        return self.ACTIONS[self.cleaned_data["action"]]

    def mark_conflict(self, current) -> None:
        """Keep what the editor typed, explain the refusal, and offer to overwrite `current`."""
        self.conflict, self.conflicted = current, True
        data = self.data.copy()
        data[self.add_prefix("overwrite_version")] = (
            current.updated_at.isoformat() if current else self.NO_VERSION
        )
        data.pop(self.add_prefix("overwrite"), None)
        self.data = data
        self.add_error(
            None,
            forms.ValidationError(
                _(
                    "Someone else saved this translation after you opened it, so nothing was "
                    "saved. Your text is still below: compare it with the newer version, then "
                    "save again with “Replace the newer version with mine” ticked, or reload "
                    "the page to start from their version."
                ),
                code="stale",
            ),
        )


class PreviewForm(forms.Form):
    body = forms.CharField(
        required=False,
        strip=False,
        max_length=PREVIEW_MAX_LENGTH,
        error_messages={
            "max_length": _("The body is limited to %(limit_value)d characters."),
        },
    )


class ImageUploadForm(forms.Form):
    image = forms.FileField(
        label=_("Image"),
        error_messages={"required": _("Choose an image."), "empty": _("The file is empty.")},
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    alt = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        max_length=150,
        help_text=_("What the image shows, for readers who cannot see it."),
    )

    def clean_alt(self) -> str:
        # The text goes between "![" and "]": brackets and line breaks would break the Markdown.
        return " ".join(re.sub(r"[\[\]()\\]", " ", self.cleaned_data["alt"]).split())


# ----------------------------------------------------------------------------
# Feedback, search log
# ----------------------------------------------------------------------------


class FeedbackFilterForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False, choices=())
    article = forms.SlugField(label=_("Article key"), required=False, max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(_("Any language"))


class SearchLogFilterForm(forms.Form):
    PERIODS = [("7", _("Last 7 days")), ("30", _("Last 30 days")), ("all", _("All time"))]

    language = forms.ChoiceField(label=_("Language"), required=False, choices=())
    period = forms.ChoiceField(label=_("Period"), required=False, choices=PERIODS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(_("Any language"))


# ----------------------------------------------------------------------------
# Categories, synonyms
# ----------------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    """Input shape only: views save through services.category_save."""

    class Meta:
        model = Category
        fields = [
            "slug",
            "parent",
            "icon",
            "position",
            "name_zh_hans",
            "description_zh_hans",
            "name_en",
            "description_en",
            "name_ja",
            "description_ja",
            "name_ko",
            "description_ko",
        ]
        field_classes = {"parent": CategoryChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Category.objects.top_level()
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("None (top-level category)")
        self.fields["parent"].help_text = _("Choose a category to make this one of its sections.")
        for code, suffix in (("zh-hans", "zh_hans"), ("en", "en"), ("ja", "ja"), ("ko", "ko")):
            for name in (f"name_{suffix}", f"description_{suffix}"):
                self.fields[name].widget.attrs["lang"] = code


class SynonymForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=(),
        help_text=_("Leave empty to apply in every language."),
    )
    terms = forms.CharField(
        label=_("Terms"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Two or more words or phrases, one per line or separated by commas."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(_("All languages"))
