"""Urging, supervision orders with their own clock, escalation; and who may do them."""

from __future__ import annotations

from typing import Any

import pytest

from jiefen.cases.models import CaseEvent, EventKind
from jiefen.clocks.models import Clock, ClockKind, ClockState
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.supervision import queries, services
from jiefen.supervision.models import OrderStatus


def test_a_supervisor_urges_the_units_on_a_case(dispatched_case: Any, supervisor: Any) -> None:
    services.urge(case=dispatched_case, actor=supervisor, message="时限将至，请加快办理")
    event = dispatched_case.events.get(kind=EventKind.URGED)
    assert (event.note, event.data) == ("时限将至，请加快办理", {"units": ["八角街道"]})


def test_urging_needs_a_supervisor_and_a_unit(
    make_case: Any, dispatched_case: Any, handler_a: Any, supervisor: Any
) -> None:
    with pytest.raises(NotAllowed):
        services.urge(case=dispatched_case, actor=handler_a, message="快点")
    with pytest.raises(IllegalMove, match="还没有承办单位"):
        services.urge(case=make_case(), actor=supervisor, message="快点")
    with pytest.raises(InvalidInput):
        services.urge(case=dispatched_case, actor=supervisor, message="  ")
    assert not CaseEvent.objects.filter(kind=EventKind.URGED).exists()


def test_a_supervision_order_runs_its_own_clock_until_the_unit_answers(
    dispatched_case: Any, supervisor: Any, handler_a: Any, outsider_b: Any, district: dict[str, Any]
) -> None:
    order = services.issue_order(
        case=dispatched_case,
        actor=supervisor,
        unit=district["street_a"],
        instructions="5个工作日内反馈处理结果",
    )
    clock = Clock.objects.get(case=dispatched_case, kind=ClockKind.SUPERVISION)
    assert (clock.state, clock.unit, clock.amount) == (ClockState.RUNNING, "workdays", 5)
    assert order.due_at == clock.due_at
    assert list(queries.open_orders(supervisor)) == [order]
    with pytest.raises(IllegalMove, match="尚未反馈"):
        services.issue_order(
            case=dispatched_case, actor=supervisor, unit=district["street_a"], instructions="再次督办"
        )
    with pytest.raises(NotAllowed, match="八角街道"):
        services.answer_order(order=order, actor=outsider_b, answer="不是我们")
    services.answer_order(order=order, actor=handler_a, answer="已约谈物业，完成清理")
    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED
    assert Clock.objects.get(pk=clock.pk).state == ClockState.STOPPED
    with pytest.raises(Conflict):
        services.answer_order(order=order, actor=handler_a, answer="再答一次")
    kinds = list(dispatched_case.events.values_list("kind", flat=True))
    assert EventKind.SUPERVISION_ORDERED in kinds and EventKind.SUPERVISION_ANSWERED in kinds


def test_escalation_names_a_leader(
    dispatched_case: Any, supervisor: Any, leader: Any, handler_a: Any
) -> None:
    with pytest.raises(InvalidInput, match="不是领导"):
        services.escalate(case=dispatched_case, actor=supervisor, leader=handler_a, note="请领导包案")
    services.escalate(case=dispatched_case, actor=supervisor, leader=leader, note="多次重复信访，请领导包案")
    event = dispatched_case.events.get(kind=EventKind.ESCALATED)
    assert event.data == {"leader": leader.pk, "leader_name": "leader"}


def test_supervisors_see_yellow_and_red_lists(make_case: Any, supervisor: Any, outsider_b: Any) -> None:
    from datetime import timedelta

    from jiefen.clocks.services import sweep

    case = make_case()
    acceptance = Clock.objects.get(case=case, kind=ClockKind.ACCEPTANCE)
    sweep(now=acceptance.warn_at + timedelta(minutes=1))
    assert list(queries.cases_at(supervisor, "yellow")) == [case]
    assert list(queries.cases_at(supervisor, "red")) == []
    assert list(queries.cases_at(outsider_b, "yellow")) == []
