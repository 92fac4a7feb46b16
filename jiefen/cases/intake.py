"""Registering a case: the typed payload, validation, receipt numbers and query codes."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from jiefen.cases.models import Case, CaseType, Category, Channel, Urgency
from jiefen.core import crypto
from jiefen.core.errors import InvalidInput

TITLE_MAX = 200
CONTENT_MAX = 20000
PLACE_MAX = 200
MAX_REPRESENTATIVES = 5  # 信访工作条例 Art. 18: a group visit chooses at most five representatives.
# Crockford-style alphabet without 0/O, 1/I/L, so a code read over the phone is not misheard.
_QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8


@dataclass
class PersonInput:
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""


@dataclass
class Intake:
    """Everything known about a petition when it is registered."""

    channel: str
    case_type: str
    title: str
    content: str
    petitioner: PersonInput | None = None
    representatives: list[PersonInput] = field(default_factory=list)
    place_text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    category_id: int | None = None
    jurisdiction_unit_id: int | None = None
    urgency: str = Urgency.NORMAL
    people_count: int = 1
    is_group: bool = False
    confidential: bool = False
    is_anonymous: bool = False
    external_id: str = ""
    external_source: str = ""
    support_count: int = 0
    oppose_count: int = 0
    received_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The choices' values, computed once (the enums' ``values`` property builds a new list at each call).
_CHANNELS, _CASE_TYPES, _URGENCIES = (frozenset(e.values) for e in (Channel, CaseType, Urgency))


def existing_categories(ids: Iterable[int | None]) -> set[int]:
    """Which of ``ids`` name a category (one query for a batch)."""
    wanted = {pk for pk in ids if pk is not None}
    return set(Category.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()


def validate_intake(intake: Intake, *, categories: set[int] | None = None) -> None:
    """Refuse bad input with a message that names the field. Changes nothing. ``categories``: the existing
    category ids among a batch's, when the caller has looked them up (``existing_categories``)."""
    errors: list[str] = []
    if intake.channel not in _CHANNELS:
        errors.append(f"渠道“{intake.channel}”无效")
    if intake.case_type not in _CASE_TYPES:
        errors.append(f"诉求类型“{intake.case_type}”无效")
    if intake.urgency not in _URGENCIES:
        errors.append(f"紧急程度“{intake.urgency}”无效")
    title, content = (intake.title or "").strip(), (intake.content or "").strip()
    if not title and not content:
        errors.append("标题和内容不能都为空")
    if len(title) > TITLE_MAX:
        errors.append(f"标题不能超过 {TITLE_MAX} 字（现为 {len(title)} 字）")
    if len(content) > CONTENT_MAX:
        errors.append(f"内容不能超过 {CONTENT_MAX} 字（现为 {len(content)} 字）")
    if len(intake.place_text or "") > PLACE_MAX:
        errors.append(f"地点不能超过 {PLACE_MAX} 字")
    if not isinstance(intake.people_count, int) or intake.people_count < 1 or intake.people_count > 100000:
        errors.append("人数必须是 1 到 100000 之间的整数")
    if len(intake.representatives) > MAX_REPRESENTATIVES:
        errors.append(f"集体访代表不能超过 {MAX_REPRESENTATIVES} 人（信访工作条例第十八条）")
    if intake.representatives and not intake.is_group:
        errors.append("只有集体访可以登记代表")
    if intake.latitude is not None and not -90 <= intake.latitude <= 90:
        errors.append("纬度必须在 -90 到 90 之间")
    if intake.longitude is not None and not -180 <= intake.longitude <= 180:
        errors.append("经度必须在 -180 到 180 之间")
    if (intake.latitude is None) != (intake.longitude is None):
        errors.append("经纬度必须同时填写")
    if intake.is_anonymous and intake.case_type not in (
        CaseType.REPORT,
        CaseType.SUGGESTION,
        CaseType.CONSULT,
    ):
        errors.append("只有举报、建议和咨询可以匿名提交")
    person = intake.petitioner
    if person is not None:
        if person.phone and not 7 <= len(crypto.normalise_phone(person.phone)) <= 12:
            errors.append("电话号码格式不正确")
        if person.id_number and not _valid_id_number(crypto.normalise_id_number(person.id_number)):
            errors.append("身份证号码格式不正确")
        if len(person.name or "") > 50:
            errors.append("姓名不能超过 50 字")
    if len(intake.external_id) > 64:
        errors.append("外部编号不能超过 64 个字符")
    if intake.category_id is not None and intake.category_id not in (
        categories if categories is not None else existing_categories([intake.category_id])
    ):
        errors.append("分类不存在")
    if errors:
        raise InvalidInput("；".join(errors))


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_id_number(value: str) -> bool:
    """A mainland resident ID number (GB 11643): 17 digits and an ISO 7064 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def reserve_receipt_numbers(day: date, count: int) -> list[str]:
    """``count`` consecutive receipt numbers for ``day``, such as ``SJS-20261126-00042``.

    One upsert ... RETURNING reserves the whole range: concurrent registrations queue on the day's counter
    row and never get the same number.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_receiptcounter (day, last) VALUES (%s, %s) "
            "ON CONFLICT (day) DO UPDATE SET last = cases_receiptcounter.last + %s RETURNING last",
            [day, count, count],
        )
        (last,) = cursor.fetchone()
    return [
        f"{settings.RECEIPT_PREFIX}-{day:%Y%m%d}-{number:05d}" for number in range(last - count + 1, last + 1)
    ]


def next_receipt_number(day: date | None = None) -> str:
    return reserve_receipt_numbers(day or timezone.localdate(), 1)[0]


def new_query_code() -> str:
    """A random code of ``QUERY_CODE_LENGTH`` letters of the alphabet, from one read of the system's random
    source (3 µs; ``secrets.choice`` reads it once per letter, 13 µs, an eighth of numbering an import's rows).
    Bytes from the largest multiple of the alphabet's size up are skipped, so every letter is equally likely."""
    size = len(_QUERY_ALPHABET)
    limit = 256 - 256 % size
    letters: list[str] = []
    while len(letters) < QUERY_CODE_LENGTH:
        letters += [
            _QUERY_ALPHABET[b % size] for b in secrets.token_bytes(QUERY_CODE_LENGTH + 4) if b < limit
        ]
    return "".join(letters[:QUERY_CODE_LENGTH])


def hash_query_code(code: str) -> str:
    return crypto.lookup_hash("query:" + code.strip().upper())


def query_code_matches(case: Case, code: str) -> bool:
    return hmac.compare_digest(case.query_code_hash, hash_query_code(code or ""))
