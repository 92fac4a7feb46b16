"""The analytics pages in a real browser: the dashboard with its charts and definitions, a drill-down, the
hotspot page with an early warning, and the map drawn from schematic boundaries. Screenshots for a person to
look at go to test-artifacts/screenshots/."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = [
    ("小区楼下车辆乱停堵塞消防通道", "WY0101"),
    ("夜间施工噪音扰民", "WY02"),
    ("拖欠农民工工资", "LD01"),
    ("物业收费不合理", "WY07"),
    ("占道经营影响通行", "CG01"),
]


@pytest.fixture
def busy_district(
    district: dict[str, Any], dispatcher: Any, handler_a: Any, leader_a: Any, clerk: Any, leader: Any
) -> dict[str, Any]:
    """Four streets with three communities each, ~120 cases over four weeks, part of them handled and rated, a
    hotspot of barbecue smoke at 八角南里, schematic boundaries and filled rollups."""
    from django.utils import timezone

    from jiefen.analytics.geo import fill_missing_boundaries
    from jiefen.analytics.services import refresh_rollups
    from jiefen.analytics.services.hotspots import run_recent
    from jiefen.cases import services
    from jiefen.cases.actors import CITIZEN
    from jiefen.cases.intake import Intake, PersonInput
    from jiefen.cases.models import Case, Category
    from jiefen.org.services import create_unit

    rng = random.Random(7)
    streets = [district["street_a"], district["street_b"]]
    for code, name in (("LG", "老山街道"), ("PG", "苹果园街道")):
        streets.append(create_unit(code=code, name=name, kind="street", parent=district["root"]))
    communities = [district["community_a1"], district["community_b1"]]
    for street in streets:
        for n in range(1, 4):
            code = f"{street.code}-1{n}"
            communities.append(
                create_unit(code=code, name=f"{street.name[:2]}{n}号院社区", kind="community", parent=street)
            )
    cats = {c.code: c.pk for c in Category.objects.filter(code__in=[code for _t, code in TITLES])}
    now = timezone.now()
    intakes = []
    for i in range(110):
        title, code = TITLES[rng.randrange(len(TITLES))]
        intakes.append(
            Intake(
                channel=rng.choice(["walk_in", "phone", "web", "hotline_12345"]),
                case_type=rng.choice(["complaint", "help", "consult"]),
                title=title,
                content=title + "，请尽快处理。",
                petitioner=PersonInput(name=f"居民{i}", phone=f"1390000{i:04d}"),
                jurisdiction_unit_id=rng.choice(communities).pk,
                category_id=cats.get(code),
                received_at=now - timedelta(days=rng.randrange(28), hours=rng.randrange(12)),
            )
        )
    for i in range(6):
        intakes.append(
            Intake(
                channel="web",
                case_type="complaint",
                title="八角南里小区烧烤店油烟扰民",
                content="八角南里小区楼下烧烤店每天晚上油烟很大，窗户都不敢开。",
                petitioner=PersonInput(name=f"邻居{i}", phone=f"1370000{i:04d}"),
                jurisdiction_unit_id=district["community_a1"].pk,
                category_id=cats.get("WY02"),
                received_at=now - timedelta(days=i % 5, hours=i),
            )
        )
    registered = services.register_cases(intakes=intakes, actor=clerk).registered
    ratings = [
        ("resolved", "satisfied"),
        ("resolved", "basically"),
        ("partly", "basically"),
        ("not_resolved", "not_satisfied"),
    ]
    for n, r in enumerate(registered[:24]):
        case = Case.objects.get(pk=r.case.pk)
        services.accept_case(case=case, actor=dispatcher)
        services.dispatch_case(
            case=Case.objects.get(pk=case.pk), actor=dispatcher, lead_unit=district["street_a"]
        )
        if n % 4 == 3:
            continue
        services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
        reply = services.draft_reply(
            case=Case.objects.get(pk=case.pk),
            actor=handler_a,
            facts="已核实",
            basis="相关规定",
            conclusion="已处理",
            review_rights="可申请复查",
        )
        services.approve_reply(reply=reply, actor=leader_a)
        services.send_reply(case=Case.objects.get(pk=case.pk), actor=handler_a)
        resolved, satisfaction = ratings[n % len(ratings)]
        services.record_feedback(
            case=Case.objects.get(pk=case.pk), actor=CITIZEN, resolved=resolved, satisfaction=satisfaction
        )
    fill_missing_boundaries()
    refresh_rollups(lag_seconds=0)
    run_recent()
    return district


def test_a_leader_reads_the_dashboard_hotspots_and_map(
    new_page: Callable[..., Any], login: Any, shoot: Any, busy_district: dict[str, Any]
) -> None:
    page = new_page()
    login(page, "leader")
    page.get_by_role("link", name="统计分析").first.click()
    page.wait_for_url("**/analytics/")
    page.wait_for_selector("[data-chart='chart-volume'][data-drawn='1'] svg")
    assert page.get_by_text("响应率 = 按时签收的交办件").is_visible()
    figure = page.locator(".figure").first.locator("a.value")
    assert int(figure.inner_text()) == 116
    shoot(page, "analytics-dashboard")

    figure.click()
    page.wait_for_url("**/analytics/cases/?metric=received*")
    assert "共 116 件" in page.locator(".result-count").inner_text()

    page.goto("/analytics/hotspots/")
    page.wait_for_selector("[data-chart='chart-hot'][data-drawn='1'] svg")
    assert page.locator(".warn-flag").first.is_visible()
    assert "八角南里" in page.locator("table.compact tbody tr").first.inner_text()
    shoot(page, "analytics-hotspots")

    page.goto("/analytics/map/")
    page.wait_for_selector("[data-chart='chart-map'][data-drawn='1'] svg")
    assert page.get_by_text("示意方格").is_visible()
    shoot(page, "analytics-map")
