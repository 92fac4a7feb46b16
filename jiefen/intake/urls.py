from django.urls import path

from jiefen.intake import views

app_name = "intake"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("lookup/", views.lookup, name="lookup"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:session_id>/", views.session_detail, name="session_detail"),
    path("visits/", views.visits, name="visits"),
    path("visits/new/", views.new_visit, name="new_visit"),
]
