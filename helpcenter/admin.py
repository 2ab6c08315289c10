from django.contrib import admin

from helpcenter.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_en", "slug", "parent", "position", "icon"]
    list_filter = ["parent"]
    list_select_related = ["parent"]
    search_fields = ["slug", "name_en", "name_zh_hans", "name_ja", "name_ko"]
    prepopulated_fields = {"slug": ["name_en"]}
    ordering = ["parent__position", "position", "slug"]
