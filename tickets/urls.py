from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("new/deflect/", views.request_deflect, name="deflect"),
    path("new/solved/", views.request_deflected, name="deflected"),
    path("attachments/<uuid:uuid>/", views.attachment_download, name="attachment"),
    path("attachments/<uuid:uuid>/thumb/", views.attachment_thumbnail, name="attachment_thumb"),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/submitted/", views.request_submitted, name="submitted"),
    path("<str:reference>/reply/", views.request_reply, name="reply"),
    path("<str:reference>/solve/", views.request_solve, name="solve"),
    path("<str:reference>/reopen/", views.request_reopen, name="reopen"),
    path("<str:reference>/rate/", views.request_rate, name="rate"),
]
