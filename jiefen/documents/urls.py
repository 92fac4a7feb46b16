from django.urls import path

from jiefen.documents import views

app_name = "documents"

urlpatterns = [
    path("cases/<int:case_id>/documents/<int:document_id>.<str:fmt>", views.download, name="download"),
]
