"""Fixtures for the language engine: a private DATA_DIR per test and a small taxonomy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(private_data_dir: Path) -> None:
    """Every test here has its own DATA_DIR (the root conftest's ``private_data_dir``)."""


@pytest.fixture
def taxonomy(db: Any) -> dict[str, Any]:
    from jiefen.cases.models import Category

    # The seeded taxonomy is set aside so the keyword rules below are the whole taxonomy.
    Category.objects.update(is_active=False)
    estate = Category.objects.create(code="TWY", name="物业管理", synonyms="物业")
    parking = Category.objects.create(
        code="TWY-TC", name="停车管理", parent=estate, synonyms="乱停,停车费,车位"
    )
    noise = Category.objects.create(code="THJ", name="环境保护", synonyms="油烟,噪音,扰民")
    wages = Category.objects.create(code="TLD", name="劳动保障", synonyms="拖欠工资,欠薪,工资")
    return {"estate": estate, "parking": parking, "noise": noise, "wages": wages}
