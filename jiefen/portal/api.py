"""The citizen's submission for apps (掌上信访): the same service as the form, once per ``Idempotency-Key``.

No login; the same guards as the form: a challenge token fetched first (the app must wait the minimum fill
time, as a person would), rate limits per address and phone, and the idempotency key sent as a header.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import BaseModel, Field

from jiefen.audit.signals import client_ip
from jiefen.cases.actors import CITIZEN
from jiefen.cases.intake import CONTENT_MAX, PLACE_MAX, TITLE_MAX, Intake, PersonInput
from jiefen.cases.models import Channel
from jiefen.core import crypto
from jiefen.core.errors import InvalidInput
from jiefen.intake import guard
from jiefen.intake import services as intake_services

router = Router(tags=["portal"], auth=None)


class ChallengeOut(Schema):
    challenge: str
    idempotency_key: str


class PetitionIn(BaseModel):
    challenge: str
    case_type: str
    title: str = Field(default="", max_length=TITLE_MAX)
    content: str = Field(max_length=CONTENT_MAX)
    place_text: str = Field(default="", max_length=PLACE_MAX)
    latitude: float | None = None
    longitude: float | None = None
    name: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=30)
    email: str = Field(default="", max_length=254)
    is_anonymous: bool = False


class ReceiptOut(Schema):
    receipt_number: str
    query_code: str
    replayed: bool
    emergency_numbers: list[str]


@router.get("/challenge", response=ChallengeOut)
def challenge(request: HttpRequest) -> dict[str, str]:
    return {"challenge": guard.new_challenge(), "idempotency_key": guard.new_idempotency_key()}


@router.post("/petitions", response={201: ReceiptOut, 200: ReceiptOut})
def submit_petition(request: HttpRequest, payload: PetitionIn) -> Status:
    """Header ``Idempotency-Key`` (16–64 URL-safe characters) is required; a retry with the same key returns
    the first receipt with ``replayed: true`` and status 200."""
    key = guard.clean_idempotency_key(request.headers.get("Idempotency-Key", ""))
    found = intake_services.receipt_for_key(key)
    if found is None:
        guard.check_challenge(payload.challenge, "")
        guard.check_rate(guard.SUBMIT_PER_IP, client_ip(request))
        person = None
        if not payload.is_anonymous:
            if not payload.name.strip() or not payload.phone.strip():
                raise InvalidInput("实名提交请填写姓名和手机号码；不愿留名的举报、建议和咨询可以选择匿名")
            guard.check_rate(
                guard.SUBMIT_PER_PHONE, crypto.lookup_hash(crypto.normalise_phone(payload.phone))
            )
            person = PersonInput(name=payload.name.strip(), phone=payload.phone.strip())
        found = intake_services.submit_petition(
            key=key,
            intake=Intake(
                channel=Channel.MOBILE,
                case_type=payload.case_type,
                title=payload.title,
                content=payload.content,
                petitioner=person,
                place_text=payload.place_text,
                latitude=payload.latitude,
                longitude=payload.longitude,
                is_anonymous=payload.is_anonymous,
            ),
            actor=CITIZEN,
            email=payload.email.strip(),
        )
    body = {
        "receipt_number": found.case.receipt_number,
        "query_code": found.query_code,
        "replayed": found.replayed,
        "emergency_numbers": intake_services.emergency_numbers(found.case),
    }
    return Status(200 if found.replayed else 201, body)
