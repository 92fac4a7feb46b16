"""The citizen's window (网上信访 / 掌上信访): submit, follow a case with receipt number + query code, add
material, rate, request a review, withdraw, and "my cases" for a verified phone. No login and no script needed.

A case is opened to a browser session only after its receipt number and query code (or the phone it was
registered with, proved by a one-time code) were given; every action checks that again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiefen.audit.signals import client_ip
from jiefen.cases import services
from jiefen.cases.actors import CITIZEN
from jiefen.cases.attachments import Upload, add_attachment
from jiefen.cases.intake import (
    CONTENT_MAX,
    PLACE_MAX,
    TITLE_MAX,
    Intake,
    PersonInput,
    query_code_matches,
)
from jiefen.cases.models import Case, CaseType, Channel, Resolved, Satisfaction
from jiefen.cases.workflow import OPEN_STATES, CaseStatus, Move
from jiefen.clocks.models import ClockKind
from jiefen.clocks.services import running_clock
from jiefen.core import crypto
from jiefen.core.errors import DomainError, InvalidInput
from jiefen.intake import guard
from jiefen.intake import services as intake_services
from jiefen.portal import queries

SESSION_CASES = "portal_cases"
SESSION_PHONE = "portal_phone_hash"
COMMENT_MAX = 2000
_ANONYMOUS_TYPES = (CaseType.REPORT, CaseType.SUGGESTION, CaseType.CONSULT)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Receipts, query codes and case pages must not be kept by shared caches or the back-forward cache.
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"office_name": settings.OFFICE_NAME})


# --- submit ---------------------------------------------------------------------------------------------------------


def _is_phone(request: HttpRequest) -> bool:
    agent = request.headers.get("User-Agent", "")
    return any(word in agent for word in ("Mobile", "Android", "iPhone", "MicroMessenger"))


def _float(value: str, label: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{label}必须是数字") from None


def _intake_from(request: HttpRequest) -> Intake:
    post = request.POST
    anonymous = post.get("anonymous") == "1"
    person = None
    if not anonymous:
        person = PersonInput(
            name=post.get("name", "").strip(),
            phone=post.get("phone", "").strip(),
            id_number=post.get("id_number", "").strip(),
        )
        if not person.name or not person.phone:
            raise InvalidInput("实名提交请填写姓名和手机号码；不愿留名的举报、建议和咨询可以选择匿名")
    return Intake(
        channel=Channel.MOBILE if _is_phone(request) else Channel.WEB,
        case_type=post.get("case_type", ""),
        title=post.get("title", ""),
        content=post.get("content", ""),
        petitioner=person,
        place_text=post.get("place", "").strip(),
        latitude=_float(post.get("lat", ""), "纬度"),
        longitude=_float(post.get("lon", ""), "经度"),
        is_anonymous=anonymous,
    )


def _submit_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "case_types": CaseType.choices,
        "anonymous_types": [str(t) for t in _ANONYMOUS_TYPES],
        "challenge": guard.new_challenge(),
        "key": request.POST.get("key") or guard.new_idempotency_key(),
        "values": request.POST,
        "honeypot": guard.HONEYPOT_FIELD,
        "limits": {
            "title": TITLE_MAX,
            "content": CONTENT_MAX,
            "place": PLACE_MAX,
            "files": settings.ATTACHMENT_MAX_COUNT,
            "file_mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
        },
        **extra,
    }


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _no_store(render(request, "portal/submit.html", _submit_context(request)))
    try:
        key = guard.clean_idempotency_key(request.POST.get("key", ""))
        try:
            guard.check_challenge(
                request.POST.get("challenge", ""), request.POST.get(guard.HONEYPOT_FIELD, "")
            )
        except guard.ChallengeFailed:
            # A retry (double click, reload, flaky network) long after the form was served: the same receipt.
            # A fresh retry passes the challenge and gets its receipt from submit_petition instead.
            if intake_services.receipt_for_key(key) is not None:
                return redirect("portal:receipt", key=key)
            raise
        guard.check_rate(guard.SUBMIT_PER_IP, client_ip(request))
        intake = _intake_from(request)
        if intake.petitioner and intake.petitioner.phone:
            phone_hash = crypto.lookup_hash(crypto.normalise_phone(intake.petitioner.phone))
            guard.check_rate(guard.SUBMIT_PER_PHONE, phone_hash)
        email = request.POST.get("email", "").strip()
        if email and ("@" not in email or len(email) > 254):
            raise InvalidInput("电子邮箱格式不正确")
        uploads = [Upload(f.name or "file", f) for f in request.FILES.getlist("files")]
        intake_services.submit_petition(
            key=key,
            intake=intake,
            actor=CITIZEN,
            uploads=uploads,
            keep_location=request.POST.get("keep_location") == "1",
            email=email,
        )
    except DomainError as exc:
        status = exc.http_status if exc.http_status in (400, 409, 429) else 400
        context = _submit_context(request, error=exc.message)
        return _no_store(render(request, "portal/submit.html", context, status=status))
    return redirect("portal:receipt", key=key)


def receipt(request: HttpRequest, key: str) -> HttpResponse:
    """The receipt of a submission, found by its idempotency key (known only to the browser that sent it)."""
    try:
        found = intake_services.receipt_for_key(guard.clean_idempotency_key(key))
    except InvalidInput:
        found = None
    if found is None:
        return _no_store(render(request, "portal/receipt_gone.html", status=404))
    _open_case(request, found.case)
    context = {
        "case": found.case,
        "query_code": found.query_code,
        "emergency_numbers": intake_services.emergency_numbers(found.case),
    }
    return _no_store(render(request, "portal/receipt.html", context))


# --- follow a case --------------------------------------------------------------------------------------------------


def _open_case(request: HttpRequest, case: Case) -> None:
    opened = list(request.session.get(SESSION_CASES, []))
    if case.pk not in opened:
        request.session[SESSION_CASES] = [*opened[-49:], case.pk]


def _case_in_session(request: HttpRequest, receipt_number: str) -> Case | None:
    """The case, if this browser proved it may see it (query code, or the verified phone it belongs to)."""
    case = Case.objects.select_related("category").filter(receipt_number=receipt_number).first()
    if case is None:
        return None
    if case.pk in request.session.get(SESSION_CASES, []):
        return case
    phone_hash = request.session.get(SESSION_PHONE, "")
    if phone_hash and case.petitioner_id and case.petitioner and case.petitioner.phone_hash == phone_hash:
        return case
    return None


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        number = request.POST.get("receipt", "").strip().upper()
        code = request.POST.get("code", "").strip()
        try:
            guard.check_rate(guard.TRACK_PER_IP, client_ip(request))
        except DomainError as exc:
            error = exc.message
        else:
            case = Case.objects.filter(receipt_number=number).first() if number else None
            # The same answer whether the number is unknown or the code wrong: numbers are guessable.
            if case is not None and query_code_matches(case, code):
                _open_case(request, case)
                return redirect("portal:case", receipt=case.receipt_number)
            error = _("受理编号或查询码不正确")
    status = 400 if error else 200
    return _no_store(
        render(request, "portal/track.html", {"error": error, "values": request.POST}, status=status)
    )


def _case_context(case: Case) -> dict[str, Any]:
    review_window = running_clock(case, ClockKind.REVIEW_REQUEST_WINDOW)
    return {
        "case": case,
        "timeline": queries.public_timeline(case),
        "replies": queries.sent_replies(case),
        "deadlines": queries.deadlines(case),
        "info_requested": queries.info_requested(case),
        "may_add_material": case.status == CaseStatus.AWAITING_INFO,
        "may_rate": case.can(Move.SATISFIED),
        "may_review": case.can(Move.REQUEST_REVIEW) and review_window is not None,
        "review_due": review_window.due_at if review_window is not None else None,
        "may_withdraw": case.status in OPEN_STATES,
        "resolved_choices": Resolved.choices,
        "satisfaction_choices": Satisfaction.choices,
        "emergency_numbers": intake_services.emergency_numbers(case),
        "comment_max": COMMENT_MAX,
    }


def case_page(request: HttpRequest, receipt: str) -> HttpResponse:
    case = _case_in_session(request, receipt)
    if case is None:
        messages.error(request, _("请先输入受理编号和查询码"))
        return redirect("portal:track")
    return _no_store(render(request, "portal/case.html", _case_context(case)))


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _text(request: HttpRequest, name: str, label: str, required: bool = False) -> str:
    value = request.POST.get(name, "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{label}")
    if len(value) > COMMENT_MAX:
        raise InvalidInput(f"{label}不能超过 {COMMENT_MAX} 字（现为 {len(value)} 字）")
    return value


def _add_material(request: HttpRequest, case: Case) -> str:
    files = request.FILES.getlist("files")
    note = _text(request, "note", "补充说明")
    if not files and not note:
        raise InvalidInput("请上传材料或填写补充说明")
    if case.status != CaseStatus.AWAITING_INFO:
        raise InvalidInput("该信访件目前不需要补充材料")
    keep = request.POST.get("keep_location") == "1"
    with transaction.atomic():
        for f in files:
            add_attachment(
                case=case,
                actor=CITIZEN,
                upload=Upload(f.name or "file", f),
                by_petitioner=True,
                keep_location=keep,
            )
        services.receive_info(case=case, actor=CITIZEN, note=note, version=_version(request))
    return _("补充材料已提交")


def _rate(request: HttpRequest, case: Case) -> str:
    services.record_feedback(
        case=case,
        actor=CITIZEN,
        resolved=request.POST.get("resolved", ""),
        satisfaction=request.POST.get("satisfaction", ""),
        comment=_text(request, "comment", "评价意见"),
        version=_version(request),
    )
    return _("感谢您的评价")


def _review(request: HttpRequest, case: Case) -> str:
    services.request_review(
        case=case,
        actor=CITIZEN,
        reason=_text(request, "reason", "申请复查的理由", True),
        version=_version(request),
    )
    return _("复查申请已提交")


def _withdraw(request: HttpRequest, case: Case) -> str:
    if request.POST.get("confirm") != "1":
        raise InvalidInput("请勾选确认撤回")
    services.withdraw_case(
        case=case, actor=CITIZEN, reason=_text(request, "reason", "撤回理由"), version=_version(request)
    )
    return _("信访件已撤回")


_ACTIONS = {"material": _add_material, "rate": _rate, "review": _review, "withdraw": _withdraw}


@require_POST
def case_action(request: HttpRequest, receipt: str, name: str) -> HttpResponse:
    case = _case_in_session(request, receipt)
    if case is None:
        messages.error(request, _("请先输入受理编号和查询码"))
        return redirect("portal:track")
    action = _ACTIONS.get(name)
    if action is None:
        return redirect("portal:case", receipt=case.receipt_number)
    try:
        done = action(request, case)
    except DomainError as exc:
        case.refresh_from_db()
        context = {**_case_context(case), "error": exc.message, "error_action": name, "values": request.POST}
        return _no_store(render(request, "portal/case.html", context, status=exc.http_status))
    messages.success(request, done)
    return redirect("portal:case", receipt=case.receipt_number)


# --- my cases (verified phone) ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def my_cases(request: HttpRequest) -> HttpResponse:
    phone_hash = request.session.get(SESSION_PHONE, "")
    context: dict[str, Any] = {"values": request.POST, "step": "phone"}
    status = 200
    if request.method == "POST":
        step = request.POST.get("step", "")
        phone = request.POST.get("phone", "").strip()
        try:
            if step == "send":
                intake_services.issue_one_time_code(phone=phone, ip=client_ip(request))
                context.update(step="code", sent=True)
            elif step == "verify":
                context["step"] = "code"
                phone_hash = intake_services.verify_one_time_code(
                    phone=phone, code=request.POST.get("code", "")
                )
                request.session.cycle_key()  # a new session id once the phone is proved
                request.session[SESSION_PHONE] = phone_hash
                return redirect("portal:mine")
            elif step == "leave":
                request.session.pop(SESSION_PHONE, None)
                return redirect("portal:mine")
        except DomainError as exc:
            context["error"] = exc.message
            status = exc.http_status
    if phone_hash:
        context.update(step="list", cases=queries.cases_of_phone(phone_hash)[:100])
    return _no_store(render(request, "portal/mine.html", context, status=status))
