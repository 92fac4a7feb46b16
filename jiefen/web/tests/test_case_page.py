import re
from typing import Any

from jiefen.cases import services
from jiefen.cases.models import Assignment, Case, CaseEvent


def _offered(html: str) -> list[str]:
    """The names of the action panels on a case page, in page order."""
    return re.findall(r'<details class="action[^"]*" name="case-actions" id="action-([a-z_]+)">', html)


def _state(case: Case) -> tuple[str, int, int]:
    case.refresh_from_db()
    return case.status, case.version, CaseEvent.objects.filter(case=case).count()


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_case_page_shows_the_facts_and_the_timeline(
    client_for: Any, dispatcher: Any, dispatched_case: Any
) -> None:
    html = client_for(dispatcher).get(f"/cases/{dispatched_case.pk}/").content.decode()
    assert "<h1>小区楼下车辆乱停堵塞消防通道</h1>" in html
    assert f'<span class="receipt">{dispatched_case.receipt_number}</span>' in html
    assert '<span class="status s-dispatched">已交办</span>' in html
    assert "张三" not in html  # names are masked on the case page
    assert "张*" in html
    assert "138****8000" in html
    assert "13800138000" not in html
    timeline = html[html.index('<ol class="timeline">') : html.index("</ol>")]
    entries = re.findall(r'<li class="ev-([a-z_]+)[^"]*">.*?<b>([^<]+)</b>(.*?)</li>', timeline, re.S)
    # The lifecycle in order (other events, such as notices, may come between).
    assert [(kind, head) for kind, head, _rest in entries if kind in ("registered", "move", "assigned")] == [
        ("registered", "登记"),
        ("move", "受理"),
        ("move", "交办"),
        ("assigned", "交办"),
    ]
    assert (
        '已登记 <span class="arrow" aria-hidden="true">→</span> <span class="status s-accepted">已受理</span>'
        in timeline
    )
    # Each clock event names its clock, each dispatch the unit.
    started = {
        re.findall(r"<span>([^<]+)</span>", rest)[0] for kind, _h, rest in entries if kind == "clock_started"
    }
    assert started == {"受理告知", "办理答复", "退单期", "签收"}
    assigned = [rest for kind, _h, rest in entries if kind == "assigned"]
    assert "<span>八角街道</span>" in assigned[0]
    assert '<div class="ev-note">' not in assigned[0]


def test_the_dispatcher_is_offered_acceptance_of_a_registered_case(
    client_for: Any, dispatcher: Any, make_case: Any
) -> None:
    case = make_case()
    html = client_for(dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert _offered(html) == ["accept", "transfer", "merge", "link_matter", "note", "decline"]
    assert "<summary>受理</summary>" in html
    assert f'action="/cases/{case.pk}/action/accept/"' in html
    assert f'<input type="hidden" name="version" value="{case.version}">' in html


def test_a_consultation_can_also_be_answered_on_the_spot(client_for: Any, clerk: Any, make_case: Any) -> None:
    case = make_case(case_type="consult", title="咨询办事流程")
    assert _offered(client_for(clerk).get(f"/cases/{case.pk}/").content.decode()) == [
        "answer",
        "merge",
        "link_matter",
        "note",
        "withdraw",
    ]


def test_a_unit_handler_is_not_offered_acceptance(
    client_for: Any, handler_a: Any, make_case: Any, district: dict[str, Any]
) -> None:
    case = make_case(jurisdiction_unit_id=district["community_a1"].pk)
    response = client_for(handler_a).get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _offered(html) == ["note"]
    assert "<summary>受理</summary>" not in html


def test_the_lead_unit_is_offered_signing_for_its_own_task_only(
    client_for: Any, handler_a: Any, dispatcher: Any, dispatched_case: Any
) -> None:
    html = client_for(handler_a).get(f"/cases/{dispatched_case.pk}/").content.decode()
    assert _offered(html) == ["sign", "note", "return"]
    lead = dispatched_case.assignments.get(role="lead")
    assert f'<option value="{lead.pk}">八角街道（主办）</option>' in html
    # The office does not sign for units.
    assert _offered(client_for(dispatcher).get(f"/cases/{dispatched_case.pk}/").content.decode()) == [
        "extend",
        "link_matter",
        "note",
    ]


def test_posting_an_action_moves_the_case(client_for: Any, dispatcher: Any, make_case: Any) -> None:
    case = make_case()
    client = client_for(dispatcher)
    response = client.post(
        f"/cases/{case.pk}/action/accept/", {"version": 1, "note": "属实，予以受理"}, follow=True
    )
    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert _messages(response) == ["已完成：受理"]
    case.refresh_from_db()
    assert (case.status, case.version) == ("accepted", 2)
    assert CaseEvent.objects.filter(case=case, move="accept").get().note == "属实，予以受理"
    assert _offered(response.content.decode()) == ["dispatch", "merge", "extend", "link_matter", "note"]


def test_the_whole_chain_runs_through_the_case_page(
    client_for: Any, dispatcher: Any, handler_a: Any, leader_a: Any, clerk: Any, make_case: Any, district: Any
) -> None:
    case = make_case()
    office, unit, unit_leader, reception = (
        client_for(dispatcher),
        client_for(handler_a),
        client_for(leader_a),
        client_for(clerk),
    )

    def post(client: Any, name: str, **data: Any) -> list[str]:
        case.refresh_from_db()
        response = client.post(
            f"/cases/{case.pk}/action/{name}/", {"version": case.version, **data}, follow=True
        )
        return _messages(response)

    assert post(office, "accept", note="") == ["已完成：受理"]
    assert post(office, "dispatch", lead_unit=district["street_a"].pk, instructions="请核实处理") == [
        "已完成：交办"
    ]
    lead = case.assignments.get(role="lead")
    assert post(unit, "sign", assignment=lead.pk) == ["已完成：签收"]
    assert _state(case)[0] == "in_progress"
    assert post(
        unit,
        "draft_reply",
        facts="已现场核实",
        basis="《消防法》",
        conclusion="已清理车辆",
        review_rights="30日内可申请复查",
    ) == ["已完成：起草答复"]
    reply = case.replies.get()
    html = unit_leader.get(f"/cases/{case.pk}/").content.decode()
    assert "approve_reply" in _offered(html)
    assert post(unit_leader, "approve_reply", reply=reply.pk) == ["已完成：审批答复"]
    assert "send_reply" in _offered(unit.get(f"/cases/{case.pk}/").content.decode())
    assert post(unit, "send_reply") == ["已完成：发送答复"]
    assert _state(case)[0] == "follow_up"
    assert post(reception, "feedback", resolved="resolved", satisfaction="satisfied", comment="") == [
        "已完成：登记回访评价"
    ]
    assert _state(case)[0] == "closed"


def test_a_stale_version_is_refused_with_the_conflict_message_and_changes_nothing(
    client_for: Any, dispatcher: Any, make_case: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)  # someone else was quicker: version 1 → 2
    before = _state(case)
    response = client_for(dispatcher).post(
        f"/cases/{case.pk}/action/dispatch/",
        {"version": 1, "lead_unit": district["street_a"].pk},
        follow=True,
    )
    assert _messages(response) == ["该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作"]
    assert '<li class="msg-error" role="alert">该信访件刚刚已被其他人处理' in response.content.decode()
    assert _state(case) == before == ("accepted", 2, before[2])
    assert not Assignment.objects.filter(case=case).exists()


def test_a_role_that_may_not_make_a_move_gets_a_message_and_nothing_changes(
    client_for: Any, handler_a: Any, make_case: Any, district: dict[str, Any]
) -> None:
    case = make_case(jurisdiction_unit_id=district["community_a1"].pk)
    before = _state(case)
    response = client_for(handler_a).post(f"/cases/{case.pk}/action/accept/", {"version": 1}, follow=True)
    assert _messages(response) == ["您无权对该信访件执行“受理”"]
    assert _state(case) == before


def test_bad_input_gets_a_message_and_changes_nothing(
    client_for: Any, dispatcher: Any, make_case: Any
) -> None:
    case = make_case()
    before = _state(case)
    client = client_for(dispatcher)
    response = client.post(
        f"/cases/{case.pk}/action/decline/",
        {"version": 1, "reason": "  ", "proper_channel": "诉讼"},
        follow=True,
    )
    assert _messages(response) == ["请填写不予受理的理由"]
    response = client.post(f"/cases/{case.pk}/action/no_such_action/", {"version": 1}, follow=True)
    assert _messages(response) == ["未知操作“no_such_action”"]
    assert _state(case) == before


def test_an_action_must_be_posted(client_for: Any, dispatcher: Any, make_case: Any) -> None:
    case = make_case()
    assert client_for(dispatcher).get(f"/cases/{case.pk}/action/accept/").status_code == 405
    assert _state(case)[0] == "registered"


def test_a_handler_of_another_street_is_denied_the_case_and_changes_nothing(
    client_for: Any, outsider_b: Any, dispatched_case: Any
) -> None:
    case = dispatched_case
    lead = case.assignments.get(role="lead")
    before = _state(case)
    client = client_for(outsider_b)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/cases/{case.pk}/identity/").status_code == 404
    for name, data in [
        ("sign", {"assignment": lead.pk}),
        ("return", {"assignment": lead.pk, "reason": "不归我们管"}),
        ("note", {"note": "看一眼"}),
        ("accept", {}),
    ]:
        response = client.post(f"/cases/{case.pk}/action/{name}/", {"version": case.version, **data})
        assert response.status_code == 404
    assert _state(case) == before
    lead.refresh_from_db()
    assert lead.status == "pending"
    # The same answer as for a case that does not exist: the id reveals nothing.
    assert client.get("/cases/999999/").status_code == 404
    assert "小区楼下车辆乱停" not in client.get(f"/cases/{case.pk}/").content.decode()


def test_the_page_offers_passing_a_task_down_only_within_the_street_or_to_a_property_company(
    client_for: Any, handler_a: Any, dispatched_case: Any
) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    html = client_for(handler_a).get(f"/cases/{dispatched_case.pk}/").content.decode()
    form = html[
        html.index('id="action-pass_down"') : html.index("</details>", html.index('id="action-pass_down"'))
    ]
    units = re.findall(r'<select name="unit" required>(.*?)</select>', form, re.S)[0]
    assert re.findall(r">([^<]+)</option>", units) == ["八角南里社区", "京西物业公司"]


def test_a_street_cannot_pass_its_task_to_another_street(
    client_for: Any, handler_a: Any, outsider_b: Any, dispatched_case: Any, district: dict[str, Any]
) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    before = _state(dispatched_case)
    response = client_for(handler_a).post(
        f"/cases/{dispatched_case.pk}/action/pass_down/",
        {"assignment": lead.pk, "unit": district["street_b"].pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] != ["已完成：转派"]
    assert _state(dispatched_case) == before
    assert not dispatched_case.assignments.filter(unit=district["street_b"]).exists()
    assert client_for(outsider_b).get(f"/cases/{dispatched_case.pk}/").status_code == 404
