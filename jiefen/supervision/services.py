"""Supervision (督查督办): urging a unit, formal supervision orders with their own clock, and escalation to a
leader. Everything lands on the case's timeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jiefen.cases.events import new_event, write_events
from jiefen.cases.models import Case, EventKind
from jiefen.cases.workflow import OPEN_STATES
from jiefen.clocks import services as clocks
from jiefen.clocks.models import ClockKind
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.notify.events import notify_case_event
from jiefen.org.models import Role, Unit, User
from jiefen.supervision.models import OrderStatus, SupervisionOrder

SUPERVISORS = (Role.SUPERVISOR, Role.LEADER, Role.ADMIN)


def _supervisor(actor: Any) -> User:
    if not isinstance(actor, User) or not actor.is_active or not actor.has_role(*SUPERVISORS):
        raise NotAllowed("只有督办员和领导可以督办")
    return actor


def _open(case: Case) -> None:
    if case.status not in OPEN_STATES:
        raise IllegalMove("该信访件已结束，无需督办")


def _text(value: str, what: str) -> str:
    if not (value or "").strip():
        raise InvalidInput(f"请填写{what}")
    return value.strip()


def urge(*, case: Case, actor: Any, message: str) -> None:
    """催办: remind the units working on the case that its clock is running out."""
    _supervisor(actor)
    _open(case)
    message = _text(message, "催办内容")
    units = sorted(
        {
            a.unit.name
            for a in case.assignments.filter(status__in=["pending", "signed"]).select_related("unit")
        }
    )
    if not units:
        raise IllegalMove("该信访件还没有承办单位，无从催办")
    with transaction.atomic():
        (event,) = write_events(
            [new_event(case=case, kind=EventKind.URGED, actor=actor, note=message, data={"units": units})]
        )
        notify_case_event(case=case, kind="urged", ref=f"event-{event.pk}", note=message)


def issue_order(*, case: Case, actor: Any, unit: Unit, instructions: str) -> SupervisionOrder:
    """督办: a formal order to a unit, answered within its own clock (the supervision policy)."""
    user = _supervisor(actor)
    _open(case)
    instructions = _text(instructions, "督办要求")
    if SupervisionOrder.objects.filter(case=case, unit=unit, status=OrderStatus.OPEN).exists():
        raise IllegalMove(f"已对“{unit.name}”下达督办单，尚未反馈")
    with transaction.atomic():
        events: list[Any] = []
        clock = clocks.start_clock(case=case, kind=ClockKind.SUPERVISION, actor=actor, events=events)
        order = SupervisionOrder.objects.create(
            case=case, unit=unit, instructions=instructions, issued_by=user, due_at=clock.due_at
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.SUPERVISION_ORDERED,
                actor=actor,
                note=instructions,
                data={"order": order.pk, "unit": unit.name, "due_at": clock.due_at.isoformat()},
            )
        )
        write_events(events)
        clocks.refresh_case(case)
        notify_case_event(
            case=case, kind="supervision", ref=f"order-{order.pk}", note=instructions, due_at=order.due_at
        )
    return order


def answer_order(*, order: SupervisionOrder, actor: Any, answer: str) -> SupervisionOrder:
    """The unit answers the order: what it has done."""
    from jiefen.cases.permissions import acts_for_unit

    answer = _text(answer, "督办反馈")
    if not (isinstance(actor, User) and actor.has_role(Role.UNIT_HANDLER, Role.UNIT_LEADER)):
        raise NotAllowed("只有被督办单位可以反馈")
    if not (actor.is_superuser or acts_for_unit(actor, order.unit.path)):
        raise NotAllowed(f"该督办单下达给“{order.unit.name}”，您无权反馈")
    with transaction.atomic():
        now = timezone.now()
        changed = SupervisionOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=OrderStatus.ANSWERED, answer=answer, answered_by=actor, answered_at=now
        )
        if not changed:
            raise Conflict("该督办单已经反馈过了")
        order.refresh_from_db()
        events: list[Any] = []
        clocks.stop_clocks(case=order.case, kinds=[ClockKind.SUPERVISION], actor=actor, events=events)
        events.append(
            new_event(
                case=order.case,
                kind=EventKind.SUPERVISION_ANSWERED,
                actor=actor,
                note=answer,
                data={"order": order.pk, "unit": order.unit.name},
            )
        )
        write_events(events)
        clocks.refresh_case(order.case)
    return order


def escalate(*, case: Case, actor: Any, leader: User, note: str) -> None:
    """提交领导: hand a case to a named leader's attention (a backlog case gets its 包案领导)."""
    _supervisor(actor)
    _open(case)
    note = _text(note, "提交理由")
    if not leader.has_role(Role.LEADER):
        raise InvalidInput(f"“{leader}”不是领导")
    write_events(
        [
            new_event(
                case=case,
                kind=EventKind.ESCALATED,
                actor=actor,
                note=note,
                data={"leader": leader.pk, "leader_name": str(leader)},
            )
        ]
    )
