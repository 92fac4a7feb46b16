"""The one way a case's status changes, and the checks every service shares."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from jiefen.cases.actors import Actor
from jiefen.cases.events import new_event, write_events
from jiefen.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    EventKind,
)
from jiefen.cases.permissions import acts_for_unit, check_move
from jiefen.cases.workflow import AssignmentStatus, CaseStatus, Move, target_of
from jiefen.clocks import services as clocks
from jiefen.clocks.models import ClockKind
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.org.models import Role, User

K = ClockKind


# --- the one way a status changes -----------------------------------------------------------------------------


def _move(
    case: Case,
    move: Move,
    actor: Actor,
    events: list[CaseEvent],
    *,
    version: int | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    is_public: bool = True,
    **updates: Any,
) -> Case:
    """Compare-and-set the status: the UPDATE only matches the status and version the caller saw."""
    if version is not None and version != case.version:
        raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    target = target_of(move, case.status)
    if target is None:
        raise IllegalMove(f"信访件处于“{CaseStatus(case.status).label}”状态，不能执行“{move.label}”")
    check_move(actor, case, move)
    seen_version = case.version if version is None else version
    now = timezone.now()
    changed = Case.objects.filter(pk=case.pk, status=case.status, version=seen_version).update(
        status=target, version=F("version") + 1, updated_at=now, **updates
    )
    if changed == 0:
        raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    from_status = case.status
    case.status, case.version = target, seen_version + 1
    for name, value in updates.items():
        setattr(case, name, value)
    events.append(
        new_event(
            case=case,
            kind=EventKind.MOVE,
            actor=actor,
            move=move,
            from_status=from_status,
            to_status=target,
            note=note,
            data=data,
            is_public=is_public,
        )
    )
    return case


def _staff(actor: Actor, message: str) -> User:
    """The actor as a staff user, or NotAllowed: some acts are only ever done by office or unit staff."""
    if not isinstance(actor, User) or not actor.is_authenticated or not actor.is_active:
        raise NotAllowed(message)
    return actor


def _user_or_none(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _finish(case: Case, events: list[CaseEvent]) -> None:
    write_events(events)
    clocks.refresh_case(case)


def _require(text: str, what: str) -> str:
    if not (text or "").strip():
        raise InvalidInput(f"请填写{what}")
    return text.strip()


def _lock_assignment(assignment: Assignment, expected: set[str]) -> Assignment:
    current = Assignment.objects.select_for_update().select_related("case", "unit").get(pk=assignment.pk)
    if current.status not in expected:
        raise Conflict(f"该交办任务当前为“{AssignmentStatus(current.status).label}”，请刷新后再操作")
    return current


def _check_unit_actor(actor: Actor, assignment: Assignment) -> User:
    user = _staff(actor, "只有承办单位的工作人员可以办理该任务")
    if not user.has_role(Role.UNIT_HANDLER, Role.UNIT_LEADER):
        raise NotAllowed("只有承办单位的工作人员可以办理该任务")
    if not (user.is_superuser or acts_for_unit(user, assignment.unit.path)):
        raise NotAllowed(f"该任务由“{assignment.unit.name}”办理，您无权操作")
    return user
