"""A person's view of the staff pages: sign in, find a case, move it along, in Chinese and in English."""

from __future__ import annotations

import re
from typing import Any

import pytest

# The live server answers from another thread, so test data must be committed (transaction=True).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_dispatcher_accepts_and_dispatches_and_the_street_signs(
    new_page: Any, login: Any, shoot: Any, office_cases: dict[str, Any], dispatcher: Any, handler_a: Any
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/")
    page.wait_for_url("**/login/?next=/")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    shoot(page, "01-login")

    login(page, "dispatcher")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.locator(".tile").first).to_contain_text("待受理")
    shoot(page, "02-home")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="信访件").click()
    page.wait_for_url("**/cases/")
    expect(page.locator(".result-count")).to_have_text("共 5 件")
    shoot(page, "03-case-list")

    # Filtering swaps only the rows (htmx) and puts the filter in the address bar.
    page.get_by_label("状态").select_option("registered")
    expect(page.locator(".result-count")).to_have_text("共 3 件")
    expect(page).to_have_url(re.compile(r"/cases/\?.*status=registered"))
    page.get_by_label("搜索").fill("消防通道")
    expect(page.locator(".result-count")).to_have_text("共 1 件")

    park = office_cases["park"]
    page.get_by_role("link", name="小区楼下车辆乱停堵塞消防通道").click()
    page.wait_for_url(f"**/cases/{park.pk}/")
    expect(page.locator(".case-head .status")).to_have_text("已登记")
    expect(page.locator("ol.timeline li").first).to_contain_text("登记")
    shoot(page, "04-case-page")

    page.locator("#action-accept summary").click()
    page.locator("#action-accept textarea[name=note]").fill("属于本区管辖，予以受理")
    page.locator("#action-accept").get_by_role("button", name="确认受理").click()
    expect(page.locator(".messages")).to_have_text("已完成：受理")
    expect(page.locator(".case-head .status")).to_have_text("已受理")

    page.locator("#action-dispatch summary").click()
    page.get_by_label("主办单位").select_option(label="八角街道")
    page.get_by_label("交办意见").fill("请街道核实并组织清理")
    shoot(page, "05-dispatch-form", full_page=False)
    page.locator("#action-dispatch").get_by_role("button", name="确认交办").click()
    expect(page.locator(".messages")).to_have_text("已完成：交办")
    expect(page.locator(".case-head .status")).to_have_text("已交办")
    expect(page.locator("table.list.compact").nth(1)).to_contain_text("八角街道")
    shoot(page, "06-case-dispatched")

    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login/")

    street = new_page()
    login(street, "handler_a")
    expect(street.get_by_role("heading", name="待签收的交办任务")).to_be_visible()
    street.get_by_role("link", name="小区楼下车辆乱停堵塞消防通道").first.click()
    expect(street.locator("#action-accept")).to_have_count(0)
    street.locator("#action-sign summary").click()
    street.locator("#action-sign").get_by_role("button", name="确认签收").click()
    expect(street.locator(".messages")).to_have_text("已完成：签收")
    expect(street.locator(".case-head .status")).to_have_text("办理中")
    expect(street.locator("#action-draft_reply")).to_have_count(1)
    shoot(street, "07-case-signed-by-street")

    park.refresh_from_db()
    assert park.status == "in_progress"


def test_a_wrong_password_is_refused(new_page: Any, dispatcher: Any) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/login/")
    page.get_by_label("用户名").fill("dispatcher")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".error")).to_have_text("用户名或密码不正确，请重试。")
    assert page.url.endswith("/login/")


def test_the_language_switcher_turns_the_pages_english(new_page: Any, shoot: Any, office_cases: Any) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/login/")
    page.get_by_label("语言").select_option("en")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("Username").fill("dispatcher")
    page.get_by_label("Password").fill("test-pass-8731")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto("/cases/")
    expect(page.locator(".result-count")).to_have_text("5 cases")
    expect(page.locator("table.list")).to_contain_text("Registered")
    shoot(page, "08-case-list-english")
    page.get_by_role("link", name="夜间施工噪音扰民").click()
    expect(page.locator("#action-dispatch summary")).to_have_text("Dispatch")
    shoot(page, "09-case-page-english")


def test_the_case_list_and_case_page_fit_a_360_pixel_phone(
    phone_page: Any, login: Any, shoot: Any, office_cases: Any, fits_width: Any
) -> None:
    from playwright.sync_api import expect

    page = phone_page
    login(page, "dispatcher")
    assert fits_width(page)
    shoot(page, "10-phone-home")
    page.goto("/cases/")
    expect(page.locator(".result-count")).to_have_text("共 5 件")
    # Rows are stacked cards on a phone: the column header row is hidden, each cell labels itself.
    expect(page.locator("table.list thead")).not_to_be_in_viewport()
    assert fits_width(page)
    shoot(page, "11-phone-case-list")
    page.get_by_role("link", name="农民工工资被拖欠半年").click()
    page.wait_for_url("**/cases/*/")
    assert fits_width(page)
    shoot(page, "12-phone-case-page")


def test_keyboard_focus_is_visible(new_page: Any, dispatcher: Any) -> None:
    page = new_page()
    page.goto("/login/")
    assert page.evaluate("document.activeElement.name") == "username"  # autofocus
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineColor]; })()"
    )
    assert style == ["solid", "rgb(242, 169, 0)"]
