from django.urls import path

from jiefen.transfer import views

app_name = "transfer"

urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("import/<int:run_id>/", views.import_run, name="import_run"),
    path("import/<int:run_id>/rejects.csv", views.import_rejects, name="import_rejects"),
    path("export.csv", views.export_csv, name="export"),
]
