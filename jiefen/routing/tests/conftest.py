"""Routing fixtures: the shipped taxonomy, a property company managing 八角南里, and a clean cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_routing_cache() -> Iterator[None]:
    from jiefen.routing.services import clear_routing_cache

    clear_routing_cache()
    yield
    clear_routing_cache()


@pytest.fixture
def taxonomy(db: Any) -> dict[str, Any]:
    from jiefen.cases.models import Category

    # The shipped taxonomy (cases/taxonomy.py), loaded by the cases data migration.
    return {
        "property": Category.objects.get(code="WY"),
        "parking": Category.objects.get(code="WY01"),
        "disorder": Category.objects.get(code="WY0101"),
    }


@pytest.fixture
def managed(district: dict[str, Any]) -> dict[str, Any]:
    """京西物业公司 manages the 八角南里 compound: an alias owned by a property company."""
    from jiefen.org.models import AliasKind, JurisdictionAlias

    JurisdictionAlias.objects.create(alias="八角南里", unit=district["property_co"], kind=AliasKind.COMPOUND)
    return district
