"""Handling a case in its unit: information, extensions, actions, the reply."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jiefen.cases.actors import SYSTEM, Actor
from jiefen.cases.events import new_event, write_events
from jiefen.cases.models import (
    ActionKind,
    Assignment,
    Case,
    CaseEvent,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Reply,
)
from jiefen.cases.permissions import acts_for_unit
from jiefen.cases.services._core import (
    K,
    _check_unit_actor,
    _finish,
    _move,
    _require,
    _staff,
)
from jiefen.cases.workflow import OPEN_STATES, AssignmentStatus, CaseStatus, Move
from jiefen.clocks import services as clocks
from jiefen.clocks.models import ClockState
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.documents import services as documents
from jiefen.documents.models import DocumentKind
from jiefen.notify.events import notify_case_event
from jiefen.org.models import Role

# --- handling -------------------------------------------------------------------------------------------------------


def request_info(*, case: Case, actor: Actor, what: str, version: int | None = None) -> Case:
    """Ask the petitioner for information; the handling clock pauses until it arrives."""
    what = _require(what, "需要补充的材料")
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.REQUEST_INFO, actor, events, version=version, note=what)
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is not None and clock.state == ClockState.RUNNING:
            clocks.pause_clock(clock=clock, actor=actor, reason=what, events=events)
        _finish(case, events)
    return case


def receive_info(*, case: Case, actor: Actor, note: str = "", version: int | None = None) -> Case:
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.INFO_RECEIVED, actor, events, version=version, note=note)
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is not None and clock.state == ClockState.PAUSED:
            clocks.resume_clock(clock=clock, actor=actor, events=events)
        _finish(case, events)
    return case


def extend_handling(*, case: Case, actor: Actor, days: int, reason: str) -> Case:
    """Extend the handling clock once, with approval, by at most 30 days (信访工作条例 Art. 34)."""
    reason = _require(reason, "延期理由")
    if not _staff(actor, "延期须经信访办批准").has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
        raise NotAllowed("延期须经信访办批准")
    with transaction.atomic():
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is None:
            raise IllegalMove("该信访件没有正在计时的办理时限")
        events: list[CaseEvent] = []
        clocks.extend_clock(clock=clock, amount=days, actor=actor, reason=reason, events=events)
        _finish(case, events)
    return case


def request_extension(*, case: Case, actor: Actor, days: int, reason: str) -> ExtensionRequest:
    """The lead unit asks for more time; its leader and then the petition office approve (Art. 34)."""
    reason = _require(reason, "延期理由")
    lead = case.lead_assignment
    if case.status not in (CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_INFO) or lead is None:
        raise IllegalMove("只有办理中的信访件可以申请延期")
    user = _check_unit_actor(actor, lead)
    clock = clocks.running_clock(case, K.HANDLING)
    if clock is None or not clock.can_extend:
        raise IllegalMove("该信访件的办理时限已经延期过一次，不能再申请")
    limit = clocks.choose_policy(K.HANDLING, case).max_extension
    if not 1 <= days <= limit:
        raise InvalidInput(f"延期天数必须在 1 到 {limit} 天之间")
    if case.extension_requests.filter(
        status__in=[ExtensionStatus.REQUESTED, ExtensionStatus.UNIT_APPROVED]
    ).exists():
        raise IllegalMove("已有一份延期申请在审批中")
    with transaction.atomic():
        request = ExtensionRequest.objects.create(
            case=case, unit=lead.unit, days=days, reason=reason, requested_by=user
        )
        write_events(
            [
                new_event(
                    case=case,
                    kind=EventKind.EXTENSION_REQUESTED,
                    actor=actor,
                    note=reason,
                    data={"request": request.pk, "days": days},
                )
            ]
        )
    return request


def decide_extension(
    *, request: ExtensionRequest, actor: Actor, approve: bool, note: str = ""
) -> ExtensionRequest:
    """First the unit's leader, then the petition office. The office's approval extends the clock."""
    user = _staff(actor, "您无权审批延期申请")
    with transaction.atomic():
        current = (
            ExtensionRequest.objects.select_for_update().select_related("case", "unit").get(pk=request.pk)
        )
        case = current.case
        if current.status == ExtensionStatus.REQUESTED:
            if not (user.has_role(Role.UNIT_LEADER) and acts_for_unit(user, current.unit.path)):
                raise NotAllowed("延期申请须先由承办单位负责人审批")
            stage, next_status = "unit", ExtensionStatus.UNIT_APPROVED
            current.unit_decided_by = user
        elif current.status == ExtensionStatus.UNIT_APPROVED:
            if not user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
                raise NotAllowed("延期申请须经信访办审批")
            stage, next_status = "office", ExtensionStatus.APPROVED
            current.office_decided_by = user
        else:
            raise Conflict("该延期申请已经审批完毕")
        current.status = next_status if approve else ExtensionStatus.REJECTED
        current.decision_note = note
        if not approve or next_status == ExtensionStatus.APPROVED:
            current.decided_at = timezone.now()
        current.save(
            update_fields=["status", "decision_note", "decided_at", "unit_decided_by", "office_decided_by"]
        )
        events = [
            new_event(
                case=case,
                kind=EventKind.EXTENSION_DECIDED,
                actor=actor,
                note=note,
                data={"request": current.pk, "stage": stage, "approved": approve},
            )
        ]
        if approve and next_status == ExtensionStatus.APPROVED:
            clock = clocks.running_clock(case, K.HANDLING)
            if clock is None:
                raise IllegalMove("该信访件没有正在计时的办理时限")
            clocks.extend_clock(
                clock=clock, amount=current.days, actor=actor, reason=current.reason, events=events
            )
        _finish(case, events)
    return current


def add_note(
    *,
    case: Case,
    actor: Actor,
    note: str,
    action: str = ActionKind.NOTE,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Record an action taken on a case: a call, a visit, a meeting, assistance (帮扶救助), counselling
    (思想疏导), a referral to mediation — besides solving the problem itself, these count in analytics."""
    note = _require(note, "办理记录")
    if action not in ActionKind.values:
        raise InvalidInput(f"办理方式“{action}”无效")
    if case.status not in OPEN_STATES:
        raise IllegalMove("已结束的信访件不能再添加办理记录")
    user = _staff(actor, "只有工作人员可以添加办理记录")
    # The office and mediators record on any case they reach; a unit only on a case it has a task on (seeing a
    # case in its jurisdiction before it is dispatched there is not working on it).
    if not (user.is_office_staff or user.has_role(Role.MEDIATOR)):
        task_units = Assignment.objects.filter(case=case).values_list("unit__path", flat=True)
        if not any(acts_for_unit(user, path) for path in task_units):
            raise NotAllowed("本单位没有该信访件的交办任务，不能添加办理记录")
    with transaction.atomic():
        events = [
            new_event(
                case=case,
                kind=EventKind.NOTE,
                actor=actor,
                note=note,
                data={**(data or {}), "action": action},
            )
        ]
        write_events(events)
    return events[0]


REPLY_PARTS = {
    "facts": "事实",
    "basis": "依据",
    "conclusion": "结论",
    "review_rights": "申请复查的权利和期限告知",
}


def draft_reply(
    *, case: Case, actor: Actor, facts: str, basis: str, conclusion: str, review_rights: str
) -> Reply:
    """Write the answer. A reply must state facts, basis, conclusion and the right to request a review with its
    deadline (信访工作条例 Art. 32, 35); one missing any of them is refused naming what is missing."""
    parts = {"facts": facts, "basis": basis, "conclusion": conclusion, "review_rights": review_rights}
    missing = [label for key, label in REPLY_PARTS.items() if not (parts[key] or "").strip()]
    if missing:
        raise InvalidInput("答复意见缺少：" + "、".join(missing))
    if case.status not in (CaseStatus.IN_PROGRESS,):
        raise IllegalMove(f"信访件处于“{CaseStatus(case.status).label}”状态，不能起草答复")
    lead = case.lead_assignment
    if lead is None:
        raise IllegalMove("该信访件没有主办单位")
    author = _check_unit_actor(actor, lead)
    with transaction.atomic():
        reply = Reply.objects.create(
            case=case, unit=lead.unit, author=author, **{k: v.strip() for k, v in parts.items()}
        )
        write_events(
            [
                new_event(
                    case=case, kind=EventKind.NOTE, actor=actor, note="起草答复意见", data={"reply": reply.pk}
                )
            ]
        )
    return reply


def approve_reply(*, reply: Reply, actor: Actor) -> Reply:
    """The unit leader approves the reply before it is sent."""
    approver = _staff(actor, "答复意见须由承办单位负责人审批")
    if not approver.has_role(Role.UNIT_LEADER):
        raise NotAllowed("答复意见须由承办单位负责人审批")
    if not (approver.is_superuser or acts_for_unit(approver, reply.unit.path)):
        raise NotAllowed("只能审批本单位的答复意见")
    with transaction.atomic():
        changed = Reply.objects.filter(pk=reply.pk, approved_at__isnull=True).update(
            approved_by=approver, approved_at=timezone.now()
        )
        if not changed:
            raise Conflict("该答复意见已经审批过了")
        reply.refresh_from_db()
        write_events(
            [
                new_event(
                    case=reply.case,
                    kind=EventKind.NOTE,
                    actor=actor,
                    note="审批通过答复意见",
                    data={"reply": reply.pk},
                )
            ]
        )
    return reply


def send_reply(*, case: Case, actor: Actor, version: int | None = None) -> Case:
    """Send the approved reply: the handling clock stops, the follow-up window and the 30-day window to request
    a review (Art. 35) start."""
    reply = case.replies.filter(sent_at__isnull=True).order_by("-created_at").first()
    if reply is None:
        raise IllegalMove("没有待发送的答复意见，请先起草")
    if reply.approved_at is None:
        raise IllegalMove("答复意见尚未经单位负责人审批，不能发送")
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(case, Move.REPLY, actor, events, version=version, note=reply.conclusion, replied_at=now)
        Reply.objects.filter(pk=reply.pk).update(sent_at=now)
        documents.issue(
            case=case,
            kind=DocumentKind.REPLY,
            actor=actor,
            events=events,
            unit=reply.unit.name,
            facts=reply.facts,
            basis=reply.basis,
            conclusion=reply.conclusion,
            review_rights=reply.review_rights,
        )
        Assignment.objects.filter(case=case, status=AssignmentStatus.SIGNED).update(
            status=AssignmentStatus.REPLIED, replied_at=now
        )
        # Answered: the units' windows to object to the task close with it.
        clocks.stop_clocks(case=case, kinds=[K.HANDLING, K.SIGN, K.RETURN_WINDOW], actor=actor, events=events)
        _move(case, Move.START_FOLLOW_UP, SYSTEM, events)
        clocks.start_clock(case=case, kind=K.FOLLOW_UP_WINDOW, actor=actor, start=now, events=events)
        clocks.start_clock(case=case, kind=K.REVIEW_REQUEST_WINDOW, actor=actor, start=now, events=events)
        _finish(case, events)
        notify_case_event(case=case, kind="reply_sent")
        notify_case_event(case=case, kind="follow_up")
    return case
