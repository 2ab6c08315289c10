"""The request inbox and workspace in the agent console (views in tickets.console_views)."""

from django.urls import path

from tickets import console_views as views

app_name = "tickets_console"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bulk/", views.bulk, name="bulk"),
    path("<str:reference>/", views.workspace, name="workspace"),
    path("<str:reference>/reply/", views.reply, name="reply"),
    path("<str:reference>/status/", views.change_status, name="status"),
    path("<str:reference>/priority/", views.change_priority, name="priority"),
    path("<str:reference>/assignee/", views.assign, name="assign"),
    path("<str:reference>/team/", views.change_team, name="team"),
    path("<str:reference>/category/", views.change_category, name="category"),
    path("<str:reference>/details/", views.update_fields, name="fields"),
    path("<str:reference>/merge/", views.merge, name="merge"),
]
