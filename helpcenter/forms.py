"""Input shapes of the public help-center pages."""

from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from helpcenter.models import Category

MAX_QUERY_LENGTH = 200


def clean_query_text(value: str) -> str:
    """Normalise a search query; refuse binary junk with a clear message."""
    if any(
        unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} and char not in "\t\n"
        for char in value
    ):
        raise forms.ValidationError(
            _("The search contains characters that cannot be searched."), code="binary"
        )
    return " ".join(unicodedata.normalize("NFKC", value).split())


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the Help Center"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": _("Searches are limited to %(limit_value)d characters."),
        },
    )
    category = forms.SlugField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=500)

    def clean_q(self) -> str:
        return clean_query_text(self.cleaned_data["q"])

    def clean_category(self) -> str:
        slug = self.cleaned_data["category"]
        if slug and not Category.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("There is no such category."), code="unknown_category")
        return slug


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("What was missing? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
