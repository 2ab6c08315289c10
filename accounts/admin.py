from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import AgentProfile, User


class UserCreationByEmailForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["email"]


class UserChangeByEmailForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    filter_horizontal = ["skills"]
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationByEmailForm
    form = UserChangeByEmailForm
    ordering = ["email"]
    list_display = ["email", "uid", "display_name", "preferred_language", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "groups", "preferred_language"]
    search_fields = ["email", "uid", "display_name"]
    readonly_fields = ["uid", "last_login", "date_joined"]
    inlines = [AgentProfileInline]

    def get_inlines(self, request, obj=None):
        # The profile exists once a role is set; the add page asks only for credentials.
        return self.inlines if obj is not None else []

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
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "presence", "max_concurrent_chats", "languages"]
    list_filter = ["presence"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__display_name"]
    filter_horizontal = ["skills"]
