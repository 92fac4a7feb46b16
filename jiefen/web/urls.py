from django.contrib.auth import views as auth_views
from django.urls import path

from jiefen.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/action/<str:name>/", views.case_action, name="case_action"),
    path("cases/<int:case_id>/identity/", views.case_identity, name="case_identity"),
    path("cases/<int:case_id>/matters/", views.matter_lookup, name="matter_lookup"),
    path("cases/<int:case_id>/category/", views.case_category, name="case_category"),
    path("cases/<int:case_id>/related/link/", views.case_link_related, name="case_link_related"),
]
