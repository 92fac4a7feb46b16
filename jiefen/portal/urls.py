from django.urls import path

from jiefen.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("receipt/<str:key>/", views.receipt, name="receipt"),
    path("track/", views.track, name="track"),
    path("case/<str:receipt>/", views.case_page, name="case"),
    path("case/<str:receipt>/<str:name>/", views.case_action, name="case_action"),
    path("mine/", views.my_cases, name="mine"),
]
