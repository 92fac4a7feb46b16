"""Staff pages: thin function views over queries and the action table."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.audit.signals import client_ip
from jiefen.cases import queries
from jiefen.cases.actions import ACTIONS, run_action
from jiefen.cases.models import (
    Case,
    CaseType,
    Category,
    Channel,
    ClockColour,
    Resolved,
    Satisfaction,
)
from jiefen.cases.services.acceptance import may_link_matter
from jiefen.cases.workflow import OPEN_STATES, CaseStatus
from jiefen.clocks.calendar import current_calendar
from jiefen.core.errors import Conflict, DomainError, InvalidInput
from jiefen.documents.models import IssuedDocument
from jiefen.intelligence import services as intelligence
from jiefen.org.models import Role, Unit
from jiefen.web import case_page


@login_required
def home(request: HttpRequest) -> HttpResponse:
    visible = queries.cases_visible_to(request.user)
    open_cases = visible.filter(status__in=[s.value for s in OPEN_STATES])
    by_colour = dict(open_cases.values_list("clock_colour").annotate(n=Count("id")).order_by())
    today = timezone.localdate()
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
            "pending_tasks": pending_tasks.select_related("case", "unit").order_by("return_due_at")[:20],
            "due_soon": open_cases.filter(due_at__isnull=False).order_by("due_at", "id")[:10],
            "missing_years": missing_years,
        },
    )


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = queries.CaseFilters.from_query(g)
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
    # An htmx request (filters, pager) gets the rows only; a history restore after "back" needs the full page.
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    response = render(request, "web/_case_rows.html" if partial else "web/case_list.html", context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = queries.get_case_for_user(request.user, case_id)
    user = request.user
    rows = case_page.case_rows(case)
    actions = case_page.available_actions(user, case, rows)
    suggestion = case_page.routing_suggestion(user, case)
    lead_choice = case.jurisdiction_unit_id
    assist_choices: set[int] = set()
    if suggestion is not None and suggestion.lead is not None:
        lead_choice = suggestion.lead.id
        assist_choices = {unit.id for unit in suggestion.assists}
    enrichment = case_page.enrichment_items(case)
    context = {
        "case": case,
        "events": case_page.timeline(case),
        "assignments": rows.assignments,
        "clocks": case.clocks.order_by("started_at"),
        "replies": rows.replies,
        "extensions": rows.extensions,
        "actions": actions,
        "may_see_identity": queries.may_see_identity(user, case),
        "units": Unit.objects.filter(is_active=True).exclude(kind="district").order_by("path"),
        "resolved_choices": Resolved.choices,
        "satisfaction_choices": Satisfaction.choices,
        "suggestion": suggestion,
        "lead_choice": lead_choice,
        "assist_choices": assist_choices,
        "documents": IssuedDocument.objects.filter(case=case).order_by("issued_at", "pk"),
        "matter": case_page.matter_box(user, case),
        "enrichment": enrichment,
        "has_classification": any(item["key"] == "classification" for item in enrichment),
        "category": case_page.category_box(user, case),
        "related": case_page.related_box(user, case),
        "may_refer_to_mediation": case_page.may_refer_to_mediation(user, case),
        "supervision": case_page.supervision_box(user, case),
    }
    return render(request, "web/case_detail.html", context)


@login_required
def matter_lookup(request: HttpRequest, case_id: int) -> HttpResponse:
    """htmx: the matter choices of the link form, found by another case's receipt number (cases the user sees)."""
    case = queries.get_case_for_user(request.user, case_id)
    if not may_link_matter(request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    receipt = request.GET.get("receipt", "")[:32]
    if receipt.strip():
        choices = case_page.matters_by_receipt(request.user, case, receipt)
    else:
        choices = case_page.petitioner_matters(request.user, case)
    return render(request, "web/_matter_options.html", {"choices": choices, "receipt": receipt.strip()})


@login_required
def case_identity(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show the petitioner's full phone and ID number; every view is written to the audit log."""
    case = queries.get_case_for_user(request.user, case_id)
    if not queries.may_see_identity(request.user, case) or case.petitioner is None:
        messages.error(request, _("您无权查看该信访人的完整信息"))
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
            payload[key] = values[-1] if values[-1] != "" or key in ("note", "instructions", "text") else None
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
        messages.success(request, _("已完成：%(action)s") % {"action": ACTIONS[name].label})
    return redirect("web:case_detail", case_id=case.pk)


# --- the language engine's suggestions ------------------------------------------------------------------------


def _posted_id(request: HttpRequest, name: str, problem: str) -> int:
    try:
        value = int(request.POST.get(name, ""))
    except ValueError:
        raise InvalidInput(problem) from None
    if value < 1:
        raise InvalidInput(problem)
    return value


def _check_version(request: HttpRequest, case: Case) -> None:
    """The form carries the version of the case the user saw: a stale one is refused, as the actions do."""
    raw = request.POST.get("version", "")
    if raw == "":
        return
    if _posted_id(request, "version", _("版本号有误，请刷新页面后再操作")) != case.version:
        raise Conflict(_("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作"))


@require_POST
@login_required
def case_category(request: HttpRequest, case_id: int) -> HttpResponse:
    """Set the case's category (a correction of the suggestion, kept for the next training)."""
    case = queries.get_case_for_user(request.user, case_id)
    try:
        # A quick pick is a submit button of its own; the chooser's value counts when none was pressed.
        field = "pick" if request.POST.get("pick") else "category"
        pk = _posted_id(request, field, _("请选择分类"))
        category = Category.objects.filter(pk=pk).first()
        if category is None:
            raise InvalidInput(_("没有这个分类，请刷新页面后重新选择"))
        _check_version(request, case)
        intelligence.set_category(case=case, category=category, actor=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("分类已更正为“%(category)s”") % {"category": category.full_name})
    return redirect("web:case_detail", case_id=case.pk)


@require_POST
@login_required
def case_link_related(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm a related case proposed at intake: this case joins the other's matter."""
    case = queries.get_case_for_user(request.user, case_id)
    try:
        pk = _posted_id(request, "other", _("请选择要关联的信访件"))
        other = queries.cases_visible_to(request.user).filter(pk=pk).first()
        if other is None:
            raise InvalidInput(_("找不到该信访件，或您无权查看"))
        _check_version(request, case)
        intelligence.confirm_related(case=case, other=other, actor=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已确认关联：本件与 %(receipt)s 属于同一事项") % {"receipt": other.receipt_number}
        )
    return redirect("web:case_detail", case_id=case.pk)
