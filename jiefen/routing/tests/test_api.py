"""GET /api/routing/suggest/{case_id}: scoped like every case read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from jiefen.routing.models import RoutingRule


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_dispatcher_gets_the_suggestion_with_its_reasons(
    make_case: Callable[..., Any], dispatcher: Any, managed: dict[str, Any], taxonomy: dict[str, Any]
) -> None:
    rule = RoutingRule.objects.create(
        name="物业纠纷属地办理", order=1, category=taxonomy["property"], assist_property_company=True
    )
    case = make_case(category_id=taxonomy["disorder"].pk)
    response = logged_in(dispatcher).get(f"/api/routing/suggest/{case.pk}")
    assert response.status_code == 200
    street, community, company = managed["street_a"], managed["community_a1"], managed["property_co"]
    assert response.json() == {
        "case_id": case.pk,
        "lead": {"id": street.pk, "name": "八角街道", "kind": "street"},
        "assists": [{"id": company.pk, "name": "京西物业公司", "kind": "property_company"}],
        "copies": [],
        "jurisdiction": {"id": community.pk, "name": "八角南里社区", "kind": "community"},
        "property_company": {"id": company.pk, "name": "京西物业公司", "kind": "property_company"},
        "rule_id": rule.pk,
        "reasons": [
            "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道",
            "规则「物业纠纷属地办理」：分类 物业管理 → 主办 街道 八角街道",
            "物业管理 → 物业公司 京西物业公司",
        ],
    }


def test_an_outsider_gets_404_and_an_anonymous_caller_401(
    make_case: Callable[..., Any], outsider_b: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    assert logged_in(outsider_b).get(f"/api/routing/suggest/{case.pk}").status_code == 404
    assert Client().get(f"/api/routing/suggest/{case.pk}").status_code == 401
    assert logged_in(outsider_b).get("/api/routing/suggest/999999").status_code == 404


def test_an_admin_saving_a_rule_in_the_admin_changes_the_next_suggestion(
    make_case: Callable[..., Any], admin_user: Any, dispatcher: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    client = logged_in(admin_user)
    assert logged_in(dispatcher).get(f"/api/routing/suggest/{case.pk}").json()["lead"]["name"] == "八角街道"
    response = client.post(
        "/admin/routing/routingrule/add/",
        {
            "name": "全部交住建委",
            "order": "1",
            "is_active": "on",
            "keyword_mode": "any",
            "target": "unit",
            "lead_unit": str(district["department"].pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert logged_in(dispatcher).get(f"/api/routing/suggest/{case.pk}").json()["lead"]["name"] == "区住建委"
