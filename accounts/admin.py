from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AgentProfile, User


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    filter_horizontal = ["skills"]
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "uid", "display_name", "preferred_language", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "groups", "preferred_language"]
    search_fields = ["email", "uid", "display_name"]
    readonly_fields = ["uid", "last_login", "date_joined"]
    inlines = [AgentProfileInline]
    fieldsets = [
        (None, {"fields": ["email", "uid", "password"]}),
        (
            _("Profile"),
            {"fields": ["display_name", "preferred_language", "time_zone", "email_verified_at"]},
        ),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "presence", "max_concurrent_chats", "languages"]
    list_filter = ["presence"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__display_name"]
    filter_horizontal = ["skills"]
