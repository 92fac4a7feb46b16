"""Staff pages for intake: the desk registration form with petitioner lookup, reception days, field visits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiefen.cases.attachments import Upload
from jiefen.cases.intake import MAX_REPRESENTATIVES, Intake, PersonInput
from jiefen.cases.models import CaseType, Category
from jiefen.cases.queries import cases_visible_to
from jiefen.core.errors import DomainError, InvalidInput
from jiefen.core.parse import int_or_none
from jiefen.intake import queries, services
from jiefen.intake.models import ReceptionSession
from jiefen.org.models import Role, Unit, User

View = Callable[..., HttpResponse]


def _roles_required(*roles: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_role(*roles):  # type: ignore[union-attr]
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


desk_only = _roles_required(*services.DESK_ROLES)
visits_only = _roles_required(*services.VISIT_ROLES)


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the role decorators let only signed-in staff through
    return user


def _date(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise InvalidInput("日期格式不正确") from None


def _people_count(value: str) -> int:
    try:
        return int(value or "1")
    except ValueError:
        raise InvalidInput("人数必须是整数") from None


def _desk_intake(request: HttpRequest) -> Intake:
    post = request.POST
    is_group = post.get("is_group") == "1"
    representatives = []
    for i in range(1, 7):
        name, phone = post.get(f"rep{i}_name", "").strip(), post.get(f"rep{i}_phone", "").strip()
        if name or phone:
            representatives.append(PersonInput(name=name, phone=phone))
    anonymous = post.get("anonymous") == "1"
    return Intake(
        channel=post.get("channel", ""),
        case_type=post.get("case_type", ""),
        title=post.get("title", ""),
        content=post.get("content", ""),
        petitioner=None
        if anonymous
        else PersonInput(
            name=post.get("name", "").strip(),
            phone=post.get("phone", "").strip(),
            id_number=post.get("id_number", "").strip(),
            address=post.get("address", "").strip()[:200],
        ),
        representatives=representatives,
        place_text=post.get("place", "").strip(),
        category_id=int_or_none(post.get("category")),
        jurisdiction_unit_id=int_or_none(post.get("unit")),
        urgency=post.get("urgency", "normal"),
        people_count=_people_count(post.get("people_count", "1")),
        is_group=is_group,
        is_anonymous=anonymous,
    )


def _register_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "channels": [(c.value, c.label) for c in services.DESK_CHANNELS],
        "case_types": CaseType.choices,
        "categories": Category.objects.filter(is_active=True).order_by("path"),
        "units": Unit.objects.filter(is_active=True).exclude(kind="district").order_by("path"),
        "sessions": queries.open_sessions(today),
        "rep_rows": range(1, MAX_REPRESENTATIVES + 1),
        "values": request.POST,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@desk_only
def register(request: HttpRequest) -> HttpResponse:
    """口头如实记录: a walk-in visit, call or letter, typed as the person tells it."""
    if request.method == "GET":
        return render(request, "intake/register.html", _register_context(request))
    try:
        session = None
        if request.POST.get("session"):
            session = ReceptionSession.objects.filter(
                pk=int_or_none(request.POST.get("session")) or 0
            ).first()
            if session is None:
                raise InvalidInput("接访日不存在")
        uploads = [Upload(f.name or "file", f) for f in request.FILES.getlist("files")]
        registered = services.register_at_desk(
            intake=_desk_intake(request), actor=_staff(request), uploads=uploads, session=session
        )
    except DomainError as exc:
        return render(
            request,
            "intake/register.html",
            _register_context(request, error=exc.message),
            status=exc.http_status,
        )
    case = registered.case
    messages.success(
        request,
        _("已登记：受理编号 %(receipt)s，查询码 %(code)s（请告知信访人）")
        % {"receipt": case.receipt_number, "code": registered.query_code},
    )
    return redirect("web:case_detail", case_id=case.pk)


@desk_only
def lookup(request: HttpRequest) -> HttpResponse:
    """htmx partial: people with this phone or ID number and what they brought before (masked values)."""
    phone, id_number = request.GET.get("phone", ""), request.GET.get("id_number", "")
    people = queries.find_petitioners(request.user, phone=phone, id_number=id_number)
    searched = bool(phone.strip() or id_number.strip())
    return render(request, "intake/_lookup.html", {"people": people, "searched": searched})


@require_http_methods(["GET", "POST"])
@desk_only
def sessions(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        leader = User.objects.filter(pk=int_or_none(request.POST.get("leader")) or 0, is_active=True).first()
        try:
            if leader is None:
                raise InvalidInput("请选择接访领导")
            created = services.create_reception_session(
                leader=leader,
                date=_date(request.POST.get("date")),
                place=request.POST.get("place", ""),
                topic=request.POST.get("topic", ""),
                actor=_staff(request),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("已安排领导接访日"))
            return redirect("intake:session_detail", session_id=created.pk)
    leaders = User.objects.filter(is_active=True, groups__name__in=[Role.LEADER, Role.ADMIN]).distinct()
    return render(
        request,
        "intake/sessions.html",
        {
            "sessions": queries.recent_sessions(),
            "leaders": leaders,
            "error": error,
            "values": request.POST,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@desk_only
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(ReceptionSession.objects.select_related("leader"), pk=session_id)
    cases = cases_visible_to(request.user).filter(reception_sessions=session).order_by("created_at")
    return render(request, "intake/session_detail.html", {"session": session, "cases": cases})


@visits_only
def visits(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/visits.html", {"visits": queries.recent_visits()})


@require_http_methods(["GET", "POST"])
@visits_only
def new_visit(request: HttpRequest) -> HttpResponse:
    """实地走访 / 带案下访: the visit, the cases it was for, and problems found on site as new cases."""
    post = request.POST
    context: dict[str, Any] = {
        "values": post,
        "case_types": CaseType.choices,
        "problem_rows": range(1, 4),
        "today": timezone.localdate(),
    }
    if request.method == "POST":
        problems = [
            services.Problem(
                title=post.get(f"p{i}_title", "").strip(),
                content=post.get(f"p{i}_content", "").strip(),
                case_type=post.get(f"p{i}_type", "complaint"),
            )
            for i in context["problem_rows"]
            if post.get(f"p{i}_title", "").strip() or post.get(f"p{i}_content", "").strip()
        ]
        try:
            _visit, raised = services.record_field_visit(
                actor=_staff(request),
                date=_date(post.get("date")),
                place=post.get("place", ""),
                findings=post.get("findings", ""),
                people_met=post.get("people_met", ""),
                attach_receipts=post.get("receipts", "").replace("，", ",").replace("\n", ",").split(","),
                problems=problems,
                photos=[Upload(f.name or "photo", f) for f in request.FILES.getlist("photos")],
                keep_location=post.get("strip_location") != "1",
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "intake/new_visit.html", context, status=exc.http_status)
        messages.success(
            request,
            _("已登记走访，发现问题 %(n)s 件：%(receipts)s")
            % {"n": len(raised), "receipts": "、".join(r.case.receipt_number for r in raised) or "—"},
        )
        return redirect("intake:visits")
    return render(request, "intake/new_visit.html", context)
