"""Every change to a dispute: one function per act, keyword-only arguments, an explicit ``actor``, one
transaction, and dispute events (with their audit entry) written in it.

A move the lifecycle forbids raises ``IllegalMove``; a move made on a dispute someone else has just changed
raises ``Conflict``; bad input raises ``InvalidInput`` before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record_many
from jiefen.cases import services as case_services
from jiefen.cases.models import Case
from jiefen.cases.permissions import may_move
from jiefen.cases.workflow import OPEN_STATES as CASE_OPEN_STATES
from jiefen.cases.workflow import CaseStatus, Move
from jiefen.clocks.engine import DAYS
from jiefen.clocks.services import due_time
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.mediation import documents
from jiefen.mediation.models import (
    Agreement,
    ConfirmationStatus,
    Consent,
    Dispute,
    DisputeEvent,
    DisputeEventKind,
    DisputeKind,
    DocumentTemplate,
    MediationDocument,
    MediatorProfile,
    Party,
    PartyRole,
    PartyType,
    Performance,
    Referral,
    ReferralChannel,
    RiskLevel,
    Session,
    SessionOutcome,
    SessionStatus,
    Signature,
    TemplateKind,
)
from jiefen.mediation.permissions import (
    check_follow_up,
    check_in_charge,
    may_assign,
    may_register,
)
from jiefen.mediation.workflow import DisputeMove, DisputeStatus, target_of
from jiefen.org.models import Role, User

# 人民调解法 Art. 33: the parties may jointly apply for court confirmation within 30 days of the agreement
# taking effect. Calendar days; a window ending on a rest day runs to the next working day (engine rules).
CONFIRMATION_WINDOW_DAYS = 30
# The reminder goes out this many days before the window closes.
REMINDER_DAYS_BEFORE = 7
E = DisputeEventKind


@dataclass(frozen=True)
class PartyInput:
    role: str
    name: str
    party_type: str = PartyType.PERSON
    phone: str = ""
    address: str = ""
    representative: str = ""


# --- events ---------------------------------------------------------------------------------------------------


def _event(
    dispute: Dispute,
    kind: str,
    actor: Any,
    *,
    move: str = "",
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> DisputeEvent:
    return DisputeEvent(
        dispute=dispute,
        kind=kind,
        move=move,
        from_status=from_status,
        to_status=to_status,
        actor=actor if isinstance(actor, User) else None,
        actor_label=str(actor or "")[:60],
        note=note,
        data=data or {},
        created_at=timezone.now(),
    )


def _write(events: Sequence[DisputeEvent]) -> None:
    """Save the events and one audit entry holding them all, in the caller's transaction."""
    if not events:
        return
    DisputeEvent.objects.bulk_create(events)
    first = events[0]
    record_many(
        [
            {
                "action": AuditAction.CASE_EVENT,
                "actor_id": first.actor_id,
                "actor_name": first.actor_label,
                "object_type": "dispute",
                "object_id": str(first.dispute_id),
                "data": {
                    "events": [
                        {
                            "kind": e.kind,
                            "move": e.move,
                            "from": e.from_status,
                            "to": e.to_status,
                            "note": e.note,
                            "data": e.data,
                        }
                        for e in events
                    ]
                },
            }
        ]
    )


def _move(
    dispute: Dispute,
    move: DisputeMove,
    actor: Any,
    events: list[DisputeEvent],
    *,
    version: int | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> Dispute:
    """Compare-and-set the status: the UPDATE only matches the status and version the caller saw."""
    if version is not None and version != dispute.version:
        raise Conflict("该纠纷刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    target = target_of(move, dispute.status)
    if target is None:
        raise IllegalMove(f"纠纷处于“{DisputeStatus(dispute.status).label}”状态，不能执行“{move.label}”")
    seen = dispute.version
    changed = Dispute.objects.filter(pk=dispute.pk, status=dispute.status, version=seen).update(
        status=target, version=F("version") + 1, updated_at=timezone.now(), **updates
    )
    if changed == 0:
        raise Conflict("该纠纷刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    from_status = dispute.status
    dispute.status, dispute.version = target, seen + 1
    for name, value in updates.items():
        setattr(dispute, name, value)
    events.append(
        _event(
            dispute, E.MOVE, actor, move=move, from_status=from_status, to_status=target, note=note, data=data
        )
    )
    return dispute


def _require(text: str | None, what: str, limit: int = 5000) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput(f"请填写{what}")
    if len(value) > limit:
        raise InvalidInput(f"{what}不能超过{limit}字")
    return value


def _need_state(dispute: Dispute, states: set[str], what: str) -> None:
    if dispute.status not in states:
        raise IllegalMove(f"纠纷处于“{DisputeStatus(dispute.status).label}”状态，不能{what}")


def _staff(actor: Any) -> User:
    if not isinstance(actor, User):
        raise NotAllowed("只有工作人员可以进行此操作")
    return actor


# --- registration -----------------------------------------------------------------------------------------------


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise InvalidInput("争议金额须为数字（元）") from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("争议金额不能为负数")
    if amount >= Decimal("1e12"):
        raise InvalidInput("争议金额过大")
    return amount.quantize(Decimal("0.01"))


def _check_parties(parties: Sequence[PartyInput]) -> list[PartyInput]:
    cleaned = []
    for index, party in enumerate(parties, start=1):
        if party.role not in PartyRole.values:
            raise InvalidInput(f"第{index}位当事人的地位无效")
        if party.party_type not in PartyType.values:
            raise InvalidInput(f"第{index}位当事人的类型无效")
        name = _require(party.name, f"第{index}位当事人的姓名或名称", 100)
        cleaned.append(
            PartyInput(
                role=party.role,
                name=name,
                party_type=party.party_type,
                phone=party.phone.strip(),
                address=party.address.strip()[:200],
                representative=party.representative.strip()[:50],
            )
        )
    roles = {p.role for p in cleaned}
    if PartyRole.APPLICANT not in roles or PartyRole.RESPONDENT not in roles:
        raise InvalidInput("纠纷至少要有一位申请人和一位被申请人")
    return cleaned


def register_dispute(
    *,
    actor: Any,
    title: str,
    description: str,
    kind: str,
    parties: Sequence[PartyInput],
    amount: Any = None,
    place_text: str = "",
    place_unit: Any = None,
    risk_level: str = RiskLevel.LOW,
    case: Case | None = None,
) -> Dispute:
    """Take a dispute in, on its own or from a case (the caller has checked the actor may see the case). A
    dispute from a case shares its Matter, and the case's timeline says it went to mediation."""
    if not may_register(actor):
        raise NotAllowed("您无权登记矛盾纠纷")
    title = _require(title, "纠纷名称", 200)
    description = _require(description, "纠纷情况", 20000)
    if kind not in DisputeKind.values:
        raise InvalidInput("请选择纠纷类型")
    if risk_level not in RiskLevel.values:
        raise InvalidInput("风险等级无效")
    money = _amount(amount)
    cleaned = _check_parties(parties)
    if (
        case is not None
        and Dispute.objects.filter(case=case)
        .exclude(status__in=[DisputeStatus.REFERRED, DisputeStatus.WITHDRAWN])
        .exists()
    ):
        raise InvalidInput(f"信访件 {case.receipt_number} 已有正在调解的纠纷")
    # A mediator who takes a dispute in keeps it within their committee until it is assigned.
    committee = actor.unit if actor.has_role(Role.MEDIATOR) and not actor.is_office_staff else None
    with transaction.atomic():
        now = timezone.now()
        dispute = Dispute.objects.create(
            number=f"TMP-{uuid.uuid4().hex[:28]}",
            title=title,
            description=description,
            kind=kind,
            amount=money,
            place_text=(place_text or (case.place_text if case else "")).strip()[:200],
            place_unit=place_unit or (case.jurisdiction_unit if case else None),
            risk_level=risk_level,
            case=case,
            matter=case.matter if case else None,
            committee=committee,
            registered_by=actor,
            created_at=now,
        )
        # The number is the registration day and the row id: unique without a counter.
        dispute.number = f"TJ{timezone.localdate(now):%Y%m%d}{dispute.pk:05d}"
        dispute.save(update_fields=["number"])
        for party in cleaned:
            row = Party(
                dispute=dispute,
                role=party.role,
                party_type=party.party_type,
                name=party.name,
                address=party.address,
                representative=party.representative,
            )
            row.set_phone(party.phone)
            row.save()
        _write(
            [
                _event(
                    dispute,
                    E.REGISTERED,
                    actor,
                    to_status=DisputeStatus.REGISTERED,
                    data={"case": case.receipt_number if case else "", "parties": len(cleaned)},
                )
            ]
        )
        if case is not None and case.status in CASE_OPEN_STATES:
            case_services.add_note(
                case=case,
                actor=actor,
                note=f"转入矛盾纠纷调解，纠纷编号 {dispute.number}",
                data={"mediation_dispute": dispute.number},
            )
    return dispute


# --- the mediator -----------------------------------------------------------------------------------------------


def _profile_of(mediator: Any) -> MediatorProfile:
    profile = MediatorProfile.objects.filter(user=mediator, is_active=True).select_related("user").first()
    if profile is None or not mediator.is_active or not mediator.has_role(Role.MEDIATOR):
        raise InvalidInput("所选人员不是在册的调解员")
    return profile


def assign_mediator(
    *, dispute: Dispute, mediator: Any, actor: Any, note: str = "", version: int | None = None
) -> Dispute:
    """Give the dispute to a mediator (or another one, before the parties have agreed to mediation). The
    suggestion shown at that moment and whether it was followed are stored with the assignment."""
    from jiefen.mediation.queries import suggest_mediators

    if not may_assign(actor):
        raise NotAllowed("只有信访办交办员、督办员或管理员可以指派调解员")
    profile = _profile_of(mediator)
    if mediator.pk == dispute.mediator_id:
        raise InvalidInput(f"该纠纷已由{mediator}调解")
    suggestions = suggest_mediators(dispute, limit=5)
    chosen = next((s for s in suggestions if s.mediator.pk == mediator.pk), None)
    if chosen is None:
        from jiefen.mediation.queries import mediator_directory

        entry = next((e for e in mediator_directory() if e.user.pk == mediator.pk), None)
        if entry is not None and entry.is_full:
            raise InvalidInput(f"调解员{mediator}在办纠纷已达上限（{profile.capacity}件），请另选调解员")
    move = DisputeMove.ASSIGN if dispute.status == DisputeStatus.REGISTERED else DisputeMove.REASSIGN
    reason = {
        "suggested": [
            {"id": s.mediator.pk, "name": str(s.mediator), "reason": s.reason} for s in suggestions
        ],
        "chosen": mediator.pk,
        "followed": bool(suggestions) and suggestions[0].mediator.pk == mediator.pk,
        "reason": chosen.reason if chosen else "",
        "note": note.strip(),
    }
    with transaction.atomic():
        events: list[DisputeEvent] = []
        _move(
            dispute,
            move,
            actor,
            events,
            version=version,
            note=note.strip(),
            data={
                "mediator": str(mediator),
                "committee": str(mediator.unit or ""),
                "reason": reason["reason"],
            },
            mediator=mediator,
            committee=mediator.unit,
            assigned_at=timezone.now(),
            assignment_reason=reason,
        )
        _write(events)
    return dispute


def record_consent(*, dispute: Dispute, party: Party, actor: Any, given: bool, note: str = "") -> Party:
    """Record whether a party agrees to mediation (人民调解法 Art. 3: mediation is voluntary). When every party
    has agreed, mediation starts; a refusal is recorded and the dispute can then only be referred on."""
    check_in_charge(actor, dispute)
    if party.dispute_id != dispute.pk:
        raise InvalidInput("该当事人不属于本纠纷")
    _need_state(dispute, {DisputeStatus.ASSIGNED}, "登记当事人是否同意调解")
    note = note.strip()[:500]
    if not given and not note:
        raise InvalidInput("请填写当事人拒绝调解的原因")
    with transaction.atomic():
        now = timezone.now()
        value = Consent.GIVEN if given else Consent.REFUSED
        changed = Party.objects.filter(pk=party.pk, consent=party.consent).update(
            consent=value, consent_at=now, consent_note=note
        )
        if changed == 0:
            raise Conflict("该当事人的意愿刚刚已被其他人登记，请刷新后再操作")
        party.consent, party.consent_at, party.consent_note = value, now, note
        events = [
            _event(
                dispute,
                E.CONSENT,
                actor,
                note=note,
                data={"party": party.name, "role": party.role, "consent": value},
            )
        ]
        if given and not dispute.parties.exclude(consent=Consent.GIVEN).exists():
            _move(dispute, DisputeMove.CONSENT, actor, events, mediation_started_at=now)
        _write(events)
    return party


# --- sessions and documents ---------------------------------------------------------------------------------


def schedule_session(
    *, dispute: Dispute, actor: Any, scheduled_at: datetime, place: str, participants: str
) -> Session:
    check_in_charge(actor, dispute)
    _need_state(dispute, {DisputeStatus.MEDIATING}, "安排调解")
    place = _require(place, "调解地点", 200)
    participants = _require(participants, "参加人员", 2000)
    if scheduled_at is None:
        raise InvalidInput("请填写调解时间")
    if timezone.is_naive(scheduled_at):
        scheduled_at = timezone.make_aware(scheduled_at)
    with transaction.atomic():
        # The dispute row is locked so two mediators scheduling at once get sequences 1 and 2, not a clash.
        Dispute.objects.select_for_update().filter(pk=dispute.pk).first()
        last = dispute.sessions.aggregate(m=Max("sequence"))["m"] or 0
        try:
            with transaction.atomic():
                session = Session.objects.create(
                    dispute=dispute,
                    sequence=last + 1,
                    scheduled_at=scheduled_at,
                    place=place,
                    participants=participants,
                )
        except IntegrityError as exc:
            raise Conflict("刚刚有人安排了调解，请刷新后再操作") from exc
        _write(
            [
                _event(
                    dispute,
                    E.SESSION_SCHEDULED,
                    actor,
                    note=f"第{session.sequence}次调解：{timezone.localtime(scheduled_at):%Y-%m-%d %H:%M} {place}",
                    data={"session": session.sequence},
                )
            ]
        )
    return session


def _parties_text(dispute: Dispute) -> str:
    lines = []
    for party in dispute.parties.order_by("id"):
        line = f"{party.get_role_display()}：{party.name}"
        if party.party_type == PartyType.ORGANISATION and party.representative:
            line += f"（代表人：{party.representative}）"
        if party.address:
            line += f"，住所：{party.address}"
        lines.append(line)
    return "\n".join(lines)


def _values(
    dispute: Dispute, *, session: Session | None = None, agreement: Agreement | None = None
) -> dict[str, str]:
    due = agreement.performance_due if agreement else None
    return {
        "number": dispute.number,
        "title": dispute.title,
        "parties": _parties_text(dispute),
        "facts": dispute.description,
        "mediator": str(dispute.mediator or ""),
        "committee": str(dispute.committee or ""),
        "session_time": f"{timezone.localtime(session.scheduled_at):%Y年%m月%d日 %H:%M}" if session else "",
        "session_place": session.place if session else "",
        "participants": session.participants if session else "",
        "minutes": session.minutes if session else "",
        "terms": agreement.terms if agreement else "",
        "performance_due": f"{due:%Y年%m月%d日}" if due else "协议生效后即时履行",
        "confirmation_notice": documents.CONFIRMATION_NOTICE,
        "date": f"{timezone.localdate():%Y年%m月%d日}",
    }


def _generate(
    dispute: Dispute, kind: str, actor: Any, events: list[DisputeEvent], **context: Any
) -> MediationDocument:
    template = DocumentTemplate.objects.filter(kind=kind).first()
    if template is None:
        raise InvalidInput(f"缺少“{TemplateKind(kind).label}”文书模板，请管理员在后台添加")
    document = MediationDocument.objects.create(
        dispute=dispute,
        kind=kind,
        session=context.get("session"),
        title=documents.fill(template.title, _values(dispute, **context)),
        body=documents.fill(template.body, _values(dispute, **context)),
        generated_by=actor if isinstance(actor, User) else None,
    )
    events.append(_event(dispute, E.DOCUMENT, actor, note=document.title, data={"document": document.pk}))
    return document


def record_session(*, session: Session, actor: Any, minutes: str, outcome: str) -> Session:
    """Record what was said (the minutes become the 调解笔录, generated from the template) and the outcome."""
    dispute = session.dispute
    check_in_charge(actor, dispute)
    _need_state(dispute, {DisputeStatus.MEDIATING}, "记录调解")
    minutes = _require(minutes, "调解笔录", 50000)
    if outcome not in {SessionOutcome.CONTINUE, SessionOutcome.AGREED, SessionOutcome.FAILED}:
        raise InvalidInput("请选择本次调解的结果")
    with transaction.atomic():
        now = timezone.now()
        changed = Session.objects.filter(pk=session.pk, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.HELD, minutes=minutes, outcome=outcome, held_at=now, recorded_by=actor
        )
        if changed == 0:
            raise IllegalMove("这次调解已经记录过或已取消")
        session.status, session.minutes, session.outcome, session.held_at = (
            SessionStatus.HELD,
            minutes,
            outcome,
            now,
        )
        session.recorded_by = actor
        events = [
            _event(
                dispute,
                E.SESSION_HELD,
                actor,
                note=f"第{session.sequence}次调解：{SessionOutcome(outcome).label}",
                data={"session": session.sequence, "outcome": outcome},
            )
        ]
        _generate(dispute, TemplateKind.RECORD, actor, events, session=session)
        _write(events)
    return session


# --- the agreement ------------------------------------------------------------------------------------------------


def draft_agreement(
    *, dispute: Dispute, actor: Any, terms: str, performance_due: date | None = None
) -> Agreement:
    """Write the agreement's terms and generate the 调解协议书 from the template. It may be redrafted until
    the first party signs."""
    check_in_charge(actor, dispute)
    _need_state(dispute, {DisputeStatus.MEDIATING}, "起草调解协议")
    terms = _require(terms, "协议内容", 20000)
    if not dispute.sessions.filter(status=SessionStatus.HELD).exists():
        raise IllegalMove("尚未进行过调解，不能起草调解协议")
    if performance_due is not None and performance_due < timezone.localdate():
        raise InvalidInput("履行期限不能早于今天")
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().filter(dispute=dispute).first()
        if agreement is not None and agreement.signatures.exists():
            raise IllegalMove("已有当事人签字的协议不能再修改")
        if agreement is None:
            agreement = Agreement(dispute=dispute, drafted_by=actor)
        agreement.terms, agreement.performance_due = terms, performance_due
        agreement.drafted_by, agreement.drafted_at = actor, timezone.now()
        agreement.save()
        events = [_event(dispute, E.AGREEMENT_DRAFTED, actor, note=terms[:200])]
        agreement.document = _generate(dispute, TemplateKind.AGREEMENT, actor, events, agreement=agreement)
        agreement.save(update_fields=["document"])
        _write(events)
    return agreement


def signing_status(agreement: Agreement) -> tuple[int, int]:
    """(parties who signed, parties in the dispute)."""
    return agreement.signatures.count(), agreement.dispute.parties.count()


def sign_agreement(*, agreement: Agreement, party: Party, actor: Any) -> Signature:
    """Record a party's signature. When the last party signs, the agreement takes effect (人民调解法 Art. 29)
    and the 30-day window to apply for court confirmation (Art. 33) starts."""
    dispute = agreement.dispute
    check_in_charge(actor, dispute)
    if party.dispute_id != dispute.pk:
        raise InvalidInput("该当事人不属于本纠纷")
    _need_state(dispute, {DisputeStatus.MEDIATING}, "签署调解协议")
    with transaction.atomic():
        try:
            with transaction.atomic():
                signature = Signature.objects.create(agreement=agreement, party=party, recorded_by=actor)
        except IntegrityError as exc:
            raise InvalidInput(f"{party.name}已经签过字") from exc
        events = [_event(dispute, E.SIGNED, actor, note=party.name, data={"party": party.name})]
        signed, total = signing_status(agreement)
        if signed == total:
            now = timezone.now()
            due = due_time(start=now, amount=CONFIRMATION_WINDOW_DAYS, unit=DAYS)
            _move(
                dispute,
                DisputeMove.AGREE,
                actor,
                events,
                data={"confirmation_due_at": due.isoformat()},
                concluded_at=now,
            )
            agreement.effective_at, agreement.confirmation_due_at = now, due
            agreement.save(update_fields=["effective_at", "confirmation_due_at"])
        _write(events)
    return signature


PERFORMANCE_STATUSES = {s.value for s in Performance.Status}


def record_performance(*, agreement: Agreement, actor: Any, status: str, note: str) -> Performance:
    """Follow up how the agreement is carried out (履行回访). "Fulfilled" closes the dispute."""
    dispute = agreement.dispute
    check_follow_up(actor, dispute)
    _need_state(dispute, {DisputeStatus.AGREED}, "登记履行情况")
    if status not in PERFORMANCE_STATUSES:
        raise InvalidInput("请选择履行情况")
    note = _require(note, "回访记录")
    with transaction.atomic():
        performance = Performance.objects.create(
            agreement=agreement, status=status, note=note, recorded_by=_staff(actor)
        )
        events = [_event(dispute, E.PERFORMANCE, actor, note=note, data={"status": status})]
        if status == Performance.Status.FULFILLED:
            now = timezone.now()
            _move(dispute, DisputeMove.FULFIL, actor, events, closed_at=now)
            agreement.fulfilled_at = now
            agreement.save(update_fields=["fulfilled_at"])
        _write(events)
    return performance


# --- court confirmation (司法确认) -------------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return timezone.now()
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def apply_for_confirmation(
    *, agreement: Agreement, actor: Any, court: str, applied_at: datetime | None = None
) -> Agreement:
    """Record the parties' joint application to a court, which must be made within the 30-day window."""
    dispute = agreement.dispute
    check_follow_up(actor, dispute)
    court = _require(court, "受理法院", 100)
    if agreement.effective_at is None or agreement.confirmation_due_at is None:
        raise IllegalMove("调解协议尚未生效，不能申请司法确认")
    if agreement.confirmation_status != ConfirmationStatus.NOT_APPLIED:
        raise IllegalMove(f"司法确认已是“{ConfirmationStatus(agreement.confirmation_status).label}”")
    when = _aware(applied_at)
    if when < agreement.effective_at:
        raise InvalidInput("申请时间不能早于协议生效时间")
    if when > timezone.now():
        raise InvalidInput("申请时间不能晚于现在")
    if when > agreement.confirmation_due_at:
        due = timezone.localtime(agreement.confirmation_due_at)
        raise InvalidInput(f"已超过申请司法确认的三十日期限（{due:%Y-%m-%d}截止），不能再申请")
    with transaction.atomic():
        changed = Agreement.objects.filter(
            pk=agreement.pk, confirmation_status=ConfirmationStatus.NOT_APPLIED
        ).update(confirmation_status=ConfirmationStatus.APPLIED, court=court, applied_at=when)
        if changed == 0:
            raise Conflict("司法确认申请刚刚已被其他人登记，请刷新后再操作")
        agreement.confirmation_status, agreement.court, agreement.applied_at = (
            ConfirmationStatus.APPLIED,
            court,
            when,
        )
        _write(
            [
                _event(
                    dispute,
                    E.CONFIRMATION_APPLIED,
                    actor,
                    note=court,
                    data={"court": court, "applied_at": when.isoformat()},
                )
            ]
        )
    return agreement


def record_court_decision(
    *,
    agreement: Agreement,
    actor: Any,
    confirmed: bool,
    decision_number: str,
    note: str = "",
    decided_at: datetime | None = None,
) -> Agreement:
    """Record the court's ruling: the agreement confirmed as valid, or the application rejected."""
    dispute = agreement.dispute
    check_follow_up(actor, dispute)
    decision_number = _require(decision_number, "裁定书文号", 64)
    if agreement.confirmation_status != ConfirmationStatus.APPLIED or agreement.applied_at is None:
        raise IllegalMove("尚未申请司法确认，不能登记法院裁定")
    when = _aware(decided_at)
    if when < agreement.applied_at:
        raise InvalidInput("裁定时间不能早于申请时间")
    if when > timezone.now():
        raise InvalidInput("裁定时间不能晚于现在")
    status = ConfirmationStatus.CONFIRMED if confirmed else ConfirmationStatus.REJECTED
    with transaction.atomic():
        changed = Agreement.objects.filter(
            pk=agreement.pk, confirmation_status=ConfirmationStatus.APPLIED
        ).update(
            confirmation_status=status,
            decided_at=when,
            decision_number=decision_number,
            decision_note=note.strip(),
        )
        if changed == 0:
            raise Conflict("法院裁定刚刚已被其他人登记，请刷新后再操作")
        agreement.confirmation_status, agreement.decided_at = status, when
        agreement.decision_number, agreement.decision_note = decision_number, note.strip()
        _write(
            [
                _event(
                    dispute,
                    E.CONFIRMATION_DECIDED,
                    actor,
                    note=f"{decision_number} {note.strip()}".strip(),
                    data={"status": status, "decision_number": decision_number},
                )
            ]
        )
    return agreement


def remind_confirmation_windows(*, now: datetime | None = None) -> int:
    """Write one reminder on every agreement whose court-confirmation window closes within
    ``REMINDER_DAYS_BEFORE`` days and that has no application yet. Rows are claimed with a conditional UPDATE,
    so two workers never remind twice; returns how many were reminded."""
    now = now or timezone.now()
    candidates = Agreement.objects.filter(
        effective_at__isnull=False,
        confirmation_status=ConfirmationStatus.NOT_APPLIED,
        reminded_at__isnull=True,
        confirmation_due_at__gt=now,
        confirmation_due_at__lte=now + timedelta(days=REMINDER_DAYS_BEFORE),
    ).select_related("dispute")
    count = 0
    for agreement in candidates:
        with transaction.atomic():
            if (
                Agreement.objects.filter(pk=agreement.pk, reminded_at__isnull=True).update(reminded_at=now)
                == 0
            ):
                continue  # another worker got there first
            due = timezone.localtime(agreement.confirmation_due_at)  # type: ignore[arg-type]
            _write(
                [
                    _event(
                        agreement.dispute,
                        E.CONFIRMATION_REMINDER,
                        "系统",
                        note=f"申请司法确认的期限将于{due:%Y-%m-%d}届满",
                        data={"confirmation_due_at": due.isoformat()},
                    )
                ]
            )
            count += 1
    return count


# --- referral and withdrawal ----------------------------------------------------------------------------------


def _material(dispute: Dispute) -> dict[str, Any]:
    """Everything gathered in mediation, as it stands, for the body the dispute goes to."""
    agreement = Agreement.objects.filter(dispute=dispute).first()
    return {
        "dispute": {
            "number": dispute.number,
            "title": dispute.title,
            "kind": dispute.kind,
            "description": dispute.description,
            "amount": str(dispute.amount) if dispute.amount is not None else None,
            "place": dispute.place_text,
            "case": dispute.case.receipt_number if dispute.case_id else "",  # type: ignore[union-attr]
        },
        "parties": [
            {
                "role": p.role,
                "type": p.party_type,
                "name": p.name,
                "consent": p.consent,
                "note": p.consent_note,
            }
            for p in dispute.parties.order_by("id")
        ],
        "sessions": [
            {
                "sequence": s.sequence,
                "scheduled_at": s.scheduled_at.isoformat(),
                "status": s.status,
                "outcome": s.outcome,
                "minutes": s.minutes,
            }
            for s in dispute.sessions.order_by("sequence")
        ],
        "documents": [
            {"id": d.pk, "kind": d.kind, "title": d.title} for d in dispute.documents.order_by("id")
        ],
        "agreement": (
            {
                "terms": agreement.terms,
                "signed_by": [s.party.name for s in agreement.signatures.select_related("party")],
                "performance": [
                    {"status": p.status, "note": p.note} for p in agreement.performance.order_by("id")
                ],
            }
            if agreement
            else None
        ),
    }


def refer_dispute(
    *, dispute: Dispute, actor: Any, channel: str, receiver: str, reason: str, version: int | None = None
) -> Referral:
    """Mediation did not settle it (a party refused, the sessions failed, or the agreement was not performed):
    record why and send it on to arbitration, the courts or an administrative body, with all its material.
    A linked case gets the referral on its timeline and goes back to handling."""
    check_follow_up(actor, dispute)
    if channel not in ReferralChannel.values:
        raise InvalidInput("请选择移交途径（仲裁、诉讼或行政处理）")
    receiver = _require(receiver, "接收机构", 100)
    reason = _require(reason, "调解不成的原因")
    if (
        dispute.status == DisputeStatus.AGREED
        and not Performance.objects.filter(
            agreement__dispute=dispute, status=Performance.Status.BREACHED
        ).exists()
    ):
        raise IllegalMove("已达成协议的纠纷，只有登记了未按约履行后才能移交")
    with transaction.atomic():
        now = timezone.now()
        events: list[DisputeEvent] = []
        label = ReferralChannel(channel).label
        _move(
            dispute,
            DisputeMove.REFER,
            actor,
            events,
            version=version,
            note=reason,
            data={"channel": channel, "receiver": receiver},
            concluded_at=dispute.concluded_at or now,
            closed_at=now,
        )
        referral = Referral.objects.create(
            dispute=dispute,
            channel=channel,
            receiver=receiver,
            reason=reason,
            material=_material(dispute),
            referred_by=_staff(actor),
            created_at=now,
        )
        events.append(
            _event(
                dispute, E.REFERRED, actor, note=f"移交{receiver}（{label}）", data={"referral": referral.pk}
            )
        )
        _write(events)
        case = dispute.case
        if case is not None:
            _back_to_handling(case, dispute, referral, actor)
    return referral


def _back_to_handling(case: Case, dispute: Dispute, referral: Referral, actor: Any) -> None:
    """The case the dispute came from gets the referral on its timeline; a reopened case is taken up again
    (through the case service, if the actor may make that move). A closed case only keeps the dispute's own
    record."""
    case.refresh_from_db()
    if case.status not in CASE_OPEN_STATES:
        return
    material = referral.material
    case_services.add_note(
        case=case,
        actor=actor,
        note=(
            f"矛盾纠纷 {dispute.number} 调解不成，已移交{referral.receiver}"
            f"（{ReferralChannel(referral.channel).label}）：{referral.reason}。本件回到办理。"
        ),
        data={
            "mediation_referral": {
                "dispute": dispute.number,
                "referral": referral.pk,
                "channel": referral.channel,
                "receiver": referral.receiver,
                "reason": referral.reason,
                "sessions": len(material["sessions"]),
                "documents": len(material["documents"]),
            }
        },
    )
    if case.status == CaseStatus.REOPENED and may_move(actor, case, Move.RESUME):
        case_services.resume_case(case=case, actor=actor)


def withdraw_dispute(*, dispute: Dispute, actor: Any, reason: str, version: int | None = None) -> Dispute:
    """The applicant withdraws the request for mediation."""
    check_follow_up(actor, dispute)
    reason = _require(reason, "撤回原因")
    with transaction.atomic():
        events: list[DisputeEvent] = []
        now = timezone.now()
        _move(dispute, DisputeMove.WITHDRAW, actor, events, version=version, note=reason, closed_at=now)
        _write(events)
    return dispute


# --- directory ------------------------------------------------------------------------------------------------------


def save_mediator_profile(
    *, user: Any, actor: Any, kind: str, specialities: Sequence[str], capacity: int = 10, note: str = ""
) -> MediatorProfile:
    """Put a mediator in the directory or change their entry (admins)."""
    from jiefen.mediation.models import MediatorKind

    if not (isinstance(actor, User) and actor.has_role(Role.ADMIN)):
        raise NotAllowed("只有管理员可以维护调解员名册")
    if not user.has_role(Role.MEDIATOR):
        raise InvalidInput(f"{user}没有调解员角色")
    if kind not in MediatorKind.values:
        raise InvalidInput("调解类型无效")
    bad = [s for s in specialities if s not in DisputeKind.values]
    if bad:
        raise InvalidInput(f"擅长领域无效：{'、'.join(bad)}")
    if not 1 <= capacity <= 200:
        raise InvalidInput("同时在办上限须在1到200之间")
    profile, _created = MediatorProfile.objects.update_or_create(
        user=user,
        defaults={
            "kind": kind,
            "specialities": list(dict.fromkeys(specialities)),
            "capacity": capacity,
            "note": note.strip()[:200],
            "is_active": True,
        },
    )
    return profile
