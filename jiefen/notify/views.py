"""Staff pages: the inbox of in-app messages and the outbox of failed messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiefen.core.errors import DomainError
from jiefen.notify import queries, services
from jiefen.notify.models import OutboxStatus


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.messages_for(request.user).select_related("case"), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "notify/inbox.html", {"page": page, "unread": queries.unread_count(request.user)})


@login_required
@require_POST
def open_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = queries.get_message_for_user(request.user, message_id)
    services.mark_read(message=message, actor=request.user)
    if message.case_id:
        return redirect("web:case_detail", case_id=message.case_id)
    return redirect("notify:inbox")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=request.user)
    return redirect("notify:inbox")


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    if not queries.may_watch_outbox(request.user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    rows = queries.outbox_for(request.user, status).order_by("-created_at")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/outbox.html",
        {"page": page, "status": status, "statuses": OutboxStatus.choices},
    )


@login_required
@require_POST
def retry(request: HttpRequest, outbox_id: int) -> HttpResponse:
    row = queries.get_outbox_for_user(request.user, outbox_id)
    try:
        services.retry(outbox=row, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        row.refresh_from_db()
        messages.success(request, _("已重新发送：%(status)s") % {"status": row.get_status_display()})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("notify:outbox")
    return redirect(target)
