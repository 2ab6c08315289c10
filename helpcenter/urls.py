from django.urls import path

from helpcenter import views

app_name = "helpcenter"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("articles/<slug:key>/", views.article_detail, name="article"),
    path("articles/<slug:key>/vote/", views.article_vote, name="vote"),
]
