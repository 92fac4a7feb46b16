"""Notices and replies are issued from the admins' templates and come out as DOCX and PDF."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from pypdf import PdfReader

from jiefen.cases import services
from jiefen.documents.models import DocumentKind, DocumentTemplate
from jiefen.documents.services import to_docx, to_pdf


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def test_a_decline_notice_names_the_reason_and_the_proper_channel(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    services.decline_case(
        case=case, actor=dispatcher, reason="该事项属于民事纠纷。", proper_channel="向人民法院提起民事诉讼"
    )
    notice = case.documents.get(kind=DocumentKind.DECLINE_NOTICE)
    assert notice.number == f"{case.receipt_number}-不受"
    assert "张三：" in notice.text
    assert "该事项属于民事纠纷。" in notice.text
    assert "应当通过向人民法院提起民事诉讼解决" in notice.text
    event = case.events.get(kind="notice_issued")
    assert event.is_public and event.data["number"] == notice.number
    text = docx_text(to_docx(notice))
    assert (
        "信访事项不予受理告知书" in text and "向人民法院提起民事诉讼" in text and "石景山区信访办公室" in text
    )
    pdf = pdf_text(to_pdf(notice))
    assert "不予受理告知书" in pdf and "向人民法院提起民事诉讼" in pdf


def test_the_reply_document_states_facts_basis_conclusion_and_review_rights(
    dispatched_case: Any, handler_a: Any, leader_a: Any
) -> None:
    case = dispatched_case
    services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
    case.refresh_from_db()
    reply = services.draft_reply(
        case=case,
        actor=handler_a,
        facts="消防通道被占用属实",
        basis="《消防法》第二十八条",
        conclusion="已清理并施划禁停标线",
        review_rights="如不服，可自收到本意见之日起30日内请求复查",
    )
    services.approve_reply(reply=reply, actor=leader_a)
    case.refresh_from_db()
    services.send_reply(case=case, actor=handler_a)
    document = case.documents.get(kind=DocumentKind.REPLY)
    for part in (
        "消防通道被占用属实",
        "《消防法》第二十八条",
        "已清理并施划禁停标线",
        "30日内请求复查",
        "八角街道",
    ):
        assert part in document.text
        assert part in docx_text(to_docx(document))
        assert part in pdf_text(to_pdf(document))


def test_a_template_change_applies_to_new_documents_only(make_case: Any, dispatcher: Any) -> None:
    first = make_case()
    services.accept_case(case=first, actor=dispatcher)
    DocumentTemplate.objects.filter(kind=DocumentKind.ACCEPTANCE_NOTICE).update(
        body="{{ petitioner_name }}：\n已受理 {{ receipt_number }}。\n{{ office }}"
    )
    second = make_case()
    services.accept_case(case=second, actor=dispatcher)
    assert "60日内办结" in first.documents.get().text
    assert second.documents.get().text == f"张三：\n已受理 {second.receipt_number}。\n石景山区信访办公室"


def test_an_anonymous_petitioner_is_not_named(make_case: Any, dispatcher: Any) -> None:
    case = make_case(is_anonymous=True, case_type="report")
    services.accept_case(case=case, actor=dispatcher)
    assert case.documents.get().text.startswith("匿名信访人：")


def test_staff_download_documents_of_cases_they_may_see(
    make_case: Any, dispatcher: Any, outsider_b: Any, client: Any
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    document = case.documents.get()
    client.force_login(dispatcher)
    response = client.get(f"/cases/{case.pk}/documents/{document.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "信访事项受理告知书" in pdf_text(response.content)
    assert client.get(f"/cases/{case.pk}/documents/{document.pk}.exe").status_code == 404
    client.force_login(outsider_b)
    assert client.get(f"/cases/{case.pk}/documents/{document.pk}.docx").status_code == 404
