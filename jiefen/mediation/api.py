"""Dispute endpoints under /api/mediation. Reads go through ``disputes_visible_to``; every change through
``actions.run_action`` or a service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from jiefen.cases.queries import get_case_for_user
from jiefen.mediation import documents, queries, services
from jiefen.mediation.actions import ACTIONS, Action, run_action
from jiefen.mediation.models import Dispute, DisputeEvent

router = Router(tags=["mediation"])


class PartyOut(Schema):
    id: int
    role: str
    party_type: str
    name: str
    representative: str
    consent: str


class DisputeOut(Schema):
    id: int
    number: str
    title: str
    description: str
    kind: str
    amount: Decimal | None
    place_text: str
    place_unit_id: int | None
    risk_level: str
    status: str
    version: int
    case_id: int | None
    matter_id: int | None
    mediator_id: int | None
    committee_id: int | None
    created_at: datetime
    concluded_at: datetime | None
    parties: list[PartyOut]

    @staticmethod
    def resolve_parties(obj: Dispute) -> list[Any]:
        return list(obj.parties.order_by("id"))


class DisputePage(Schema):
    count: int
    items: list[DisputeOut]


class EventOut(Schema):
    id: int
    kind: str
    move: str
    from_status: str
    to_status: str
    actor_label: str
    note: str
    data: dict[str, Any]
    created_at: datetime


class ListIn(Schema):
    status: str = ""
    kind: str = ""
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class PartyIn(BaseModel):
    role: str
    name: str = Field(max_length=100)
    party_type: str = "person"
    phone: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)
    representative: str = Field(default="", max_length=50)


class RegisterIn(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(max_length=20000)
    kind: str
    parties: list[PartyIn] = Field(max_length=20)
    amount: Decimal | None = None
    place_text: str = Field(default="", max_length=200)
    place_unit_id: int | None = None
    risk_level: str = "low"
    case_id: int | None = None


class SuggestionOut(Schema):
    mediator_id: int
    name: str
    unit: str
    score: float
    load: int
    reason: str


class MediatorOut(Schema):
    id: int
    name: str
    unit: str
    kind: str
    specialities: list[str]
    capacity: int
    load: int


class ErrorOut(Schema):
    code: str
    message: str


@router.get("/disputes", response=DisputePage)
def list_disputes(request: HttpRequest, filters: Query[ListIn]) -> dict[str, Any]:
    qs = queries.disputes_visible_to(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    qs = qs.order_by("-created_at", "-id")
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


@router.post("/disputes", response={201: DisputeOut, 400: ErrorOut, 403: ErrorOut})
def register(request: HttpRequest, payload: RegisterIn) -> Any:
    from jiefen.core.errors import InvalidInput
    from jiefen.org.models import Unit

    case = get_case_for_user(request.user, payload.case_id) if payload.case_id else None
    place = None
    if payload.place_unit_id is not None:
        place = Unit.objects.filter(pk=payload.place_unit_id, is_active=True).first()
        if place is None:
            raise InvalidInput("属地单位不存在或已停用")
    dispute = services.register_dispute(
        actor=request.user,
        case=case,
        title=payload.title,
        description=payload.description,
        kind=payload.kind,
        amount=payload.amount,
        place_text=payload.place_text,
        place_unit=place,
        risk_level=payload.risk_level,
        parties=[services.PartyInput(**p.model_dump()) for p in payload.parties],
    )
    return Status(201, dispute)


@router.get("/disputes/{dispute_id}", response=DisputeOut)
def get_dispute(request: HttpRequest, dispute_id: int) -> Dispute:
    return queries.get_dispute_for_user(request.user, dispute_id)


@router.get("/disputes/{dispute_id}/events", response=list[EventOut])
def dispute_events(request: HttpRequest, dispute_id: int) -> list[DisputeEvent]:
    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    return list(dispute.events.order_by("created_at", "id"))


@router.get("/disputes/{dispute_id}/suggestions", response=list[SuggestionOut])
def suggestions(request: HttpRequest, dispute_id: int) -> list[dict[str, Any]]:
    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    return [
        {
            "mediator_id": s.mediator.pk,
            "name": str(s.mediator),
            "unit": str(s.mediator.unit or ""),
            "score": s.score,
            "load": s.entry.load,
            "reason": s.reason,
        }
        for s in queries.suggest_mediators(dispute)
    ]


def _action_endpoint(action: Action) -> None:
    def endpoint(request: HttpRequest, dispute_id: int, payload: Any) -> Dispute:
        dispute = queries.get_dispute_for_user(request.user, dispute_id)
        run_action(name=action.name, dispute=dispute, actor=request.user, payload=payload.model_dump())
        return queries.get_dispute_for_user(request.user, dispute_id)

    # ninja reads the body schema from the annotation, so it is set per action.
    endpoint.__annotations__ = {
        "request": HttpRequest,
        "dispute_id": int,
        "payload": action.schema,
        "return": Dispute,
    }
    endpoint.__name__ = f"dispute_{action.name}"
    router.post(
        f"/disputes/{{dispute_id}}/{action.name.replace('_', '-')}",
        response={200: DisputeOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
        summary=str(action.label),
    )(endpoint)


for _action in ACTIONS.values():
    _action_endpoint(_action)


@router.get("/disputes/{dispute_id}/documents/{document_id}.{fmt}")
def document(request: HttpRequest, dispute_id: int, document_id: int, fmt: str) -> HttpResponse:
    from django.http import Http404

    dispute = queries.get_dispute_for_user(request.user, dispute_id)
    doc = dispute.documents.filter(pk=document_id).first()
    if doc is None or fmt not in ("docx", "pdf"):
        raise Http404("no such document")
    if fmt == "docx":
        return HttpResponse(
            documents.to_docx(doc.title, doc.body),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    return HttpResponse(documents.to_pdf(doc.title, doc.body), content_type="application/pdf")


@router.get("/mediators", response=list[MediatorOut])
def mediators(request: HttpRequest) -> list[dict[str, Any]]:
    from jiefen.core.errors import NotAllowed

    if not getattr(request.user, "is_office_staff", False) and not request.user.has_role("mediator"):  # type: ignore[union-attr]
        raise NotAllowed("您无权查看调解员名册")
    return [
        {
            "id": e.user.pk,
            "name": str(e.user),
            "unit": str(e.user.unit or ""),
            "kind": e.profile.kind,
            "specialities": e.profile.specialities,
            "capacity": e.profile.capacity,
            "load": e.load,
        }
        for e in queries.mediator_directory()
    ]


@router.get("/figures")
def figures(
    request: HttpRequest, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    return dict(queries.dispute_figures(request.user, date_from=date_from, date_to=date_to))
