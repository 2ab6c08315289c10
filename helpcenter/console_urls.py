"""Help-center editing in the agent console (views in helpcenter.console_views)."""

from django.urls import path

from helpcenter import console_views as views

app_name = "helpcenter_console"

urlpatterns = [
    path("", views.article_list, name="articles"),
    path("new-article/", views.article_create, name="article_create"),
    path("preview/", views.preview, name="preview"),
    path("images/", views.image_upload, name="image_upload"),
    path("articles/<slug:key>/", views.article_editor, name="article_editor"),
    path("articles/<slug:key>/settings/", views.article_settings, name="article_settings"),
    path(
        "articles/<slug:key>/<str:language>/save/",
        views.translation_save,
        name="translation_save",
    ),
    path(
        "articles/<slug:key>/<str:language>/revisions/",
        views.revision_list,
        name="revisions",
    ),
    path(
        "articles/<slug:key>/<str:language>/revisions/<int:pk>/",
        views.revision_diff,
        name="revision_diff",
    ),
    path(
        "articles/<slug:key>/<str:language>/revisions/<int:pk>/restore/",
        views.revision_restore,
        name="revision_restore",
    ),
    path("feedback/", views.feedback, name="feedback"),
    path("categories/", views.category_list, name="categories"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<slug:slug>/edit/", views.category_edit, name="category_edit"),
    path("synonyms/", views.synonym_list, name="synonyms"),
    path("synonyms/new/", views.synonym_create, name="synonym_create"),
    path("synonyms/<int:pk>/", views.synonym_edit, name="synonym_edit"),
    path("synonyms/<int:pk>/delete/", views.synonym_delete, name="synonym_delete"),
    path("search-log/", views.search_log, name="search_log"),
]
