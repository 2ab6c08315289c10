from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
]
