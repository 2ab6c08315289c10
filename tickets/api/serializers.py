"""Shapes of the tickets API: what clients send (input) and what they get back (output).

Input serializers only check types and shapes; the rules (text hygiene,
structured fields per network, upload sniffing, the status table) belong to
`tickets.services`, so the web pages and the API refuse the same things with
the same messages. Status is read-only everywhere except the agents' explicit
`status/` action.

A request's integer primary key never appears here: requests are addressed by
`reference`, people by their public `uid`, attachments by `uuid`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from tickets.lifecycle import (
    ActorKind,
    Status,
    allowed_transitions,
    can_transition,
    reopen_window,
)
from tickets.models import (
    Attachment,
    Channel,
    EventKind,
    FieldType,
    Message,
    Priority,
    Rating,
    Team,
    Ticket,
    TicketCategory,
    TicketEvent,
)
from tickets.networks import explorer_address_url, explorer_tx_url
from tickets.selectors import ACTIVE, InboxSort, InboxView
from tickets.sla_targets import describe_duration, expected_first_response

MAX_PAGE_SIZE = 100
QUERY_MAX_LENGTH = 200
LANGUAGE_CHOICES = list(settings.LANGUAGES)

# Priorities travel by name ("urgent"), not by their sort integers.
PRIORITY_NAMES: dict[int, str] = {int(p.value): p.name.lower() for p in Priority}
PRIORITY_VALUES: dict[str, int] = {name: value for value, name in PRIORITY_NAMES.items()}


def attachment_url(attachment: Attachment) -> str:
    """The permission-checked download page of an attachment, in the active language."""
    return reverse("tickets:attachment", kwargs={"uuid": attachment.uuid})


# Errors (documentation only: DRF's own {"detail": …} shape, plus a code for domain errors)


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    code = serializers.CharField(
        required=False,
        help_text="For 400/409 domain errors: invalid_transition, stale, or the rule's own code.",
    )


# Fields shared by inputs ------------------------------------------------------------------


class PriorityField(serializers.ChoiceField):
    """A priority by name (low, normal, high, urgent); stored as its sort integer."""

    def __init__(self, **kwargs):
        super().__init__(choices=list(PRIORITY_VALUES), **kwargs)

    def to_internal_value(self, data):
        return PRIORITY_VALUES[super().to_internal_value(data)]

    def to_representation(self, value):
        return PRIORITY_NAMES.get(int(value), str(value))


class BlankAsNullChoiceField(serializers.ChoiceField):
    def to_representation(self, value):
        return value or None


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"coin": "USDT", "network": "TRC20", "txid": "0f89c63…"},
    }
)
class FieldValuesField(serializers.JSONField):
    """Structured details keyed by TicketField.key. In multipart bodies: a JSON string."""

    default_error_messages = {
        "not_object": gettext_lazy("Send the details as an object keyed by field key."),
        "not_scalar": gettext_lazy("Each detail must be text or a number."),
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail("not_object")
        for item in value.values():
            if item is not None and (
                isinstance(item, bool) or not isinstance(item, str | int | float)
            ):
                self.fail("not_scalar")
        return value


@extend_schema_field(
    {
        "type": "string",
        "description": 'A JSON object as text, e.g. {"coin": "USDT", "network": "TRC20"}.',
    }
)
class FieldValuesJSONStringField(FieldValuesField):
    """The same field, documented as it travels in a multipart body."""


class AttachmentsField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Up to 5 files (PNG, JPEG, WebP, GIF, PDF or plain text), 10 MB each by default.",
        )
        super().__init__(child=serializers.FileField(), **kwargs)

    def to_internal_value(self, data):
        files = super().to_internal_value(data)
        limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
        if len(files) > limit:
            # Same wording as tickets.services; checked here so nothing is stored first.
            raise serializers.ValidationError(
                gettext("Attach at most %(count)d files to one message.") % {"count": limit}
            )
        return files


# Inputs -------------------------------------------------------------------------------------


class TicketCreateSerializer(serializers.Serializer):
    category = serializers.SlugField(help_text="A request category slug (GET the web form).")
    subject = serializers.CharField(trim_whitespace=False, max_length=1000)
    description = serializers.CharField(trim_whitespace=False, max_length=40_000)
    fields = FieldValuesField(required=False, default=dict)
    language = serializers.ChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        help_text="The language of the conversation (default: the user's preferred language).",
    )

    def validate_category(self, value: str) -> TicketCategory:
        try:
            return TicketCategory.objects.get(slug=value, is_active=True)
        except TicketCategory.DoesNotExist:
            raise serializers.ValidationError(
                gettext("Choose one of the offered categories.")
            ) from None


class TicketCreateMultipartSerializer(TicketCreateSerializer):
    fields = FieldValuesJSONStringField(required=False, default=dict)
    attachments = AttachmentsField()


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        default="",
        max_length=40_000,
        help_text="Plain text; may be empty when files are attached.",
    )


class ReplyMultipartSerializer(ReplySerializer):
    attachments = AttachmentsField()


class AgentReplySerializer(ReplySerializer):
    internal = serializers.BooleanField(
        default=False, help_text="An internal note: agents only, never shown to the customer."
    )


class AgentReplyMultipartSerializer(AgentReplySerializer):
    attachments = AttachmentsField()


class RatingSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(
        trim_whitespace=False, allow_blank=True, required=False, default="", max_length=4000
    )


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The request's `version` as last read; a stale one gets 409."
    )


class StatusChangeSerializer(VersionedSerializer):
    status = serializers.ChoiceField(choices=Status.choices)


class PriorityChangeSerializer(VersionedSerializer):
    priority = PriorityField()


class AssigneeChangeSerializer(VersionedSerializer):
    assignee = serializers.CharField(
        allow_null=True, help_text="The agent's UID, or null to unassign."
    )

    def validate_assignee(self, value: str | None) -> User | None:
        if value is None:
            return None
        try:
            return User.objects.get(uid=value.strip(), is_active=True)
        except User.DoesNotExist:
            raise serializers.ValidationError(gettext("No active user has this UID.")) from None


class TeamChangeSerializer(VersionedSerializer):
    team = serializers.SlugField(
        allow_null=True, help_text="A team slug, or null for the shared triage queue."
    )

    def validate_team(self, value: str | None) -> Team | None:
        if value is None:
            return None
        try:
            return Team.objects.get(slug=value)
        except Team.DoesNotExist:
            raise serializers.ValidationError(gettext("There is no team with this slug.")) from None


class FieldsChangeSerializer(VersionedSerializer):
    fields = FieldValuesField(help_text="The whole set of details (replaces the stored ones).")


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(help_text="Reference of the request to merge this one into.")


# Query parameters ---------------------------------------------------------------------------


class CustomerListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(ACTIVE, "Active (new, open or waiting)"), *Status.choices],
        required=False,
        help_text="A status, or `active` for new, open and waiting requests.",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        help_text="A reference, a TXID, or words in the subject.",
    )


class InboxParamsSerializer(serializers.Serializer):
    view = serializers.ChoiceField(choices=InboxView.choices, default=InboxView.MINE)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = PriorityField(required=False)
    team = serializers.SlugField(required=False, help_text="A team slug.")
    category = serializers.SlugField(required=False, help_text="A request category slug.")
    assignee = serializers.CharField(required=False, help_text="The assigned agent's UID.")
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        help_text="A reference, TXID, address, order id, UID, email address or subject words.",
    )
    sort = serializers.ChoiceField(choices=InboxSort.choices, default=InboxSort.PRIORITY)

    def validate_team(self, value: str) -> Team:
        try:
            return Team.objects.get(slug=value)
        except Team.DoesNotExist:
            raise serializers.ValidationError(gettext("There is no team with this slug.")) from None

    def validate_category(self, value: str) -> TicketCategory:
        try:
            return TicketCategory.objects.get(slug=value)
        except TicketCategory.DoesNotExist:
            raise serializers.ValidationError(
                gettext("There is no category with this slug.")
            ) from None

    def validate_assignee(self, value: str) -> User:
        try:
            return User.objects.get(uid=value.strip())
        except User.DoesNotExist:
            raise serializers.ValidationError(gettext("No user has this UID.")) from None


# Outputs: building blocks -------------------------------------------------------------------


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(help_text="In the request's language (English as fallback).")


class TeamRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class TicketUserSerializer(serializers.Serializer):
    """A requester, assignee or author as agents see them."""

    uid = serializers.CharField()
    email = serializers.EmailField()
    display_name = serializers.CharField()


class AttachmentSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField(source="original_name")
    size = serializers.IntegerField(help_text="Bytes, as stored (images are re-encoded).")
    content_type = serializers.CharField()
    kind = serializers.CharField(help_text="image, pdf or text.")
    url = serializers.SerializerMethodField(help_text="Download page; checks the same rights.")

    def get_url(self, attachment: Attachment) -> str:
        return attachment_url(attachment)


class FieldValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()


class AgentFieldValueSerializer(FieldValueSerializer):
    field_type = serializers.ChoiceField(choices=FieldType.choices, allow_null=True)
    explorer_url = serializers.URLField(
        allow_null=True, help_text="Block-explorer page of a TXID or address."
    )


def field_rows(ticket: Ticket, *, with_links: bool) -> list[dict[str, Any]]:
    """The request's stored details in form order, labelled; one query (the form fields)."""
    form = {field.key: field for field in ticket.category.form_fields.all()}
    values = ticket.fields or {}
    network = next(
        (
            values[field.key]
            for field in form.values()
            if field.field_type == FieldType.NETWORK and values.get(field.key)
        ),
        None,
    )
    keys = [key for key in form if key in values] + sorted(set(values) - set(form))
    rows = []
    for key in keys:
        field = form.get(key)
        row: dict[str, Any] = {
            "key": key,
            "label": field.label_for(get_language()) if field else key,
            "value": str(values[key]),
        }
        if with_links:
            field_type = field.field_type if field else None
            url = None
            if network and field_type == FieldType.TXID:
                url = explorer_tx_url(network, row["value"])
            elif network and field_type == FieldType.ADDRESS:
                url = explorer_address_url(network, row["value"])
            row.update(field_type=field_type, explorer_url=url)
        rows.append(row)
    return rows


def _public_name(user: User | None, ticket: Ticket) -> str | None:
    """A name fit to show the customer: their own, or an agent's display name."""
    if user is None:
        return None
    if user.pk == ticket.requester_id:
        return str(user)
    # Never an agent's email address (which `str(user)` falls back to).
    return user.display_name or gettext("Support team")


class CustomerMessageSerializer(serializers.Serializer):
    author_name = serializers.SerializerMethodField()
    from_requester = serializers.SerializerMethodField()
    body = serializers.CharField(help_text="Plain text, exactly as written (never HTML).")
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)

    def get_author_name(self, message: Message) -> str | None:
        return _public_name(message.author, self.context["ticket"])

    def get_from_requester(self, message: Message) -> bool:
        return message.author_id == self.context["ticket"].requester_id


class AgentMessageSerializer(serializers.Serializer):
    author = TicketUserSerializer(allow_null=True, help_text="Null for system notes.")
    from_requester = serializers.SerializerMethodField()
    internal = serializers.BooleanField(source="is_internal")
    channel = serializers.ChoiceField(choices=Channel.choices)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)

    def get_from_requester(self, message: Message) -> bool:
        return message.author_id == self.context["ticket"].requester_id


class CustomerReplyResultSerializer(CustomerMessageSerializer):
    ticket = serializers.CharField(
        source="ticket.reference",
        help_text="Where the reply landed: a follow-up request when this one was closed.",
    )


class AgentReplyResultSerializer(AgentMessageSerializer):
    ticket = serializers.CharField(source="ticket.reference")


class CustomerEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    actor_name = serializers.SerializerMethodField()
    from_requester = serializers.SerializerMethodField()
    old_value = serializers.JSONField(help_text="A snapshot: status code, slug, reference …")
    new_value = serializers.JSONField()
    created_at = serializers.DateTimeField()

    def get_actor_name(self, event: TicketEvent) -> str | None:
        return _public_name(event.actor, self.context["ticket"])

    def get_from_requester(self, event: TicketEvent) -> bool:
        return event.actor_id == self.context["ticket"].requester_id


class AgentEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    actor = TicketUserSerializer(allow_null=True, help_text="Null for the system (routing).")
    public = serializers.BooleanField(source="is_public", help_text="On the customer's timeline.")
    old_value = serializers.JSONField()
    new_value = serializers.JSONField()
    created_at = serializers.DateTimeField()


# Outputs: requests --------------------------------------------------------------------------


class CustomerTicketSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    category = CategoryRefSerializer()
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    channel = serializers.ChoiceField(choices=Channel.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="Last activity (replies, status changes).")
    solved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = BlankAsNullChoiceField(choices=Rating.choices, allow_null=True)


class CustomerTicketDetailSerializer(CustomerTicketSerializer):
    description = serializers.CharField()
    # Not get_fields(): that name is Serializer's own.
    fields = serializers.SerializerMethodField(method_name="field_values")
    rating_comment = serializers.CharField()
    merged_into = serializers.SerializerMethodField()
    follow_up_of = serializers.SerializerMethodField()
    can_solve = serializers.SerializerMethodField()
    can_reopen = serializers.SerializerMethodField()
    can_rate = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    @extend_schema_field(FieldValueSerializer(many=True))
    def field_values(self, ticket: Ticket):
        return field_rows(ticket, with_links=False)

    def get_merged_into(self, ticket: Ticket) -> str | None:
        target = ticket.merged_into
        # Another customer's reference is not this customer's business.
        if target is None or target.requester_id != ticket.requester_id:
            return None
        return target.reference

    def get_follow_up_of(self, ticket: Ticket) -> str | None:
        return ticket.follow_up_of.reference if ticket.follow_up_of_id else None

    def get_can_solve(self, ticket: Ticket) -> bool:
        return can_transition(ticket, Status.SOLVED, ActorKind.CUSTOMER)

    def get_can_reopen(self, ticket: Ticket) -> bool:
        return ticket.status == Status.SOLVED and can_transition(
            ticket, Status.OPEN, ActorKind.CUSTOMER
        )

    def get_can_rate(self, ticket: Ticket) -> bool:
        if ticket.status not in (Status.SOLVED, Status.CLOSED) or ticket.merged_into_id:
            return False
        if ticket.rated_at is None:
            return True
        return timezone.now() <= ticket.rated_at + reopen_window()

    @extend_schema_field(CustomerMessageSerializer(many=True))
    def get_messages(self, ticket: Ticket):
        return CustomerMessageSerializer(
            self.context["messages"], many=True, context={"ticket": ticket}
        ).data

    @extend_schema_field(CustomerEventSerializer(many=True))
    def get_events(self, ticket: Ticket):
        return CustomerEventSerializer(
            self.context["events"], many=True, context={"ticket": ticket}
        ).data


class FirstResponseSerializer(serializers.Serializer):
    seconds = serializers.IntegerField(help_text="Target for support's first reply.")
    text = serializers.CharField(help_text="The same in words, e.g. “24 hours”.")


class CustomerTicketCreatedSerializer(CustomerTicketDetailSerializer):
    expected_first_response = serializers.SerializerMethodField()

    @extend_schema_field(FirstResponseSerializer(allow_null=True))
    def get_expected_first_response(self, ticket: Ticket):
        # The SLA policy that applies to the request; null when none promises a first response.
        expected = expected_first_response(ticket)
        if expected is None:
            return None
        return {
            "seconds": int(expected.duration.total_seconds()),
            "text": describe_duration(expected.duration),
        }


class AgentTicketSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = PriorityField()
    category = CategoryRefSerializer()
    team = TeamRefSerializer(allow_null=True)
    assignee = TicketUserSerializer(allow_null=True)
    requester = TicketUserSerializer()
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    channel = serializers.ChoiceField(choices=Channel.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    last_customer_reply_at = serializers.DateTimeField(allow_null=True)
    last_agent_reply_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(help_text="Send it back with every change.")


class AgentTicketDetailSerializer(AgentTicketSerializer):
    description = serializers.CharField()
    solved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = BlankAsNullChoiceField(choices=Rating.choices, allow_null=True)
    rating_comment = serializers.CharField()
    merged_into = serializers.SerializerMethodField()
    follow_up_of = serializers.SerializerMethodField()
    # Not get_fields(): that name is Serializer's own.
    fields = serializers.SerializerMethodField(method_name="field_values")
    allowed_statuses = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    def get_merged_into(self, ticket: Ticket) -> str | None:
        return ticket.merged_into.reference if ticket.merged_into_id else None

    def get_follow_up_of(self, ticket: Ticket) -> str | None:
        return ticket.follow_up_of.reference if ticket.follow_up_of_id else None

    @extend_schema_field(AgentFieldValueSerializer(many=True))
    def field_values(self, ticket: Ticket):
        return field_rows(ticket, with_links=True)

    # Plain strings in the schema: a second enum of the same statuses would need a
    # project-wide ENUM_NAME_OVERRIDES entry.
    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="Status codes the `status/` action accepts now.",
        )
    )
    def get_allowed_statuses(self, ticket: Ticket):
        """What the `status/` action accepts now (lifecycle table, this actor)."""
        return allowed_transitions(ticket, self.context["actor_kind"])

    @extend_schema_field(AgentMessageSerializer(many=True))
    def get_messages(self, ticket: Ticket):
        return AgentMessageSerializer(
            self.context["messages"], many=True, context={"ticket": ticket}
        ).data

    @extend_schema_field(AgentEventSerializer(many=True))
    def get_events(self, ticket: Ticket):
        return AgentEventSerializer(self.context["events"], many=True).data
