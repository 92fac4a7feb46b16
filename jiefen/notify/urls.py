from django.urls import path

from jiefen.notify import views

app_name = "notify"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:message_id>/open/", views.open_message, name="open_message"),
    path("inbox/read-all/", views.read_all, name="read_all"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:outbox_id>/retry/", views.retry, name="retry"),
]
