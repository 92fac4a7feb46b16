"""Staff pages: thin function views over queries and the action table."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
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
from jiefen.cases.actions import ACTIONS, Action, run_action
from jiefen.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    ClockColour,
    Reply,
    Resolved,
    Satisfaction,
)
from jiefen.cases.permissions import OFFICE_DECISIONS, acts_for_unit, may_move
from jiefen.cases.workflow import OPEN_STATES, AssignmentStatus, CaseStatus, Move
from jiefen.clocks.calendar import current_calendar
from jiefen.clocks.models import ClockKind
from jiefen.core.errors import DomainError
from jiefen.org.models import Role, Unit, UnitKind


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


# How each offered action is drawn: the step that moves the case on, or one that ends or refuses it.
_PRIMARY = frozenset(
    {
        "accept",
        "answer",
        "dispatch",
        "sign",
        "draft_reply",
        "approve_reply",
        "send_reply",
        "feedback",
        "resume",
    }
    | {"decide_review", "decide_reexam", "receive_info", "review_return"}
)
_DANGER = frozenset({"decline", "withdraw", "return"})
_UNIT_ROLES = (Role.UNIT_HANDLER, Role.UNIT_LEADER)


def _acts_for(user: Any, assignment: Assignment) -> bool:
    """Mirrors the services' unit check (``services._check_unit_actor``) so the page only offers what will work."""
    return user.has_role(*_UNIT_ROLES) and (user.is_superuser or acts_for_unit(user, assignment.unit.path))


def _assignment_label(assignment: Assignment) -> str:
    return f"{assignment.unit.name}（{assignment.get_role_display()}）"


def _pass_down_units(assignment: Assignment) -> list[tuple[int, str]]:
    """A street office passes a task to a unit below it or to a property company (首接负责)."""
    units = (
        Unit.objects.filter(is_active=True)
        .filter(Q(path__startswith=assignment.unit.path) | Q(kind=UnitKind.PROPERTY_COMPANY))
        .exclude(pk=assignment.unit_id)
        .order_by("path")
    )
    return [(u.pk, u.name) for u in units]


def _offer(name: str, user: Any, case: Case, assignments: list[Assignment], replies: list[Reply]) -> Any:
    """For an action that is not a lifecycle move: None when it is not for this user now, else the extra
    context its form needs. The services check all of this again; this only keeps dead ends off the page."""
    if name == "note":
        return {} if case.is_open else None
    if name == "extend":
        if not user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
            return None
        handling = [c for c in case.clocks.all() if c.kind == ClockKind.HANDLING and c.can_extend]
        return {} if handling else None
    if name == "draft_reply":
        lead = case.lead_assignment if case.status == CaseStatus.IN_PROGRESS else None
        return {} if lead is not None and _acts_for(user, lead) else None
    if name == "approve_reply":
        if not user.has_role(Role.UNIT_LEADER):
            return None
        choices = [
            (r.pk, f"#{r.pk} {r.conclusion[:30]}")
            for r in replies
            if r.approved_at is None and (user.is_superuser or acts_for_unit(user, r.unit.path))
        ]
        return {"choices": choices} if choices else None
    wanted = {
        "sign": {AssignmentStatus.PENDING},
        "return": {AssignmentStatus.PENDING, AssignmentStatus.SIGNED},
        "pass_down": {AssignmentStatus.SIGNED},
    }
    if name in wanted:
        mine = [a for a in assignments if a.status in wanted[name] and _acts_for(user, a)]
        if not mine:
            return None
        extra: dict[str, Any] = {"choices": [(a.pk, _assignment_label(a)) for a in mine]}
        if name == "pass_down":
            extra["units"] = _pass_down_units(mine[0])
        return extra
    if name == "review_return":
        if not user.has_role(*OFFICE_DECISIONS):
            return None
        returned = [a for a in assignments if a.status == AssignmentStatus.RETURNED and not a.return_decision]
        return {"choices": [(a.pk, _assignment_label(a)) for a in returned]} if returned else None
    return None


def _offer_move(action: Action, user: Any, case: Case, replies: list[Reply]) -> Any:
    """For an action that makes a lifecycle move: None unless the table and the role allow it now."""
    move = action.move
    assert move is not None
    label = action.label
    if action.name == "dispatch" and case.status != CaseStatus.ACCEPTED:
        # dispatch_case re-dispatches a case in progress or reopened (Move.REDISPATCH).
        move, label = Move.REDISPATCH, _("重新交办")
    if not case.can(move) or not may_move(user, case, move):
        return None
    if action.name == "answer" and case.case_type != CaseType.CONSULT:
        return None
    if action.name == "send_reply":
        unsent = [r for r in replies if r.sent_at is None]
        if not unsent or unsent[0].approved_at is None:  # replies are newest first, as send_reply picks
            return None
    return {"label": label}


def _available_actions(user: Any, case: Any) -> list[dict[str, Any]]:
    """The actions ``user`` may take on ``case`` in its current state, each with what its form needs."""
    assignments = list(case.assignments.select_related("unit").order_by("assigned_at", "pk"))
    replies = list(case.replies.select_related("unit").order_by("-created_at", "-pk"))
    available = []
    for action in ACTIONS.values():
        if action.move is not None:
            extra = _offer_move(action, user, case, replies)
        else:
            extra = _offer(action.name, user, case, assignments, replies)
        if extra is None:
            continue
        style = "primary" if action.name in _PRIMARY else "danger" if action.name in _DANGER else ""
        available.append({"name": action.name, "label": action.label, "style": style, **extra})
    # The next step first, the ones that end or refuse the case last; otherwise the order of the action table.
    rank = {"primary": 0, "": 1, "danger": 2}
    return sorted(available, key=lambda a: rank[a["style"]])


# Event kinds whose data names the unit concerned (``data["to"]`` for a pass-down, the lead for a dispatch).
_UNIT_EVENTS = frozenset(
    {
        "move",
        "assigned",
        "assignment_signed",
        "assignment_returned",
        "return_reviewed",
        "assignment_passed_down",
    }
)


def _timeline(case: Case) -> list[CaseEvent]:
    """The case's events, oldest first, with the labels the timeline shows."""
    events = list(case.events.select_related("actor").order_by("created_at", "id"))
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        event.from_label = CaseStatus(event.from_status).label if event.from_status else ""  # type: ignore[attr-defined]
        event.to_label = CaseStatus(event.to_status).label if event.to_status else ""  # type: ignore[attr-defined]
        event.is_clock = event.kind.startswith("clock_")  # type: ignore[attr-defined]
        detail = ""
        if event.is_clock and data.get("clock") in ClockKind.values:  # type: ignore[attr-defined]
            detail = str(ClockKind(data["clock"]).label)
        elif event.kind in _UNIT_EVENTS:
            detail = data.get("to") or data.get("unit") or data.get("lead") or data.get("authority") or ""
        # What the event concerns: the clock, or the unit a task went to.
        event.detail = detail if isinstance(detail, str) else ""  # type: ignore[attr-defined]
    return events


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = queries.get_case_for_user(request.user, case_id)
    context = {
        "case": case,
        "events": _timeline(case),
        "assignments": case.assignments.select_related("unit").order_by("assigned_at"),
        "clocks": case.clocks.order_by("started_at"),
        "replies": case.replies.select_related("unit").order_by("-created_at"),
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
        messages.success(request, _("已完成：%(action)s") % {"action": ACTIONS[name].label})
    return redirect("web:case_detail", case_id=case.pk)
