"""The desk: walk-in visits, calls and letters registered through the staff page; petitioner lookup;
reception days; field visits."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiefen.audit.models import AuditAction, AuditEntry
from jiefen.cases.intake import PersonInput
from jiefen.cases.models import Attachment, Case, Petitioner
from jiefen.intake.models import FieldVisit, FieldVisitCase, ReceptionSession
from jiefen.org.services import create_user
from jiefen.portal.tests.conftest import has_gps, jpeg_with_gps

ERROR = re.compile(r'<div class="form-error" role="alert"(?: id="form-error")?>([^<]*)</div>')


def error_of(response: Any) -> str:
    match = ERROR.search(response.content.decode())
    return match.group(1) if match else ""


@pytest.fixture
def desk(clerk: Any) -> Client:
    client = Client()
    client.force_login(clerk)
    return client


@pytest.fixture
def field_officer(district: dict[str, Any]) -> Any:
    return create_user(
        username="walker",
        password="test-pass-8731",
        roles=["field_officer"],
        unit_code=district["root"].code,
        full_name="走访员小王",
        actor=None,
        validate=False,
    )


def visit_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "channel": "walk_in",
        "case_type": "complaint",
        "title": "楼上住户长期漏水",
        "content": "信访人称：楼上住户卫生间漏水半年，多次协商无果。",
        "place": "古城南路12号楼",
        "name": "王五",
        "phone": "13700137000",
        "people_count": "1",
        "urgency": "normal",
    }
    data.update(overrides)
    return data


def test_a_clerk_registers_a_walk_in_visit_with_scanned_material(desk: Client, clerk: Any) -> None:
    scan = SimpleUploadedFile(
        "来信扫描.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", content_type="application/pdf"
    )
    response = desk.post("/intake/register/", {**visit_form(), "files": [scan]}, follow=True)
    case = Case.objects.get()
    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    (message,) = [str(m) for m in response.context["messages"]]
    assert re.fullmatch(
        rf"已登记：受理编号 {case.receipt_number}，查询码 [2-9A-Z]{{8}}（请告知信访人）", message
    )
    assert case.petitioner is not None
    assert (case.channel, case.title, case.registered_by, case.petitioner.name) == (
        "walk_in",
        "楼上住户长期漏水",
        clerk,
        "王五",
    )
    assert Attachment.objects.get().content_type == "application/pdf"


@pytest.mark.parametrize(("channel", "label"), [("phone", "来电"), ("letter", "来信"), ("email", "电子邮件")])
def test_calls_letters_and_emails_are_registered_on_their_channel(
    desk: Client, channel: str, label: str
) -> None:
    desk.post("/intake/register/", visit_form(channel=channel))
    assert Case.objects.get().get_channel_display() == label


def test_a_group_visit_keeps_its_representatives(desk: Client) -> None:
    reps = {f"rep{i}_name": f"代表{i}" for i in range(1, 4)} | {
        f"rep{i}_phone": f"1370000000{i}" for i in range(1, 4)
    }
    desk.post("/intake/register/", {**visit_form(is_group="1", people_count="30"), **reps})
    case = Case.objects.get()
    assert (case.is_group, case.people_count) == (True, 30)
    assert sorted(case.representatives.values_list("name", flat=True)) == ["代表1", "代表2", "代表3"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"is_group": "1", **{f"rep{i}_name": f"代表{i}" for i in range(1, 7)}},
            "集体访代表不能超过 5 人（信访工作条例第十八条）",
        ),
        ({"rep1_name": "代表1"}, "只有集体访可以登记代表"),
        ({"channel": "web"}, "请选择来访、来电、来信或电子邮件"),
        ({"title": "", "content": ""}, "标题和内容不能都为空"),
        ({"people_count": "很多"}, "人数必须是整数"),
        ({"phone": "123"}, "电话号码格式不正确"),
        ({"session": "999999"}, "接访日不存在"),
    ],
)
def test_bad_desk_input_is_refused_and_nothing_stored(
    desk: Client, overrides: dict[str, str], message: str
) -> None:
    response = desk.post("/intake/register/", visit_form(**overrides))
    assert response.status_code == 400
    assert error_of(response) == message
    assert not Case.objects.exists() and not Petitioner.objects.exists()


def test_only_desk_staff_may_register(client: Client, handler_a: Any) -> None:
    client.force_login(handler_a)
    assert client.get("/intake/register/").status_code == 403
    assert client.post("/intake/register/", visit_form()).status_code == 403
    assert not Case.objects.exists()


def test_the_lookup_shows_earlier_cases_with_masked_personal_data(
    desk: Client, make_case: Callable[..., Any]
) -> None:
    first = make_case(
        petitioner=PersonInput(name="张三", phone="13800138000", id_number="11010519491231002X")
    )
    make_case(title="别人的事", petitioner=PersonInput(name="李四", phone="13900139000"))
    html = desk.get("/intake/lookup/", {"phone": "138-0013-8000"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>张*</strong>" in html and "138****8000" in html and "1101**********002X" in html
    assert "13800138000" not in html and "11010519491231002X" not in html
    assert "以往信访 1 件" in html
    assert first.receipt_number in html and "别人的事" not in html
    by_id = desk.get("/intake/lookup/", {"id_number": "11010519491231002x"}).content.decode()
    assert first.receipt_number in by_id
    assert "没有找到该信访人的记录" in desk.get("/intake/lookup/", {"phone": "13600000000"}).content.decode()
    # Masked values only: no audit entry for a lookup.
    assert not AuditEntry.objects.filter(action=AuditAction.PERSONAL_DATA_VIEWED).exists()


def test_a_reception_day_collects_the_cases_taken_in(desk: Client, leader: Any) -> None:
    response = desk.post(
        "/intake/sessions/",
        {"leader": leader.pk, "date": date.today().isoformat(), "place": "区信访办接待室"},
    )
    session = ReceptionSession.objects.get()
    assert response["Location"] == f"/intake/sessions/{session.pk}/"
    desk.post("/intake/register/", visit_form(session=str(session.pk)))
    case = Case.objects.get()
    assert list(session.cases.all()) == [case]
    assert case.receipt_number in desk.get(f"/intake/sessions/{session.pk}/").content.decode()


def test_a_reception_day_needs_a_place(desk: Client, leader: Any) -> None:
    response = desk.post("/intake/sessions/", {"leader": leader.pk, "date": "2026-05-06", "place": ""})
    assert error_of(response) == "请填写接访地点"
    assert not ReceptionSession.objects.exists()


def test_a_field_visit_attaches_to_a_case_and_raises_new_ones(
    client: Client, field_officer: Any, make_case: Callable[..., Any]
) -> None:
    existing = make_case()
    client.force_login(field_officer)
    response = client.post(
        "/intake/visits/new/",
        {
            "date": "2026-11-20",
            "place": "八角南里小区",
            "people_met": "物业经理、3号楼居民",
            "findings": "消防通道已清理一半，物业承诺本周内清完。",
            "receipts": existing.receipt_number.lower(),
            "p1_title": "小区东门路灯损坏",
            "p1_content": "东门两盏路灯不亮，夜间居民出行不便。",
            "p1_type": "complaint",
            "photos": [SimpleUploadedFile("现场.jpg", jpeg_with_gps(), content_type="image/jpeg")],
        },
    )
    assert response.status_code == 302
    visit = FieldVisit.objects.get()
    raised = Case.objects.get(channel="field_visit")
    assert (raised.title, raised.place_text, raised.registered_by) == (
        "小区东门路灯损坏",
        "八角南里小区",
        field_officer,
    )
    assert sorted(FieldVisitCase.objects.values_list("case_id", "link")) == sorted(
        [(existing.pk, "attached"), (raised.pk, "raised")]
    )
    note = existing.events.get(kind="note")
    assert note.note == "带案下访（2026-11-20，八角南里小区）：消防通道已清理一半，物业承诺本周内清完。"
    assert note.data == {"action": "note", "field_visit": visit.pk}
    # The photo is on both cases, with its location kept (where it was taken is the point of a visit photo).
    photos = list(Attachment.objects.order_by("case_id"))
    assert [p.case_id for p in photos] == [existing.pk, raised.pk]
    assert all(has_gps(p.file.read()) for p in photos)


def test_a_field_visit_naming_an_unknown_case_is_refused_and_nothing_stored(
    client: Client, field_officer: Any
) -> None:
    client.force_login(field_officer)
    response = client.post(
        "/intake/visits/new/",
        {
            "date": "2026-11-20",
            "place": "古城",
            "findings": "走访",
            "receipts": "SJS-20990101-00001",
            "p1_title": "新问题",
            "p1_content": "内容",
        },
    )
    assert error_of(response) == "找不到信访件：SJS-20990101-00001"
    assert not FieldVisit.objects.exists() and not Case.objects.exists()


def test_a_unit_handler_may_not_record_field_visits(client: Client, handler_a: Any) -> None:
    client.force_login(handler_a)
    assert (
        client.post(
            "/intake/visits/new/", {"date": "2026-11-20", "place": "古城", "findings": "走访"}
        ).status_code
        == 403
    )
    assert not FieldVisit.objects.exists()
