"""Support requests ("tickets"): categories and their structured fields, teams,
the request itself, its conversation, attachments and history.

Every write goes through `tickets.services`; the status machine lives in
`tickets.lifecycle`. A request is addressed by its random `reference`
(HD-XXXXXX) everywhere outside the database: the integer primary key never
appears in a URL, an email or the API.
"""

from __future__ import annotations

import re
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import validate_time_zone
from helpcenter.models import LocalizedMixin
from tickets.lifecycle import ACTIVE_STATUSES, Status

# No 0/O, 1/I/L: customers read references out over chat and the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "HD-"
REFERENCE_LENGTH = 6
REFERENCE_RE = re.compile(rf"{REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20_000


def generate_reference() -> str:
    """Return a random reference such as HD-7KQ2MX (31⁶ ≈ 887 million values)."""
    return REFERENCE_PREFIX + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)
    )


def language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class Priority(models.IntegerChoices):
    # Integers so "most urgent first" is one indexed sort.
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("High")
    URGENT = 40, _("Urgent")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    API = "api", _("API")


class Rating(models.TextChoices):
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


class Team(LocalizedMixin, models.Model):
    """A group of agents with its own queue (e.g. Deposits & Withdrawals)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100, blank=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=100, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMembership",
        related_name="ticket_teams",
        verbose_name=_("members"),
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def name_for(self, language: str | None) -> str:
        return self._localized("name", language)

    @property
    def name(self) -> str:
        """The name in the active language (English when missing)."""
        return self.name_for(None)


class TeamMembership(models.Model):
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="ticket_team_memberships",
        verbose_name=_("user"),
    )
    is_supervisor = models.BooleanField(_("team supervisor"), default=False)
    # Round-robin among equally busy agents: the one assigned longest ago goes next.
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"


class TicketCategory(LocalizedMixin, models.Model):
    """What a customer picks first on the request form; decides fields, team and priority."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_ja = models.CharField(_("name (Japanese)"), max_length=120, blank=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=120, blank=True)
    description_zh_hans = models.CharField(
        _("description (Simplified Chinese)"), max_length=300, blank=True
    )
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    description_ja = models.CharField(_("description (Japanese)"), max_length=300, blank=True)
    description_ko = models.CharField(_("description (Korean)"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(pgettext_lazy("sort order", "order"), default=0)
    is_active = models.BooleanField(_("offered on the request form"), default=True)
    helpcenter_category = models.ForeignKey(
        "helpcenter.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("help-center category"),
        help_text=_("Articles from it are suggested before the customer submits."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="categories",
        verbose_name=_("team"),
    )
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority, default=Priority.NORMAL
    )
    is_compromise = models.BooleanField(
        _("account compromise"),
        default=False,
        help_text=_(
            "Account compromised or unauthorised withdrawal: always urgent, first in the queue."
        ),
    )

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("request category")
        verbose_name_plural = _("request categories")

    def __str__(self) -> str:
        return self.name

    def name_for(self, language: str | None) -> str:
        return self._localized("name", language)

    def description_for(self, language: str | None) -> str:
        return self._localized("description", language)

    @property
    def name(self) -> str:
        return self.name_for(None)

    @property
    def description(self) -> str:
        return self.description_for(None)

    @property
    def initial_priority(self) -> int:
        return Priority.URGENT if self.is_compromise else self.default_priority


class FieldType(models.TextChoices):
    TEXT = "text", pgettext_lazy("type of a request field", "Text")
    COIN = "coin", _("Coin")
    NETWORK = "network", _("Network")
    AMOUNT = "amount", _("Amount")
    ADDRESS = "address", _("Address")
    MEMO = "memo", _("Memo / tag")
    TXID = "txid", _("Transaction ID (TXID)")
    ORDER_ID = "order_id", _("Order ID")
    TRADING_PAIR = "trading_pair", _("Trading pair")
    UID = "uid", _("UID")


# Keys the request form uses for its own inputs.
RESERVED_FIELD_KEYS = frozenset({"subject", "description", "category", "attachments", "language"})


def validate_field_key(value: str) -> None:
    if value in RESERVED_FIELD_KEYS:
        raise ValidationError(
            _("“%(key)s” is used by the request form itself; choose another key."),
            params={"key": value},
            code="reserved",
        )


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(
            _("Not a valid regular expression: %(error)s"), params={"error": str(exc)}
        ) from exc


class TicketField(LocalizedMixin, models.Model):
    """One structured input of a category's form (coin, network, TXID …)."""

    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.CASCADE,
        related_name="form_fields",
        verbose_name=_("category"),
    )
    key = models.SlugField(
        _("key"),
        max_length=40,
        validators=[validate_field_key],
        help_text=_("Stored in the request under this name, e.g. “txid”."),
    )
    label_zh_hans = models.CharField(_("label (Simplified Chinese)"), max_length=120, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_ja = models.CharField(_("label (Japanese)"), max_length=120, blank=True)
    label_ko = models.CharField(_("label (Korean)"), max_length=120, blank=True)
    field_type = models.CharField(
        _("type"), max_length=20, choices=FieldType, default=FieldType.TEXT
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(pgettext_lazy("sort order", "order"), default=0)
    pattern = models.CharField(
        _("pattern"),
        max_length=200,
        blank=True,
        validators=[validate_regex],
        help_text=_("Optional regular expression the whole value must match."),
    )
    max_length = models.PositiveSmallIntegerField(_("maximum length"), null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("request field")
        verbose_name_plural = _("request fields")
        constraints = [
            models.UniqueConstraint(fields=["category", "key"], name="one_field_key_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.category.slug}.{self.key}"

    def label_for(self, language: str | None) -> str:
        return self._localized("label", language)

    @property
    def label(self) -> str:
        return self.label_for(None)


def _choice_label(choices: type[models.Choices], value) -> str:
    """The label of `value` in the active language; an unknown value as it is stored."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


class TicketQuerySet(models.QuerySet):
    def active(self) -> TicketQuerySet:
        """Requests somebody still has to act on (new, open, waiting)."""
        return self.filter(status__in=ACTIVE_STATUSES)


class Ticket(models.Model):
    """A customer's support request. `version` guards every write (see services)."""

    Status = Status
    Priority = Priority
    Channel = Channel
    Rating = Rating

    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=generate_reference, editable=False
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("requester"),
    )
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category")
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    description = models.TextField(
        _("description"),
        max_length=BODY_MAX_LENGTH,
        validators=[MaxLengthValidator(BODY_MAX_LENGTH)],
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.NEW)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.WEB)
    language = models.CharField(
        _("language"), max_length=10, choices=language_choices, default="en"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("team"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_customer_reply_at = models.DateTimeField(
        _("last customer reply at"), null=True, blank=True
    )
    last_agent_reply_at = models.DateTimeField(_("last agent reply at"), null=True, blank=True)
    # Normalised values keyed by TicketField.key; validated by tickets.fields.
    fields = models.JSONField(_("details"), default=dict, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    rating = models.CharField(_("rating"), max_length=4, choices=Rating, blank=True)
    rating_comment = models.TextField(_("rating comment"), max_length=2000, blank=True)
    # The first rating: a rating may be changed within the reopen window after it.
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # When `status` last changed: how long a request has waited on the customer
    # (reminders, auto-solve) or been solved (auto-close).
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    # Other addresses on the email thread that created the request; their replies
    # are accepted on it (tickets.mail_ingest).
    cc_emails = models.JSONField(_("CC addresses"), default=list, blank=True)

    # SLA (tickets.sla): the policy that applied and the deadlines it gives, kept
    # current by the services on every event that affects them. A deadline is None
    # while its clock does not run (no target, met, or paused waiting on the customer).
    sla_policy = models.ForeignKey(
        "SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("SLA policy"),
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    next_response_due_at = models.DateTimeField(_("next response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # The earliest running deadline, and when its warning threshold is reached:
    # what the inbox sorts on and the sweeper looks for.
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(_("SLA at risk from"), null=True, blank=True)
    # Reporting: working time taken, pauses excluded, once known.
    first_response_seconds = models.PositiveIntegerField(
        _("first response time (s)"), null=True, blank=True
    )
    resolution_seconds = models.PositiveIntegerField(
        _("resolution time (s)"), null=True, blank=True
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        permissions = [
            ("work_tickets", _("Can work on requests in the agent inbox")),
            ("supervise_tickets", _("Can see and manage every request")),
        ]
        # What the lists filter and sort on (tickets.selectors). The inbox's sorts
        # (priority, age, last update) each have an index of their own, so a page
        # is an index walk that stops once the page is full, whatever the view
        # filters on; the indexes that lead with a filter column serve narrow
        # views and the COUNT(*) of the pagination. See docs/performance.md.
        indexes = [
            models.Index(fields=["status", "-priority", "created_at"], name="ticket_queue"),
            models.Index(fields=["status", "-updated_at"], name="ticket_status_updated"),
            models.Index(fields=["-priority", "created_at", "id"], name="ticket_priority_order"),
            models.Index(fields=["created_at", "id"], name="ticket_age_order"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_order"),
            # "Mine" and "unassigned" by priority; with `team` it also answers their
            # counts without reading the table.
            models.Index(
                fields=["assignee", "status", "-priority", "created_at", "id", "team"],
                name="ticket_assignee_queue",
            ),
            models.Index(fields=["team", "status"], name="ticket_team_status"),
            # Every column the agent rule and the sidebar counts read: counting the
            # active requests an agent may work on never reads the table.
            models.Index(
                fields=["status", "team", "assignee", "category", "priority"],
                name="ticket_scope_counts",
            ),
            # "My requests": the most recent activity first.
            models.Index(
                fields=["requester", "-updated_at", "-id"], name="ticket_requester_updated"
            ),
            models.Index(fields=["requester", "status"], name="ticket_requester_status"),
            # The SLA sweep and the "time to breach" sort.
            models.Index(fields=["sla_due_at"], name="ticket_sla_due"),
            models.Index(fields=["sla_warn_at"], name="ticket_sla_warn"),
            # Automations: waiting or solved for longer than N days.
            models.Index(fields=["status", "status_changed_at"], name="ticket_status_age"),
        ]

    def __str__(self) -> str:
        return self.reference

    # Django's get_FOO_display() rebuilds a dict of the field's choices on every
    # call (about 50 µs); list pages show several per row.
    def get_status_display(self) -> str:
        return _choice_label(Status, self.status)

    def get_priority_display(self) -> str:
        return _choice_label(Priority, self.priority)

    def get_channel_display(self) -> str:
        return _choice_label(Channel, self.channel)

    def get_language_display(self) -> str:
        return str(dict(settings.LANGUAGES).get(self.language, self.language))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class IdentifierKind(models.TextChoices):
    TXID = "txid", _("Transaction ID")
    ADDRESS = "address", _("Address")
    ORDER_ID = "order_id", _("Order ID")
    UID = "uid", _("UID")


class TicketIdentifier(models.Model):
    """A searchable identifier quoted in a request (TXID, address, order id, UID).

    Written by the services whenever a request's fields change. `value` is
    lower-cased: it is a lookup key (the request keeps the value as typed),
    and agents paste hashes in whatever case the explorer showed.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=10, choices=IdentifierKind)
    value = models.CharField(max_length=200)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "value"], name="identifier_kind_value"),
            models.Index(fields=["value"], name="identifier_value"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "value"], name="one_identifier_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Message(models.Model):
    """One post in a request's conversation, or an agents-only internal note.

    `body` is plain text, stored as written; pages escape it on output.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    # Null for notes the system writes (merges).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_internal = models.BooleanField(_("internal note"), default=False)
    body = models.TextField(
        _("message"), max_length=BODY_MAX_LENGTH, validators=[MaxLengthValidator(BODY_MAX_LENGTH)]
    )
    channel = models.CharField(max_length=10, choices=Channel, default=Channel.WEB)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_thread")]

    def __str__(self) -> str:
        return f"{self.ticket_id} @ {self.created_at:%Y-%m-%d %H:%M}"


def _attachment_name(instance: Attachment, filename: str) -> str:
    # Private storage under a name that reveals nothing: not the uploader's file
    # name (kept in `original_name`), not a sequence.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"tickets/{instance.created_at:%Y/%m}/{instance.uuid.hex}.{extension}"


def _thumbnail_name(instance: Attachment, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"tickets/{instance.created_at:%Y/%m}/{instance.uuid.hex}-thumb.{extension}"


class Attachment(models.Model):
    """A verified upload. Stored first, then attached to a message when that is sent."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to=_attachment_name, max_length=200)
    thumbnail = models.FileField(upload_to=_thumbnail_name, max_length=200, blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    CREATED = "created", _("Request created")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    ASSIGNEE = "assignee", _("Assignee changed")
    TEAM = "team", _("Team changed")
    CATEGORY = "category", _("Category changed")
    FIELDS = "fields", _("Details changed")
    MERGED = "merged", _("Merged into another request")
    MERGED_FROM = "merged_from", _("Another request merged into this one")
    REOPENED = "reopened", _("Reopened")
    FOLLOW_UP = "follow_up", _("Follow-up request opened")
    RATED = "rated", _("Rated")
    SLA_WARNING = "sla_warning", _("Response time at risk")
    SLA_BREACH = "sla_breach", _("Response time missed")
    REMINDER = "reminder", _("Reminder sent")
    EMAIL_IGNORED = "email_ignored", _("Automatic email not answered")


class TicketEvent(models.Model):
    """History of a request; public events form the customer's timeline.

    Values are JSON snapshots (status codes, slugs, references, names), so the
    timeline still reads correctly after the things they name change.
    """

    Kind = EventKind

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=EventKind)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class Deflection(models.Model):
    """A customer said a suggested article solved the problem before they submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    article_key = models.SlugField(max_length=120)
    language = models.CharField(max_length=10, choices=language_choices)
    category = models.ForeignKey(
        TicketCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.article_key


MACRO_PLACEHOLDERS = ("reference", "customer_name", "agent_name", "subject")
_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(MACRO_PLACEHOLDERS) + r")\}")


class Macro(models.Model):
    """A canned reply in one language.

    The body may use {reference}, {customer_name}, {agent_name} and {subject};
    anything else in braces is left as written.
    """

    title = models.CharField(_("title"), max_length=120)
    language = models.CharField(_("language"), max_length=10, choices=language_choices)
    body = models.TextField(
        _("body"),
        max_length=BODY_MAX_LENGTH,
        help_text=_(
            "Plain text. Placeholders: {reference}, {customer_name}, {agent_name}, {subject}."
        ),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        verbose_name=_("team"),
        help_text=_("Leave empty to offer it to every agent."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        indexes = [models.Index(fields=["language", "is_active"], name="macro_language")]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"

    def render(self, values: dict[str, str]) -> str:
        """Fill the placeholders from `values`.

        Not `str.format`: "{reference.__class__}" must not reach attributes.
        """
        return _PLACEHOLDER_RE.sub(
            lambda match: values.get(match.group(1), match.group(0)), self.body
        )


# Email notifications (outbox) ---------------------------------------------------------


class NotificationKind(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Request received")
    AGENT_REPLY = "agent_reply", _("Reply from support")
    WAITING = "waiting", _("Waiting on you")
    SOLVED = "solved", _("Request solved")
    CLOSED = "closed", _("Request closed")
    REMINDER = "reminder", _("Reminder")
    SLA_WARNING = "sla_warning", _("Response time at risk")
    SLA_BREACH = "sla_breach", _("Response time missed")
    ASSIGNED = "assigned", _("Request assigned")
    EMAIL_REFUSED = "email_refused", _("Email not accepted")
    EMAIL_TOO_LARGE = "email_too_large", _("Email too large")
    OUT_OF_HOURS = "out_of_hours", _("Outside support hours")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    """One email to send: the outbox row written in the same transaction as its cause.

    A task sends it after the commit and marks it sent; a beat task re-queues
    rows still pending after their `next_attempt_at` (broker down, worker
    killed). A sender claims a row with a conditional UPDATE (pending → sending,
    with a lease in `claimed_until`) so two workers never send it both.
    See tickets.notifications.
    """

    Kind = NotificationKind
    Status = NotificationStatus

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # Set when there is no account (a polite refusal to an unknown sender).
    to_email = models.EmailField(_("to"), blank=True)
    language = models.CharField(max_length=10, choices=language_choices, default="en")
    context = models.JSONField(default=dict, blank=True)
    # Makes "once per cause" a database rule: e.g. one SLA warning per ticket,
    # target and deadline, one reminder per waiting period.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The RFC 5322 Message-ID the email went out with: replies quote it.
    email_message_id = models.CharField(max_length=250, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["ticket", "created_at"], name="notification_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_email or self.recipient_id}"


# Incoming email -----------------------------------------------------------------------


class InboundStatus(models.TextChoices):
    REPLY = "reply", _("Added to a request")
    NEW_TICKET = "new_ticket", _("Opened a request")
    IGNORED = "ignored", _("Recorded, not answered (automatic mail)")
    REFUSED = "refused", _("Refused")
    TOO_LARGE = "too_large", _("Too large")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundSource(models.TextChoices):
    COMMAND = "command", _("Command")
    IMAP = "imap", _("IMAP")
    HTTP = "http", _("HTTP")


def _inbound_name(instance: InboundEmail, filename: str) -> str:
    return f"inbound/{instance.received_at:%Y/%m}/{uuid.uuid4().hex}.eml"


class InboundEmail(models.Model):
    """Every email received, whatever became of it (tickets.mail_ingest).

    `email_message_id` is unique: the same email delivered twice (an IMAP retry, a
    provider re-posting) is imported once. The raw message is kept in private
    storage for agents and for re-processing a quarantined one.
    """

    Status = InboundStatus
    Source = InboundSource

    email_message_id = models.CharField(max_length=250, unique=True)
    source = models.CharField(max_length=10, choices=InboundSource)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    raw = models.FileField(upload_to=_inbound_name, max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=InboundStatus)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("incoming email")
        verbose_name_plural = _("incoming emails")
        indexes = [models.Index(fields=["status", "-received_at"], name="inbound_status")]

    def __str__(self) -> str:
        return self.email_message_id


# SLA ----------------------------------------------------------------------------------


class SlaCalendar(models.Model):
    """When SLA clocks run: a weekly schedule in a time zone, minus holidays.

    `weekly` has the shape tickets.sla_calendar.BusinessCalendar.from_spec
    reads: {"mon": [["09:00", "18:00"]], ...}; an empty mapping would mean no
    working time, so a 7×24 desk uses no calendar at all.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    weekly = models.JSONField(_("weekly hours"), default=dict)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return self.name


class SlaHoliday(models.Model):
    calendar = models.ForeignKey(SlaCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Response-time targets for the requests matching its conditions.

    Policies are tried by `position`; the first whose conditions all match
    applies (an empty condition matches anything). A target left empty is
    not tracked.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(pgettext_lazy("sort order", "order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, null=True, blank=True
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("category"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("team"),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response (minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), null=True, blank=True
    )
    calendar = models.ForeignKey(
        SlaCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("business hours"),
        help_text=_("Leave empty for round-the-clock (7×24) targets."),
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("at risk at (% of target used)"),
        default=75,
    )
    escalate_on_breach = models.BooleanField(
        _("raise the priority one level on a breach"), default=False
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaStage(models.TextChoices):
    WARNING = "warning", _("At risk")
    BREACH = "breach", _("Breached")


class SlaMilestone(models.Model):
    """A target of one request reached "at risk" or "breached", recorded once.

    Unique per request, target, stage and deadline: a duplicate beat or a
    restarted worker cannot record (or notify) it twice, while a new
    next-response deadline after a later customer reply gets its own rows.
    Also the breach history for reporting.
    """

    Target = SlaTarget
    Stage = SlaStage

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_milestones")
    target = models.CharField(max_length=20, choices=SlaTarget)
    stage = models.CharField(max_length=10, choices=SlaStage)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "stage", "due_at"], name="one_sla_milestone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.stage}"
