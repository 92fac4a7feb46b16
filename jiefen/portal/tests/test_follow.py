"""Following a case in the portal: receipt number + query code, the public timeline and reply, adding material,
rating, requesting a review, withdrawing, and "my cases" by one-time code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiefen.cases import services
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import Attachment, Case, Feedback, Review
from jiefen.intake import services as intake_services
from jiefen.intake.models import OneTimeCode
from jiefen.portal.tests.conftest import jpeg_with_gps

ERROR = re.compile(r'<div class="p-error" role="alert"(?: id="form-error")?>([^<]*)</div>')


def error_of(response: Any) -> str:
    match = ERROR.search(response.content.decode())
    return match.group(1) if match else ""


@pytest.fixture
def registered(clerk: Any) -> Any:
    return services.register_case(
        intake=Intake(
            channel="web",
            case_type="complaint",
            title="小区门口垃圾堆积",
            content="垃圾站一周没有清运。",
            petitioner=PersonInput(name="张三", phone="13800138000"),
        ),
        actor=clerk,
    )


def opened(client: Client, registered: Any) -> Client:
    response = client.post(
        "/portal/track/",
        {"receipt": registered.case.receipt_number.lower(), "code": registered.query_code.lower()},
    )
    assert response["Location"] == f"/portal/case/{registered.case.receipt_number}/"
    return client


@pytest.fixture
def in_progress(registered: Any, dispatcher: Any, handler_a: Any, district: dict[str, Any]) -> Any:
    case = registered.case
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_a"])
    services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
    case.refresh_from_db()
    return registered


@pytest.fixture
def replied(in_progress: Any, handler_a: Any, leader_a: Any) -> Any:
    case = in_progress.case
    reply = services.draft_reply(
        case=case,
        actor=handler_a,
        facts="经核实，垃圾站因清运车辆故障停运七天。",
        basis="《北京市生活垃圾管理条例》第三十条",
        conclusion="已于本周恢复每日清运。",
        review_rights="如不服本答复，可在收到之日起 30 日内向区信访办申请复查。",
    )
    services.approve_reply(reply=reply, actor=leader_a)
    services.send_reply(case=case, actor=handler_a)
    case.refresh_from_db()
    return in_progress


def test_a_wrong_query_code_opens_nothing(registered: Any) -> None:
    client = Client()
    for receipt, code in (
        (registered.case.receipt_number, "WRONG123"),
        ("SJS-20000101-00001", registered.query_code),
    ):
        response = client.post("/portal/track/", {"receipt": receipt, "code": code})
        assert response.status_code == 400
        assert error_of(response) == "受理编号或查询码不正确"
    response = client.get(f"/portal/case/{registered.case.receipt_number}/", follow=True)
    assert response.redirect_chain == [("/portal/track/", 302)]
    assert "垃圾站一周没有清运" not in response.content.decode()


def test_the_citizen_follows_status_timeline_reply_and_deadlines(replied: Any) -> None:
    client = opened(Client(), replied)
    html = client.get(f"/portal/case/{replied.case.receipt_number}/").content.decode()
    assert '<p class="p-status p-status-follow_up" id="case-status">回访中</p>' in html
    assert "已于本周恢复每日清运。" in html
    assert "如不服本答复，可在收到之日起 30 日内向区信访办申请复查。" in html
    assert "回访评价期：" in html and "复查申请期：" in html
    assert "答复 → 已答复" in html
    # The public timeline names no staff member.
    assert "handler_a" not in html and "dispatcher" not in html


def test_the_citizen_rates_the_answer(replied: Any) -> None:
    client = opened(Client(), replied)
    url = f"/portal/case/{replied.case.receipt_number}/rate/"
    response = client.post(
        url,
        {
            "resolved": "resolved",
            "satisfaction": "satisfied",
            "comment": "很快就清理了",
            "version": replied.case.version,
        },
    )
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.resolved, feedback.satisfaction, feedback.comment, feedback.recorded_by) == (
        "resolved",
        "satisfied",
        "很快就清理了",
        None,
    )
    replied.case.refresh_from_db()
    assert replied.case.status == "closed"


def test_a_rating_without_a_choice_is_refused_and_nothing_changes(replied: Any) -> None:
    client = opened(Client(), replied)
    response = client.post(f"/portal/case/{replied.case.receipt_number}/rate/", {"comment": "一般"})
    assert response.status_code == 400
    assert error_of(response) == "请选择是否解决和是否满意"
    assert not Feedback.objects.exists()
    assert Case.objects.get().status == "follow_up"


def test_the_citizen_requests_a_review_within_the_window(replied: Any) -> None:
    client = opened(Client(), replied)
    page = client.get(f"/portal/case/{replied.case.receipt_number}/").content.decode()
    assert 'id="review"' in page
    response = client.post(
        f"/portal/case/{replied.case.receipt_number}/review/", {"reason": "垃圾站仍然没有清运"}
    )
    assert response.status_code == 302
    assert Review.objects.get().reason == "垃圾站仍然没有清运"
    assert Case.objects.get().status == "under_review"


def test_a_review_without_a_reason_is_refused(replied: Any) -> None:
    client = opened(Client(), replied)
    response = client.post(f"/portal/case/{replied.case.receipt_number}/review/", {"reason": " "})
    assert error_of(response) == "请填写申请复查的理由"
    assert not Review.objects.exists()


def test_the_citizen_withdraws_after_confirming(registered: Any) -> None:
    client = opened(Client(), registered)
    url = f"/portal/case/{registered.case.receipt_number}/withdraw/"
    response = client.post(url, {"reason": "已经私下解决"})
    assert error_of(response) == "请勾选确认撤回"
    assert Case.objects.get().status == "registered"
    client.post(url, {"reason": "已经私下解决", "confirm": "1"})
    assert Case.objects.get().status == "withdrawn"
    page = client.get(f"/portal/case/{registered.case.receipt_number}/").content.decode()
    assert 'id="withdraw"' not in page


def test_a_stale_page_cannot_withdraw_a_case_changed_since(registered: Any, dispatcher: Any) -> None:
    client = opened(Client(), registered)
    version = registered.case.version
    services.accept_case(case=registered.case, actor=dispatcher)
    response = client.post(
        f"/portal/case/{registered.case.receipt_number}/withdraw/", {"confirm": "1", "version": version}
    )
    assert response.status_code == 409
    assert error_of(response) == "该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作"
    assert Case.objects.get().status == "accepted"


def test_the_citizen_adds_material_when_asked(in_progress: Any, handler_a: Any) -> None:
    services.request_info(case=in_progress.case, actor=handler_a, what="请提供垃圾堆积的照片")
    client = opened(Client(), in_progress)
    page = client.get(f"/portal/case/{in_progress.case.receipt_number}/").content.decode()
    assert "承办单位请您补充：请提供垃圾堆积的照片" in page
    response = client.post(
        f"/portal/case/{in_progress.case.receipt_number}/material/",
        {
            "note": "照片见附件",
            "files": [SimpleUploadedFile("垃圾.jpg", jpeg_with_gps(), content_type="image/jpeg")],
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.uploaded_by_petitioner) == ("垃圾.jpg", True)
    assert Case.objects.get().status == "in_progress"


def test_material_is_refused_when_none_was_asked_for(registered: Any) -> None:
    client = opened(Client(), registered)
    response = client.post(f"/portal/case/{registered.case.receipt_number}/material/", {"note": "补充"})
    assert error_of(response) == "该信访件目前不需要补充材料"
    assert not Attachment.objects.exists()


def test_my_cases_lists_every_case_of_a_phone_proved_by_a_one_time_code(
    registered: Any, make_case: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_case(title="另一件：噪音扰民")
    make_case(title="别人的案件", petitioner=PersonInput(name="李四", phone="13900139000"))
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(intake_services, "send_sms", lambda phone, text: sent.append((phone, text)))
    client = Client()
    response = client.post("/portal/mine/", {"step": "send", "phone": "138 0013 8000"})
    assert "验证码已发送，10 分钟内有效。" in response.content.decode()
    ((phone, text),) = sent
    code = re.search(r"\d{6}", text).group(0)  # type: ignore[union-attr]
    assert phone == "13800138000"
    response = client.post(
        "/portal/mine/",
        {"step": "verify", "phone": "13800138000", "code": "000000" if code != "000000" else "111111"},
    )
    assert error_of(response) == "验证码不正确"
    client.post("/portal/mine/", {"step": "verify", "phone": "13800138000", "code": code})
    html = client.get("/portal/mine/").content.decode()
    assert re.findall(r"<strong>([^<]+)</strong>", html) == ["另一件：噪音扰民", "小区门口垃圾堆积"]
    # The list opens each case without its query code.
    assert client.get(f"/portal/case/{other.receipt_number}/").status_code == 200
    # A code is used once.
    response = Client().post("/portal/mine/", {"step": "verify", "phone": "13800138000", "code": code})
    assert error_of(response) == "验证码已失效，请重新获取"


def test_one_time_codes_are_limited_per_phone(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_services, "send_sms", lambda phone, text: None)
    client = Client()
    for _ in range(3):
        client.post("/portal/mine/", {"step": "send", "phone": "13800138000"})
    response = client.post("/portal/mine/", {"step": "send", "phone": "13800138000"})
    assert response.status_code == 429
    assert error_of(response) == "验证码发送过于频繁，请十分钟后再试"
    assert OneTimeCode.objects.count() == 3


def test_a_bad_phone_gets_no_code(db: Any) -> None:
    response = Client().post("/portal/mine/", {"step": "send", "phone": "12345"})
    assert error_of(response) == "请输入正确的 11 位手机号码"
    assert not OneTimeCode.objects.exists()
