"""Reads for the desk: finding a petitioner by phone or ID number and what they brought before.

Only masked values are shown here; seeing the full phone or ID number is a separate, audited view
(``web:case_identity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from jiefen.cases.models import Case, Matter, Petitioner
from jiefen.cases.queries import cases_visible_to
from jiefen.core import crypto
from jiefen.intake.models import FieldVisit, ReceptionSession


@dataclass
class PersonHistory:
    petitioner: Petitioner
    cases: list[Case] = field(default_factory=list)
    matters: list[Matter] = field(default_factory=list)
    case_count: int = 0


def find_petitioners(
    user: Any, *, phone: str = "", id_number: str = "", limit: int = 10
) -> list[PersonHistory]:
    """People with this phone or ID number (by keyed hash), each with the cases of theirs ``user`` may see."""
    phone, id_number = crypto.normalise_phone(phone), crypto.normalise_id_number(id_number)
    people: QuerySet[Petitioner] = Petitioner.objects.none()
    if id_number:
        people = people | Petitioner.objects.filter(id_number_hash=crypto.lookup_hash(id_number))
    if len(phone) >= 7:
        people = people | Petitioner.objects.filter(phone_hash=crypto.lookup_hash(phone))
    result = []
    visible = cases_visible_to(user)
    for person in people.order_by("-created_at")[:limit]:
        cases = visible.filter(petitioner=person).select_related("matter", "category")
        listed = list(cases.order_by("-created_at")[:20])
        matters = {c.matter_id: c.matter for c in listed if c.matter is not None}
        result.append(
            PersonHistory(
                petitioner=person,
                cases=listed,
                matters=list(matters.values()),
                case_count=cases.count(),
            )
        )
    return result


def open_sessions(day: Any) -> QuerySet[ReceptionSession]:
    return ReceptionSession.objects.filter(date=day).select_related("leader")


def recent_sessions() -> QuerySet[ReceptionSession]:
    return ReceptionSession.objects.select_related("leader").prefetch_related("cases")[:50]


def recent_visits() -> QuerySet[FieldVisit]:
    return FieldVisit.objects.select_related("officer").prefetch_related("links__case")[:50]
