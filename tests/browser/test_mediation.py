"""The dispute pages in the browser: a clerk takes a dispute in from a case, the office assigns the suggested
mediator, the mediator records consent, two sessions, the agreement and signatures, follows performance and
records the court confirmation; another committee's mediator is turned away; a failed mediation is referred."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

# The mediation app's fixtures (committees, mediators, a property case in progress), used here as they are.
from jiefen.mediation.tests import conftest as _fixtures

committees = _fixtures.committees
mediators = _fixtures.mediators
property_case = _fixtures.property_case
make_dispute = _fixtures.make_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _mediation_reference_data() -> None:
    # The flush after other transactional tests empties the template table the data migration filled.
    from django.apps import apps

    importlib.import_module("jiefen.mediation.migrations.0002_default_document_templates").load(apps, None)


def _act(
    page: Any, name: str, fill: dict[str, str] | None = None, select: dict[str, str] | None = None
) -> None:
    from playwright.sync_api import expect

    box = page.locator(f"#action-{name}")
    box.locator("summary").click()
    for field, value in (select or {}).items():
        box.locator(f"[name={field}]").select_option(label=value)
    for field, value in (fill or {}).items():
        box.locator(f"[name={field}]").fill(value)
    box.locator("button[type=submit]").click()
    expect(page.locator(".messages .msg-success")).to_be_visible()


def test_a_dispute_from_a_case_to_court_confirmation(
    new_page: Any,
    login: Any,
    shoot: Any,
    property_case: Any,
    clerk: Any,
    dispatcher: Any,
    mediators: dict[str, Any],
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    login(page, "clerk")
    page.goto(f"/mediation/new/?case={property_case.pk}")
    expect(page.get_by_label("纠纷名称")).to_have_value("物业公司不退还装修押金")
    page.get_by_label("纠纷类型").select_option(label="物业纠纷")
    page.get_by_label("争议金额（元）").fill("3000")
    page.locator("[name=p1-party_type]").select_option(label="单位")
    page.locator("[name=p1-name]").fill("京西物业公司")
    page.locator("[name=p1-representative]").fill("孙经理")
    shoot(page, "mediation-01-new-from-case")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".case-head .status")).to_have_text("待分派")
    dispute_url = page.url

    office = new_page()
    login(office, "dispatcher")
    office.goto(dispute_url)
    office.locator("#action-assign summary").click()
    expect(office.locator("#action-assign label.choice").first).to_contain_text(
        "擅长物业纠纷；纠纷发生在本街道（八角街道）"
    )
    shoot(office, "mediation-02-suggestion")
    office.locator("#action-assign button[type=submit]").click()
    expect(office.locator(".case-head .status")).to_have_text("待当事人同意")

    mediator = new_page()
    login(mediator, "mediator_a")
    mediator.goto(dispute_url)
    for _ in range(2):
        _act(mediator, "consent")
    expect(mediator.locator(".case-head .status")).to_have_text("调解中")
    for minutes, outcome in (
        ("物业出示墙面损坏照片，双方分歧较大。", "继续调解"),
        ("双方同意按修复费用500元扣款。", "达成一致"),
    ):
        _act(mediator, "schedule", fill={"place": "八角街道调解室", "participants": "张三；孙经理；李调解"})
        _act(mediator, "record_session", fill={"minutes": minutes}, select={"outcome": outcome})
    _act(
        mediator,
        "draft_agreement",
        fill={"terms": "一、京西物业公司于十日内退还张三装修押金2500元。\n二、张三承担墙面修复费用500元。"},
    )
    _act(mediator, "sign")
    shoot(mediator, "mediation-03-signing")
    _act(mediator, "sign")
    expect(mediator.locator(".case-head .status")).to_have_text("已达成协议")
    expect(mediator.locator(".case-head .clock")).to_contain_text("申请司法确认截止")
    with mediator.expect_download() as download:
        mediator.locator("ul.documents li").first.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    _act(mediator, "performance", fill={"note": "押金2500元已全部退还。"}, select={"status": "履行完毕"})
    expect(mediator.locator(".case-head .status")).to_have_text("已履行")
    _act(mediator, "apply_confirmation", fill={"court": "石景山区人民法院"})
    _act(mediator, "court_decision", fill={"decision_number": "(2025)京0107民特123号"})
    expect(mediator.locator("#h-agreement + .content + dl")).to_contain_text("法院裁定确认有效")
    shoot(mediator, "mediation-04-confirmed")

    # A mediator of another committee is turned away, and the list shows them nothing.
    outsider = new_page()
    login(outsider, "mediator_b")
    response = outsider.goto(dispute_url)
    assert response is not None and response.status == 404
    outsider.goto("/mediation/")
    expect(outsider.locator(".result-count")).to_have_text("共 0 件")

    office.goto("/mediation/figures/")
    expect(office.locator(".tile").nth(2)).to_contain_text("100.0%")
    shoot(office, "mediation-05-figures")
    office.goto("/mediation/mediators/")
    shoot(office, "mediation-06-directory")


def test_a_refused_mediation_is_referred_back_to_the_case(
    new_page: Any,
    login: Any,
    shoot: Any,
    property_case: Any,
    make_dispute: Any,
    dispatcher: Any,
    mediators: dict[str, Any],
) -> None:
    from playwright.sync_api import expect

    from jiefen.mediation import services

    dispute = make_dispute(case=property_case)
    services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=dispatcher)
    page = new_page()
    login(page, "mediator_a")
    page.goto(f"/mediation/{dispute.pk}/")
    box = page.locator("#action-consent")
    box.locator("summary").click()
    box.locator("[name=party]").select_option(label="被申请人 京西物业公司")
    box.get_by_label("拒绝调解").check()
    box.locator("[name=note]").fill("物业坚持按合同扣款，不同意调解")
    box.locator("button[type=submit]").click()
    expect(page.locator("td").filter(has_text="拒绝调解")).to_be_visible()
    _act(
        page,
        "refer",
        fill={"receiver": "石景山区人民法院", "reason": "被申请人拒绝调解"},
        select={"channel": "诉讼"},
    )
    expect(page.locator(".case-head .status")).to_have_text("调解不成已移交")
    shoot(page, "mediation-07-referred")

    office = new_page()
    login(office, "dispatcher")
    office.goto(f"/cases/{property_case.pk}/")
    expect(office.locator(".case-head .status")).to_have_text("办理中")
    expect(office.locator("ol.timeline li").last).to_contain_text("调解不成，已移交石景山区人民法院（诉讼）")
    shoot(office, "mediation-08-case-timeline")


def test_the_dispute_page_on_a_phone(
    new_page: Any,
    login: Any,
    shoot: Any,
    make_dispute: Any,
    dispatcher: Any,
    mediators: dict[str, Any],
    fits_width: Any,
) -> None:
    from jiefen.mediation import services

    dispute = make_dispute()
    services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=dispatcher)
    page = new_page(viewport={"width": 360, "height": 740})
    login(page, "mediator_a")
    page.goto(f"/mediation/{dispute.pk}/")
    assert fits_width(page)
    shoot(page, "mediation-09-phone")
