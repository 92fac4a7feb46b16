"""Reads for routing, scoped by the one case access function."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jiefen.cases.queries import get_case_for_user
from jiefen.routing.models import RoutingRule
from jiefen.routing.services import Suggestion, suggestion_for


def suggestion_for_user(user: Any, case_id: int | str) -> Suggestion:
    """The suggestion for a case ``user`` may see; 404 otherwise (the same answer as for no such case)."""
    return suggestion_for(get_case_for_user(user, case_id))


def active_rules() -> QuerySet[RoutingRule]:
    return (
        RoutingRule.objects.filter(is_active=True)
        .select_related("category", "place_unit", "lead_unit")
        .prefetch_related("assist_units")
        .order_by("order", "pk")
    )
