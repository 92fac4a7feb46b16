"""Dispatching cases to units and the units' tasks (交办, 签收, 退单, 转派, 协办)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jiefen.cases.actors import SYSTEM, Actor
from jiefen.cases.events import new_event
from jiefen.cases.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    EventKind,
)
from jiefen.cases.permissions import OFFICE_DECISIONS
from jiefen.cases.services._core import (
    K,
    _check_unit_actor,
    _finish,
    _lock_assignment,
    _move,
    _require,
    _staff,
)
from jiefen.cases.workflow import ASSIGNMENT_OPEN, AssignmentStatus, CaseStatus, Move
from jiefen.clocks import services as clocks
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.notify.events import notify_case_event
from jiefen.org.models import UnitKind

# --- dispatch and assignments ------------------------------------------------------------------------------------


def dispatch_case(
    *,
    case: Case,
    actor: Actor,
    lead_unit: Any,
    assist_units: list[Any] | None = None,
    instructions: str = "",
    version: int | None = None,
) -> list[Assignment]:
    """Send the case to a lead unit (主办) and any assisting units (协办). Each task gets a return window of
    5 working days (Art. 23) and a sign clock."""
    assists = [unit for unit in (assist_units or []) if unit.pk != lead_unit.pk]
    if not lead_unit.is_active or any(not unit.is_active for unit in assists):
        raise InvalidInput("不能交办给已停用的单位")
    move = Move.DISPATCH if case.status == CaseStatus.ACCEPTED else Move.REDISPATCH
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, move, actor, events, version=version, note=instructions, data={"lead": lead_unit.name})
        if move == Move.REDISPATCH:
            _close_open_assignments(case, actor, events)
        created = [
            _create_assignment(case, unit, role, actor, instructions, events)
            for unit, role in [
                (lead_unit, AssignmentRole.LEAD),
                *[(u, AssignmentRole.ASSIST) for u in assists],
            ]
        ]
        _finish(case, events)
        notify_case_event(case=case, kind="dispatched", units=[lead_unit, *assists])
    return created


def _create_assignment(
    case: Case,
    unit: Any,
    role: str,
    actor: Actor,
    instructions: str,
    events: list[CaseEvent],
    parent: Any = None,
) -> Assignment:
    now = timezone.now()
    assignment = Assignment.objects.create(
        case=case,
        unit=unit,
        role=role,
        parent=parent,
        instructions=instructions,
        assigned_by=_staff(actor, "只有工作人员可以交办"),
        assigned_at=now,
    )
    window = clocks.start_clock(
        case=case, kind=K.RETURN_WINDOW, actor=actor, assignment=assignment, events=events
    )
    assignment.return_due_at = window.due_at
    assignment.save(update_fields=["return_due_at"])
    if role == AssignmentRole.LEAD:
        clocks.start_clock(case=case, kind=K.SIGN, actor=actor, assignment=assignment, events=events)
    events.append(
        new_event(
            case=case,
            kind=EventKind.ASSIGNED,
            actor=actor,
            note=instructions,
            data={"unit": unit.name, "unit_id": unit.pk, "role": role, "assignment": assignment.pk},
            is_public=role == AssignmentRole.LEAD,
        )
    )
    return assignment


def _close_open_assignments(case: Case, actor: Actor, events: list[CaseEvent]) -> None:
    for assignment in Assignment.objects.filter(case=case, status__in=list(ASSIGNMENT_OPEN)):
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.CANCELLED)
        clocks.stop_clocks(case=case, kinds=[K.SIGN, K.RETURN_WINDOW], assignment=assignment, events=events)


def sign_assignment(*, assignment: Assignment, actor: Actor) -> Assignment:
    """The unit takes the task (签收). When the lead unit signs, the case is in progress."""
    _check_unit_actor(actor, assignment)
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.PENDING})
        case = assignment.case
        events: list[CaseEvent] = []
        now = timezone.now()
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.SIGNED, signed_by=actor, signed_at=now
        )
        assignment.status, assignment.signed_at = AssignmentStatus.SIGNED, now
        clocks.stop_clocks(case=case, kinds=[K.SIGN], assignment=assignment, actor=actor, events=events)
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_SIGNED,
                actor=actor,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
                is_public=assignment.role == AssignmentRole.LEAD,
            )
        )
        if assignment.role == AssignmentRole.LEAD and case.status == CaseStatus.DISPATCHED:
            _move(case, Move.SIGN, actor, events)
        _finish(case, events)
    return assignment


def return_assignment(*, assignment: Assignment, actor: Actor, reason: str) -> Assignment:
    """Send a task back (退单) with a reason, within its 5-working-day window (信访工作条例 Art. 23).
    The dispatcher then reviews it."""
    reason = _require(reason, "退单理由")
    _check_unit_actor(actor, assignment)
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.PENDING, AssignmentStatus.SIGNED})
        now = timezone.now()
        if assignment.return_due_at is not None and now > assignment.return_due_at:
            raise IllegalMove(
                f"退单期限已于 {timezone.localtime(assignment.return_due_at):%Y-%m-%d %H:%M} 届满（5 个工作日），不能再退单"
            )
        case = assignment.case
        events: list[CaseEvent] = []
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.RETURNED, returned_at=now, return_reason=reason, return_decision=""
        )
        assignment.status = AssignmentStatus.RETURNED
        clocks.stop_clocks(
            case=case, kinds=[K.SIGN, K.RETURN_WINDOW], assignment=assignment, actor=actor, events=events
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_RETURNED,
                actor=actor,
                note=reason,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
            )
        )
        _finish(case, events)
    return assignment


def review_return(*, assignment: Assignment, actor: Actor, uphold: bool, note: str = "") -> Assignment:
    """The dispatcher decides a return: upheld, the task ends and (when no lead is left) the case comes back
    for re-dispatch; overruled, the task goes back to the unit to sign."""
    if not _staff(actor, "只有交办员可以审核退单").has_role(*OFFICE_DECISIONS):
        raise NotAllowed("只有交办员可以审核退单")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.RETURNED})
        if assignment.return_decision:
            raise Conflict("该退单已经审核过了")
        case = Case.objects.get(pk=assignment.case_id)
        events: list[CaseEvent] = []
        decision = "upheld" if uphold else "overruled"
        updates: dict[str, Any] = {"return_decision": decision}
        if not uphold:
            updates["status"] = AssignmentStatus.PENDING
        Assignment.objects.filter(pk=assignment.pk).update(**updates)
        for name, value in updates.items():
            setattr(assignment, name, value)
        events.append(
            new_event(
                case=case,
                kind=EventKind.RETURN_REVIEWED,
                actor=actor,
                note=note,
                data={"unit": assignment.unit.name, "assignment": assignment.pk, "decision": decision},
            )
        )
        if not uphold and assignment.role == AssignmentRole.LEAD:
            clocks.start_clock(case=case, kind=K.SIGN, actor=actor, assignment=assignment, events=events)
        open_lead = Assignment.objects.filter(
            case=case, role=AssignmentRole.LEAD, status__in=[*ASSIGNMENT_OPEN, AssignmentStatus.REPLIED]
        ).exists()
        if uphold and not open_lead and case.status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS):
            _close_open_assignments(case, actor, events)
            _move(case, Move.ALL_RETURNED, SYSTEM, events, note="主办单位退单已同意，待重新交办")
        _finish(case, events)
    return assignment


def pass_down_assignment(
    *, assignment: Assignment, actor: Actor, unit: Any, instructions: str = ""
) -> Assignment:
    """A street office passes its task to a community or property company; it stays responsible (首接负责)."""
    _check_unit_actor(actor, assignment)
    if unit.pk == assignment.unit_id:
        raise InvalidInput("不能转派给本单位")
    # Down the tree (a street to its communities) or to a property company; never sideways to another street,
    # which would hand it sight of a case that is not its own.
    if not (unit.path.startswith(assignment.unit.path) or unit.kind == UnitKind.PROPERTY_COMPANY):
        raise InvalidInput(f"只能转派给本单位下属的社区、单位或物业公司，不能转派给“{unit.name}”")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.SIGNED})
        case = assignment.case
        events: list[CaseEvent] = []
        child = _create_assignment(
            case, unit, AssignmentRole.ASSIST, actor, instructions, events, parent=assignment
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_PASSED_DOWN,
                actor=actor,
                note=instructions,
                data={"from": assignment.unit.name, "to": unit.name, "assignment": child.pk},
            )
        )
        _finish(case, events)
    return child


def submit_assist_part(*, assignment: Assignment, actor: Actor, text: str) -> Assignment:
    """An assisting unit (协办) hands its part of the answer to the lead unit."""
    text = _require(text, "协办意见")
    _check_unit_actor(actor, assignment)
    if assignment.role != AssignmentRole.ASSIST:
        raise IllegalMove("主办单位通过答复意见回复，不需要提交协办意见")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.SIGNED})
        now = timezone.now()
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.REPLIED, replied_at=now)
        assignment.status, assignment.replied_at = AssignmentStatus.REPLIED, now
        events: list[CaseEvent] = []
        clocks.stop_clocks(
            case=assignment.case, kinds=[K.RETURN_WINDOW], assignment=assignment, events=events
        )
        events.append(
            new_event(
                case=assignment.case,
                kind=EventKind.ASSIGNMENT_REPLIED,
                actor=actor,
                note=text,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
            )
        )
        _finish(assignment.case, events)
    return assignment
