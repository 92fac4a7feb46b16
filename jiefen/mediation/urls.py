from django.urls import path

from jiefen.mediation import views

app_name = "mediation"

urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("new/", views.dispute_new, name="new"),
    path("mediators/", views.mediator_directory, name="directory"),
    path("figures/", views.figures, name="figures"),
    path("<int:dispute_id>/", views.dispute_detail, name="detail"),
    path("<int:dispute_id>/action/<str:name>/", views.dispute_action, name="action"),
    path(
        "<int:dispute_id>/documents/<int:document_id>.<str:fmt>",
        views.document_download,
        name="document",
    ),
]
