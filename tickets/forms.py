"""Input shapes of the customer request pages.

The rules themselves live in `tickets.fields` (text and structured values)
and `tickets.services`; the request form runs the same field rules before
anything is stored, so a bad TXID is reported before an upload is decoded
and saved (see `views._store_uploads`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tickets import fields as field_rules
from tickets import networks
from tickets.models import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Attachment,
    FieldType,
    Rating,
    TicketCategory,
    TicketField,
    language_choices,
)
from tickets.selectors import ACTIVE
from tickets.services import NOT_ATTACHABLE, RATING_COMMENT_MAX_LENGTH

# What the file picker offers; the server decides by content, never by this list.
ACCEPTED_FILES = "image/png,image/jpeg,image/webp,image/gif,application/pdf,text/plain,.txt,.log"
# Values people copy from wallets and explorers: monospace, no autocorrect.
IDENTIFIER_TYPES = frozenset(
    {FieldType.ADDRESS, FieldType.MEMO, FieldType.TXID, FieldType.ORDER_ID, FieldType.UID}
)
_HELP_TEXTS = {
    FieldType.TXID: _("The transaction hash, or a link to it on a block explorer."),
    FieldType.ADDRESS: _("Copy and paste it from your wallet or withdrawal history."),
    FieldType.MEMO: _("Only for networks that use a memo or tag, such as XRP."),
    FieldType.AMOUNT: _("For example 0.5 or 1200."),
    FieldType.TRADING_PAIR: _("For example BTC/USDT."),
}


def attachment_limit() -> int:
    return settings.TICKET_ATTACHMENTS_PER_MESSAGE


def attachments_help_text() -> str:
    return _(
        "Screenshots (PNG, JPEG, WebP, GIF), PDF documents or text logs; "
        "up to %(count)d files of %(size)s MB each."
    ) % {"count": attachment_limit(), "size": settings.TICKET_ATTACHMENT_MAX_BYTES // 2**20}


def _too_many_files() -> ValidationError:
    # Same wording as tickets.services, so the message is translated once.
    return ValidationError(
        _("Attach at most %(count)d files to one message."),
        params={"count": attachment_limit()},
        code="too_many",
    )


def _clean_text_or_error(value: str, *, max_length: int, multiline: bool, required: bool) -> str:
    try:
        return field_rules.clean_text(
            value, max_length=max_length, multiline=multiline, required=required
        )
    except ValidationError as exc:
        raise forms.ValidationError(exc.error_list) from exc


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked later by `services.attachment_store`."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ACCEPTED_FILES)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in files if upload]


class PendingAttachmentsField(forms.ModelMultipleChoiceField):
    """Uploads stored by an earlier submission of the same form (the duplicate notice)."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Attachment) -> str:
        return f"{obj.original_name} ({filesizeformat(obj.size)})"


def _values(data: Any, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name, [])
    return list(value) if isinstance(value, list | tuple) else [value]


def _posted_uuids(values: Sequence[str]) -> list[uuid.UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed


class ServiceErrorsMixin:
    """Show a ValidationError raised by a service next to the inputs it names."""

    def field_name_for(self, key: str) -> str | None:
        return key if key in self.fields else None  # type: ignore[attr-defined]

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)  # type: ignore[attr-defined]
            return
        for key, errors in exc.error_dict.items():
            self.add_error(self.field_name_for(key), errors)  # type: ignore[attr-defined]


@dataclass
class CategoryGroup:
    """One category's structured inputs, rendered for every category and shown by JS."""

    category: TicketCategory
    fields: list[forms.BoundField]
    selected: bool


def structured_name(category: TicketCategory, key: str) -> str:
    """The input name of a category's field: unique across categories on one page."""
    return f"{category.slug}__{key}"


class RequestForm(ServiceErrorsMixin, forms.Form):
    """The "Submit a request" form: a category, its structured fields, text and files.

    Every active category's fields are part of the form (prefixed with the
    category slug) so they can all be rendered and switched without a round
    trip; only the chosen category's values are read and validated.
    """

    category = forms.ChoiceField(
        label=_("What is your request about?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what your request is about."),
            "invalid_choice": _("Choose one of the offered categories."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX_LENGTH,
        help_text=_("A short summary, e.g. “USDT withdrawal pending for 6 hours”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=BODY_MAX_LENGTH,
        help_text=_(
            "What happened, when, and what you already tried. "
            "Never include your password, 2FA codes, private keys or seed phrase."
        ),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = MultipleFileField(label=_("Attachments (optional)"))
    pending = PendingAttachmentsField(
        label=_("Files already uploaded"),
        queryset=Attachment.objects.none(),
        to_field_name="uuid",
        required=False,
        error_messages={"invalid_choice": NOT_ATTACHABLE, "invalid_pk_value": NOT_ATTACHABLE},
    )
    # Set by the buttons of the duplicate notice, never rendered as inputs.
    confirm_new = forms.BooleanField(required=False)
    add_to = forms.CharField(required=False, max_length=12)

    def __init__(
        self,
        *args: Any,
        user: User,
        categories: Sequence[TicketCategory],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.categories = {category.slug: category for category in categories}
        language = get_language()
        self.fields["category"].choices = [
            (category.slug, category.name_for(language)) for category in categories
        ]
        self.fields["attachments"].help_text = attachments_help_text()
        posted = _posted_uuids(_values(self.data, "pending")) if self.is_bound else []
        # Only what this submission carries: older abandoned uploads are not offered.
        self.fields["pending"].queryset = Attachment.objects.filter(
            uploaded_by=user, message__isnull=True, uuid__in=posted
        ).order_by("created_at", "pk")
        self._group_names: list[tuple[TicketCategory, list[str]]] = []
        for category in categories:
            names = []
            for ticket_field in category.form_fields.all():
                name = structured_name(category, ticket_field.key)
                self.fields[name] = _structured_field(ticket_field, language)
                names.append(name)
            self._group_names.append((category, names))

    @property
    def selected_slug(self) -> str:
        return str(self["category"].value() or "")

    @property
    def category_groups(self) -> list[CategoryGroup]:
        selected = self.selected_slug
        return [
            CategoryGroup(category, [self[name] for name in names], category.slug == selected)
            for category, names in self._group_names
            if names
        ]

    @property
    def has_category(self) -> bool:
        return self.selected_slug in self.categories

    def clean_category(self) -> TicketCategory:
        return self.categories[self.cleaned_data["category"]]

    def clean_subject(self) -> str:
        return _clean_text_or_error(
            self.cleaned_data["subject"],
            max_length=SUBJECT_MAX_LENGTH,
            multiline=False,
            required=True,
        )

    def clean_description(self) -> str:
        return _clean_text_or_error(
            self.cleaned_data["description"],
            max_length=BODY_MAX_LENGTH,
            multiline=True,
            required=True,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        category = data.get("category")
        if isinstance(category, TicketCategory):
            values = {
                ticket_field.key: data.get(structured_name(category, ticket_field.key)) or ""
                for ticket_field in category.form_fields.all()
            }
            try:
                field_rules.clean_fields(category.form_fields.all(), values)
            except ValidationError as exc:
                for key, errors in exc.error_dict.items():
                    self.add_error(self._structured_or_none(category, key), errors)
            # As typed: the service validates and normalises them again when it stores them.
            data["fields"] = values
        if len(data.get("attachments") or []) + len(data.get("pending") or []) > attachment_limit():
            self.add_error("attachments", _too_many_files())
        return data

    def _structured_or_none(self, category: TicketCategory, key: str) -> str | None:
        name = structured_name(category, key)
        return name if name in self.fields else None

    def field_name_for(self, key: str) -> str | None:
        category = self.cleaned_data.get("category") if hasattr(self, "cleaned_data") else None
        if key in {"subject", "description", "category", "attachments"}:
            return key
        if isinstance(category, TicketCategory):
            return self._structured_or_none(category, key)
        return None


def _structured_field(ticket_field: TicketField, language: str | None) -> forms.Field:
    field_type = ticket_field.field_type
    attrs: dict[str, Any] = {"data-field-type": field_type}
    if ticket_field.required:
        attrs["required"] = True
    if field_type == FieldType.COIN:
        widget: forms.Widget = forms.Select(
            attrs=attrs, choices=[("", _("Choose a coin")), *networks.coin_choices()]
        )
    elif field_type == FieldType.NETWORK:
        widget = forms.Select(
            attrs=attrs, choices=[("", _("Choose a network")), *networks.network_choices()]
        )
    else:
        attrs.update({"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"})
        if field_type in IDENTIFIER_TYPES:
            attrs["class"] = "mono"
        if field_type == FieldType.AMOUNT:
            attrs["inputmode"] = "decimal"
        widget = forms.TextInput(attrs=attrs)
    field = forms.CharField(
        label=ticket_field.label_for(language),
        # Required-ness is checked by tickets.fields, only for the chosen category.
        required=False,
        widget=widget,
        help_text=_HELP_TEXTS.get(field_type, ""),
    )
    field.ticket_field = ticket_field  # type: ignore[attr-defined]
    return field


class ReplyForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        required=False,
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(label=_("Attachments (optional)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help_text()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        files = data.get("attachments") or []
        if "body" in data:
            try:
                data["body"] = field_rules.clean_text(
                    data["body"], max_length=BODY_MAX_LENGTH, multiline=True, required=not files
                )
            except ValidationError as exc:
                self.add_error("body", exc.error_list)
        if len(files) > attachment_limit():
            self.add_error("attachments", _too_many_files())
        return data


class VersionForm(forms.Form):
    """The request version a page showed; a change since then is reported, not overwritten."""

    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class RatingForm(ServiceErrorsMixin, forms.Form):
    rating = forms.ChoiceField(
        label=_("How was the support you got?"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose good or bad.")},
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us? (optional)"),
        required=False,
        max_length=RATING_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DeflectionForm(forms.Form):
    """Posted by "This solved my problem" under a suggested article."""

    article = forms.SlugField(max_length=120)
    language = forms.ChoiceField(choices=language_choices)
    # A plain Field: CharField would refuse a NUL outright and lose the deflection.
    subject = forms.Field(required=False)
    category = forms.SlugField(required=False, max_length=60)

    def clean_subject(self) -> str:
        # Kept for reporting only: a subject the request form would refuse is dropped,
        # not a reason to lose the deflection.
        try:
            return field_rules.clean_text(
                self.cleaned_data["subject"] or "",
                max_length=BODY_MAX_LENGTH,
                multiline=False,
                required=False,
            )
        except ValidationError:
            return ""


STATUS_FILTERS = (
    ("", _("All")),
    (ACTIVE, _("Active")),
    ("waiting", _("Waiting on me")),
    ("solved", _("Solved")),
    ("closed", _("Closed")),
)


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTERS, required=False)
    q = forms.CharField(
        label=_("Search your requests"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Reference, subject or TXID")}
        ),
    )
