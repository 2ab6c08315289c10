from django.urls import path

from helpcenter.api import views

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="api-helpcenter-search"),
    path("suggest/", views.SuggestView.as_view(), name="api-helpcenter-suggest"),
    path("categories/", views.CategoryListView.as_view(), name="api-helpcenter-categories"),
    path(
        "categories/<slug:slug>/",
        views.CategoryDetailView.as_view(),
        name="api-helpcenter-category",
    ),
    path("articles/", views.ArticleListView.as_view(), name="api-helpcenter-articles"),
    path(
        "articles/<slug:key>/<str:language>/",
        views.ArticleDetailView.as_view(),
        name="api-helpcenter-article",
    ),
]
