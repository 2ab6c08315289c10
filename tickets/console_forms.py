"""Input shapes of the request console (HTML only; every write goes through tickets.services).

The forms check shape (a known choice, a number, a reference); the services
check meaning (legal transition, valid TXID for the network, current
version), and their ValidationErrors are shown on the same forms.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.caching import ENTRY_SECONDS, auth_version
from accounts.models import User
from tickets import networks
from tickets.lifecycle import Status
from tickets.models import (
    REFERENCE_RE,
    FieldType,
    Priority,
    Team,
    Ticket,
    TicketCategory,
    TicketField,
)
from tickets.selectors import ACTIVE, InboxSort, InboxView, inbox_default_sort

PAGE_SIZES = (25, 50, 100)
BULK_LIMIT = 100


def agents() -> QuerySet[User]:
    """Active users granted `tickets.work_tickets` through a role group or directly.

    Two indexed lookups, no scan of the user table (customers far outnumber
    agents). A superuser outside every role is not listed.
    """
    grants = Permission.objects.filter(codename="work_tickets", content_type__app_label="tickets")
    via_group = User.groups.through.objects.filter(group__permissions__in=grants)
    via_user = User.user_permissions.through.objects.filter(permission__in=grants)
    # One set of keys (a UNION), not an OR of two conditions: PostgreSQL serves
    # an OR of subqueries by scanning every user.
    keys = via_group.values("user_id").union(via_user.values("user_id"))
    return User.objects.filter(is_active=True, pk__in=keys).order_by("display_name", "email")


def agent_choices() -> list[tuple[int, str]]:
    """The pk and name of each of `agents()`, as the inbox's assignee lists offer them.

    Kept in the cache until a user, group or permission changes
    (`accounts.caching`): the inbox shows the list on every page.
    """
    key = f"tickets:agent-choices:{auth_version()}"
    choices = cache.get(key)
    if choices is None:
        choices = [(user.pk, user.get_full_name()) for user in agents()]
        cache.set(key, choices, ENTRY_SECONDS)
    return choices


def offer_agents(field: forms.ModelChoiceField, choices: list[tuple[int, str]]) -> None:
    """Offer the agents of `agent_choices()` in `field` and accept exactly those."""
    field.queryset = User.objects.filter(pk__in=[pk for pk, _name in choices])
    field.choices = [("", field.empty_label), *choices]


def offer(field: forms.ModelChoiceField, objects: Iterable[Model]) -> None:
    """Offer already fetched `objects` in `field`, which then renders without a query.

    A chosen value is still looked up in the field's queryset.
    """
    field.choices = [
        ("", field.empty_label),
        *((obj.pk, field.label_from_instance(obj)) for obj in objects),
    ]


def assignable_agents(ticket: Ticket, user: User) -> QuerySet[User]:
    """Who the request may be given to: its team's agents (any agent while it has no team),
    plus its current assignee and the asking agent."""
    candidates = agents()
    if ticket.team_id is None:
        return candidates
    return candidates.filter(
        Q(ticket_team_memberships__team_id=ticket.team_id)
        | Q(pk=ticket.assignee_id)
        | Q(pk=user.pk)
    ).distinct()


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


def _blank(label) -> list[tuple[str, str]]:
    return [("", label)]


# Inbox --------------------------------------------------------------------------------


class InboxFilterForm(forms.Form):
    """The inbox's view, filters, search, sort and page size (a GET form)."""

    view = forms.ChoiceField(choices=InboxView.choices, required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Reference, TXID, address, order ID, UID, email or words in the subject"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=())
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=_("Any team")
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=TicketCategory.objects.all(),
        required=False,
        empty_label=_("Any category"),
    )
    assignee = AgentChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=())
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=InboxSort.choices)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        empty_value=PAGE_SIZES[0],
        choices=[(size, str(size)) for size in PAGE_SIZES],
    )

    def __init__(
        self,
        *args,
        agent_list: list[tuple[int, str]] | None = None,
        teams: list[Team] | None = None,
        categories: list[TicketCategory] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get("sort"):
            # The sort list shows the order in effect, the view's own when none was
            # chosen: "Apply" must not quietly re-sort "at risk" by priority.
            self.data = self.data.copy()
            self.data["sort"] = inbox_default_sort(self.data.get("view", ""))
        # The inbox has fetched the teams and categories already (its rows name them).
        if teams is not None:
            offer(self.fields["team"], teams)
        if categories is not None:
            offer(self.fields["category"], categories)
        self.fields["status"].choices = [
            *_blank(_("Any status")),
            (ACTIVE, _("Active (new, open or waiting)")),
            *Status.choices,
        ]
        self.fields["priority"].choices = [*_blank(_("Any priority")), *Priority.choices]
        self.fields["language"].choices = [*_blank(_("Any language")), *settings.LANGUAGES]
        if agent_list is None:
            self.fields["assignee"].queryset = agents()
        else:
            offer_agents(self.fields["assignee"], agent_list)

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or InboxView.MINE


class ReferencesField(forms.Field):
    """Several request references, as the inbox's row checkboxes post them."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one request."),
        "invalid": _("“%(value)s” is not a request reference."),
        "too_many": _("Select at most %(limit)d requests at once."),
    }

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return list(dict.fromkeys(str(item).strip().upper() for item in value if item))

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > BULK_LIMIT:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": BULK_LIMIT}
            )
        for reference in value:
            if not REFERENCE_RE.fullmatch(reference):
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": reference}
                )


class BulkForm(forms.Form):
    ASSIGN_TO_ME = "assign_to_me"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    STATUS = "status"

    tickets = ReferencesField()
    action = forms.ChoiceField(
        choices=[
            (ASSIGN_TO_ME, _("Assign to me")),
            (ASSIGN, _("Assign")),
            (UNASSIGN, _("Unassign")),
            (STATUS, _("Change status")),
        ]
    )
    assignee = AgentChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Choose an agent"),
    )
    status = forms.ChoiceField(label=_("New status"), required=False, choices=())

    def __init__(self, *args, agent_list: list[tuple[int, str]] | None = None, **kwargs):
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        if agent_list is None:
            self.fields["assignee"].queryset = agents()
        else:
            offer_agents(self.fields["assignee"], agent_list)
        self.fields["status"].choices = [*_blank(_("Choose a status")), *Status.choices]

    def clean(self):
        data = super().clean()
        if data.get("action") == self.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("Choose the agent to assign the requests to."))
        if data.get("action") == self.STATUS and not data.get("status"):
            self.add_error("status", _("Choose the new status."))
        return data


# Workspace ----------------------------------------------------------------------------


class VersionedForm(forms.Form):
    """A change to the request, made against the version the agent's page showed."""

    form_id = "change"
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.form_id}_%s")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ReplyForm(forms.Form):
    PUBLIC = "public"
    INTERNAL = "internal"

    mode = forms.ChoiceField(
        label=_("Reply type"),
        choices=[
            (PUBLIC, _("Public reply")),
            (INTERNAL, _("Internal note")),
        ],
        initial=PUBLIC,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _(
            "Up to %(count)d files (images, PDF or text), %(size)d MB each."
        ) % {
            "count": settings.TICKET_ATTACHMENTS_PER_MESSAGE,
            "size": settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }

    @property
    def is_internal(self) -> bool:
        return self.cleaned_data.get("mode") == self.INTERNAL

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
        if len(files) > limit:
            raise forms.ValidationError(
                _("Attach at most %(count)d files to one message."), params={"count": limit}
            )
        for upload in files:
            if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
                raise forms.ValidationError(
                    _("“%(name)s” is larger than %(size)d MB."),
                    params={
                        "name": upload.name,
                        "size": settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024),
                    },
                )
        return files

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments"):
            self.add_error("body", _("Write a message or attach a file."))
        return data


class StatusForm(VersionedForm):
    form_id = "status"
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class PriorityForm(VersionedForm):
    form_id = "priority"
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=Priority.choices)


class AssignForm(VersionedForm):
    form_id = "assign"
    assignee = AgentChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Unassigned"),
    )
    to_me = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, ticket: Ticket, user: User, **kwargs):
        kwargs.setdefault("initial", {"assignee": ticket.assignee_id})
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_agents(ticket, user)


class TeamForm(VersionedForm):
    form_id = "team"
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.all(),
        required=False,
        empty_label=_("No team (shared triage queue)"),
    )


class CategoryForm(VersionedForm):
    form_id = "category"
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=TicketCategory.objects.filter(is_active=True)
    )


class FieldsForm(VersionedForm):
    """The request's structured details, one input per field of its category.

    Inputs are named `field_<key>`, so no field key can collide with `version`.
    Values are validated by `services.ticket_update_fields`.
    """

    form_id = "fields"

    def __init__(self, *args, form_fields: list[TicketField], values: dict, **kwargs):
        kwargs.setdefault(
            "initial", {self.input_name(field): values.get(field.key, "") for field in form_fields}
        )
        super().__init__(*args, **kwargs)
        self.form_fields = form_fields
        for field in form_fields:
            self.fields[self.input_name(field)] = self._input(field)

    @staticmethod
    def input_name(field: TicketField) -> str:
        return f"field_{field.key}"

    @staticmethod
    def _input(field: TicketField) -> forms.Field:
        label = field.label_for(None)
        widget = None
        if field.field_type in (FieldType.COIN, FieldType.NETWORK):
            # A list to pick from; the service still checks (and normalises) the value.
            choices = (
                networks.coin_choices()
                if field.field_type == FieldType.COIN
                else networks.network_choices()
            )
            widget = forms.Select(choices=[("", "—"), *choices])
        return forms.CharField(label=label, required=False, max_length=1000, widget=widget)

    def values(self) -> dict[str, str]:
        return {field.key: self.cleaned_data[self.input_name(field)] for field in self.form_fields}

    def add_service_error(self, error: forms.ValidationError) -> None:
        """Put a service error keyed by field key on that field's input."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        by_key = {field.key: self.input_name(field) for field in self.form_fields}
        for key, errors in error.error_dict.items():
            self.add_error(by_key.get(key), errors)


class MergeForm(VersionedForm):
    form_id = "merge"
    target = forms.CharField(
        label=_("Merge into request"),
        max_length=20,
        help_text=_("The reference of the request to keep, e.g. HD-7K3P9Q."),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_target(self) -> str:
        return self.cleaned_data["target"].strip().upper()
