"""Reads of cases, all scoped by the one access function ``cases_visible_to``.

Every view, endpoint and export that shows a case goes through ``cases_visible_to`` or
``get_case_for_user``; nothing looks a case up by a raw id from user input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from jiefen.cases.models import Assignment, Case, CaseType, Channel, ClockColour
from jiefen.cases.workflow import CaseStatus
from jiefen.core import crypto
from jiefen.core.parse import date_or_none, int_or_none
from jiefen.org.models import Role, Unit, User


def _unit_scope(user: User) -> Q:
    unit = user.unit
    if unit is None:
        return Q(pk__in=[])
    subtree_units = Unit.objects.filter(path__startswith=unit.path).values("pk")
    assigned = Assignment.objects.filter(unit__in=subtree_units).values("case_id")
    return Q(pk__in=assigned) | Q(jurisdiction_unit__in=subtree_units)


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """The cases ``user`` may see: the whole district for the petition office's own staff; for anyone in a
    unit, the cases dispatched to that unit or its children (a street office sees its communities') and the
    cases in its jurisdiction; nothing for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    if user.is_office_staff:
        return Case.objects.all()
    if user.has_role(Role.UNIT_HANDLER, Role.UNIT_LEADER, Role.MEDIATOR):
        return Case.objects.filter(_unit_scope(user))
    return Case.objects.none()


def get_case_for_user(user: Any, case_id: int | str) -> Case:
    """The case, or 404 — the same answer whether it does not exist or the user may not see it."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError) as exc:
        raise Http404("no such case") from exc
    case = (
        cases_visible_to(user)
        .select_related("category", "jurisdiction_unit", "petitioner", "matter")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("no such case")
    return case


def may_see_identity(user: Any, case: Case) -> bool:
    """Whether ``user`` may see who brought ``case``. A reporter's identity (检举) is shown to the petition
    office only, never to the units, one of which may be the one reported on."""
    if not getattr(user, "is_authenticated", False):
        return False
    if case.confidential:
        return bool(user.is_office_staff)
    return True


def assignments_for_user(user: User) -> QuerySet[Assignment]:
    if user.is_office_staff:
        return Assignment.objects.all()
    if user.unit is None:
        return Assignment.objects.none()
    return Assignment.objects.filter(unit__path__startswith=user.unit.path)


@dataclass
class CaseFilters:
    status: str = ""
    colour: str = ""
    unit: int | None = None
    category: int | None = None
    channel: str = ""
    case_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CaseFilters:
        """The filters of a list page's query string; unknown values are ignored, not errors."""

        def choice(name: str, allowed: list[str]) -> str:
            value = params.get(name, "")
            return value if value in allowed else ""

        return cls(
            status=choice("status", CaseStatus.values),
            colour=choice("colour", ClockColour.values),
            unit=int_or_none(params.get("unit")),
            category=int_or_none(params.get("category")),
            channel=choice("channel", Channel.values),
            case_type=choice("case_type", CaseType.values),
            date_from=date_or_none(params.get("date_from")),
            date_to=date_or_none(params.get("date_to")),
            q=params.get("q", "")[:200],
        )


def filter_cases(qs: QuerySet[Case], filters: CaseFilters) -> QuerySet[Case]:
    """Apply the list filters. ``q`` matches a receipt number, a phone number (by keyed hash) or words of the
    title and content."""
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.colour:
        qs = qs.filter(clock_colour=filters.colour)
    if filters.unit:
        unit = Unit.objects.filter(pk=filters.unit).first()
        if unit is not None:
            subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
            qs = qs.filter(
                Q(jurisdiction_unit__in=subtree)
                | Q(pk__in=Assignment.objects.filter(unit__in=subtree).values("case_id"))
            )
    if filters.category:
        category_path = _category_path(filters.category)
        if category_path:
            qs = qs.filter(category__path__startswith=category_path)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.case_type:
        qs = qs.filter(case_type=filters.case_type)
    if filters.date_from:
        qs = qs.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__date__lte=filters.date_to)
    if filters.q:
        qs = qs.filter(_search_q(filters.q.strip()))
    return qs


def _category_path(category_id: int) -> str:
    from jiefen.cases.models import Category

    return Category.objects.filter(pk=category_id).values_list("path", flat=True).first() or ""


def _search_q(term: str) -> Q:
    query = Q(receipt_number__iexact=term) | Q(external_id=term)
    phone = crypto.normalise_phone(term)
    if len(phone) >= 7 and phone == term.replace(" ", "").replace("-", "").lstrip("+"):
        query |= Q(petitioner__phone_hash=crypto.lookup_hash(phone))
    words = [w for w in term.split() if w]
    if words:
        text_q = Q()
        for word in words:
            text_q &= Q(title__icontains=word) | Q(content__icontains=word)
        query |= text_q
    return query
