"""Case endpoints. Reads go through ``cases_visible_to``; every change through ``actions.run_action`` or a
service."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from jiefen.cases import queries
from jiefen.cases.actions import ACTIONS, Action, run_action
from jiefen.cases.intake import CONTENT_MAX, TITLE_MAX, Intake, PersonInput
from jiefen.cases.models import Case, CaseEvent
from jiefen.cases.services import register_case
from jiefen.core.errors import NotAllowed
from jiefen.org.models import Role, User

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: int
    receipt_number: str
    status: str
    channel: str
    case_type: str
    title: str
    content: str
    place_text: str
    category: str | None
    jurisdiction_unit: str | None
    urgency: str
    people_count: int
    is_group: bool
    external_id: str
    matter_id: int | None
    version: int
    due_at: datetime | None
    clock_colour: str
    created_at: datetime

    @staticmethod
    def resolve_category(obj: Case) -> str | None:
        return str(obj.category) if obj.category_id else None

    @staticmethod
    def resolve_jurisdiction_unit(obj: Case) -> str | None:
        return obj.jurisdiction_unit.name if obj.jurisdiction_unit is not None else None


class CasePage(Schema):
    count: int
    items: list[CaseOut]


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


class FilterIn(Schema):
    status: str = ""
    colour: str = ""
    unit: int | None = None
    category: int | None = None
    channel: str = ""
    case_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = Field(default="", max_length=200)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class PersonIn(BaseModel):
    name: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=30)
    id_number: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)


class RegisterIn(BaseModel):
    channel: str
    case_type: str
    title: str = Field(default="", max_length=TITLE_MAX)
    content: str = Field(max_length=CONTENT_MAX)
    petitioner: PersonIn | None = None
    representatives: list[PersonIn] = Field(default_factory=list, max_length=10)
    place_text: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    category_id: int | None = None
    jurisdiction_unit_id: int | None = None
    urgency: str = "normal"
    people_count: int = Field(default=1, ge=1, le=100000)
    is_group: bool = False
    confidential: bool = False
    is_anonymous: bool = False


class RegisteredOut(Schema):
    id: int
    receipt_number: str
    query_code: str


@router.get("", response=CasePage)
def list_cases(request: HttpRequest, filters: Query[FilterIn]) -> dict[str, Any]:
    qs = queries.filter_cases(
        queries.cases_visible_to(request.user),
        queries.CaseFilters(**filters.dict(exclude={"limit", "offset"})),
    ).select_related("category", "jurisdiction_unit")
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


@router.post("", response={201: RegisteredOut})
def create_case(request: HttpRequest, payload: RegisterIn) -> Status:
    user = request.user
    if not isinstance(user, User) or not user.has_role(
        Role.RECEPTION_CLERK, Role.DISPATCHER, Role.FIELD_OFFICER
    ):
        raise NotAllowed("只有接访员、交办员和走访员可以登记信访件")
    data = payload.model_dump()
    person = data.pop("petitioner")
    reps = data.pop("representatives")
    registered = register_case(
        intake=Intake(
            petitioner=PersonInput(**person) if person else None,
            representatives=[PersonInput(**rep) for rep in reps],
            **data,
        ),
        actor=user,
    )
    return Status(
        201,
        {
            "id": registered.case.pk,
            "receipt_number": registered.case.receipt_number,
            "query_code": registered.query_code,
        },
    )


@router.get("/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: int) -> Case:
    return queries.get_case_for_user(request.user, case_id)


@router.get("/{case_id}/events", response=list[EventOut])
def case_events(request: HttpRequest, case_id: int) -> list[CaseEvent]:
    case = queries.get_case_for_user(request.user, case_id)
    return list(case.events.order_by("created_at", "id"))


def _action_endpoint(action: Action) -> None:
    def endpoint(request: HttpRequest, case_id: int, payload: Any) -> Case:
        case = queries.get_case_for_user(request.user, case_id)
        run_action(name=action.name, case=case, actor=request.user, payload=payload.model_dump())
        case.refresh_from_db()
        return case

    # ninja reads the body schema from the annotation, so it is set per action.
    endpoint.__annotations__ = {
        "request": HttpRequest,
        "case_id": int,
        "payload": action.schema,
        "return": Case,
    }
    endpoint.__name__ = f"case_{action.name}"
    router.post(f"/{{case_id}}/{action.name.replace('_', '-')}", response=CaseOut, summary=str(action.label))(
        endpoint
    )


for _action in ACTIONS.values():
    _action_endpoint(_action)
