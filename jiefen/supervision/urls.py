from django.urls import path

from jiefen.supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.board, name="board"),
    path("cases/<int:case_id>/<str:name>/", views.act, name="act"),
    path("orders/<int:order_id>/answer/", views.answer, name="answer"),
]
