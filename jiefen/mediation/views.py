"""Staff pages for disputes: thin function views over queries, services and the action table."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiefen.cases.queries import get_case_for_user, may_see_identity
from jiefen.core.errors import DomainError
from jiefen.core.parse import date_or_none
from jiefen.mediation import documents, queries, services
from jiefen.mediation.actions import ACTIONS, available_actions, run_action
from jiefen.mediation.models import (
    Agreement,
    DisputeKind,
    MediatorKind,
    PartyRole,
    PartyType,
    RiskLevel,
    SessionOutcome,
)
from jiefen.mediation.permissions import may_register
from jiefen.mediation.workflow import DisputeStatus
from jiefen.org.models import Role, Unit, UnitKind

PARTY_ROWS = 3


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    status = g.get("status", "") if g.get("status", "") in DisputeStatus.values else ""
    kind = g.get("kind", "") if g.get("kind", "") in DisputeKind.values else ""
    q = g.get("q", "").strip()[:100]
    qs = queries.disputes_visible_to(request.user).select_related("mediator", "committee", "place_unit")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(number__iexact=q) | Q(title__icontains=q) | Q(parties__name__icontains=q)).distinct()
    page = Paginator(qs.order_by("-created_at", "-id"), 50).get_page(g.get("page"))
    return render(
        request,
        "mediation/dispute_list.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "q": q,
            "statuses": DisputeStatus.choices,
            "kinds": DisputeKind.choices,
            "may_register": may_register(request.user),
        },
    )


def _places() -> list[Unit]:
    return list(
        Unit.objects.filter(is_active=True, kind__in=[UnitKind.STREET, UnitKind.COMMUNITY]).order_by("path")
    )


def _party_rows(post: Any) -> list[dict[str, str]]:
    rows = []
    for i in range(PARTY_ROWS):
        rows.append(
            {
                key: (post.get(f"p{i}-{key}", "") or "").strip()
                for key in ("role", "party_type", "name", "phone", "representative", "address")
            }
        )
    return rows


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    """Take a dispute in; ``?case=<id>`` fills it in from a case the user can see."""
    if not may_register(request.user):
        messages.error(request, _("您无权登记矛盾纠纷"))
        return redirect("mediation:list")
    case_id = request.GET.get("case") or request.POST.get("case")
    case = get_case_for_user(request.user, case_id) if case_id else None
    if request.method == "POST":
        post = request.POST
        rows = _party_rows(post)
        place_pk = post.get("place_unit") or ""
        place = Unit.objects.filter(pk=int(place_pk), is_active=True).first() if place_pk.isdigit() else None
        try:
            dispute = services.register_dispute(
                actor=request.user,
                case=case,
                title=post.get("title", ""),
                description=post.get("description", ""),
                kind=post.get("kind", ""),
                amount=post.get("amount", ""),
                place_text=post.get("place_text", ""),
                place_unit=place,
                risk_level=post.get("risk_level", RiskLevel.LOW),
                parties=[
                    services.PartyInput(
                        role=r["role"],
                        party_type=r["party_type"] or PartyType.PERSON,
                        name=r["name"],
                        phone=r["phone"],
                        representative=r["representative"],
                        address=r["address"],
                    )
                    for r in rows
                    if r["name"]
                ],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            entered: dict[str, Any] = {
                k: post.get(k, "")
                for k in ("title", "description", "kind", "amount", "place_text", "risk_level")
            }
            entered["place_unit"] = place_pk
            return _new_page(request, case, entered, rows, status=400)
        messages.success(request, _("已登记矛盾纠纷 %(number)s") % {"number": dispute.number})
        return redirect("mediation:detail", dispute_id=dispute.pk)
    form: dict[str, Any] = {"kind": "", "risk_level": RiskLevel.LOW}
    rows = [{"role": PartyRole.APPLICANT}, {"role": PartyRole.RESPONDENT}, {"role": PartyRole.THIRD_PARTY}]
    if case is not None:
        form.update(
            title=case.title,
            description=case.content,
            place_text=case.place_text,
            place_unit=str(case.jurisdiction_unit_id or ""),
        )
        if case.petitioner is not None and not case.is_anonymous and may_see_identity(request.user, case):
            rows[0]["name"] = case.petitioner.name
            rows[0]["address"] = case.petitioner.address
    return _new_page(request, case, form, rows)


def _new_page(
    request: HttpRequest, case: Any, form: dict[str, Any], rows: list[dict[str, Any]], status: int = 200
) -> HttpResponse:
    return render(
        request,
        "mediation/dispute_new.html",
        {
            "case": case,
            "form": form,
            "rows": rows,
            "kinds": DisputeKind.choices,
            "risks": RiskLevel.choices,
            "roles": PartyRole.choices,
            "party_types": PartyType.choices,
            "places": _places(),
        },
        status=status,
    )


@login_required
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    agreement = Agreement.objects.filter(dispute=dispute).select_related("document").first()
    signed: set[int] = set()
    days_left = None
    if agreement is not None:
        signed = set(agreement.signatures.values_list("party_id", flat=True))
        if agreement.confirmation_due_at is not None:
            days_left = (timezone.localtime(agreement.confirmation_due_at).date() - timezone.localdate()).days
    events = list(dispute.events.order_by("created_at", "id"))
    for event in events:
        event.to_label = DisputeStatus(event.to_status).label if event.to_status else ""  # type: ignore[attr-defined]
        event.from_label = DisputeStatus(event.from_status).label if event.from_status else ""  # type: ignore[attr-defined]
    return render(
        request,
        "mediation/dispute_detail.html",
        {
            "dispute": dispute,
            "parties": dispute.parties.order_by("id"),
            "signed": signed,
            "sessions": dispute.sessions.order_by("sequence"),
            "documents": dispute.documents.order_by("-created_at", "-id"),
            "agreement": agreement,
            "signatures": agreement.signatures.select_related("party").order_by("signed_at")
            if agreement
            else [],
            "performance": agreement.performance.order_by("created_at") if agreement else [],
            "days_left": days_left,
            "referral": getattr(dispute, "referral", None),
            "events": events,
            "actions": available_actions(request.user, dispute),
            "outcomes": [c for c in SessionOutcome.choices if c[0]],
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


def _form_payload(request: HttpRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for key in request.POST:
        if key == "csrfmiddlewaretoken":
            continue
        value = request.POST.getlist(key)[-1]
        if value != "" or key == "note":
            payload[key] = value
    return payload


@require_POST
@login_required
def dispute_action(request: HttpRequest, dispute_id: int, name: str) -> HttpResponse:
    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    try:
        run_action(name=name, dispute=dispute, actor=request.user, payload=_form_payload(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已完成：%(action)s") % {"action": ACTIONS[name].label})
    return redirect("mediation:detail", dispute_id=dispute.pk)


@login_required
def document_download(request: HttpRequest, dispute_id: int, document_id: int, fmt: str) -> HttpResponse:
    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    document = dispute.documents.filter(pk=document_id).first()
    if document is None or fmt not in ("docx", "pdf"):
        raise Http404("no such document")
    if fmt == "docx":
        data = documents.to_docx(document.title, document.body)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        data = documents.to_pdf(document.title, document.body)
        content_type = "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    filename = f"{dispute.number}-{document.pk}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def mediator_directory(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not (user.is_office_staff or user.has_role(Role.MEDIATOR)):
        raise PermissionDenied
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in MediatorKind.values else ""
    speciality = (
        request.GET.get("speciality", "") if request.GET.get("speciality", "") in DisputeKind.values else ""
    )
    return render(
        request,
        "mediation/directory.html",
        {
            "entries": queries.mediator_directory(kind=kind, speciality=speciality),
            "kind": kind,
            "speciality": speciality,
            "kinds": MediatorKind.choices,
            "specialities": DisputeKind.choices,
        },
    )


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    date_from = date_or_none(request.GET.get("date_from"))
    date_to = date_or_none(request.GET.get("date_to"))
    return render(
        request,
        "mediation/figures.html",
        {
            "figures": queries.dispute_figures(request.user, date_from=date_from, date_to=date_to),
            "date_from": date_from,
            "date_to": date_to,
        },
    )
