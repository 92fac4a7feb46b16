"""The actions staff take on a dispute, each a typed input and the one service it calls; and which of them the
dispute page offers a user now. The page and the API both go through this table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, Field, ValidationError

from jiefen.core.errors import InvalidInput
from jiefen.mediation import services as S
from jiefen.mediation.models import (
    Agreement,
    ConfirmationStatus,
    Consent,
    Dispute,
    MediatorProfile,
    Party,
    Performance,
    Session,
    SessionStatus,
)
from jiefen.mediation.permissions import in_charge, may_assign, may_follow_up
from jiefen.mediation.workflow import DisputeMove, DisputeStatus


class VersionIn(BaseModel):
    # The version of the dispute the user saw; a stale one is refused with a conflict.
    version: int | None = Field(default=None, ge=1)


class AssignIn(VersionIn):
    mediator: int
    note: str = Field(default="", max_length=2000)


class ConsentIn(BaseModel):
    party: int
    given: bool
    note: str = Field(default="", max_length=500)


class ScheduleIn(BaseModel):
    scheduled_at: datetime
    place: str = Field(max_length=200)
    participants: str = Field(max_length=2000)


class SessionIn(BaseModel):
    session: int
    minutes: str = Field(max_length=50000)
    outcome: str


class AgreementIn(BaseModel):
    terms: str = Field(max_length=20000)
    performance_due: date | None = None


class SignIn(BaseModel):
    party: int


class PerformanceIn(BaseModel):
    status: str
    note: str = Field(max_length=5000)


class ApplyIn(BaseModel):
    court: str = Field(max_length=100)
    applied_at: datetime | None = None


class DecisionIn(BaseModel):
    confirmed: bool
    decision_number: str = Field(max_length=64)
    note: str = Field(default="", max_length=5000)
    decided_at: datetime | None = None


class ReferIn(VersionIn):
    channel: str
    receiver: str = Field(max_length=100)
    reason: str = Field(max_length=5000)


class ReasonIn(VersionIn):
    reason: str = Field(max_length=5000)


def _party(dispute: Dispute, pk: int) -> Party:
    party = Party.objects.filter(pk=pk, dispute=dispute).first()
    if party is None:
        raise InvalidInput("该当事人不属于本纠纷")
    return party


def _session(dispute: Dispute, pk: int) -> Session:
    session = Session.objects.filter(pk=pk, dispute=dispute).select_related("dispute").first()
    if session is None:
        raise InvalidInput("该调解会不属于本纠纷")
    return session


def _agreement(dispute: Dispute) -> Agreement:
    agreement = Agreement.objects.filter(dispute=dispute).select_related("dispute").first()
    if agreement is None:
        raise InvalidInput("该纠纷还没有调解协议")
    return agreement


def _mediator(pk: int) -> Any:
    profile = MediatorProfile.objects.filter(user_id=pk, is_active=True).select_related("user").first()
    if profile is None:
        raise InvalidInput("所选人员不是在册的调解员")
    return profile.user


@dataclass(frozen=True)
class Action:
    name: str
    label: Any
    schema: type[BaseModel]
    run: Callable[[Dispute, Any, Any], Any]
    # None when the action is not for this user on this dispute now, else the extra context its form needs.
    offer: Callable[[Dispute, Any], dict[str, Any] | None]
    style: str = ""


def _offer_assign(d: Dispute, u: Any) -> dict[str, Any] | None:
    if not may_assign(u) or not (d.can(DisputeMove.ASSIGN) or d.can(DisputeMove.REASSIGN)):
        return None
    from jiefen.mediation.queries import suggest_mediators

    suggestions = suggest_mediators(d)
    return {"suggestions": suggestions} if suggestions else None


def _offer_consent(d: Dispute, u: Any) -> dict[str, Any] | None:
    if d.status != DisputeStatus.ASSIGNED or not in_charge(u, d):
        return None
    pending = [
        (p.pk, f"{p.get_role_display()} {p.name}")
        for p in d.parties.order_by("id")
        if p.consent == Consent.PENDING
    ]
    return {"choices": pending} if pending else None


def _offer_schedule(d: Dispute, u: Any) -> dict[str, Any] | None:
    return {} if d.status == DisputeStatus.MEDIATING and in_charge(u, d) else None


def _offer_record(d: Dispute, u: Any) -> dict[str, Any] | None:
    if d.status != DisputeStatus.MEDIATING or not in_charge(u, d):
        return None
    scheduled = [
        (s.pk, f"第{s.sequence}次 {timezone.localtime(s.scheduled_at):%Y-%m-%d %H:%M}")
        for s in d.sessions.filter(status=SessionStatus.SCHEDULED).order_by("sequence")
    ]
    return {"choices": scheduled} if scheduled else None


def _offer_draft(d: Dispute, u: Any) -> dict[str, Any] | None:
    if d.status != DisputeStatus.MEDIATING or not in_charge(u, d):
        return None
    if not d.sessions.filter(status=SessionStatus.HELD).exists():
        return None
    agreement = Agreement.objects.filter(dispute=d).first()
    if agreement is not None and agreement.signatures.exists():
        return None
    return {"agreement": agreement}


def _offer_sign(d: Dispute, u: Any) -> dict[str, Any] | None:
    if d.status != DisputeStatus.MEDIATING or not in_charge(u, d):
        return None
    agreement = Agreement.objects.filter(dispute=d).first()
    if agreement is None:
        return None
    signed = set(agreement.signatures.values_list("party_id", flat=True))
    unsigned = [
        (p.pk, f"{p.get_role_display()} {p.name}") for p in d.parties.order_by("id") if p.pk not in signed
    ]
    return {"choices": unsigned} if unsigned else None


def _offer_performance(d: Dispute, u: Any) -> dict[str, Any] | None:
    if d.status != DisputeStatus.AGREED or not may_follow_up(u, d):
        return None
    return {"statuses": Performance.Status.choices}


def _offer_apply(d: Dispute, u: Any) -> dict[str, Any] | None:
    agreement = Agreement.objects.filter(dispute=d).first()
    if agreement is None or agreement.confirmation_due_at is None or not may_follow_up(u, d):
        return None
    if (
        agreement.confirmation_status != ConfirmationStatus.NOT_APPLIED
        or timezone.now() > agreement.confirmation_due_at
    ):
        return None
    return {}


def _offer_decision(d: Dispute, u: Any) -> dict[str, Any] | None:
    agreement = Agreement.objects.filter(dispute=d).first()
    if agreement is None or agreement.confirmation_status != ConfirmationStatus.APPLIED:
        return None
    return {} if may_follow_up(u, d) else None


def _offer_refer(d: Dispute, u: Any) -> dict[str, Any] | None:
    if not d.can(DisputeMove.REFER) or not may_follow_up(u, d):
        return None
    if (
        d.status == DisputeStatus.AGREED
        and not Performance.objects.filter(agreement__dispute=d, status=Performance.Status.BREACHED).exists()
    ):
        return None
    from jiefen.mediation.models import ReferralChannel

    return {"channels": ReferralChannel.choices}


def _offer_withdraw(d: Dispute, u: Any) -> dict[str, Any] | None:
    return {} if d.can(DisputeMove.WITHDRAW) and may_follow_up(u, d) else None


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "assign",
            _("指派调解员"),
            AssignIn,
            lambda d, u, x: S.assign_mediator(
                dispute=d, mediator=_mediator(x.mediator), actor=u, note=x.note, version=x.version
            ),
            _offer_assign,
            "primary",
        ),
        Action(
            "consent",
            _("登记当事人意愿"),
            ConsentIn,
            lambda d, u, x: S.record_consent(
                dispute=d, party=_party(d, x.party), actor=u, given=x.given, note=x.note
            ),
            _offer_consent,
            "primary",
        ),
        Action(
            "schedule",
            _("安排调解"),
            ScheduleIn,
            lambda d, u, x: S.schedule_session(
                dispute=d, actor=u, scheduled_at=x.scheduled_at, place=x.place, participants=x.participants
            ),
            _offer_schedule,
            "primary",
        ),
        Action(
            "record_session",
            _("记录调解"),
            SessionIn,
            lambda d, u, x: S.record_session(
                session=_session(d, x.session), actor=u, minutes=x.minutes, outcome=x.outcome
            ),
            _offer_record,
            "primary",
        ),
        Action(
            "draft_agreement",
            _("起草调解协议"),
            AgreementIn,
            lambda d, u, x: S.draft_agreement(
                dispute=d, actor=u, terms=x.terms, performance_due=x.performance_due
            ),
            _offer_draft,
            "primary",
        ),
        Action(
            "sign",
            _("登记签字"),
            SignIn,
            lambda d, u, x: S.sign_agreement(agreement=_agreement(d), party=_party(d, x.party), actor=u),
            _offer_sign,
            "primary",
        ),
        Action(
            "performance",
            _("履行回访"),
            PerformanceIn,
            lambda d, u, x: S.record_performance(
                agreement=_agreement(d), actor=u, status=x.status, note=x.note
            ),
            _offer_performance,
            "primary",
        ),
        Action(
            "apply_confirmation",
            _("登记司法确认申请"),
            ApplyIn,
            lambda d, u, x: S.apply_for_confirmation(
                agreement=_agreement(d), actor=u, court=x.court, applied_at=x.applied_at
            ),
            _offer_apply,
        ),
        Action(
            "court_decision",
            _("登记法院裁定"),
            DecisionIn,
            lambda d, u, x: S.record_court_decision(
                agreement=_agreement(d),
                actor=u,
                confirmed=x.confirmed,
                decision_number=x.decision_number,
                note=x.note,
                decided_at=x.decided_at,
            ),
            _offer_decision,
            "primary",
        ),
        Action(
            "refer",
            _("调解不成移交"),
            ReferIn,
            lambda d, u, x: S.refer_dispute(
                dispute=d, actor=u, channel=x.channel, receiver=x.receiver, reason=x.reason, version=x.version
            ),
            _offer_refer,
            "danger",
        ),
        Action(
            "withdraw",
            _("撤回"),
            ReasonIn,
            lambda d, u, x: S.withdraw_dispute(dispute=d, actor=u, reason=x.reason, version=x.version),
            _offer_withdraw,
            "danger",
        ),
    ]
}


def run_action(*, name: str, dispute: Dispute, actor: Any, payload: dict[str, Any]) -> Any:
    """Validate ``payload`` against the action's schema and run it. Bad input raises ``InvalidInput``."""
    action = ACTIONS.get(name)
    if action is None:
        raise InvalidInput(f"未知操作“{name}”")
    try:
        data = action.schema.model_validate(payload)
    except ValidationError as exc:
        problems = "；".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise InvalidInput(f"输入有误：{problems}") from exc
    return action.run(dispute, actor, data)


def available_actions(user: Any, dispute: Dispute) -> list[dict[str, Any]]:
    """The actions ``user`` may take on ``dispute`` now, each with what its form needs; the services check
    all of it again."""
    offered = []
    for action in ACTIONS.values():
        extra = action.offer(dispute, user)
        if extra is not None:
            offered.append({"name": action.name, "label": action.label, "style": action.style, **extra})
    rank = {"primary": 0, "": 1, "danger": 2}
    return sorted(offered, key=lambda a: rank[a["style"]])
