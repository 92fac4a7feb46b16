"""Routing suggestions: jurisdiction from aliases and boundaries, the rule table in order, and the reasons
spelled out exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jiefen.org.models import JurisdictionAlias
from jiefen.org.services import create_unit
from jiefen.routing.models import KeywordMode, RoutingRule, Target
from jiefen.routing.services import clear_routing_cache, resolve_jurisdiction, suggest

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHAIN_A1 = "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道"


def names(units: Any) -> list[str]:
    return [unit.name for unit in units]


def rule(**fields: Any) -> RoutingRule:
    assists = fields.pop("assists", [])
    fields.setdefault("name", "测试规则")
    created = RoutingRule.objects.create(**fields)
    if assists:
        created.assist_units.set(assists)
    return created


@pytest.fixture
def property_rule(taxonomy: dict[str, Any], managed: dict[str, Any]) -> RoutingRule:
    return rule(
        name="物业纠纷属地办理",
        order=10,
        category=taxonomy["property"],
        target=Target.JURISDICTION_STREET,
        assist_property_company=True,
    )


def test_a_property_case_goes_to_the_street_with_the_compound_s_property_company(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], property_rule: RoutingRule
) -> None:
    case = make_case(category_id=taxonomy["disorder"].pk)
    suggestion = suggest(case)
    assert suggestion.lead is not None and suggestion.lead.name == "八角街道"
    assert names(suggestion.assists) == ["京西物业公司"]
    assert suggestion.jurisdiction is not None and suggestion.jurisdiction.unit.name == "八角南里社区"
    assert suggestion.rule_id == property_rule.pk
    assert suggestion.reasons == [
        CHAIN_A1,
        "规则「物业纠纷属地办理」：分类 物业管理 → 主办 街道 八角街道",
        "物业管理 → 物业公司 京西物业公司",
    ]


def test_the_longest_alias_in_the_place_text_decides_the_jurisdiction(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    JurisdictionAlias.objects.create(alias="杨庄", unit=district["community_b1"], kind="place")
    case = make_case(place_text="杨庄东区5号楼", content="楼道堆物", title="楼道堆物")
    suggestion = suggest(case)
    assert suggestion.jurisdiction is not None
    assert suggestion.jurisdiction.reason == "小区 杨庄东区 → 社区 八角南里社区 → 街道 八角街道"
    assert suggestion.reasons == [
        "小区 杨庄东区 → 社区 八角南里社区 → 街道 八角街道",
        "无匹配规则，按属地 → 主办 街道 八角街道",
    ]
    short = make_case(place_text="杨庄村口", content="路灯不亮", title="路灯不亮")
    assert suggest(short).reasons[0] == "地名 杨庄 → 社区 古城南路社区 → 街道 古城街道"


BOX_B1 = {
    "type": "Polygon",
    "coordinates": [[[116.1, 39.8], [116.3, 39.8], [116.3, 40.0], [116.1, 40.0], [116.1, 39.8]]],
}
BOX_B = {
    "type": "Polygon",
    "coordinates": [[[116.0, 39.7], [116.4, 39.7], [116.4, 40.1], [116.0, 40.1], [116.0, 39.7]]],
}


def test_coordinates_inside_a_boundary_give_the_deepest_unit(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    for unit, shape in ((district["street_b"], BOX_B), (district["community_b1"], BOX_B1)):
        unit.boundary = shape
        unit.save()
    case = make_case(place_text="", title="路面塌陷", content="路口路面塌陷", latitude=39.9, longitude=116.2)
    assert suggest(case).reasons == [
        "坐标 39.900000,116.200000 → 社区 古城南路社区 → 街道 古城街道",
        "无匹配规则，按属地 → 主办 街道 古城街道",
    ]
    outside_community = make_case(
        place_text="", title="路面塌陷", content="路面塌陷", latitude=40.05, longitude=116.35
    )
    jurisdiction = resolve_jurisdiction(outside_community)
    assert jurisdiction is not None and jurisdiction.reason == "坐标 40.050000,116.350000 → 街道 古城街道"
    nowhere = make_case(place_text="", title="路面塌陷", content="路面塌陷", latitude=30.0, longitude=100.0)
    assert resolve_jurisdiction(nowhere) is None


def test_the_place_text_beats_coordinates_and_the_recorded_jurisdiction_beats_both(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    district["community_b1"].boundary = BOX_B1
    district["community_b1"].save()
    case = make_case(latitude=39.9, longitude=116.2)  # place text 八角南里小区3号楼
    assert suggest(case).reasons[0] == CHAIN_A1
    recorded = make_case(latitude=39.9, longitude=116.2, jurisdiction_unit_id=district["community_b1"].pk)
    assert suggest(recorded).reasons[0] == "登记属地 → 社区 古城南路社区 → 街道 古城街道"


def test_an_alias_only_in_the_content_is_used_last(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    case = make_case(place_text="", content="杨庄东区北门外垃圾无人清运")
    assert suggest(case).reasons[0] == "小区 杨庄东区 → 社区 八角南里社区 → 街道 八角街道"


def test_rules_are_tried_in_order_and_inactive_ones_are_skipped(
    make_case: Callable[..., Any], district: dict[str, Any], taxonomy: dict[str, Any]
) -> None:
    rule(name="停用的规则", order=1, is_active=False, target=Target.UNIT, lead_unit=district["street_b"])
    rule(
        name="住建委",
        order=20,
        category=taxonomy["property"],
        target=Target.UNIT,
        lead_unit=district["department"],
    )
    rule(name="社区直办", order=10, category=taxonomy["parking"], target=Target.JURISDICTION_COMMUNITY)
    suggestion = suggest(make_case(category_id=taxonomy["disorder"].pk))
    assert suggestion.lead is not None and suggestion.lead.name == "八角南里社区"
    assert suggestion.reasons[1] == "规则「社区直办」：分类 停车管理 → 主办 社区 八角南里社区"
    other = suggest(make_case(category_id=taxonomy["property"].pk))
    assert other.reasons[1] == "规则「住建委」：分类 物业管理 → 主办 委办局 区住建委"


def test_keywords_match_any_or_all(make_case: Callable[..., Any], district: dict[str, Any]) -> None:
    rule(
        name="消防通道",
        order=1,
        keywords="消防通道，堵塞",
        keyword_mode=KeywordMode.ALL,
        target=Target.UNIT,
        lead_unit=district["department"],
    )
    rule(name="停车", order=2, keywords="停车、乱停", target=Target.JURISDICTION_STREET)
    both = suggest(make_case(title="车辆乱停堵塞消防通道"))
    assert both.reasons[1] == "规则「消防通道」：关键词 消防通道、堵塞 → 主办 委办局 区住建委"
    one = suggest(make_case(title="车辆乱停", content="八角南里小区3号楼下车辆乱停，消防通道不畅"))
    assert one.reasons[1] == "规则「停车」：关键词 乱停 → 主办 街道 八角街道"


def test_case_type_channel_and_place_must_all_hold(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    rule(
        name="古城来电投诉",
        order=1,
        case_type="complaint",
        channel="phone",
        place_unit=district["street_b"],
        target=Target.UNIT,
        lead_unit=district["department"],
    )
    rule(
        name="八角来电投诉",
        order=2,
        case_type="complaint",
        channel="phone",
        place_unit=district["street_a"],
        target=Target.JURISDICTION_STREET,
    )
    walk_in = suggest(make_case())
    assert walk_in.reasons[1] == "无匹配规则，按属地 → 主办 街道 八角街道"
    phone = suggest(make_case(channel="phone"))
    assert (
        phone.reasons[1]
        == "规则「八角来电投诉」：诉求类型 投诉；渠道 来电；属地 八角街道 → 主办 街道 八角街道"
    )
    help_call = suggest(make_case(channel="phone", case_type="help"))
    assert help_call.rule_id is None


def test_a_time_window_across_midnight_and_weekdays(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    rule(
        name="夜间值班",
        order=1,
        weekdays="1,2,3,4,5",
        time_from=time(18, 0),
        time_to=time(8, 0),
        target=Target.UNIT,
        lead_unit=district["department"],
    )
    # 2026-03-04 is a Wednesday, 2026-03-07 a Saturday.
    night = make_case(received_at=datetime(2026, 3, 4, 23, 30, tzinfo=SHANGHAI))
    assert (
        suggest(night).reasons[1] == "规则「夜间值班」：周一至周五；时间 18:00–08:00 → 主办 委办局 区住建委"
    )
    early = make_case(received_at=datetime(2026, 3, 5, 7, 59, tzinfo=SHANGHAI))
    assert suggest(early).rule_id is not None
    day = make_case(received_at=datetime(2026, 3, 4, 8, 0, tzinfo=SHANGHAI))
    assert suggest(day).rule_id is None
    weekend = make_case(received_at=datetime(2026, 3, 7, 23, 0, tzinfo=SHANGHAI))
    assert suggest(weekend).rule_id is None


def test_a_named_lead_with_assists_and_the_jurisdiction_assisting(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    rule(
        name="违建",
        order=1,
        keywords="违建",
        target=Target.UNIT,
        lead_unit=district["department"],
        assists=[district["property_co"], district["department"]],
        assist_jurisdiction=True,
    )
    suggestion = suggest(make_case(title="楼顶违建", content="八角南里小区楼顶违建"))
    assert suggestion.lead is not None and suggestion.lead.name == "区住建委"
    # The lead is never also an assist; the jurisdiction's street follows the listed units.
    assert names(suggestion.assists) == ["京西物业公司", "八角街道"]


def test_a_property_rule_without_a_known_company_says_so(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], district: dict[str, Any]
) -> None:
    rule(name="物业", order=1, category=taxonomy["property"], assist_property_company=True)
    suggestion = suggest(make_case(category_id=taxonomy["property"].pk))
    assert suggestion.assists == []
    assert suggestion.reasons[2] == "物业管理 → 未找到小区的物业公司"


def test_with_no_place_and_no_rule_the_dispatcher_is_asked(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    rule(name="属地", order=1, target=Target.JURISDICTION_STREET)  # needs a place, so it cannot decide
    suggestion = suggest(make_case(place_text="", title="咨询社保", content="咨询社保缴费年限"))
    assert suggestion.lead is None
    assert suggestion.reasons == ["未找到属地，也没有匹配的派单规则，请人工指定主办单位"]


def test_direct_dispatch_sends_to_the_street_and_copies_the_district(
    make_case: Callable[..., Any], district: dict[str, Any], settings: Any
) -> None:
    settings.ROUTING_DIRECT_DISPATCH = True
    suggestion = suggest(make_case())
    assert suggestion.lead is not None and suggestion.lead.name == "八角街道"
    assert names(suggestion.assists) == ["石景山区信访办"]
    assert names(suggestion.copies) == ["石景山区信访办"]
    assert suggestion.reasons == [
        CHAIN_A1,
        "无匹配规则，按属地 → 主办 街道 八角街道",
        "直派街道 → 主办 街道 八角街道，抄送 区 石景山区信访办",
    ]


def test_without_direct_dispatch_a_city_sends_through_the_district(
    make_case: Callable[..., Any], db: Any, settings: Any
) -> None:
    settings.ROUTING_DIRECT_DISPATCH = False
    city = create_unit(code="BJ12345", name="市12345热线", kind="other")
    district = create_unit(code="HD", name="海淀区", kind="district", parent=city)
    street = create_unit(code="HD-ZGC", name="中关村街道", kind="street", parent=district)
    create_unit(code="HD-ZGC-1", name="黄庄社区", kind="community", parent=street, aliases=["黄庄小区"])
    routed = suggest(make_case(place_text="黄庄小区2号楼"))
    assert routed.lead is not None and routed.lead.name == "海淀区"
    assert routed.reasons == [
        "小区 黄庄小区 → 社区 黄庄社区 → 街道 中关村街道",
        "无匹配规则，按属地 → 主办 区 海淀区",
        "街道 中关村街道 → 经 区 海淀区 转办",
    ]
    settings.ROUTING_DIRECT_DISPATCH = True
    direct = suggest(make_case(place_text="黄庄小区2号楼"))
    assert direct.lead is not None and direct.lead.name == "中关村街道"
    assert names(direct.assists) == ["海淀区"]


def test_the_cache_is_dropped_when_a_rule_is_saved_and_kept_otherwise(
    make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    case = make_case()
    assert suggest(case).rule_id is None
    saved = rule(name="住建委", order=1, target=Target.UNIT, lead_unit=district["department"])
    assert suggest(case).rule_id == saved.pk  # post_save dropped the cache
    RoutingRule.objects.filter(pk=saved.pk).update(is_active=False)  # a bulk write sends no signal
    assert suggest(case).rule_id == saved.pk
    clear_routing_cache()
    assert suggest(case).rule_id is None


def test_a_suggestion_needs_no_queries_once_the_table_is_loaded(
    make_case: Callable[..., Any],
    property_rule: RoutingRule,
    taxonomy: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    case = make_case(category_id=taxonomy["disorder"].pk)
    suggest(case)
    with django_assert_num_queries(0):
        assert suggest(case).lead is not None


def test_the_suggestion_is_stored_at_intake(
    make_case: Callable[..., Any], property_rule: RoutingRule, taxonomy: dict[str, Any]
) -> None:
    case = make_case(category_id=taxonomy["disorder"].pk)
    case.refresh_from_db()
    stored = case.enrichment["routing"]
    assert stored["lead"]["name"] == "八角街道"
    assert [unit["name"] for unit in stored["assists"]] == ["京西物业公司"]
    assert stored["reasons"][0] == CHAIN_A1


def test_a_rule_naming_a_unit_needs_the_unit(district: dict[str, Any]) -> None:
    from django.core.exceptions import ValidationError

    bad = RoutingRule(name="x", target=Target.UNIT, weekdays="1,9", time_from=time(8, 0))
    with pytest.raises(ValidationError) as caught:
        bad.full_clean()
    assert set(caught.value.message_dict) == {"lead_unit", "weekdays", "time_to"}
