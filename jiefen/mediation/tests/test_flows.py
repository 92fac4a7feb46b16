"""A dispute's road end to end: from a case to mediation, agreement, performance and court confirmation; and
the road when mediation fails, back to the case with a referral."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from jiefen.cases.models import CaseEvent, EventKind
from jiefen.core.errors import IllegalMove, InvalidInput
from jiefen.mediation import documents, queries, services
from jiefen.mediation.models import (
    Agreement,
    ConfirmationStatus,
    Consent,
    Dispute,
    DisputeEvent,
    MediationDocument,
    Referral,
)
from jiefen.mediation.services import PartyInput

pytestmark = pytest.mark.django_db


def _docx_text(data: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _dispute_from(case: Any, actor: Any) -> Dispute:
    from jiefen.mediation.tests.conftest import PARTIES

    return services.register_dispute(
        actor=actor,
        case=case,
        title="装修押金退还纠纷",
        description="业主张三要求京西物业公司退还装修押金3000元，物业称装修损坏公共墙面需扣款。",
        kind="property",
        amount="3000",
        parties=[PartyInput(**p) for p in PARTIES],
    )


def test_mediation_to_court_confirmation(
    property_case: Any, clerk: Any, dispatcher: Any, mediators: dict[str, Any], district: dict[str, Any]
) -> None:
    mediator = mediators["a"]
    dispute = _dispute_from(property_case, clerk)
    assert dispute.number == f"TJ{timezone.localdate():%Y%m%d}{dispute.pk:05d}"
    assert (dispute.status, dispute.case_id, dispute.matter_id) == (
        "registered",
        property_case.pk,
        property_case.matter_id,
    )
    assert dispute.place_unit == district["community_a1"]
    assert dispute.place_text == "八角南里小区5号楼"
    assert str(dispute.amount) == "3000.00"
    assert (
        property_case.events.filter(kind=EventKind.NOTE, data__mediation_dispute=dispute.number).count() == 1
    )

    # The suggestion: property speciality and the street where it happened first, with the reason.
    suggestions = queries.suggest_mediators(dispute)
    assert [s.mediator.username for s in suggestions] == [
        "mediator_a",
        "mediator_prop",
        "mediator_b",
        "mediator_a2",
    ]
    assert suggestions[0].reason == "擅长物业纠纷；纠纷发生在本街道（八角街道）；在办0件（上限10件）"
    assert suggestions[1].reason == "擅长物业纠纷；全区受理；在办0件（上限10件）"
    assert suggestions[2].reason == "擅长物业纠纷；非属地（服务古城街道）；在办0件（上限10件）"

    services.assign_mediator(dispute=dispute, mediator=mediator, actor=dispatcher, version=dispute.version)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.mediator, dispute.committee) == ("assigned", mediator, mediator.unit)
    assert mediator.unit.name == "八角街道人民调解委员会"
    assert dispute.assignment_reason["followed"] is True
    assert dispute.assignment_reason["reason"] == suggestions[0].reason

    applicant, respondent = list(dispute.parties.order_by("id"))
    services.record_consent(dispute=dispute, party=applicant, actor=mediator, given=True)
    dispute.refresh_from_db()
    assert dispute.status == "assigned"  # the respondent has not agreed yet
    services.record_consent(dispute=dispute, party=respondent, actor=mediator, given=True)
    dispute.refresh_from_db()
    assert dispute.status == "mediating"
    assert set(dispute.parties.values_list("consent", flat=True)) == {Consent.GIVEN}

    # Two sessions: the first does not settle it, the second does.
    now = timezone.now()
    first = services.schedule_session(
        dispute=dispute,
        actor=mediator,
        scheduled_at=now,
        place="八角街道调解室",
        participants="张三；孙经理；李调解",
    )
    second = services.schedule_session(
        dispute=dispute,
        actor=mediator,
        scheduled_at=now + timedelta(days=3),
        place="八角街道调解室",
        participants="张三；孙经理；李调解",
    )
    assert (first.sequence, second.sequence) == (1, 2)
    services.record_session(
        session=first, actor=mediator, minutes="双方各执一词，物业出示墙面损坏照片。", outcome="continue"
    )
    services.record_session(
        session=second, actor=mediator, minutes="双方同意按修复费用500元扣款。", outcome="agreed"
    )
    records = MediationDocument.objects.filter(dispute=dispute, kind="record").order_by("id")
    assert [d.session_id for d in records] == [first.pk, second.pk]
    assert "双方同意按修复费用500元扣款。" in records[1].body
    assert "申请人：张三" in records[1].body

    agreement = services.draft_agreement(
        dispute=dispute,
        actor=mediator,
        terms="一、京西物业公司于协议签订之日起十日内退还张三装修押金2500元。\n二、张三自愿承担墙面修复费用500元。",
        performance_due=timezone.localdate() + timedelta(days=10),
    )
    doc = agreement.document
    assert doc is not None and doc.title == "人民调解协议书"
    for data in (documents.to_docx(doc.title, doc.body), documents.to_pdf(doc.title, doc.body)):
        text = _docx_text(data) if data[:2] == b"PK" else _pdf_text(data)
        assert "人民调解协议书" in text
        assert "申请人：张三" in text
        assert "被申请人：京西物业公司（代表人：孙经理）" in text
        assert "退还张三装修押金2500元" in text
        assert "张三自愿承担墙面修复费用500元" in text
        assert "三十日内共同向人民法院申请司法确认" in text

    services.sign_agreement(agreement=agreement, party=applicant, actor=mediator)
    dispute.refresh_from_db()
    assert dispute.status == "mediating"
    assert services.signing_status(agreement) == (1, 2)
    services.sign_agreement(agreement=agreement, party=respondent, actor=mediator)
    dispute.refresh_from_db()
    agreement.refresh_from_db()
    assert dispute.status == "agreed"
    assert services.signing_status(agreement) == (2, 2)
    assert agreement.effective_at is not None and agreement.confirmation_due_at is not None
    expected_due = services.due_time(start=agreement.effective_at, amount=30, unit="days")
    assert agreement.confirmation_due_at == expected_due
    assert (
        timezone.localtime(expected_due).date() - timezone.localtime(agreement.effective_at).date()
    ).days >= 30

    # Performance is followed; the agreement is carried out.
    services.record_performance(
        agreement=agreement, actor=mediator, status="ongoing", note="物业已退还1000元。"
    )
    services.record_performance(
        agreement=agreement, actor=mediator, status="fulfilled", note="押金2500元已全部退还。"
    )
    dispute.refresh_from_db()
    assert dispute.status == "performed"

    # The parties apply to the court on day 12, inside the 30-day window; the court confirms.
    with time_machine.travel(agreement.effective_at + timedelta(days=12), tick=False):
        services.apply_for_confirmation(agreement=agreement, actor=mediator, court="石景山区人民法院")
        services.record_court_decision(
            agreement=agreement, actor=dispatcher, confirmed=True, decision_number="(2025)京0107民特123号"
        )
    agreement.refresh_from_db()
    assert agreement.confirmation_status == ConfirmationStatus.CONFIRMED
    assert agreement.court == "石景山区人民法院"
    assert agreement.decision_number == "(2025)京0107民特123号"
    assert agreement.applied_at is not None and agreement.applied_at <= agreement.confirmation_due_at

    kinds = list(DisputeEvent.objects.filter(dispute=dispute).values_list("kind", "move"))
    assert kinds == [
        ("registered", ""),
        ("move", "assign"),
        ("consent", ""),
        ("consent", ""),
        ("move", "consent"),
        ("session_scheduled", ""),
        ("session_scheduled", ""),
        ("session_held", ""),
        ("document", ""),
        ("session_held", ""),
        ("document", ""),
        ("agreement_drafted", ""),
        ("document", ""),
        ("signed", ""),
        ("signed", ""),
        ("move", "agree"),
        ("performance", ""),
        ("performance", ""),
        ("move", "fulfil"),
        ("confirmation_applied", ""),
        ("confirmation_decided", ""),
    ]
    figures = queries.dispute_figures(dispatcher)
    assert (figures["total"], figures["succeeded"], figures["concluded"], figures["success_rate"]) == (
        1,
        1,
        1,
        100.0,
    )
    assert figures["average_days"] == 0.0  # the whole road ran within the test's seconds
    assert figures["by_kind"] == [{"key": "property", "label": "物业纠纷", "count": 1}]
    assert figures["by_place"] == [{"key": str(district["street_a"].pk), "label": "八角街道", "count": 1}]
    assert figures["by_mediator"][0]["name"] == "李调解"
    assert figures["by_mediator"][0]["success_rate"] == 100.0


def test_court_confirmation_after_the_window_is_refused(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    agreement = _agreed(make_dispute(), dispatcher, mediators["a"])
    assert agreement.confirmation_due_at is not None
    late = agreement.confirmation_due_at + timedelta(seconds=1)
    with time_machine.travel(late, tick=False), pytest.raises(InvalidInput) as exc:
        services.apply_for_confirmation(agreement=agreement, actor=mediators["a"], court="石景山区人民法院")
    due = timezone.localtime(agreement.confirmation_due_at)
    assert exc.value.message == f"已超过申请司法确认的三十日期限（{due:%Y-%m-%d}截止），不能再申请"
    agreement.refresh_from_db()
    assert (agreement.confirmation_status, agreement.court, agreement.applied_at) == ("not_applied", "", None)
    assert not DisputeEvent.objects.filter(kind="confirmation_applied").exists()


def test_the_reminder_goes_out_once_a_week_before_the_window_closes(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    agreement = _agreed(make_dispute(), dispatcher, mediators["a"])
    assert agreement.confirmation_due_at is not None
    assert services.remind_confirmation_windows(now=agreement.confirmation_due_at - timedelta(days=8)) == 0
    soon = agreement.confirmation_due_at - timedelta(days=6)
    assert services.remind_confirmation_windows(now=soon) == 1
    assert services.remind_confirmation_windows(now=soon) == 0
    event = DisputeEvent.objects.get(kind="confirmation_reminder")
    assert (
        event.note
        == f"申请司法确认的期限将于{timezone.localtime(agreement.confirmation_due_at):%Y-%m-%d}届满"
    )


def _agreed(dispute: Dispute, dispatcher: Any, mediator: Any) -> Agreement:
    services.assign_mediator(dispute=dispute, mediator=mediator, actor=dispatcher)
    for party in dispute.parties.all():
        services.record_consent(dispute=dispute, party=party, actor=mediator, given=True)
    dispute.refresh_from_db()
    session = services.schedule_session(
        dispute=dispute, actor=mediator, scheduled_at=timezone.now(), place="调解室", participants="双方"
    )
    services.record_session(session=session, actor=mediator, minutes="达成一致。", outcome="agreed")
    agreement = services.draft_agreement(dispute=dispute, actor=mediator, terms="退还押金2500元。")
    for party in dispute.parties.all():
        services.sign_agreement(agreement=agreement, party=party, actor=mediator)
    agreement.refresh_from_db()
    return agreement


@pytest.mark.parametrize("how", ["consent_refused", "sessions_failed"])
def test_failed_mediation_is_referred(
    how: str, property_case: Any, clerk: Any, dispatcher: Any, handler_a: Any, mediators: dict[str, Any]
) -> None:
    mediator = mediators["a"]
    dispute = _dispute_from(property_case, clerk)
    services.assign_mediator(dispute=dispute, mediator=mediator, actor=dispatcher)
    applicant, respondent = list(dispute.parties.order_by("id"))
    services.record_consent(dispute=dispute, party=applicant, actor=mediator, given=True)
    if how == "consent_refused":
        services.record_consent(
            dispute=dispute,
            party=respondent,
            actor=mediator,
            given=False,
            note="物业公司坚持按合同扣款，不同意调解",
        )
        dispute.refresh_from_db()
        assert dispute.status == "assigned"
        expected_sessions = 0
        reason = "被申请人拒绝调解"
    else:
        services.record_consent(dispute=dispute, party=respondent, actor=mediator, given=True)
        dispute.refresh_from_db()
        for minutes, outcome in (("双方分歧较大。", "continue"), ("物业坚持全额扣款，调解不成。", "failed")):
            session = services.schedule_session(
                dispute=dispute,
                actor=mediator,
                scheduled_at=timezone.now(),
                place="调解室",
                participants="双方",
            )
            services.record_session(session=session, actor=mediator, minutes=minutes, outcome=outcome)
        expected_sessions = 2
        reason = "两次调解未能达成一致"
    case_events_before = property_case.events.count()

    referral = services.refer_dispute(
        dispute=dispute,
        actor=mediator,
        channel="litigation",
        receiver="石景山区人民法院",
        reason=reason,
        version=dispute.version,
    )
    dispute.refresh_from_db()
    assert dispute.status == "referred"
    assert dispute.concluded_at is not None and dispute.closed_at is not None
    assert Referral.objects.get(dispute=dispute) == referral
    material = referral.material
    assert material["dispute"]["case"] == property_case.receipt_number
    assert [(p["name"], p["consent"]) for p in material["parties"]] == [
        ("张三", "given"),
        ("京西物业公司", "refused" if how == "consent_refused" else "given"),
    ]
    assert len(material["sessions"]) == expected_sessions
    assert len(material["documents"]) == expected_sessions  # one 调解笔录 per session held
    if expected_sessions:
        assert material["sessions"][1]["minutes"] == "物业坚持全额扣款，调解不成。"

    # The case goes back to handling with the referral on its timeline.
    property_case.refresh_from_db()
    assert property_case.status == "in_progress"
    new_events = list(CaseEvent.objects.filter(case=property_case).order_by("id")[case_events_before:])
    assert len(new_events) == 1
    note = new_events[0]
    assert note.kind == EventKind.NOTE
    assert note.data["mediation_referral"]["dispute"] == dispute.number
    assert note.data["mediation_referral"]["receiver"] == "石景山区人民法院"
    assert note.data["mediation_referral"]["channel"] == "litigation"
    assert note.data["mediation_referral"]["sessions"] == expected_sessions
    assert note.note == (
        f"矛盾纠纷 {dispute.number} 调解不成，已移交石景山区人民法院（诉讼）：{reason}。本件回到办理。"
    )
    # The street office can go on handling it: its next step, the reply, is open to it.
    from jiefen.cases import services as case_services

    case_services.draft_reply(
        case=property_case,
        actor=handler_a,
        facts="经调解未果",
        basis="《民法典》",
        conclusion="建议诉讼",
        review_rights="30日内可申请复查",
    )
    figures = queries.dispute_figures(dispatcher)
    assert (figures["referred"], figures["succeeded"], figures["success_rate"]) == (1, 0, 0.0)


def test_a_referral_from_a_reopened_case_takes_it_up_again(
    property_case: Any, clerk: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    from jiefen.cases.models import Case

    dispute = _dispute_from(property_case, clerk)
    services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=dispatcher)
    # Reaching "reopened" the ordinary way takes a reply and a rating; the referral only needs the state.
    Case.objects.filter(pk=property_case.pk).update(status="reopened")
    services.refer_dispute(
        dispute=dispute,
        actor=dispatcher,
        channel="administrative",
        receiver="区住建委",
        reason="涉及物业违规收费",
    )
    property_case.refresh_from_db()
    # A dispatcher may not resume a case (a unit's move): the case keeps its state, the note is there.
    assert property_case.status == "reopened"
    assert property_case.events.filter(data__mediation_referral__receiver="区住建委").count() == 1


def test_a_refusal_needs_a_reason_and_changes_nothing(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    dispute = make_dispute()
    services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=dispatcher)
    party = dispute.parties.order_by("id").first()
    events = DisputeEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.record_consent(dispute=dispute, party=party, actor=mediators["a"], given=False, note=" ")
    assert exc.value.message == "请填写当事人拒绝调解的原因"
    party.refresh_from_db()
    assert (party.consent, party.consent_at) == ("pending", None)
    assert DisputeEvent.objects.count() == events


def test_an_agreement_needs_a_session_first(
    make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]
) -> None:
    dispute = make_dispute()
    services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=dispatcher)
    for party in dispute.parties.all():
        services.record_consent(dispute=dispute, party=party, actor=mediators["a"], given=True)
    dispute.refresh_from_db()
    with pytest.raises(IllegalMove) as exc:
        services.draft_agreement(dispute=dispute, actor=mediators["a"], terms="退还押金。")
    assert exc.value.message == "尚未进行过调解，不能起草调解协议"
    assert not Agreement.objects.exists()
    assert not MediationDocument.objects.exists()
