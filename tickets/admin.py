"""Configuration of requests (categories, fields, teams, macros) and a read-only request list.

Requests themselves change only through `tickets.services`, so the admin
shows them without add, change or delete.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets import notifications, tasks
from tickets.models import (
    InboundEmail,
    Macro,
    Notification,
    SlaCalendar,
    SlaHoliday,
    SlaPolicy,
    Team,
    TeamMembership,
    Ticket,
    TicketCategory,
    TicketField,
)
from tickets.sla_calendar import BusinessCalendar

# How much of a received email its admin page shows.
ORIGINAL_SHOWN_BYTES = 64 * 1024


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and detail pages only: these rows are written by the services, never here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TicketFieldInline(admin.TabularInline):
    model = TicketField
    extra = 0
    fields = [
        "position",
        "key",
        "field_type",
        "required",
        "label_en",
        "label_zh_hans",
        "label_ja",
        "label_ko",
        "pattern",
        "max_length",
    ]


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = [
        "name_en",
        "slug",
        "team",
        "default_priority",
        "is_compromise",
        "is_active",
        "position",
    ]
    list_filter = ["is_active", "is_compromise", "team"]
    list_select_related = ["team"]
    search_fields = ["slug", "name_en", "name_zh_hans", "name_ja", "name_ko"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [TicketFieldInline]


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    fields = ["user", "is_supervisor", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name_en", "slug"]
    search_fields = ["slug", "name_en", "name_zh_hans", "name_ja", "name_ko"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [TeamMembershipInline]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "team", "is_active", "updated_at"]
    list_filter = ["language", "is_active", "team"]
    list_select_related = ["team"]
    search_fields = ["title", "body"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox, read-only: what was emailed to whom, and what is stuck or failed.

    Rows change only through tickets.notifications; "Retry now" is the one
    action, for emails that failed or wait for their next attempt.
    """

    list_display = [
        "created_at",
        "kind",
        "status",
        "ticket",
        "address",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", "language"]
    list_select_related = ["ticket", "recipient"]
    search_fields = ["ticket__reference", "to_email", "recipient__email", "email_message_id"]
    ordering = ["-created_at", "-pk"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["retry_now"]
    readonly_fields = [
        "uuid",
        "kind",
        "status",
        "ticket",
        "message",
        "recipient",
        "to_email",
        "language",
        "context",
        "dedupe_key",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "email_message_id",
        "created_at",
        "sent_at",
    ]

    @admin.display(description=_("to"))
    def address(self, notification: Notification) -> str:
        return notification.recipient.email if notification.recipient else notification.to_email

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset) -> None:
        retried = notifications.notifications_retry_now(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again (sent and sending ones are left alone).",
                "%(count)d notifications queued again (sent and sending ones are left alone).",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("tickets.change_notification")


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    """Every email received and what became of it; quarantined ones with the reason.

    Read-only: mail is recorded only by tickets.mail_ingest. The original is
    shown as text (escaped) for a look at why a message was refused.
    """

    list_display = ["received_at", "status", "source", "sender", "subject", "ticket", "size"]
    list_filter = ["status", "source"]
    list_select_related = ["ticket"]
    search_fields = ["email_message_id", "sender", "subject", "ticket__reference"]
    ordering = ["-received_at", "-pk"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = [
        "email_message_id",
        "received_at",
        "source",
        "status",
        "reason",
        "sender",
        "subject",
        "ticket",
        "message",
        "size",
        "original",
    ]
    readonly_fields = fields

    @admin.display(description=_("original email"))
    def original(self, inbound: InboundEmail) -> str:
        if not inbound.raw:
            return "-"
        with inbound.raw.open("rb") as raw:
            head = raw.read(ORIGINAL_SHOWN_BYTES)
        text = head.decode("utf-8", errors="replace")
        if inbound.size > ORIGINAL_SHOWN_BYTES:
            text += "\n[…]"
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "subject",
        "status",
        "priority",
        "category",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "channel", "language", "team", "category"]
    list_select_related = ["category", "team", "assignee"]
    search_fields = ["reference", "subject", "requester__email", "requester__uid"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False


# SLA ------------------------------------------------------------------------------------
# Changing a policy or its hours moves a request's deadlines at the request's next
# change; the "recompute" actions apply it to every active request at once, in
# the background (tickets.sla.sla_recompute).


def _queue_recompute(modeladmin, request, policy_ids: list[int]) -> None:
    tasks.sla_recompute.delay_on_commit(policy_ids)
    modeladmin.message_user(
        request,
        ngettext(
            "The deadlines of the active requests under %(count)d policy are being recomputed.",
            "The deadlines of the active requests under %(count)d policies are being recomputed.",
            len(policy_ids),
        )
        % {"count": len(policy_ids)},
        messages.SUCCESS,
    )


# Every setting of a policy, in the order the form and the list show them.
SLA_POLICY_FIELDS = [
    "name",
    "position",
    "is_active",
    "priority",
    "category",
    "team",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "calendar",
    "warn_at_percent",
    "escalate_on_breach",
]


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = SLA_POLICY_FIELDS

    def clean_warn_at_percent(self) -> int:
        value = self.cleaned_data["warn_at_percent"]
        if not 1 <= value <= 100:
            raise forms.ValidationError(_("Enter a percentage from 1 to 100."), code="range")
        return value


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = SLA_POLICY_FIELDS
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "priority", "team", "calendar"]
    list_select_related = ["category", "team", "calendar"]
    ordering = ["position", "pk"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active"]}),
        (
            _("Applies to"),
            {
                "fields": ["priority", "category", "team"],
                "description": _(
                    "A request gets the first active policy, in order, whose conditions all "
                    "match; an empty condition matches every request. It is chosen when the "
                    "request is opened and again when an agent changes its priority, category "
                    "or team."
                ),
            },
        ),
        (
            _("Targets"),
            {
                "fields": [
                    "first_response_minutes",
                    "next_response_minutes",
                    "resolution_minutes",
                    "calendar",
                    "warn_at_percent",
                    "escalate_on_breach",
                ],
                "description": _(
                    "Leave a target empty to not track it. Changes apply to a request at its "
                    "next change; “Recompute deadlines” applies them to every active request "
                    "now."
                ),
            },
        ),
    ]
    actions = ["recompute_deadlines"]

    @admin.action(
        description=_("Recompute deadlines of their active requests"), permissions=["change"]
    )
    def recompute_deadlines(self, request, queryset) -> None:
        _queue_recompute(self, request, list(queryset.values_list("pk", flat=True)))


class SlaHolidayInline(admin.TabularInline):
    model = SlaHoliday
    extra = 1
    fields = ["date", "name"]


class SlaCalendarForm(forms.ModelForm):
    class Meta:
        model = SlaCalendar
        fields = ["name", "time_zone", "weekly"]
        help_texts = {
            "weekly": _(
                "Working hours per weekday in the time zone above, for example "
                '{"mon": [["09:00", "18:00"]], "tue": [["09:00", "12:00"], ["13:00", "18:00"]]}. '
                "Weekdays are mon … sun; a day left out has no working time; “24:00” ends a "
                "day, so a night shift is two intervals on two days."
            ),
            "time_zone": _("An IANA time zone such as Asia/Shanghai or Europe/Berlin."),
        }

    def clean(self):
        cleaned = super().clean()
        weekly, time_zone = cleaned.get("weekly"), cleaned.get("time_zone")
        if weekly is not None and time_zone:
            # The same check every deadline computation makes: hours saved here always work.
            try:
                BusinessCalendar.from_spec({"time_zone": time_zone, "weekly": weekly})
            except ValueError as exc:
                self.add_error("weekly", _("These hours are not valid: %(error)s") % {"error": exc})
        return cleaned


@admin.register(SlaCalendar)
class SlaCalendarAdmin(admin.ModelAdmin):
    form = SlaCalendarForm
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    inlines = [SlaHolidayInline]
    actions = ["recompute_deadlines"]

    @admin.action(
        description=_("Recompute deadlines of active requests under these hours"),
        permissions=["change"],
    )
    def recompute_deadlines(self, request, queryset) -> None:
        policies = SlaPolicy.objects.filter(calendar__in=queryset)
        _queue_recompute(self, request, list(policies.values_list("pk", flat=True)))
