"""Staff pages: thin function views over queries and the action table."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.audit.signals import client_ip
from jiefen.cases import queries
from jiefen.cases.actions import ACTIONS, run_action
from jiefen.cases.models import CaseType, Category, Channel, ClockColour, Resolved, Satisfaction
from jiefen.cases.permissions import may_move
from jiefen.cases.workflow import CaseStatus
from jiefen.clocks.calendar import current_calendar
from jiefen.core.errors import DomainError
from jiefen.org.models import Role, Unit


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    visible = queries.cases_visible_to(request.user)
    by_colour = dict(
        visible.filter(status__in=list(_open_status_values()))
        .values_list("clock_colour")
        .annotate(n=Count("id"))
    )
    today = date.today()
    missing_years = []
    if request.user.has_role(Role.ADMIN):  # type: ignore[union-attr]
        missing_years = current_calendar().years_without_data([today.year, today.year + 1])
    pending_tasks = queries.assignments_for_user(request.user).filter(status="pending")  # type: ignore[arg-type]
    return render(
        request,
        "web/home.html",
        {
            "open_count": sum(by_colour.values()),
            "yellow": by_colour.get(ClockColour.YELLOW, 0),
            "red": by_colour.get(ClockColour.RED, 0),
            "registered": visible.filter(status=CaseStatus.REGISTERED).count(),
            "pending_tasks": pending_tasks.select_related("case", "unit")[:20],
            "missing_years": missing_years,
        },
    )


def _open_status_values() -> list[str]:
    from jiefen.cases.workflow import OPEN_STATES

    return [s.value for s in OPEN_STATES]


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = queries.CaseFilters(
        status=g.get("status", "") if g.get("status", "") in CaseStatus.values else "",
        colour=g.get("colour", "") if g.get("colour", "") in ClockColour.values else "",
        unit=_parse_int(g.get("unit")),
        category=_parse_int(g.get("category")),
        channel=g.get("channel", "") if g.get("channel", "") in Channel.values else "",
        case_type=g.get("case_type", "") if g.get("case_type", "") in CaseType.values else "",
        date_from=_parse_date(g.get("date_from")),
        date_to=_parse_date(g.get("date_to")),
        q=g.get("q", "")[:200],
    )
    qs = queries.filter_cases(queries.cases_visible_to(request.user), filters).select_related(
        "category", "jurisdiction_unit", "petitioner"
    )
    page = Paginator(qs.order_by("-created_at", "-id"), 50).get_page(g.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "statuses": CaseStatus.choices,
        "colours": ClockColour.choices,
        "channels": Channel.choices,
        "case_types": CaseType.choices,
        "units": Unit.objects.filter(
            kind__in=["street", "community", "department", "property_company"]
        ).order_by("path"),
        "categories": Category.objects.filter(parent__isnull=True).order_by("code"),
        "querystring": _querystring_without_page(request),
    }
    template = "web/_case_rows.html" if getattr(request, "htmx", False) else "web/case_list.html"
    return render(request, template, context)


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _available_actions(user: Any, case: Any) -> list[dict[str, Any]]:
    available = []
    for action in ACTIONS.values():
        if action.move is not None and (not case.can(action.move) or not may_move(user, case, action.move)):
            continue
        available.append({"name": action.name, "label": action.label})
    return available


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = queries.get_case_for_user(request.user, case_id)
    context = {
        "case": case,
        "events": case.events.select_related("actor").order_by("created_at", "id"),
        "assignments": case.assignments.select_related("unit").order_by("assigned_at"),
        "clocks": case.clocks.order_by("started_at"),
        "replies": case.replies.order_by("-created_at"),
        "actions": _available_actions(request.user, case),
        "may_see_identity": queries.may_see_identity(request.user, case),
        "units": Unit.objects.filter(is_active=True).exclude(kind="district").order_by("path"),
        "resolved_choices": Resolved.choices,
        "satisfaction_choices": Satisfaction.choices,
    }
    return render(request, "web/case_detail.html", context)


@login_required
def case_identity(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show the petitioner's full phone and ID number; every view is written to the audit log."""
    case = queries.get_case_for_user(request.user, case_id)
    if not queries.may_see_identity(request.user, case) or case.petitioner is None:
        messages.error(request, "您无权查看该信访人的完整信息")
        return redirect("web:case_detail", case_id=case.pk)
    record(
        action=AuditAction.PERSONAL_DATA_VIEWED,
        actor=request.user,
        object_type="case",
        object_id=case.pk,
        ip=client_ip(request),
        data={"petitioner": case.petitioner_id},
    )
    return render(request, "web/_identity.html", {"case": case, "petitioner": case.petitioner})


def _form_payload(request: HttpRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for key in request.POST:
        if key == "csrfmiddlewaretoken":
            continue
        values = request.POST.getlist(key)
        if key in ("assist_units",):
            payload[key] = [v for v in values if v]
        elif key == "uphold":
            payload[key] = values[-1] in ("1", "true", "on", "yes")
        else:
            payload[key] = values[-1] if values[-1] != "" or key in ("note", "instructions") else None
    return {k: v for k, v in payload.items() if v is not None}


@require_POST
@login_required
def case_action(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    case = queries.get_case_for_user(request.user, case_id)
    try:
        run_action(name=name, case=case, actor=request.user, payload=_form_payload(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        action = ACTIONS[name]
        messages.success(request, f"已{action.label}")
    return redirect("web:case_detail", case_id=case.pk)
