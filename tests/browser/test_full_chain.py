"""Issue #4: the whole chain done once by hand in a real browser, each role signing in through the login page,
with a screenshot at each step (test-artifacts/screenshots/chain-NN-<role>-<step>.png).

The story: a walk-in complaint about cars blocking the fire lane of 八角南里. The clerk registers it at the desk;
the dispatcher accepts it and dispatches it as the routing suggestion says (八角街道 leads; the office's sample
rule for parking also names 区住建委 to assist). 八角街道 signs. 区住建委 returns its task as not its business;
the dispatcher upholds the return and re-dispatches: 八角街道 again, with the compound's property company
assisting. 八角街道 signs, passes the task down to 八角南里社区, which signs; the company gives its part. The street
asks for 20 more days; its leader and then the office approve. The street drafts the reply, its leader
approves it, the street sends it. The citizen, on the portal, is not satisfied; the street resumes, answers again,
and the citizen is satisfied: the case is closed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _guards(settings: Any) -> None:
    """The live server runs in this process: no minimum fill time, and rate-limit counters of its own."""
    settings.INTAKE_MIN_FILL_SECONDS = 0
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "browser-chain",
        },
    }


@pytest.fixture
def chain_people(
    district: dict[str, Any],
    clerk: Any,
    dispatcher: Any,
    handler_a: Any,
    leader_a: Any,
    handler_a1: Any,
    property_handler: Any,
) -> dict[str, Any]:
    """The personas, a handler of 区住建委, and the office's routing data for the 八角南里 compound."""
    from jiefen.cases.models import Category
    from jiefen.org.models import AliasKind, JurisdictionAlias
    from jiefen.org.services import create_user
    from jiefen.routing.models import RoutingRule
    from jiefen.routing.services import clear_routing_cache

    create_user(
        username="dept_handler",
        password="test-pass-8731",
        roles=["unit_handler"],
        unit_code=district["department"].code,
        full_name="dept_handler",
        actor=None,
        validate=False,
    )
    JurisdictionAlias.objects.create(alias="八角南里", unit=district["property_co"], kind=AliasKind.COMPOUND)
    rule = RoutingRule.objects.create(
        name="停车管理属地办理", order=1, category=Category.objects.get(code="WY01")
    )
    rule.assist_units.add(district["department"])
    clear_routing_cache()
    return district


class Chain:
    """One browser window per role; each step is one action panel submitted and one screenshot."""

    def __init__(self, new_page: Any, login: Any, shoot: Any) -> None:
        self.new_page, self.login, self.shoot = new_page, login, shoot
        self.pages: dict[str, Any] = {}
        self.step = 0
        self.case_url = ""

    def as_(self, username: str) -> Any:
        if username not in self.pages:
            page = self.new_page()
            self.login(page, username)
            self.pages[username] = page
        page = self.pages[username]
        if self.case_url:
            page.goto(self.case_url)
        return page

    def snap(self, page: Any, role: str, what: str) -> None:
        self.step += 1
        self.shoot(page, f"chain-{self.step:02d}-{role}-{what}")

    def act(
        self, page: Any, name: str, label: str, fill: dict[str, str] | None = None, **select: Any
    ) -> None:
        from playwright.sync_api import expect

        panel = page.locator(f"#action-{name}")
        panel.locator("summary").click()
        for field, value in (fill or {}).items():
            panel.locator(f"[name={field}]").fill(value)
        for field, value in select.items():
            panel.locator(f"select[name={field}]").select_option(value)
        panel.get_by_role("button", name=f"确认{label}").click()
        expect(page.locator(".messages")).to_have_text(f"已完成：{label}")


def test_the_whole_chain_by_hand_as_each_role(
    new_page: Any, login: Any, shoot: Any, chain_people: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    from jiefen.cases.models import Case
    from jiefen.clocks.models import Clock

    district = chain_people
    chain = Chain(new_page, login, shoot)

    # 1. The clerk registers the walk-in complaint at the desk.
    page = chain.as_("clerk")
    page.goto("/intake/register/")
    page.locator("input[name=phone]").fill("13800138000")
    page.locator("input[name=name]").fill("张三")
    page.locator("select[name=channel]").select_option("walk_in")
    page.locator("select[name=case_type]").select_option("complaint")
    page.locator("input[name=title]").fill("小区楼下车辆乱停堵塞消防通道")
    page.locator("textarea[name=content]").fill("八角南里小区3号楼下长期有车辆乱停，堵住消防通道，物业不管。")
    page.locator("input[name=place]").fill("八角南里小区3号楼")
    page.locator("select[name=category]").select_option(label="物业管理 › 停车管理 › 无序停车")
    chain.snap(page, "clerk", "register-form")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messages")).to_contain_text("已登记：受理编号")
    notice = page.locator(".messages").inner_text()
    receipt, code = re.search(r"受理编号 (\S+)，查询码 (\S+)（", notice).groups()  # type: ignore[union-attr]
    case = Case.objects.get(receipt_number=receipt)
    chain.case_url = f"/cases/{case.pk}/"
    expect(page.locator(".case-head .status")).to_have_text("已登记")
    chain.snap(page, "clerk", "registered")

    # 2. The dispatcher accepts, reads the routing suggestion, and dispatches as it says.
    page = chain.as_("dispatcher")
    expect(page.locator(".card-suggestion .suggested-lead")).to_have_text("八角街道")
    expect(page.locator(".card-suggestion .suggested-assists")).to_have_text("区住建委")
    chain.snap(page, "dispatcher", "suggestion")
    chain.act(page, "accept", "受理", {"note": "属本区管辖，予以受理"})
    page.locator("#action-dispatch summary").click()
    expect(page.locator("#action-dispatch select[name=lead_unit]")).to_have_value(
        str(district["street_a"].pk)
    )
    assert page.locator("#action-dispatch select[name=assist_units]").evaluate(
        "s => [...s.selectedOptions].map(o => o.textContent.trim())"
    ) == ["区住建委"]
    page.locator("#action-dispatch textarea[name=instructions]").fill("请核实并清理占道车辆")
    chain.snap(page, "dispatcher", "dispatch-prefilled")
    page.locator("#action-dispatch").get_by_role("button", name="确认交办").click()
    expect(page.locator(".case-head .status")).to_have_text("已交办")
    chain.snap(page, "dispatcher", "dispatched")

    # 3. 八角街道 signs.
    page = chain.as_("handler_a")
    chain.act(page, "sign", "签收")
    expect(page.locator(".case-head .status")).to_have_text("办理中")
    chain.snap(page, "handler_a", "signed")

    # 4. 区住建委 returns its task: not its business.
    page = chain.as_("dept_handler")
    chain.act(page, "return", "退单", {"reason": "车辆占用消防通道属物业管理和城管执法，不属本委职责"})
    chain.snap(page, "dept_handler", "returned")

    # 5. The dispatcher upholds the return and re-dispatches: 八角街道 leads, the property company assists.
    page = chain.as_("dispatcher")
    chain.act(page, "review_return", "审核退单", {"note": "同意，改由物业公司协办"}, uphold="1")
    page.locator("#action-dispatch summary").click()
    page.locator("#action-dispatch select[name=lead_unit]").select_option(str(district["street_a"].pk))
    page.locator("#action-dispatch select[name=assist_units]").select_option(str(district["property_co"].pk))
    page.locator("#action-dispatch").get_by_role("button", name="确认重新交办").click()
    expect(page.locator(".messages")).to_have_text("已完成：交办")
    expect(page.locator(".case-head .status")).to_have_text("已交办")
    chain.snap(page, "dispatcher", "redispatched")

    # 6. 八角街道 signs again and passes the task down to the community, which signs.
    page = chain.as_("handler_a")
    chain.act(page, "sign", "签收")
    chain.act(
        page, "pass_down", "转派", {"instructions": "请社区上门核实"}, unit=str(district["community_a1"].pk)
    )
    chain.snap(page, "handler_a", "passed-down")
    page = chain.as_("handler_a1")
    chain.act(page, "sign", "签收")
    chain.act(page, "note", "添加办理记录", {"note": "已上门查看，3号楼下停有4辆车"}, action="visit")
    chain.snap(page, "handler_a1", "signed-and-visited")

    # 7. The property company signs its assisting task and gives its part.
    page = chain.as_("property_handler")
    chain.act(page, "sign", "签收")
    chain.act(page, "assist_part", "提交协办意见", {"text": "已在3号楼下设置隔离桩，安排保安每日巡查"})
    chain.snap(page, "property_handler", "assist-part")

    # 8. The street asks for more time; its leader, then the office, approve.
    page = chain.as_("handler_a")
    chain.act(page, "request_extension", "申请延期", {"days": "20", "reason": "需协调车主和物业，时间较长"})
    expect(page.locator(".card-extensions")).to_contain_text("待单位负责人审批")
    chain.snap(page, "handler_a", "extension-requested")
    page = chain.as_("leader_a")
    chain.act(page, "decide_extension", "审批延期", {"note": "同意"}, approve="1")
    expect(page.locator(".card-extensions")).to_contain_text("待信访办审批")
    chain.snap(page, "leader_a", "extension-approved")
    page = chain.as_("dispatcher")
    chain.act(page, "decide_extension", "审批延期", {"note": "同意延期20日"}, approve="1")
    expect(page.locator(".card-extensions")).to_contain_text("已批准")
    chain.snap(page, "dispatcher", "extension-approved")
    assert Clock.objects.get(case=case, kind="handling", state="running").extended_by == 20

    # 9. The street drafts the reply, its leader approves it, the street sends it.
    reply = {
        "facts": "经社区上门核实，3号楼下有4辆车长期占用消防通道。",
        "basis": "《中华人民共和国消防法》第二十八条。",
        "conclusion": "已联系车主挪车，物业公司已设置隔离桩并每日巡查。",
    }
    page = chain.as_("handler_a")
    chain.act(page, "draft_reply", "起草答复", reply)
    chain.snap(page, "handler_a", "reply-drafted")
    page = chain.as_("leader_a")
    chain.act(page, "approve_reply", "审批答复")
    chain.snap(page, "leader_a", "reply-approved")
    page = chain.as_("handler_a")
    chain.act(page, "send_reply", "发送答复")
    expect(page.locator(".case-head .status")).to_have_text("回访中")
    chain.snap(page, "handler_a", "reply-sent")

    # 10. The citizen reads the reply on the portal and is not satisfied.
    citizen = new_page()

    def rate(resolved: str, satisfaction: str, comment: str) -> None:
        citizen.goto("/portal/track/")
        citizen.get_by_label("受理编号").fill(receipt)
        citizen.get_by_label("查询码").fill(code)
        citizen.get_by_role("button", name="查询").click()
        citizen.wait_for_url(f"**/portal/case/{receipt}/")
        expect(citizen.locator("#case-status")).to_have_text("回访中")
        citizen.get_by_label(resolved, exact=True).check()
        citizen.get_by_label(satisfaction, exact=True).check()
        citizen.get_by_label("意见（可选）").fill(comment)
        citizen.get_by_role("button", name="提交评价").click()
        citizen.wait_for_url(f"**/portal/case/{receipt}/")
        expect(citizen.get_by_role("status")).to_have_text("感谢您的评价")

    rate("未解决", "不满意", "隔离桩只装了一边，晚上还是有车停。")
    expect(citizen.locator("#case-status")).to_have_text("重办")
    chain.snap(citizen, "citizen", "not-satisfied")

    # 11. The street resumes, answers again; the leader approves; the street sends.
    page = chain.as_("handler_a")
    chain.act(page, "resume", "重新办理")
    expect(page.locator(".case-head .status")).to_have_text("办理中")
    chain.act(
        page, "draft_reply", "起草答复", {**reply, "conclusion": "两侧均已设置隔离桩，夜间增加一次巡查。"}
    )
    chain.snap(page, "handler_a", "second-reply-drafted")
    page = chain.as_("leader_a")
    chain.act(page, "approve_reply", "审批答复")
    page = chain.as_("handler_a")
    chain.act(page, "send_reply", "发送答复")
    chain.snap(page, "handler_a", "second-reply-sent")

    # 12. The citizen is satisfied: closed.
    rate("已解决", "满意", "两边都装好了，谢谢。")
    expect(citizen.locator("#case-status")).to_have_text("已办结")
    chain.snap(citizen, "citizen", "satisfied-closed")
    page = chain.as_("dispatcher")
    expect(page.locator(".case-head .status")).to_have_text("已办结")
    chain.snap(page, "dispatcher", "closed")
    case.refresh_from_db()
    assert case.status == "closed"
