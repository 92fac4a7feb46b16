"""The citizen's window on a small phone: submit, keep the receipt, come back later, read the reply, rate it."""

from __future__ import annotations

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
            "LOCATION": "browser-portal",
        },
    }


def _reply_and_follow_up(receipt: str, dispatcher: Any, handler_a: Any, leader_a: Any, street: Any) -> None:
    from jiefen.cases import services
    from jiefen.cases.models import Case

    case = Case.objects.get(receipt_number=receipt)
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=street)
    services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
    case.refresh_from_db()
    reply = services.draft_reply(
        case=case,
        actor=handler_a,
        facts="经现场核实，东门垃圾站因清运车辆故障停运七天。",
        basis="《北京市生活垃圾管理条例》第三十条。",
        conclusion="街道已协调环卫所，自本周起恢复每日清运，并增加一次午间清运。",
        review_rights="如不服本答复，可自收到之日起 30 日内向区信访办申请复查。",
    )
    services.approve_reply(reply=reply, actor=leader_a)
    services.send_reply(case=case, actor=handler_a)


def test_a_citizen_submits_on_a_phone_and_later_rates_the_reply(
    new_page: Any,
    phone_page: Any,
    shoot: Any,
    district: dict[str, Any],
    dispatcher: Any,
    handler_a: Any,
    leader_a: Any,
    fits_width: Any,
) -> None:
    from playwright.sync_api import expect

    page = phone_page
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="有事好商量，有难找信访")).to_be_visible()
    assert fits_width(page)
    shoot(page, "portal-01-home-phone")

    page.get_by_role("link", name="我要反映").first.click()
    page.wait_for_url("**/portal/submit/")
    page.get_by_label("投诉", exact=True).check()
    page.get_by_label("标题").fill("小区东门垃圾堆积一周无人清运")
    page.get_by_label("具体情况").fill(
        "八角南里小区东门垃圾站已经一周没有清运，气味很大，<b>老人孩子</b>出入都要绕路。"
    )
    page.get_by_label("地点", exact=True).fill("八角南里小区东门")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号码").fill("13800138000")
    assert fits_width(page)
    shoot(page, "portal-02-submit-phone")
    page.get_by_role("button", name="提交").click()

    page.wait_for_url("**/portal/receipt/**")
    expect(page.get_by_role("heading", name="提交成功")).to_be_visible()
    receipt = page.locator("#receipt-number").inner_text()
    code = page.locator("#query-code").inner_text()
    assert len(code) == 8
    assert fits_width(page)
    shoot(page, "portal-03-receipt-phone")

    _reply_and_follow_up(receipt, dispatcher, handler_a, leader_a, district["street_a"])

    # Days later, on another phone (no session): receipt number and query code open the case.
    later = new_page(viewport={"width": 360, "height": 740})
    later.goto("/portal/track/")
    later.get_by_label("受理编号").fill(receipt)
    later.get_by_label("查询码").fill(code.lower())
    later.get_by_role("button", name="查询").click()
    later.wait_for_url(f"**/portal/case/{receipt}/")
    expect(later.locator("#case-status")).to_have_text("回访中")
    expect(later.locator(".p-reply")).to_contain_text("自本周起恢复每日清运")
    expect(later.locator(".p-content")).to_contain_text("<b>老人孩子</b>")
    assert fits_width(later)
    shoot(later, "portal-04-case-with-reply-phone")

    later.get_by_label("已解决").check()
    later.get_by_label("满意", exact=True).check()
    later.get_by_label("意见（可选）").fill("清运很及时，谢谢。")
    later.get_by_role("button", name="提交评价").click()
    later.wait_for_url(f"**/portal/case/{receipt}/")
    expect(later.get_by_role("status")).to_have_text("感谢您的评价")
    expect(later.locator("#case-status")).to_have_text("已办结")
    shoot(later, "portal-05-rated-phone")


def test_a_refused_submission_keeps_what_was_typed_on_a_phone(
    phone_page: Any, shoot: Any, db: Any, fits_width: Any
) -> None:
    from playwright.sync_api import expect

    page = phone_page
    page.goto("/portal/submit/")
    page.get_by_label("具体情况").fill("楼上漏水")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号码").fill("12")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#form-error")).to_have_text("电话号码格式不正确")
    expect(page.get_by_label("具体情况")).to_have_value("楼上漏水")
    assert fits_width(page)
    shoot(page, "portal-06-refused-phone")


def test_an_emergency_shows_the_numbers_at_once(phone_page: Any, shoot: Any, db: Any) -> None:
    from playwright.sync_api import expect

    page = phone_page
    page.goto("/portal/submit/")
    page.get_by_label("具体情况").fill("3号楼5层着火了，浓烟很大，楼道里还有老人")
    page.get_by_label("姓名").fill("李四")
    page.get_by_label("手机号码").fill("13900139000")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/portal/receipt/**")
    expect(page.locator(".p-sos-box")).to_contain_text("119")
    shoot(page, "portal-07-emergency-phone", full_page=False)


def test_a_clerk_registers_a_walk_in_and_the_lookup_shows_the_persons_earlier_case(
    new_page: Any, login: Any, shoot: Any, make_case: Any, clerk: Any
) -> None:
    """The desk side of intake: typing the phone number shows the person's earlier case (htmx, masked)."""
    from playwright.sync_api import expect

    earlier = make_case()
    page = new_page()
    login(page, "clerk")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="来访登记").click()
    page.wait_for_url("**/intake/register/")
    page.get_by_label("电话", exact=True).first.fill("13800138000")
    expect(page.locator("#lookup")).to_contain_text(earlier.receipt_number)
    expect(page.locator("#lookup")).to_contain_text("138****8000")
    page.get_by_label("姓名", exact=True).fill("张三")
    page.get_by_label("标题").fill("楼道堆放杂物")
    page.get_by_label("反映内容").fill("信访人称：3号楼楼道长期堆放杂物，物业不清理。")
    shoot(page, "intake-01-desk-form")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/cases/*/")
    expect(page.get_by_role("status")).to_contain_text("已登记：受理编号")
    shoot(page, "intake-02-registered")
