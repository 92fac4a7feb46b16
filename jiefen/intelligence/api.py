"""Endpoints: a case's related cases, setting its category (a correction), confirming a proposed link."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from jiefen.cases.models import Category
from jiefen.cases.queries import cases_visible_to, get_case_for_user
from jiefen.intelligence import queries, services

router = Router(tags=["intelligence"])


class RelatedOut(Schema):
    case_id: int
    external_id: str
    receipt_number: str
    score: float
    kind: str
    reason: str


class CategoryIn(Schema):
    category_id: int


class LinkIn(Schema):
    other_case_id: int


class CaseRefOut(Schema):
    case_id: int
    category_id: int | None
    matter_id: int | None
    version: int


@router.get("/cases/{case_id}/related", response=list[RelatedOut])
def related(request: HttpRequest, case_id: int, top: int = 10) -> list[RelatedOut]:
    case = get_case_for_user(request.user, case_id)
    found = queries.related_cases(case, top=max(1, min(top, 50)), cases=cases_visible_to(request.user))
    return [
        RelatedOut(
            case_id=r.case_id,
            external_id=r.external_id,
            receipt_number=r.receipt_number,
            score=r.score,
            kind=r.kind,
            reason=r.reason,
        )
        for r in found
    ]


@router.post("/cases/{case_id}/category", response=CaseRefOut)
def set_category(request: HttpRequest, case_id: int, payload: CategoryIn) -> CaseRefOut:
    case = get_case_for_user(request.user, case_id)
    category = get_object_or_404(Category, pk=payload.category_id)
    case = services.set_category(case=case, category=category, actor=request.user)  # type: ignore[arg-type]
    return CaseRefOut(
        case_id=case.pk, category_id=case.category_id, matter_id=case.matter_id, version=case.version
    )


@router.post("/cases/{case_id}/link", response=CaseRefOut)
def confirm_link(request: HttpRequest, case_id: int, payload: LinkIn) -> CaseRefOut:
    case = get_case_for_user(request.user, case_id)
    other = get_case_for_user(request.user, payload.other_case_id)
    case = services.confirm_related(case=case, other=other, actor=request.user)  # type: ignore[arg-type]
    return CaseRefOut(
        case_id=case.pk, category_id=case.category_id, matter_id=case.matter_id, version=case.version
    )
