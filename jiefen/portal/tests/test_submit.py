"""Submitting through the citizen portal: the receipt, retries, and every kind of bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jiefen.cases.intake import query_code_matches
from jiefen.cases.models import Attachment, Case, CaseEvent, Petitioner, ReceiptCounter
from jiefen.intake.models import IdempotencyKey
from jiefen.notify.models import MessageTemplate, Outbox
from jiefen.notify.services import clear_template_cache
from jiefen.portal.tests.conftest import form_fields, has_gps, jpeg_with_gps

pytestmark = pytest.mark.django_db

RECEIPT = re.compile(r'id="receipt-number">([^<]+)<')
CODE = re.compile(r'id="query-code">([^<]+)<')
ERROR = re.compile(r'<div class="p-error" role="alert" id="form-error">([^<]*)</div>')


def receipt_of(html: str) -> tuple[str, str]:
    return RECEIPT.search(html).group(1), CODE.search(html).group(1)  # type: ignore[union-attr]


def error_of(response: Any) -> str:
    match = ERROR.search(response.content.decode())
    return match.group(1) if match else ""


def nothing_stored() -> bool:
    return (
        not Case.objects.exists() and not Attachment.objects.exists() and not IdempotencyKey.objects.exists()
    )


def test_a_citizen_submits_and_gets_the_receipt_number_and_query_code(submit: Any, citizen: Client) -> None:
    response = submit()
    assert response.status_code == 302
    page = citizen.get(response["Location"])
    assert page["Cache-Control"] == "no-store, private"
    number, code = receipt_of(page.content.decode())
    case = Case.objects.get()
    assert number == case.receipt_number
    assert query_code_matches(case, code)
    assert (case.channel, case.case_type, case.title, case.place_text, case.status) == (
        "mobile",
        "complaint",
        "小区门口垃圾堆积无人清理",
        "八角南里小区东门",
        "registered",
    )
    assert case.petitioner is not None
    assert case.petitioner.name == "张三"
    assert case.petitioner.phone == "13800138000"
    assert case.registered_by is None
    assert list(case.events.values_list("kind", "actor_label")[:1]) == [("registered", "信访人")]


def test_a_desktop_browser_submits_on_the_web_channel(submit: Any) -> None:
    submit(client=Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    assert Case.objects.get().channel == "web"


def test_a_retried_submission_with_the_same_key_yields_one_case(submit: Any, citizen: Client) -> None:
    hidden = form_fields(citizen.get("/portal/submit/").content.decode())
    first = submit(key=hidden["key"])
    second = submit(key=hidden["key"], title="重复点击后再次提交")
    assert first["Location"] == second["Location"] == f"/portal/receipt/{hidden['key']}/"
    assert Case.objects.count() == 1
    assert Case.objects.get().title == "小区门口垃圾堆积无人清理"
    first_page = citizen.get(first["Location"]).content.decode()
    again = Client().get(second["Location"]).content.decode()
    assert receipt_of(first_page) == receipt_of(again)


def test_the_receipt_is_emailed_when_an_address_is_given(
    submit: Any, citizen: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(email="zhang@example.cn")
    number, code = receipt_of(citizen.get(response["Location"]).content.decode())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhang@example.cn"]
    assert mail.outbox[0].subject == f"诉求已登记：{number}"
    assert f"受理编号：{number}\n查询码：{code}\n" in mail.outbox[0].body


def test_html_in_the_text_is_shown_as_text(submit: Any, citizen: Client) -> None:
    response = submit(
        title="<script>alert(1)</script>标题", content="<b>加粗</b>内容 <img src=x onerror=alert(1)>"
    )
    number, _code = receipt_of(citizen.get(response["Location"]).content.decode())
    page = citizen.get(f"/portal/case/{number}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in page
    assert "&lt;b&gt;加粗&lt;/b&gt;内容 &lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(1)" not in page and "<b>加粗" not in page


def test_a_report_may_be_anonymous_and_a_named_reporter_is_kept_confidential(submit: Any) -> None:
    submit(case_type="report", title="举报违建", anonymous="1", name="", phone="")
    submit(case_type="report", title="举报收费", name="李四", phone="13900139000")
    anonymous, named = Case.objects.order_by("id")
    assert (anonymous.is_anonymous, anonymous.petitioner_id, anonymous.confidential) == (True, None, True)
    assert named.petitioner is not None
    assert (named.is_anonymous, named.petitioner.name, named.confidential) == (False, "李四", True)


def test_a_photo_is_stored_without_gps_unless_the_person_keeps_the_location(submit: Any) -> None:
    submit(files=[SimpleUploadedFile("现场.jpg", jpeg_with_gps(), content_type="image/jpeg")])
    submit(
        files=[SimpleUploadedFile("现场.jpg", jpeg_with_gps(), content_type="image/jpeg")],
        keep_location="1",
        phone="13800138001",
    )
    stripped, kept = Attachment.objects.order_by("id")
    assert stripped.uploaded_by_petitioner and stripped.original_name == "现场.jpg"
    assert not has_gps(stripped.file.read())
    assert has_gps(kept.file.read())


def test_an_emergency_is_flagged_and_the_numbers_shown_at_once(submit: Any, citizen: Client) -> None:
    response = submit(title="楼下有人持刀砍人", content="就在刚才，有人在楼下持刀砍人，现在还在打人，救命！")
    page = citizen.get(response["Location"]).content.decode()
    assert "您反映的情况可能需要紧急处置，请立即拨打：" in page
    assert re.findall(r'class="p-sos-num" href="tel:(\d+)"', page) == ["110"]
    case = Case.objects.get()
    assert case.urgency == "critical"
    assert case.enrichment["emergency"]["numbers"] == ["110"]


def test_an_ordinary_complaint_shows_no_emergency_box(submit: Any, citizen: Client) -> None:
    response = submit()
    assert "p-sos-box" not in citizen.get(response["Location"]).content.decode()
    assert Case.objects.get().urgency == "normal"


# --- bad input: a clear message, nothing stored ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "", "content": ""}, "标题和内容不能都为空"),
        ({"title": "长" * 201}, "标题不能超过 200 字（现为 201 字）"),
        ({"content": "长" * 20001}, "内容不能超过 20000 字（现为 20001 字）"),
        ({"place": "长" * 201}, "地点不能超过 200 字"),
        ({"case_type": "lottery"}, "诉求类型“lottery”无效"),
        ({"phone": "12"}, "电话号码格式不正确"),
        ({"id_number": "110105194912310021"}, "身份证号码格式不正确"),
        ({"name": "", "phone": ""}, "实名提交请填写姓名和手机号码；不愿留名的举报、建议和咨询可以选择匿名"),
        ({"anonymous": "1", "case_type": "complaint"}, "只有举报、建议和咨询可以匿名提交"),
        ({"lat": "北纬39度", "lon": "116.2"}, "纬度必须是数字"),
        ({"lat": "95", "lon": "116.2"}, "纬度必须在 -90 到 90 之间"),
        ({"lat": "39.9", "lon": ""}, "经纬度必须同时填写"),
        ({"email": "not-an-address"}, "电子邮箱格式不正确"),
        ({"key": "short"}, "提交标识无效，请刷新页面后重新提交"),
        ({"challenge": "forged"}, "页面已过期，请刷新页面后重新提交（您填写的内容已保留）"),
        ({"website": "http://spam.example"}, "提交未通过校验，请刷新页面后重新填写"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
    submit: Any, overrides: dict[str, str], message: str
) -> None:
    response = submit(**overrides)
    assert response.status_code == 400
    assert error_of(response) == message
    assert nothing_stored()
    assert not Petitioner.objects.exists() and not CaseEvent.objects.exists()


def test_what_was_typed_is_kept_when_the_form_is_refused(submit: Any) -> None:
    html = submit(phone="12", content="我家楼上漏水 <b>严重</b>").content.decode()
    assert ">我家楼上漏水 &lt;b&gt;严重&lt;/b&gt;</textarea>" in html
    assert 'name="title" maxlength="200" value="小区门口垃圾堆积无人清理"' in html


def test_a_file_of_a_forbidden_type_is_refused_and_nothing_stored(submit: Any) -> None:
    response = submit(
        files=[SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 this is a program", content_type="image/jpeg")]
    )
    assert response.status_code == 400
    assert (
        error_of(response)
        == "不支持的文件类型：只能上传照片（JPG、PNG、WebP、GIF）、PDF、Word、Excel、录音或视频"
    )
    assert nothing_stored()


def test_a_bad_second_file_leaves_neither_the_case_nor_the_first_file(submit: Any, settings: Any) -> None:
    media = settings.MEDIA_ROOT
    before = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    response = submit(
        files=[
            SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg"),
            SimpleUploadedFile("b.pdf", b"", content_type="application/pdf"),
        ]
    )
    assert error_of(response) == "文件是空的"
    assert nothing_stored()
    after = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_a_refused_file_takes_no_receipt_number(submit: Any) -> None:
    response = submit(files=[SimpleUploadedFile("b.pdf", b"", content_type="application/pdf")])
    assert error_of(response) == "文件是空的"
    assert nothing_stored() and not ReceiptCounter.objects.exists()


def test_too_many_files_are_refused(submit: Any, settings: Any) -> None:
    settings.ATTACHMENT_MAX_COUNT = 2
    files = [SimpleUploadedFile(f"{i}.jpg", jpeg_with_gps(), content_type="image/jpeg") for i in range(3)]
    response = submit(files=files)
    assert error_of(response) == "每件最多上传 2 个文件"
    assert nothing_stored()


def test_a_file_too_large_is_refused(submit: Any, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), content_type="application/pdf"
    )
    response = submit(files=[big])
    assert error_of(response) == "文件过大：每个文件不能超过 1 MB"
    assert nothing_stored()


def test_a_form_posted_faster_than_a_person_can_fill_it_is_refused(submit: Any, settings: Any) -> None:
    settings.INTAKE_MIN_FILL_SECONDS = 30
    response = submit()
    assert error_of(response) == "提交过快，请核对填写的内容后再次提交"
    assert nothing_stored()


def test_rate_limits_are_on_by_default() -> None:
    from jiefen import settings as project_settings

    assert project_settings.INTAKE_RATE_LIMITS is True
    assert project_settings.INTAKE_MIN_FILL_SECONDS == 3


def test_one_address_may_submit_only_so_often(submit: Any) -> None:
    from jiefen.intake.guard import SUBMIT_PER_IP

    for i in range(SUBMIT_PER_IP.count):
        assert submit(phone=f"139{i:08d}").status_code == 302
    response = submit(phone="13700000000")
    assert response.status_code == 429
    assert error_of(response) == "提交过于频繁，请一小时后再试；紧急情况请直接拨打 110、119 或 120"
    assert Case.objects.count() == SUBMIT_PER_IP.count


def test_one_phone_may_submit_only_so_often(submit: Any) -> None:
    from jiefen.intake.guard import SUBMIT_PER_PHONE

    for _ in range(SUBMIT_PER_PHONE.count):
        assert submit().status_code == 302
    response = submit(phone="138-0013-8000")
    assert response.status_code == 429
    assert error_of(response) == "该手机号提交过于频繁，请一小时后再试"
    assert Case.objects.count() == SUBMIT_PER_PHONE.count


def test_the_form_works_without_javascript(citizen: Client) -> None:
    html = citizen.get("/portal/submit/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="key" value="' in html and 'name="challenge" value="' in html
    assert 'class="p-hp" aria-hidden="true"' in html


def test_an_unknown_receipt_link_says_it_has_expired(citizen: Client) -> None:
    response = citizen.get("/portal/receipt/AAAAAAAAAAAAAAAAAAAAAAAA/")
    assert response.status_code == 404
    assert "回执已过期" in response.content.decode()


def test_the_service_gives_a_retry_the_first_receipt_without_looking_first() -> None:
    """Two submissions racing with one key: the second fails to claim the key and is given the first receipt."""
    from jiefen.cases.actors import CITIZEN
    from jiefen.cases.intake import Intake
    from jiefen.intake.services import submit_petition

    def intake(title: str) -> Intake:
        return Intake(
            channel="web", case_type="suggestion", title=title, content="建议增设公交站", is_anonymous=True
        )

    first = submit_petition(key="K" * 24, intake=intake("第一次"), actor=CITIZEN)
    second = submit_petition(key="K" * 24, intake=intake("第二次"), actor=CITIZEN)
    assert (first.replayed, second.replayed) == (False, True)
    assert (second.case.pk, second.query_code) == (first.case.pk, first.query_code)
    assert list(Case.objects.values_list("title", flat=True)) == ["第一次"]


def test_staff_see_an_emergency_as_critical_in_the_case_list(submit: Any, clerk: Any) -> None:
    submit(title="有人要跳楼", content="工友说再拿不到工资就要去跳楼，现在人已经在楼顶了")
    staff = Client()
    staff.force_login(clerk)
    html = staff.get("/cases/").content.decode()
    assert '<span class="urgent">特急</span>' in html


@pytest.mark.django_db(transaction=True)  # BEGIN and COMMIT as in production, no test transaction around
def test_a_submission_is_stored_in_a_handful_of_statements(submit: Any) -> None:
    """Each round trip to PostgreSQL costs the web process and the server (issue #3): the day's receipt
    number (before the transaction on PostgreSQL), the person, every row of the case in one statement, the
    outbox row, and the audit chain's tail and entry — no savepoint and no separate look-ups."""
    # The receipt SMS's template, which an earlier transactional test may have flushed with the data migrations'.
    MessageTemplate.objects.get_or_create(
        key="case_registered", channel="sms", defaults={"body": "受理编号 {{ receipt_number }}"}
    )
    clear_template_cache()
    submit()  # the templates are cached and the day's counter row exists from here on
    with CaptureQueriesContext(connection) as queries:
        assert submit(phone="13900139000").status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if "SAVEPOINT" in s]
    if connection.vendor == "postgresql":  # the number first, in a statement of its own (numbers_ahead)
        assert "cases_receiptcounter" in statements.pop(0)
    assert (statements[0].startswith("BEGIN"), statements[-1]) == (True, "COMMIT")
    assert len(statements) == (7 if connection.vendor == "postgresql" else 13), statements
    # The SMS with the receipt number was queued in that transaction.
    assert Outbox.objects.filter(case=Case.objects.latest("pk"), template_key="case_registered").count() == 1
