"""The analytics pages through the web client: who may see them, drill-down, masked and audited CSV,
reports as XLSX and PDF, backlog cases, campaigns, governance tasks and the schematic map."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jiefen.analytics.geo import centroid, fill_missing_boundaries, schematic_boundaries
from jiefen.analytics.models import BacklogCase, BacklogStatus, Campaign, GovernanceTask, Hotspot
from jiefen.analytics.services import refresh_rollups
from jiefen.analytics.services.backlog import BacklogRules, detect_backlog
from jiefen.audit.models import AuditEntry
from jiefen.cases.models import Case, Matter, MatterStatus
from jiefen.org.models import Unit


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def three_cases(make_case: Callable[..., Case], district: dict[str, Any]) -> list[Case]:
    cases = [make_case(jurisdiction_unit_id=district["community_a1"].pk) for _ in range(3)]
    refresh_rollups(lag_seconds=0)
    return cases


PAGES = ["", "cases/?metric=received", "hotspots/", "map/", "governance/", "campaigns/", "reports/"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_for_a_leader(page: str, leader: Any, three_cases: list[Case]) -> None:
    response = client_for(leader).get(f"/analytics/{page}")
    assert response.status_code == 200


def test_the_dashboard_shows_the_figures_and_their_definitions(leader: Any, three_cases: list[Case]) -> None:
    html = client_for(leader).get("/analytics/").content.decode()
    assert "响应率 = 按时签收的交办件 ÷ 期内签收时限到期的交办件" in html
    assert "满意率 = （满意 + 基本满意）÷ 期内评价件数" in html
    assert 'href="/analytics/cases/?metric=received&amp;start=' in html
    assert "analytics/echarts.min.js" in html


def test_a_citizen_or_outsider_without_a_role_is_refused(
    db: Any, three_cases: list[Case], outsider_b: Any
) -> None:
    from jiefen.org.services import create_user

    nobody = create_user(
        username="nobody", password="x-pass-8731", roles=[], unit_code=None, actor=None, validate=False
    )
    assert client_for(nobody).get("/analytics/").status_code == 403
    # A unit handler of another street sees the page, but none of street A's cases.
    response = client_for(outsider_b).get("/analytics/cases/?metric=received")
    assert response.status_code == 200
    assert response.context["total"] == 0
    assert client_for(outsider_b).get("/analytics/backlog/").status_code == 403


def test_csv_export_masks_personal_data_for_an_analyst_and_is_audited(
    leader: Any, dispatcher: Any, three_cases: list[Case]
) -> None:
    before = AuditEntry.objects.filter(action="export").count()
    body = client_for(leader).get("/analytics/cases/?metric=received&format=csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3
    assert {r["petitioner"] for r in rows} == {"张*"}
    assert {r["phone"] for r in rows} == {"138****8000"}
    body = (
        client_for(dispatcher).get("/analytics/cases/?metric=received&format=csv").content.decode("utf-8-sig")
    )
    assert {r["petitioner"] for r in csv.DictReader(io.StringIO(body))} == {"张三"}
    exports = AuditEntry.objects.filter(action="export").order_by("seq")
    assert exports.count() == before + 2
    assert [e.data["identity_shown"] for e in exports][-2:] == [0, 3]


def test_monthly_report_as_xlsx_with_charts_and_pdf(leader: Any, three_cases: list[Case]) -> None:
    from openpyxl import load_workbook

    month = timezone.localdate().strftime("%Y-%m")
    response = client_for(leader).get(f"/analytics/reports/month.xlsx?month={month}")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["概况", "趋势", "分类", "街道", "渠道", "物业公司", "单位排名"]
    assert [r for r in wb["概况"].iter_rows(values_only=True) if r[0] == "受理量"] == [("受理量", "3")]
    assert len(wb["趋势"]._charts) == 1 and len(wb["街道"]._charts) == 1
    pdf = client_for(leader).get(f"/analytics/reports/month.pdf?month={month}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_for(leader).get("/analytics/reports/month.pdf?month=2026-13").status_code == 404
    assert AuditEntry.objects.filter(action="export", object_type="report").count() == 2


def test_backlog_rules_find_repeat_and_long_open_matters(
    make_case: Callable[..., Case], leader: Any, supervisor: Any
) -> None:
    old = make_case(received_at=timezone.now() - timedelta(days=90))
    repeated = make_case()
    for _ in range(2):
        extra = make_case()
        Case.objects.filter(pk=extra.pk).update(matter=repeated.matter)
    make_case()  # fresh and single: not a backlog case
    found = detect_backlog(rules=BacklogRules(open_days=60, min_petitions=3))
    assert sorted((b.matter_id, b.reasons) for b in found) == sorted(
        [(old.matter_id, ["open_long"]), (repeated.matter_id, ["repeated"])]
    )
    assert detect_backlog() == []  # found once
    item = BacklogCase.objects.get(matter=repeated.matter)
    c = client_for(supervisor)
    c.post(f"/analytics/backlog/{item.pk}/", {"action": "leader", "leader": leader.pk})
    c.post(f"/analytics/backlog/{item.pk}/", {"action": "plan", "plan": "约谈物业，限期清理"})
    c.post(f"/analytics/backlog/{item.pk}/", {"action": "settle", "outcome": ""})  # refused: no outcome
    assert BacklogCase.objects.get(pk=item.pk).status == BacklogStatus.OPEN
    c.post(f"/analytics/backlog/{item.pk}/", {"action": "settle", "outcome": "车辆已清理，信访人签字认可"})
    item.refresh_from_db()
    assert (item.leader, item.plan, item.status) == (leader, "约谈物业，限期清理", BacklogStatus.SETTLED)
    assert Matter.objects.filter(cases=repeated, status=MatterStatus.SETTLED).exists()
    assert list(item.steps.values_list("kind", flat=True)) == ["detected", "leader", "plan", "settled"]


def test_a_campaign_gathers_its_cases_by_key_word(make_case: Callable[..., Case], leader: Any) -> None:
    make_case(title="拖欠农民工工资三个月", content="工地拖欠农民工工资")
    make_case()
    today = timezone.localdate()
    c = client_for(leader)
    c.post(
        "/analytics/campaigns/",
        {
            "name": "农民工讨薪专项",
            "kind": "农民工讨薪",
            "keywords": "工资,欠薪",
            "starts_on": today - timedelta(days=5),
            "ends_on": today,
        },
    )
    campaign = Campaign.objects.get()
    response = c.get(f"/analytics/campaigns/{campaign.pk}/")
    assert response.context["matched_total"] == 1
    c.post(
        "/analytics/campaigns/",
        {"name": "x", "kind": "y", "starts_on": today, "ends_on": today - timedelta(days=1)},
    )
    assert Campaign.objects.count() == 1


def test_a_hotspot_becomes_a_governance_task_with_a_baseline(leader: Any, three_cases: list[Case]) -> None:
    now = timezone.now()
    hotspot = Hotspot.objects.create(
        fingerprint="x", title="八角南里 乱停", key_phrases=["乱停"], place="八角南里", case_count=6,
        started_at=now - timedelta(days=60), ended_at=now, heat=10,
    )  # fmt: skip
    c = client_for(leader)
    c.post(f"/analytics/hotspots/{hotspot.pk}/task/", {"owner": leader.pk, "deadline": "2000-01-01"})
    assert GovernanceTask.objects.count() == 0  # deadline in the past
    c.post(
        f"/analytics/hotspots/{hotspot.pk}/task/",
        {"owner": leader.pk, "deadline": date.today() + timedelta(days=30)},
    )
    task = GovernanceTask.objects.get()
    assert (task.owner, task.baseline_per_30d) == (leader, 3.0)
    assert c.get("/analytics/governance/").status_code == 200


def test_schematic_boundaries_are_tidy_deterministic_and_fill_only_empty_ones(
    district: dict[str, Any],
) -> None:
    units = list(Unit.objects.all())
    shapes = schematic_boundaries(units)
    assert set(shapes) == {district[k].pk for k in ("street_a", "community_a1", "street_b", "community_b1")}
    assert shapes == schematic_boundaries(reversed(units))
    street, community = shapes[district["street_a"].pk], shapes[district["community_a1"].pk]
    cx, cy = centroid(community)  # type: ignore[misc]
    ring = street["coordinates"][0]
    assert min(p[0] for p in ring) < cx < max(p[0] for p in ring)
    assert min(p[1] for p in ring) < cy < max(p[1] for p in ring)
    Unit.objects.filter(pk=district["street_b"].pk).update(
        boundary={"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    )
    assert fill_missing_boundaries() == 3
    assert Unit.objects.get(pk=district["street_b"].pk).boundary["coordinates"] == [  # type: ignore[index]
        [[1, 1], [2, 1], [2, 2], [1, 1]]
    ]
    assert fill_missing_boundaries() == 0


def test_the_api_gives_the_rates_to_staff_and_refuses_others(
    leader: Any, three_cases: list[Case], district: dict[str, Any]
) -> None:
    body = client_for(leader).get("/api/analytics/rates").json()
    assert (body["received"], body["rated"], body["satisfaction_rate"]) == (3, 0, None)
    from jiefen.org.services import create_user

    nobody = create_user(
        username="nobody2", password="x-pass-8731", roles=[], unit_code=None, actor=None, validate=False
    )
    assert client_for(nobody).get("/api/analytics/rates").status_code == 403
    assert client_for(leader).get("/api/analytics/hotspots").json() == []
