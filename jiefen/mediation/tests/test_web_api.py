"""The pages and the API: creating from a case, bad input with a clear message and nothing written, documents
downloaded, the directory and the figures."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from jiefen.mediation import services
from jiefen.mediation.models import Dispute

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "title": "楼上漏水纠纷",
        "description": "楼上卫生间漏水，楼下天花板损坏。",
        "kind": "neighbours",
        "amount": "1200",
        "risk_level": "medium",
        "p0-role": "applicant",
        "p0-party_type": "person",
        "p0-name": "王五",
        "p1-role": "respondent",
        "p1-party_type": "person",
        "p1-name": "赵六",
        "p2-role": "third_party",
        "p2-party_type": "person",
        "p2-name": "",
    }
    data.update(overrides)
    return data


def test_the_new_page_is_filled_in_from_a_case(property_case: Any, clerk: Any) -> None:
    response = _client(clerk).get(f"/mediation/new/?case={property_case.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="物业公司不退还装修押金"' in html
    assert 'value="张三"' in html
    assert f'<input type="hidden" name="case" value="{property_case.pk}">' in html


def test_a_dispute_is_registered_from_a_case_through_the_page(property_case: Any, clerk: Any) -> None:
    response = _client(clerk).post(f"/mediation/new/?case={property_case.pk}", _form(kind="property"))
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/mediation/{dispute.pk}/"
    assert (dispute.case_id, dispute.kind, str(dispute.amount), dispute.risk_level) == (
        property_case.pk,
        "property",
        "1200.00",
        "medium",
    )
    assert list(dispute.parties.values_list("role", "name")) == [
        ("applicant", "王五"),
        ("respondent", "赵六"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"p1-name": ""}, "纠纷至少要有一位申请人和一位被申请人"),
        ({"kind": "weather"}, "请选择纠纷类型"),
        ({"amount": "-5"}, "争议金额不能为负数"),
        ({"amount": "三千"}, "争议金额须为数字（元）"),
        ({"title": "  "}, "请填写纠纷名称"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    clerk: Any, overrides: dict[str, str], message: str
) -> None:
    response = _client(clerk).post("/mediation/new/", _form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Dispute.objects.count() == 0


def test_a_case_the_user_cannot_see_is_not_found(property_case: Any, mediators: dict[str, Any]) -> None:
    response = _client(mediators["a"]).get(f"/mediation/new/?case={property_case.pk}")
    assert response.status_code == 404


def test_unit_staff_may_not_register(handler_a: Any) -> None:
    response = _client(handler_a).post("/mediation/new/", _form())
    assert response.status_code == 302
    assert Dispute.objects.count() == 0


def test_the_api_registers_and_the_detail_page_shows_the_actions(
    clerk: Any, dispatcher: Any, mediators: dict[str, Any], district: dict[str, Any]
) -> None:
    response = _client(clerk).post(
        "/api/mediation/disputes",
        {
            "title": "欠薪纠纷",
            "description": "工地拖欠工资两个月。",
            "kind": "labour",
            "amount": "16000",
            "place_unit_id": district["street_a"].pk,
            "parties": [
                {"role": "applicant", "name": "钱七"},
                {
                    "role": "respondent",
                    "name": "某建筑公司",
                    "party_type": "organisation",
                    "representative": "刘",
                },
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["kind"], body["amount"], len(body["parties"])) == (
        "registered",
        "labour",
        "16000.00",
        2,
    )
    suggestions = _client(dispatcher).get(f"/api/mediation/disputes/{body['id']}/suggestions").json()
    assert suggestions[0]["name"] == "周调解"
    assert suggestions[0]["reason"] == "擅长劳动与欠薪纠纷；纠纷发生在本街道（八角街道）；在办0件（上限10件）"
    page = _client(dispatcher).get(f"/mediation/{body['id']}/").content.decode()
    assert 'id="action-assign"' in page and "周调解" in page


def test_the_api_refuses_bad_input_with_its_message(clerk: Any) -> None:
    response = _client(clerk).post(
        "/api/mediation/disputes",
        {
            "title": "x",
            "description": "y",
            "kind": "property",
            "parties": [{"role": "applicant", "name": "甲"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_input", "message": "纠纷至少要有一位申请人和一位被申请人"}
    assert Dispute.objects.count() == 0


def test_documents_download_as_docx_and_pdf(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    from docx import Document
    from pypdf import PdfReader

    mediator = mediators["a"]
    dispute = make_dispute()
    services.assign_mediator(dispute=dispute, mediator=mediator, actor=dispatcher)
    for party in dispute.parties.all():
        services.record_consent(dispute=dispute, party=party, actor=mediator, given=True)
    dispute.refresh_from_db()
    from django.utils import timezone

    session = services.schedule_session(
        dispute=dispute, actor=mediator, scheduled_at=timezone.now(), place="调解室", participants="双方"
    )
    services.record_session(session=session, actor=mediator, minutes="双方陈述意见。", outcome="continue")
    record = dispute.documents.get()
    client = _client(mediator)
    docx = client.get(f"/mediation/{dispute.pk}/documents/{record.pk}.docx")
    assert docx.status_code == 200
    assert docx["Content-Disposition"] == f'attachment; filename="{dispute.number}-{record.pk}.docx"'
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert (
        "调解笔录" in text and "双方陈述意见。" in text and "被申请人：京西物业公司（代表人：孙经理）" in text
    )
    pdf = client.get(f"/api/mediation/disputes/{dispute.pk}/documents/{record.pk}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "双方陈述意见。" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert client.get(f"/mediation/{dispute.pk}/documents/{record.pk}.exe").status_code == 404


def test_the_directory_and_figures_pages(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    services.assign_mediator(dispute=make_dispute(), mediator=mediators["a"], actor=dispatcher)
    client = _client(dispatcher)
    directory = client.get("/mediation/mediators/").content.decode()
    assert "李调解" in directory and "1 / 10" in directory
    figures = client.get("/mediation/figures/")
    assert figures.status_code == 200
    assert client.get("/api/mediation/figures").json()["open"] == 1


def test_an_edited_template_is_used_for_the_next_document(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    from jiefen.mediation.models import DocumentTemplate

    DocumentTemplate.objects.filter(kind="record").update(
        title="调解笔录（八角）", body="笔录：{{ minutes }}{{ unknown }}"
    )
    mediator = mediators["a"]
    dispute = make_dispute()
    services.assign_mediator(dispute=dispute, mediator=mediator, actor=dispatcher)
    for party in dispute.parties.all():
        services.record_consent(dispute=dispute, party=party, actor=mediator, given=True)
    from django.utils import timezone

    session = services.schedule_session(
        dispute=dispute, actor=mediator, scheduled_at=timezone.now(), place="调解室", participants="双方"
    )
    services.record_session(session=session, actor=mediator, minutes="已调解。", outcome="continue")
    document = dispute.documents.get()
    assert (document.title, document.body) == ("调解笔录（八角）", "笔录：已调解。{{ unknown }}")
