from django.urls import path

from announcements import views

app_name = "announcements"

urlpatterns = [
    path("", views.announcement_list, name="list"),
]
