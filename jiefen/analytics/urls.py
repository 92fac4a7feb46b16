from django.urls import path

from jiefen.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.cases, name="cases"),
    path("hotspots/", views.hotspot_list, name="hotspots"),
    path("hotspots/run/", views.hotspot_run, name="hotspot_run"),
    path("hotspots/<int:hotspot_id>/", views.hotspot_detail, name="hotspot_detail"),
    path("hotspots/<int:hotspot_id>/task/", views.hotspot_task, name="hotspot_task"),
    path("map/", views.map_page, name="map"),
    path("governance/", views.governance, name="governance"),
    path("governance/<int:task_id>/done/", views.governance_done, name="governance_done"),
    path("backlog/", views.backlog_list, name="backlog"),
    path("backlog/detect/", views.backlog_detect, name="backlog_detect"),
    path("backlog/<int:backlog_id>/", views.backlog_detail, name="backlog_detail"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("reports/", views.reports_page, name="reports"),
    path("reports/<str:period>.<str:fmt>", views.report, name="report"),
]
