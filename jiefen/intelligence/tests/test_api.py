"""The language engine's endpoints, through the API with the personas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from jiefen.cases.intake import PersonInput
from jiefen.cases.models import Case
from jiefen.intelligence import services
from jiefen.intelligence.models import Correction

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_dispatcher_sets_the_category_through_the_api(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], dispatcher: Any
) -> None:
    case = make_case(title="物业乱收停车费", content="物业乱收停车费，车位被占，车辆乱停。")
    response = _client(dispatcher).post(
        f"/api/intelligence/cases/{case.pk}/category",
        {"category_id": taxonomy["noise"].pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "case_id": case.pk,
        "category_id": taxonomy["noise"].pk,
        "matter_id": case.matter_id,
        "version": case.version + 1,
    }
    assert Correction.objects.get(case=case).suggested == taxonomy["parking"]


def test_an_outsider_cannot_set_the_category_and_nothing_changes(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], outsider_b: Any
) -> None:
    case = make_case(title="物业乱收停车费", content="物业乱收停车费，车位被占，车辆乱停。")
    response = _client(outsider_b).post(
        f"/api/intelligence/cases/{case.pk}/category",
        {"category_id": taxonomy["noise"].pk},
        content_type="application/json",
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.category_id == taxonomy["parking"].pk
    assert not Correction.objects.exists()


def test_related_cases_and_confirming_a_link_through_the_api(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], clerk: Any
) -> None:
    first = make_case(
        title="魅力之城小区油烟扰民",
        content="魅力之城小区临街餐馆油烟直排，深夜噪音扰民。",
        petitioner=PersonInput(name="甲"),
    )
    for i, (title, content) in enumerate(
        [
            ("公司拖欠工资", "西湖建筑集团拖欠30名工人工资15万元。"),
            ("道路破损", "劳动东路路面破损积水。"),
            ("学校强制实习", "A市经济学院强制学生外出实习。"),
        ]
    ):
        make_case(title=title, content=content, petitioner=PersonInput(name=f"乙{i}"))
    corpus = [f"{c.title} {c.content}" for c in Case.objects.all()]
    services.reindex(fit_texts=corpus * 2)  # every n-gram twice: a tiny corpus still fits the vectoriser
    case = make_case(
        title="魅力之城小区烧烤油烟",
        content="魅力之城小区楼下烧烤摊油烟熏人，营业到凌晨。",
        petitioner=PersonInput(name="丙"),
    )
    client = _client(clerk)
    rows = client.get(f"/api/intelligence/cases/{case.pk}/related?top=1").json()
    assert [(r["case_id"], r["kind"]) for r in rows] == [(first.pk, "same_problem_same_place")]
    response = client.post(
        f"/api/intelligence/cases/{case.pk}/link",
        {"other_case_id": first.pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["matter_id"] == first.matter_id
