"""Routing endpoints: the suggestion for one case, for the dispatcher to confirm or change."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from jiefen.routing.queries import suggestion_for_user
from jiefen.routing.services import UnitRef

router = Router(tags=["routing"])


class UnitOut(Schema):
    id: int
    name: str
    kind: str


class SuggestionOut(Schema):
    case_id: int
    lead: UnitOut | None
    assists: list[UnitOut]
    copies: list[UnitOut]
    jurisdiction: UnitOut | None
    property_company: UnitOut | None
    rule_id: int | None
    reasons: list[str]


def _unit(unit: UnitRef | None) -> UnitOut | None:
    return None if unit is None else UnitOut(id=unit.id, name=unit.name, kind=unit.kind)


@router.get("/suggest/{case_id}", response=SuggestionOut)
def suggest_for_case(request: HttpRequest, case_id: int) -> SuggestionOut:
    suggestion = suggestion_for_user(request.user, case_id)
    return SuggestionOut(
        case_id=case_id,
        lead=_unit(suggestion.lead),
        assists=[UnitOut(id=u.id, name=u.name, kind=u.kind) for u in suggestion.assists],
        copies=[UnitOut(id=u.id, name=u.name, kind=u.kind) for u in suggestion.copies],
        jurisdiction=_unit(suggestion.jurisdiction.unit if suggestion.jurisdiction else None),
        property_company=_unit(suggestion.property_company),
        rule_id=suggestion.rule_id,
        reasons=suggestion.reasons,
    )
