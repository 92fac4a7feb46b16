"""What supervisors look at: cases at yellow and red, open orders, and dissatisfied people the reopen limit
sent their way."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jiefen.cases.models import Case, EventKind
from jiefen.cases.queries import cases_visible_to
from jiefen.cases.workflow import OPEN_STATES
from jiefen.supervision.models import OrderStatus, SupervisionOrder


def cases_at(user: Any, colour: str) -> QuerySet[Case]:
    return (
        cases_visible_to(user)
        .filter(status__in=list(OPEN_STATES), clock_colour=colour)
        .select_related("jurisdiction_unit", "category")
        .order_by("due_at")
    )


def open_orders(user: Any) -> QuerySet[SupervisionOrder]:
    visible = cases_visible_to(user).values("pk")
    return (
        SupervisionOrder.objects.filter(case__in=visible, status=OrderStatus.OPEN)
        .select_related("case", "unit")
        .order_by("due_at")
    )


def escalated_after_reopen_limit(user: Any) -> QuerySet[Case]:
    """Cases closed still not satisfied after the last allowed reopening (their closing event says so)."""
    flagged = Case.objects.filter(
        events__kind=EventKind.MOVE, events__move="satisfied", events__data__escalate=True
    ).values("pk")
    return cases_visible_to(user).filter(pk__in=flagged).order_by("-closed_at")
