"""Configuration of requests (categories, fields, teams, macros) and a read-only request list.

Requests themselves change only through `tickets.services`, so the admin
shows them without add, change or delete.
"""

from django.contrib import admin

from tickets.models import Macro, Team, TeamMembership, Ticket, TicketCategory, TicketField


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


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
