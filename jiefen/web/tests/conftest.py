"""Web fixtures: logged-in clients for the personas, and a small set of cases that differ in every filter."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from jiefen.cases.intake import PersonInput

RECEIPT = re.compile(r'class="receipt">([^<]+)<')


def receipts(html: str) -> list[str]:
    """The receipt numbers a case list shows, in page order."""
    return RECEIPT.findall(html)


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def list_cases(
    make_case: Callable[..., Any], dispatcher: Any, district: dict[str, Any], clerk: Any
) -> dict[str, Any]:
    """Four cases, each alone in its status, channel and colour:

    - ``park``: walk-in complaint in 八角南里社区 (street A), 无序停车, phone 13800138000, registered → yellow
    - ``noise``: phone complaint in 古城南路社区 (street B), 噪音扰民, accepted → green
    - ``wage``: web request for help, 拖欠农民工工资, dispatched to 八角街道 and not signed → red
    - ``consult``: anonymous 12345 consultation registered in March 2024 and answered on the spot → closed
    """
    from jiefen.cases import services
    from jiefen.cases.models import Case, Category
    from jiefen.clocks.models import Clock, ClockKind
    from jiefen.clocks.services import sweep

    cat = {c.code: c.pk for c in Category.objects.filter(code__in=["WY0101", "WY02", "LD01"])}
    park = make_case(jurisdiction_unit_id=district["community_a1"].pk, category_id=cat["WY0101"])
    noise = make_case(
        channel="phone",
        title="夜间施工噪音扰民",
        content="古城南路工地每天夜里十二点后还在施工，噪音很大，老人孩子无法休息。",
        petitioner=PersonInput(name="李四", phone="13900139000"),
        place_text="古城南路工地",
        jurisdiction_unit_id=district["community_b1"].pk,
        category_id=cat["WY02"],
    )
    wage = make_case(
        channel="web",
        case_type="help",
        title="农民工工资被拖欠半年",
        content="我们在工地干了半年，包工头一直拖欠工资不给。",
        petitioner=PersonInput(name="王五", phone="13700137000"),
        place_text="鲁谷路工地",
        category_id=cat["LD01"],
    )
    consult = make_case(
        channel="hotline_12345",
        case_type="consult",
        title="咨询供暖费补贴政策",
        content="想问一下今年的供暖费补贴怎么申请。",
        petitioner=None,
        is_anonymous=True,
        place_text="",
    )
    services.accept_case(case=noise, actor=dispatcher)
    services.accept_case(case=wage, actor=dispatcher)
    services.dispatch_case(case=wage, actor=dispatcher, lead_unit=district["street_a"])
    services.answer_now(case=consult, actor=clerk, answer="按区民政局通知，10月底前到社区申请。")
    # A case registered long ago, for the date filters (intake always stamps the present moment).
    Case.objects.filter(pk=consult.pk).update(
        created_at=datetime(2024, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    # Just past the warning point of park's 15-day acceptance clock (about 12 days on; the exact moment depends
    # on weekends and holidays): that clock turns yellow, wage's 1-working-day sign clock is long breached, and
    # noise's 60-day handling clock is still green.
    acceptance = Clock.objects.get(case=park, kind=ClockKind.ACCEPTANCE)
    sweep(now=acceptance.warn_at + timedelta(minutes=1))
    cases = {"park": park, "noise": noise, "wage": wage, "consult": consult}
    for case in cases.values():
        case.refresh_from_db()
    return cases
