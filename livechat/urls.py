from django.urls import path

from livechat import views

app_name = "livechat"

urlpatterns = [
    path("", views.chat, name="chat"),
]
