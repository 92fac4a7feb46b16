"""The HTTP API (django-ninja, OpenAPI at /api/docs). Each app contributes a router; domain errors become
JSON ``{"code", "message"}`` with the error's HTTP status."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from jiefen.core.errors import DomainError

api = NinjaAPI(title="Jiefen API", version="1", urls_namespace="api", auth=django_auth)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=exc.http_status)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "message": "not found"}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"code": "unauthenticated", "message": "login required"}, status=401)


from jiefen.cases.api import router as cases_router  # noqa: E402

api.add_router("/cases", cases_router)

from jiefen.routing.api import router as routing_router  # noqa: E402

api.add_router("/routing", routing_router)

from jiefen.mediation.api import router as mediation_router  # noqa: E402

api.add_router("/mediation", mediation_router)

from jiefen.portal.api import router as portal_router  # noqa: E402

api.add_router("/portal", portal_router)

from jiefen.analytics.api import router as analytics_router  # noqa: E402

api.add_router("/analytics", analytics_router)

from jiefen.intelligence.api import router as intelligence_router  # noqa: E402

api.add_router("/intelligence", intelligence_router)
