"""Pages of the analytics app: dashboard with drill-down, hotspots, map, source governance, backlog cases,
campaigns and reports. Thin: every figure comes from ``queries``, every change from ``services``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiefen.analytics import charts, geo, queries
from jiefen.analytics.models import BacklogCase, BacklogStatus, Campaign, GovernanceTask, HotspotRun
from jiefen.analytics.rates import DEFINITIONS, rates_of
from jiefen.analytics.services import backlog as backlog_services
from jiefen.analytics.services import exports, hotspots, is_stale, refresh_rollups
from jiefen.cases.models import CaseType, Category, Channel
from jiefen.core.errors import DomainError
from jiefen.core.parse import int_or_none
from jiefen.mediation.queries import dispute_figures
from jiefen.org.models import Role, Unit, UnitKind, User

MANAGERS = (Role.LEADER, Role.SUPERVISOR, Role.ADMIN)


def _require_analytics(request: HttpRequest) -> None:
    if not queries.may_see_analytics(request.user):
        raise PermissionDenied


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_role(*MANAGERS):  # type: ignore[union-attr]
        raise PermissionDenied


def _date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def filters_from(request: HttpRequest, days: int = 30) -> queries.Filters:
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=days - 1))
    if start > end:
        start, end = end, start
    channel = request.GET.get("channel", "")
    case_type = request.GET.get("case_type", "")
    return queries.Filters(
        start=start,
        end=end,
        channel=channel if channel in Channel.values else "",
        case_type=case_type if case_type in CaseType.values else "",
        category=int_or_none(request.GET.get("category")),
        unit=int_or_none(request.GET.get("unit")),
    )


def _refresh_if_stale() -> None:
    """In the embedded mode the dashboard counts new events itself when it finds some (a few ms when there
    are none); in production the beat job does it."""
    if settings.CELERY_TASK_ALWAYS_EAGER and is_stale():
        # One batch at most, so a page never waits on a backlog of a big import; the scheduled job does the rest.
        refresh_rollups(max_batches=1)


def _form_context(f: queries.Filters) -> dict[str, Any]:
    return {
        "channels": Channel.choices,
        "case_types": CaseType.choices,
        "categories": Category.objects.filter(parent=None, is_active=True).order_by("path"),
        "units": Unit.objects.filter(
            kind__in=[UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.PROPERTY_COMPANY, UnitKind.DEPARTMENT],
            is_active=True,
        ).order_by("path"),
        "f": f,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    _refresh_if_stale()
    f = filters_from(request)
    board = queries.dashboard(request.user, f)
    drill = reverse("analytics:cases")
    return render(
        request,
        "analytics/dashboard.html",
        {
            **_form_context(f),
            "board": board,
            "definitions": DEFINITIONS,
            "drill": drill,
            "q": f.query(),
            "charts": charts.dashboard_charts(board, drill),
            "settings_row": queries.score_settings(),
            # Mediation (矛盾纠纷多元化解) in the same period, from the mediation app's own figures.
            "disputes": dispute_figures(request.user, date_from=f.start, date_to=f.end),
        },
    )


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure; ``?format=csv`` exports them (masked, audited)."""
    _require_analytics(request)
    f = filters_from(request)
    metric = request.GET.get("metric", "received")
    if metric not in queries.DRILL_METRICS:
        raise Http404("no such figure")
    qs = queries.drill_cases(request.user, f, metric)
    if request.GET.get("format") == "csv":
        return exports.csv_response(user=request.user, cases=qs, name=f"cases-{metric}-{f.start}-{f.end}")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/cases.html",
        {"page": page, "metric": metric, "f": f, "q": f.query(), "total": page.paginator.count},
    )


@login_required
def hotspot_list(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    found = queries.hotspots_visible_to(request.user).select_related("place_unit").order_by("-heat")[:100]
    last_run = HotspotRun.objects.order_by("-started_at").first()
    return render(
        request,
        "analytics/hotspots.html",
        {
            "hotspots": found,
            "warnings": [h for h in found if h.warning],
            "last_run": last_run,
            "chart": charts.hotspot_chart(list(found[:15])),
            "may_manage": request.user.has_role(*MANAGERS),  # type: ignore[union-attr]
            "owners": User.objects.filter(is_active=True, groups__name__in=[Role.LEADER, Role.UNIT_LEADER])
            .distinct()
            .order_by("username"),
            "today": timezone.localdate(),
        },
    )


@require_POST
@login_required
def hotspot_run(request: HttpRequest) -> HttpResponse:
    """Run hotspot detection now over the last 90 days (on demand; the hourly job does the same)."""
    _require_manager(request)
    result = hotspots.run_recent()
    messages.success(request, _("已完成热点分析：%(n)d 个热点") % {"n": result.hotspots_found})
    return redirect("analytics:hotspots")


@login_required
def hotspot_detail(request: HttpRequest, hotspot_id: int) -> HttpResponse:
    _require_analytics(request)
    hotspot = get_object_or_404(queries.hotspots_visible_to(request.user), pk=hotspot_id)
    from jiefen.cases.queries import cases_visible_to

    members = cases_visible_to(request.user).filter(hotspots=hotspot).order_by("received_at")
    return render(request, "analytics/hotspot_detail.html", {"h": hotspot, "members": members[:500]})


@require_POST
@login_required
def hotspot_task(request: HttpRequest, hotspot_id: int) -> HttpResponse:
    """Turn a hotspot into a governance task (源头治理)."""
    _require_manager(request)
    hotspot = get_object_or_404(queries.hotspots_visible_to(request.user), pk=hotspot_id)
    owner = User.objects.filter(pk=int_or_none(request.POST.get("owner")) or 0, is_active=True).first()
    try:
        if owner is None:
            raise DomainError(_("请选择责任人"))
        deadline = date.fromisoformat(request.POST.get("deadline", ""))
    except ValueError:
        messages.error(request, _("请填写期限"))
        return redirect("analytics:hotspots")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:hotspots")
    try:
        backlog_services.open_governance_task(
            hotspot=hotspot,
            owner=owner,
            deadline=deadline,
            actor=request.user,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:hotspots")
    messages.success(request, _("已转为治理任务"))
    return redirect("analytics:governance")


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    _refresh_if_stale()
    f = filters_from(request, days=90)
    units = list(Unit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.COMMUNITY], is_active=True))
    counts = dict(
        queries.filtered_rollups(request.user, f)
        .values_list("place_unit")
        .annotate(n=Sum("received"))
        .values_list("place_unit", "n")
    )
    hot = list(
        queries.hotspots_visible_to(request.user)
        .filter(ended_at__date__gte=f.start)
        .select_related("place_unit")
        .order_by("-heat")[:50]
    )
    schematic = any((u.boundary or {}).get("schematic") for u in units)
    return render(
        request,
        "analytics/map.html",
        {
            **_form_context(f),
            "map": charts.map_chart(units, counts, hot),
            "streets_geo": geo.feature_collection(u for u in units if u.kind == UnitKind.STREET),
            "communities_geo": geo.feature_collection(u for u in units if u.kind == UnitKind.COMMUNITY),
            "has_boundaries": any(u.boundary for u in units),
            "schematic": schematic,
            "tile_url": getattr(settings, "MAP_TILE_URL", ""),
        },
    )


@login_required
def governance(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    f = filters_from(request, days=90)
    month = _date(request.GET.get("month"), timezone.localdate()).replace(day=1)
    tasks = list(
        GovernanceTask.objects.select_related("owner", "unit", "hotspot").order_by("status", "deadline")
    )
    for t in tasks:
        t.after_per_30d, t.after_count = queries.complaints_since(t)  # type: ignore[attr-defined]
    return render(
        request,
        "analytics/governance.html",
        {
            "f": f,
            "month": month,
            "by_community": queries.recurring_problems(request.user, f, kind=UnitKind.COMMUNITY)[:20],
            "by_property": queries.recurring_problems(request.user, f, kind=UnitKind.PROPERTY_COMPANY)[:20],
            "of_the_month": queries.problems_of_the_month(request.user, month),
            "tasks": tasks,
            "may_manage": request.user.has_role(*MANAGERS),  # type: ignore[union-attr]
        },
    )


@require_POST
@login_required
def governance_done(request: HttpRequest, task_id: int) -> HttpResponse:
    _require_manager(request)
    task = get_object_or_404(GovernanceTask, pk=task_id)
    backlog_services.complete_governance_task(task=task, actor=request.user)
    return redirect("analytics:governance")


@login_required
def backlog_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    rows = BacklogCase.objects.select_related("matter", "case", "leader").order_by("status", "detected_at")
    return render(
        request,
        "analytics/backlog.html",
        {
            "rows": rows[:300],
            "labels": backlog_services.REASON_LABELS,
            "open": rows.filter(status=BacklogStatus.OPEN).count(),
        },
    )


@require_POST
@login_required
def backlog_detect(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    created = backlog_services.detect_backlog()
    messages.success(request, _("新发现积案 %(n)d 件") % {"n": len(created)})
    return redirect("analytics:backlog")


@login_required
def backlog_detail(request: HttpRequest, backlog_id: int) -> HttpResponse:
    _require_manager(request)
    item = get_object_or_404(BacklogCase.objects.select_related("matter", "case", "leader"), pk=backlog_id)
    if request.method == "POST":
        action, post = request.POST.get("action"), request.POST
        try:
            if action == "leader":
                leader = User.objects.filter(pk=int_or_none(post.get("leader")) or 0, is_active=True).first()
                if leader is None:
                    raise DomainError(_("请选择包案领导"))
                backlog_services.assign_leader(backlog=item, leader=leader, actor=request.user)
            elif action == "plan":
                backlog_services.set_plan(backlog=item, plan=post.get("plan", ""), actor=request.user)
            elif action == "step":
                backlog_services.add_step(backlog=item, note=post.get("note", ""), actor=request.user)
            elif action == "settle":
                backlog_services.settle_backlog(
                    backlog=item, outcome=post.get("outcome", ""), actor=request.user
                )
            messages.success(request, _("已保存"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("analytics:backlog_detail", backlog_id=item.pk)
    return render(
        request,
        "analytics/backlog_detail.html",
        {
            "item": item,
            "steps": item.steps.select_related("actor"),
            "labels": backlog_services.REASON_LABELS,
            "matter_cases": item.matter.cases.order_by("received_at"),
            "leaders": User.objects.filter(is_active=True, groups__name__in=[Role.LEADER, Role.UNIT_LEADER])
            .distinct()
            .order_by("username"),
        },
    )


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    if request.method == "POST":
        _require_manager(request)
        post = request.POST
        try:
            backlog_services.create_campaign(
                name=post.get("name", ""),
                kind=post.get("kind", ""),
                starts_on=date.fromisoformat(post.get("starts_on", "")),
                ends_on=date.fromisoformat(post.get("ends_on", "")),
                category=Category.objects.filter(pk=int_or_none(post.get("category")) or 0).first(),
                keywords=post.get("keywords", ""),
                actor=request.user,
            )
            messages.success(request, _("已创建专项治理"))
        except ValueError:
            messages.error(request, _("请填写开始和结束日期"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("analytics:campaigns")
    return render(
        request,
        "analytics/campaigns.html",
        {
            "campaigns": Campaign.objects.select_related("category", "lead_unit"),
            "categories": Category.objects.filter(is_active=True).order_by("path"),
            "may_manage": request.user.has_role(*MANAGERS),  # type: ignore[union-attr]
        },
    )


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    _require_analytics(request)
    campaign = get_object_or_404(Campaign.objects.select_related("category"), pk=campaign_id)
    f = queries.Filters(start=campaign.starts_on, end=campaign.ends_on, category=campaign.category_id)
    board = queries.dashboard(request.user, f) if campaign.category_id else None
    matched = queries.campaign_cases(request.user, campaign)
    return render(
        request,
        "analytics/campaign_detail.html",
        {
            "campaign": campaign,
            "board": board,
            "definitions": DEFINITIONS,
            "matched_total": matched.count(),
            "matched": matched[:50],
            "live": rates_of({}),
            "q": f.query(),
            "drill": reverse("analytics:cases"),
            "charts": charts.dashboard_charts(board, reverse("analytics:cases")) if board else {},
        },
    )


@login_required
def report(request: HttpRequest, period: str, fmt: str) -> HttpResponse:
    """The monthly (?month=YYYY-MM) or quarterly (?quarter=YYYY-Q) report as XLSX or PDF."""
    _require_analytics(request)
    from jiefen.analytics.services import reports

    try:
        spec = reports.period_of(period, request.GET.get("month") or request.GET.get("quarter") or "")
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    _refresh_if_stale()
    return reports.response(user=request.user, spec=spec, fmt=fmt)


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    _require_analytics(request)
    today = timezone.localdate()
    months = []
    first = today.replace(day=1)
    for _i in range(6):
        months.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    quarters = []
    y, q = today.year, (today.month - 1) // 3 + 1
    for _i in range(4):
        quarters.append(f"{y}-{q}")
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return render(request, "analytics/reports.html", {"months": months, "quarters": quarters})
