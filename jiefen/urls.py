from django.contrib import admin
from django.urls import include, path

from jiefen.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("notify/", include("jiefen.notify.urls")),
    path("portal/", include("jiefen.portal.urls")),
    path("intake/", include("jiefen.intake.urls")),
    path("transfer/", include("jiefen.transfer.urls")),
    path("mediation/", include("jiefen.mediation.urls")),
    path("supervision/", include("jiefen.supervision.urls")),
    path("analytics/", include("jiefen.analytics.urls")),
    path("", include("jiefen.documents.urls")),
    path("", include("jiefen.web.urls")),
]
