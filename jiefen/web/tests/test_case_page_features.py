"""The case page shows and offers what the back end has: the routing suggestion, issued documents, mediation,
supervision, extension requests, matters, assisting units' parts, kinds of recorded action, and the analysis
stored at intake. Each offer is checked with the persona who gets it and one who must not; a denied post
changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jiefen.cases import services
from jiefen.cases.intake import PersonInput
from jiefen.cases.models import Case, CaseEvent, ExtensionRequest


def _offered(html: str) -> list[str]:
    return re.findall(r'<details class="action[^"]*" name="case-actions" id="action-([a-z_]+)">', html)


def _panel(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</details>", start)]


def _section(html: str, css_class: str) -> str:
    start = html.index(f'<section class="card {css_class}"')
    return html[start : html.index("</section>", start)]


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _state(case: Case) -> tuple[str, int, int, int | None]:
    case.refresh_from_db()
    return case.status, case.version, CaseEvent.objects.filter(case=case).count(), case.matter_id


def _selected(select_html: str) -> list[str]:
    return re.findall(r"<option value=\"\d+\" selected>(?:· )?([^<]+)</option>", select_html)


@pytest.fixture
def signed_case(dispatched_case: Any, handler_a: Any) -> Any:
    lead = dispatched_case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    dispatched_case.refresh_from_db()
    return dispatched_case


# --- routing suggestion ---------------------------------------------------------------------------------------


@pytest.fixture
def property_rule(district: dict[str, Any]) -> Any:
    """京西物业公司 manages 八角南里; property matters go to the street with the company assisting."""
    from jiefen.cases.models import Category
    from jiefen.org.models import AliasKind, JurisdictionAlias
    from jiefen.routing.models import RoutingRule
    from jiefen.routing.services import clear_routing_cache

    JurisdictionAlias.objects.create(alias="八角南里", unit=district["property_co"], kind=AliasKind.COMPOUND)
    rule = RoutingRule.objects.create(
        name="物业纠纷属地办理",
        order=1,
        category=Category.objects.get(code="WY"),
        assist_property_company=True,
    )
    clear_routing_cache()
    yield rule
    clear_routing_cache()


def test_the_dispatcher_sees_the_routing_suggestion_and_the_dispatch_form_follows_it(
    client_for: Any, dispatcher: Any, make_case: Any, property_rule: Any
) -> None:
    from jiefen.cases.models import Category

    case = make_case(category_id=Category.objects.get(code="WY0101").pk)
    services.accept_case(case=case, actor=dispatcher)
    html = client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode()
    box = _section(html, "card-suggestion")
    assert '<h2 id="h-suggestion">派单建议</h2>' in box
    assert '<dd class="suggested-lead">八角街道</dd>' in box
    assert '<dd class="suggested-assists">京西物业公司</dd>' in box
    assert re.findall(r"<li>([^<]+)</li>", box) == [
        "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道",
        "规则「物业纠纷属地办理」：分类 物业管理 → 主办 街道 八角街道",
        "物业管理 → 物业公司 京西物业公司",
    ]
    form = _panel(html, "action-dispatch")
    lead_select = form[
        form.index('name="lead_unit"') : form.index("</select>", form.index('name="lead_unit"'))
    ]
    assist_select = form[
        form.index('name="assist_units"') : form.index("</select>", form.index('"assist_units"'))
    ]
    assert _selected(lead_select) == ["八角街道"]
    assert _selected(assist_select) == ["京西物业公司"]
    assert "已按派单建议预选：八角街道，可以修改。" in form


def test_the_dispatcher_may_dispatch_elsewhere_than_suggested(
    client_for: Any, dispatcher: Any, make_case: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    case.refresh_from_db()
    response = client_for(dispatcher).post(
        f"/cases/{case.pk}/action/dispatch/",
        {"version": case.version, "lead_unit": district["department"].pk},
        follow=True,
    )
    assert _messages(response) == ["已完成：交办"]
    assert [(a.unit.name, a.role) for a in case.assignments.all()] == [("区住建委", "lead")]


def test_unit_staff_do_not_see_the_routing_suggestion(
    client_for: Any, handler_a: Any, signed_case: Any
) -> None:
    html = client_for(handler_a).get(f"/cases/{signed_case.pk}/").content.decode()
    assert "card-suggestion" not in html
    assert "派单建议" not in html


# --- intake analysis ---------------------------------------------------------------------------------------------


def test_the_analysis_stored_at_intake_is_shown_with_its_explanations(
    client_for: Any, dispatcher: Any, make_case: Any
) -> None:
    case = make_case()
    html = client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode()
    box = _section(html, "card-enrichment")
    assert '<h2 id="h-enrichment">智能分析</h2>' in box
    assert '<div class="enrichment" data-key="routing">\n<h3>派单分析</h3>' in box
    # The routing entry alone (the language engine's entries follow it in the same box).
    box = box.split('data-key="routing">')[1].split('<div class="enrichment"')[0]
    assert re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", box) == [
        ("主办", "八角街道"),
        ("属地", "八角南里社区"),
    ]
    assert re.findall(r"<li>([^<]+)</li>", box) == [
        "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道",
        "无匹配规则，按属地 → 主办 街道 八角街道",
    ]


def test_a_case_without_analysis_has_no_analysis_box(
    client_for: Any, supervisor: Any, dispatcher: Any, make_case: Any
) -> None:
    case = make_case()
    Case.objects.filter(pk=case.pk).update(enrichment={})
    assert "card-enrichment" not in client_for(supervisor).get(f"/cases/{case.pk}/").content.decode()
    # Those who may set the category still get the chooser there, and nothing else.
    box = _section(client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode(), "card-enrichment")
    assert re.findall(r'<div class="enrichment" data-key="(\w+)">', box) == ["classification"]
    assert "登记时没有分类建议。" in box
    assert "仅供参考" not in box


# --- documents ------------------------------------------------------------------------------------------------


def test_issued_documents_are_listed_with_their_downloads(
    client_for: Any, dispatcher: Any, make_case: Any
) -> None:
    from jiefen.documents.models import IssuedDocument

    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    doc = IssuedDocument.objects.get(case=case)
    client = client_for(dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    entry = html[html.index(f'<li id="document-{doc.pk}">') : html.index("</li>", html.index("document-"))]
    assert f'<b>信访事项受理告知书</b> <span class="num">{doc.number}</span>' in entry
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', entry) == [
        (f"/cases/{case.pk}/documents/{doc.pk}.docx", "下载 Word"),
        (f"/cases/{case.pk}/documents/{doc.pk}.pdf", "下载 PDF"),
    ]
    response = client.get(f"/cases/{case.pk}/documents/{doc.pk}.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")


def test_a_case_without_documents_shows_no_document_list(
    client_for: Any, dispatcher: Any, make_case: Any
) -> None:
    case = make_case()
    assert '<ul class="documents">' not in client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode()


# --- mediation ------------------------------------------------------------------------------------------------


def test_office_staff_may_take_an_open_case_into_mediation(
    client_for: Any, clerk: Any, handler_a: Any, signed_case: Any
) -> None:
    link = f'<a class="button" href="/mediation/new/?case={signed_case.pk}">转入调解</a>'
    assert link in client_for(clerk).get(f"/cases/{signed_case.pk}/").content.decode()
    assert "转入调解" not in client_for(handler_a).get(f"/cases/{signed_case.pk}/").content.decode()


def test_a_closed_case_is_not_offered_for_mediation(client_for: Any, clerk: Any, make_case: Any) -> None:
    case = make_case(case_type="consult", title="咨询办事流程")
    services.answer_now(case=case, actor=clerk, answer="请到社区办理。")
    assert "转入调解" not in client_for(clerk).get(f"/cases/{case.pk}/").content.decode()


# --- supervision ----------------------------------------------------------------------------------------------


def test_a_supervisor_gets_the_three_supervision_forms_returning_to_the_case(
    client_for: Any, supervisor: Any, leader: Any, signed_case: Any
) -> None:
    html = client_for(supervisor).get(f"/cases/{signed_case.pk}/").content.decode()
    box = _section(html, "card-supervision")
    for name, fields in [
        ("urge", ["message"]),
        ("order", ["unit", "instructions"]),
        ("escalate", ["leader", "note"]),
    ]:
        form = _panel(box, f"supervise-{name}")
        assert f'action="/supervision/cases/{signed_case.pk}/{name}/"' in form
        assert f'<input type="hidden" name="next" value="/cases/{signed_case.pk}/">' in form
        assert re.findall(r'<(?:textarea|select) name="([a-z]+)"', form) == fields
    assert f'<option value="{leader.pk}">leader</option>' in _panel(box, "supervise-escalate")
    assert _selected(_panel(box, "supervise-order")) == ["八角街道"]


def test_an_order_is_issued_from_the_case_page_and_answered_by_the_ordered_unit(
    client_for: Any, supervisor: Any, handler_a: Any, dispatcher: Any, signed_case: Any, district: Any
) -> None:
    from jiefen.supervision.models import SupervisionOrder

    case = signed_case
    response = client_for(supervisor).post(
        f"/supervision/cases/{case.pk}/order/",
        {"unit": district["street_a"].pk, "instructions": "请三日内反馈", "next": f"/cases/{case.pk}/"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    order = SupervisionOrder.objects.get(case=case)
    html = response.content.decode()
    assert f'<div class="order o-open" id="order-{order.pk}">' in html
    assert "<p>请三日内反馈</p>" in html
    assert 'name="answer"' not in html  # the supervisor does not answer for the unit
    assert 'name="answer"' not in client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode()

    unit_page = client_for(handler_a).get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/supervision/orders/{order.pk}/answer/"' in unit_page
    assert "supervise-urge" not in unit_page
    response = client_for(handler_a).post(
        f"/supervision/orders/{order.pk}/answer/", {"answer": "已清理车辆并设置隔离桩"}, follow=True
    )
    order.refresh_from_db()
    assert (order.status, order.answer) == ("answered", "已清理车辆并设置隔离桩")
    html = response.content.decode()
    assert '<p class="answer"><b>反馈：</b>已清理车辆并设置隔离桩</p>' in html
    assert f'action="/supervision/orders/{order.pk}/answer/"' not in html


def test_a_unit_handler_may_not_supervise_and_nothing_changes(
    client_for: Any, handler_a: Any, signed_case: Any
) -> None:
    from jiefen.supervision.models import SupervisionOrder

    before = _state(signed_case)
    response = client_for(handler_a).post(
        f"/supervision/cases/{signed_case.pk}/urge/", {"message": "快办", "next": f"/cases/{signed_case.pk}/"}
    )
    assert response.status_code == 403
    assert _state(signed_case) == before
    assert not SupervisionOrder.objects.exists()


# --- extensions -----------------------------------------------------------------------------------------------


def test_an_extension_goes_from_the_handler_to_the_unit_leader_to_the_office(
    client_for: Any, handler_a: Any, leader_a: Any, dispatcher: Any, supervisor: Any, signed_case: Any
) -> None:
    from jiefen.clocks.models import Clock

    case = signed_case
    unit, unit_leader, office = client_for(handler_a), client_for(leader_a), client_for(dispatcher)
    html = unit.get(f"/cases/{case.pk}/").content.decode()
    assert "request_extension" in _offered(html)
    assert '<input name="days" type="number" min="1" max="30" value="30"' in _panel(
        html, "action-request_extension"
    )
    assert "decide_extension" not in _offered(html)  # a handler does not decide
    assert "request_extension" not in _offered(office.get(f"/cases/{case.pk}/").content.decode())

    response = unit.post(
        f"/cases/{case.pk}/action/request_extension/", {"days": "20", "reason": "需协调多部门"}, follow=True
    )
    assert _messages(response) == ["已完成：申请延期"]
    request = ExtensionRequest.objects.get(case=case)
    html = response.content.decode()
    assert "request_extension" not in _offered(html)  # one request at a time
    row = html[
        html.index(f'<tr id="extension-{request.pk}">') : html.index("</tr>", html.index("extension-"))
    ]
    assert '<span class="ext ext-requested">待单位负责人审批</span>' in row
    assert "需协调多部门" in row

    # The office waits for the unit's leader.
    assert "decide_extension" not in _offered(office.get(f"/cases/{case.pk}/").content.decode())
    html = unit_leader.get(f"/cases/{case.pk}/").content.decode()
    assert "decide_extension" in _offered(html)
    assert (
        f'<option value="{request.pk}">#{request.pk} 八角街道 申请延期20日（待单位负责人审批）</option>'
        in html
    )
    assert _messages(
        unit_leader.post(
            f"/cases/{case.pk}/action/decide_extension/",
            {"request": request.pk, "approve": "1", "note": ""},
            follow=True,
        )
    ) == ["已完成：审批延期"]
    request.refresh_from_db()
    assert request.status == "unit_approved"

    assert "decide_extension" not in _offered(unit_leader.get(f"/cases/{case.pk}/").content.decode())
    assert "decide_extension" in _offered(client_for(supervisor).get(f"/cases/{case.pk}/").content.decode())
    assert _messages(
        office.post(
            f"/cases/{case.pk}/action/decide_extension/",
            {"request": request.pk, "approve": "1", "note": "同意"},
            follow=True,
        )
    ) == ["已完成：审批延期"]
    request.refresh_from_db()
    assert request.status == "approved"
    assert Clock.objects.get(case=case, kind="handling").extended_by == 20
    html = unit.get(f"/cases/{case.pk}/").content.decode()
    assert "request_extension" not in _offered(html)  # extended once; no second time (Art. 34)
    assert '<span class="ext ext-approved">已批准</span><br><small>同意</small>' in html


def test_the_office_may_not_decide_before_the_unit_leader_and_nothing_changes(
    client_for: Any, handler_a: Any, dispatcher: Any, signed_case: Any
) -> None:
    request = services.request_extension(case=signed_case, actor=handler_a, days=10, reason="等待鉴定")
    before = _state(signed_case)
    response = client_for(dispatcher).post(
        f"/cases/{signed_case.pk}/action/decide_extension/",
        {"request": request.pk, "approve": "1"},
        follow=True,
    )
    assert _messages(response) == ["延期申请须先由承办单位负责人审批"]
    request.refresh_from_db()
    assert (request.status, request.unit_decided_by_id, request.office_decided_by_id) == (
        "requested",
        None,
        None,
    )
    assert _state(signed_case) == before


def test_a_rejected_request_may_be_followed_by_a_new_one(
    client_for: Any, handler_a: Any, leader_a: Any, signed_case: Any
) -> None:
    request = services.request_extension(case=signed_case, actor=handler_a, days=10, reason="等待鉴定")
    client_for(leader_a).post(
        f"/cases/{signed_case.pk}/action/decide_extension/",
        {"request": request.pk, "approve": "0", "note": "理由不充分"},
    )
    request.refresh_from_db()
    assert request.status == "rejected"
    html = client_for(handler_a).get(f"/cases/{signed_case.pk}/").content.decode()
    assert "request_extension" in _offered(html)
    assert '<span class="ext ext-rejected">未批准</span><br><small>理由不充分</small>' in html


# --- matters --------------------------------------------------------------------------------------------------


def test_a_clerk_links_a_repeat_petition_to_the_petitioners_earlier_matter(
    client_for: Any, clerk: Any, make_case: Any
) -> None:
    first = make_case()
    second = make_case(title="消防通道还是被堵")
    client = client_for(clerk)
    html = client.get(f"/cases/{second.pk}/").content.decode()
    form = _panel(html, "action-link_matter")
    label = f"小区楼下车辆乱停堵塞消防通道（{first.receipt_number} · 已登记）"
    assert re.findall(r'<option value="(\d+)">([^<]+)</option>', form) == [(str(first.matter_id), label)]
    assert f'hx-get="/cases/{second.pk}/matters/"' in form

    response = client.post(
        f"/cases/{second.pk}/action/link_matter/", {"matter": first.matter_id, "receipt": ""}, follow=True
    )
    assert _messages(response) == ["已完成：关联事项"]
    second.refresh_from_db()
    assert second.matter_id == first.matter_id
    box = _section(response.content.decode(), "card-matter")
    assert '<b>小区楼下车辆乱停堵塞消防通道</b> <span class="tag m-open">处理中</span>' in box
    assert re.findall(r'<span class="receipt">([^<]+)</span>', box) == [first.receipt_number]
    # Linked: the petitioner has no other matter left to offer.
    form = _panel(response.content.decode(), "action-link_matter")
    assert re.findall(r'<option value="(\d*)">([^<]+)</option>', form) == [
        ("", "请输入另一信访件的受理编号查找")
    ]


def test_the_matter_lookup_finds_cases_by_receipt_number(
    client_for: Any, clerk: Any, handler_a: Any, make_case: Any
) -> None:
    first = make_case(petitioner=PersonInput(name="李四", phone="13900139000"))
    second = make_case()
    client = client_for(clerk)
    response = client.get(f"/cases/{second.pk}/matters/", {"receipt": first.receipt_number})
    assert response.content.decode().strip() == (
        f'<option value="{first.matter_id}">小区楼下车辆乱停堵塞消防通道（{first.receipt_number} · 已登记）</option>'
    )
    response = client.get(f"/cases/{second.pk}/matters/", {"receipt": "NO-SUCH"})
    assert (
        response.content.decode().strip()
        == '<option value="">没有找到受理编号以“NO-SUCH”开头的信访件</option>'
    )
    # The case itself is not a match.
    response = client.get(f"/cases/{second.pk}/matters/", {"receipt": second.receipt_number})
    assert response.content.decode().strip() == (
        f'<option value="">没有找到受理编号以“{second.receipt_number}”开头的信访件</option>'
    )


def test_the_matter_lookup_is_for_those_who_link_and_sees_only_visible_cases(
    client_for: Any, handler_a: Any, outsider_b: Any, signed_case: Any, make_case: Any
) -> None:
    other = make_case()
    assert (
        client_for(handler_a)
        .get(f"/cases/{signed_case.pk}/matters/", {"receipt": other.receipt_number})
        .status_code
        == 403
    )
    assert (
        client_for(outsider_b).get(f"/cases/{signed_case.pk}/matters/", {"receipt": "x"}).status_code == 404
    )


def test_a_unit_handler_may_not_link_a_matter_and_nothing_changes(
    client_for: Any, handler_a: Any, signed_case: Any, make_case: Any
) -> None:
    other = make_case()
    assert "link_matter" not in _offered(
        client_for(handler_a).get(f"/cases/{signed_case.pk}/").content.decode()
    )
    before = _state(signed_case)
    response = client_for(handler_a).post(
        f"/cases/{signed_case.pk}/action/link_matter/", {"matter": other.matter_id}, follow=True
    )
    assert _messages(response) == ["只有接访员和交办员可以关联事项"]
    assert _state(signed_case) == before


def test_the_matter_box_shows_only_the_other_cases_the_user_may_see(
    client_for: Any,
    clerk: Any,
    dispatcher: Any,
    handler_a: Any,
    signed_case: Any,
    make_case: Any,
    district: Any,
) -> None:
    elsewhere = make_case(
        title="古城也有人乱停车", place_text="古城南路", jurisdiction_unit_id=district["community_b1"].pk
    )
    services.link_to_matter(case=elsewhere, matter=signed_case.matter, actor=clerk)
    office = _section(client_for(dispatcher).get(f"/cases/{signed_case.pk}/").content.decode(), "card-matter")
    assert re.findall(r'<span class="receipt">([^<]+)</span>', office) == [elsewhere.receipt_number]
    unit = _section(client_for(handler_a).get(f"/cases/{signed_case.pk}/").content.decode(), "card-matter")
    assert "古城也有人乱停车" not in unit
    assert "该事项下没有您可查看的其他信访件。" in unit


# --- assisting units ------------------------------------------------------------------------------------------


def test_an_assisting_unit_submits_its_part_once_signed(
    client_for: Any, dispatcher: Any, handler_a: Any, property_handler: Any, make_case: Any, district: Any
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(
        case=case, actor=dispatcher, lead_unit=district["street_a"], assist_units=[district["property_co"]]
    )
    assist = case.assignments.get(role="assist")
    company = client_for(property_handler)
    assert "assist_part" not in _offered(company.get(f"/cases/{case.pk}/").content.decode())  # not signed yet
    services.sign_assignment(assignment=assist, actor=property_handler)
    html = company.get(f"/cases/{case.pk}/").content.decode()
    assert "assist_part" in _offered(html)
    assert f'<option value="{assist.pk}">京西物业公司（协办）</option>' in _panel(html, "action-assist_part")
    lead = case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    assert "assist_part" not in _offered(client_for(handler_a).get(f"/cases/{case.pk}/").content.decode())

    response = company.post(
        f"/cases/{case.pk}/action/assist_part/",
        {"assignment": assist.pk, "text": "已安排保安巡查"},
        follow=True,
    )
    assert _messages(response) == ["已完成：提交协办意见"]
    assist.refresh_from_db()
    assert assist.status == "replied"
    assert CaseEvent.objects.get(case=case, kind="assignment_replied").note == "已安排保安巡查"
    assert "assist_part" not in _offered(response.content.decode())


def test_an_empty_assisting_part_is_refused_and_changes_nothing(
    client_for: Any, dispatcher: Any, property_handler: Any, make_case: Any, district: Any
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(
        case=case, actor=dispatcher, lead_unit=district["street_a"], assist_units=[district["property_co"]]
    )
    assist = case.assignments.get(role="assist")
    services.sign_assignment(assignment=assist, actor=property_handler)
    before = _state(case)
    response = client_for(property_handler).post(
        f"/cases/{case.pk}/action/assist_part/", {"assignment": assist.pk, "text": " "}, follow=True
    )
    assert _messages(response) == ["请填写协办意见"]
    assert _state(case) == before
    assist.refresh_from_db()
    assert assist.status == "signed"


# --- kinds of recorded action ---------------------------------------------------------------------------------


def test_a_note_records_the_kind_of_action_taken(client_for: Any, handler_a: Any, signed_case: Any) -> None:
    client = client_for(handler_a)
    form = _panel(client.get(f"/cases/{signed_case.pk}/").content.decode(), "action-note")
    assert re.findall(r'<option value="([a-z_]+)">([^<]+)</option>', form) == [
        ("note", "办理记录"),
        ("call", "电话联系"),
        ("visit", "上门走访"),
        ("meeting", "约谈协调"),
        ("assistance", "帮扶救助"),
        ("counselling", "思想疏导"),
        ("mediation_referral", "转调解"),
    ]
    response = client.post(
        f"/cases/{signed_case.pk}/action/note/", {"action": "visit", "note": "上门查看现场"}, follow=True
    )
    assert _messages(response) == ["已完成：添加办理记录"]
    event = CaseEvent.objects.filter(case=signed_case, kind="note").latest("id")
    assert (event.note, event.data["action"]) == ("上门查看现场", "visit")
    html = response.content.decode()
    assert "<b>办理记录</b>\n    \n    <span>上门走访</span>" in html


def test_an_unknown_kind_of_action_is_refused_and_changes_nothing(
    client_for: Any, handler_a: Any, signed_case: Any
) -> None:
    before = _state(signed_case)
    response = client_for(handler_a).post(
        f"/cases/{signed_case.pk}/action/note/", {"action": "party", "note": "聚餐"}, follow=True
    )
    assert _messages(response) == ["办理方式“party”无效"]
    assert _state(signed_case) == before
