"""The supervisors' page: what is at yellow and red, open orders, and the actions of supervision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jiefen.cases.queries import get_case_for_user
from jiefen.core.errors import DomainError
from jiefen.org.models import Role, Unit, User
from jiefen.supervision import queries, services
from jiefen.supervision.models import SupervisionOrder


def _require_supervisor(request: HttpRequest) -> None:
    if not request.user.has_role(*services.SUPERVISORS):  # type: ignore[union-attr]
        raise PermissionDenied


@login_required
def board(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    return render(
        request,
        "supervision/board.html",
        {
            "red": queries.cases_at(request.user, "red")[:100],
            "yellow": queries.cases_at(request.user, "yellow")[:100],
            "orders": queries.open_orders(request.user)[:100],
            "escalated": queries.escalated_after_reopen_limit(request.user)[:50],
            "leaders": User.objects.filter(groups__name=Role.LEADER, is_active=True).order_by("username"),
            "units": Unit.objects.filter(is_active=True).exclude(kind="district").order_by("path"),
        },
    )


@require_POST
@login_required
def act(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    """urge / order / escalate one case, posted from the board or the case page."""
    _require_supervisor(request)
    case = get_case_for_user(request.user, case_id)
    post = request.POST
    try:
        if name == "urge":
            services.urge(case=case, actor=request.user, message=post.get("message", ""))
            messages.success(request, f"已催办 {case.receipt_number}")
        elif name == "order":
            unit = Unit.objects.filter(pk=post.get("unit") or 0, is_active=True).first()
            if unit is None:
                raise DomainError("请选择被督办单位")
            services.issue_order(
                case=case, actor=request.user, unit=unit, instructions=post.get("instructions", "")
            )
            messages.success(request, f"已对{unit.name}下达督办单")
        elif name == "escalate":
            leader = User.objects.filter(pk=post.get("leader") or 0, is_active=True).first()
            if leader is None:
                raise DomainError("请选择领导")
            services.escalate(case=case, actor=request.user, leader=leader, note=post.get("note", ""))
            messages.success(request, f"已提交{leader}")
        else:
            raise DomainError(f"未知操作“{name}”")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(post.get("next") or "supervision:board")


@require_POST
@login_required
def answer(request: HttpRequest, order_id: int) -> HttpResponse:
    """The ordered unit answers (from the case page)."""
    order = SupervisionOrder.objects.select_related("case", "unit").filter(pk=order_id).first()
    if order is None:
        raise PermissionDenied
    get_case_for_user(request.user, order.case_id)
    try:
        services.answer_order(order=order, actor=request.user, answer=request.POST.get("answer", ""))
        messages.success(request, "已反馈督办")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:case_detail", case_id=order.case_id)
