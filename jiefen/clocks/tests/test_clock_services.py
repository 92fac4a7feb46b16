"""Clocks on real cases: policies, pause and resume across the Spring Festival, one extension, the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiefen.cases import services
from jiefen.cases.models import CaseEvent, ClockColour, EventKind
from jiefen.cases.workflow import CaseStatus
from jiefen.clocks.calendar import clear_cache
from jiefen.clocks.models import CalendarDay, Clock, ClockKind, ClockPolicy, ClockState, Colour
from jiefen.clocks.services import sweep
from jiefen.core.errors import DomainError, IllegalMove

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=TZ)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=TZ)


def clock(case: Any, kind: str) -> Clock:
    return Clock.objects.filter(case=case, kind=kind).latest("started_at")


def test_registration_starts_the_15_day_acceptance_clock(make_case: Any) -> None:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = make_case()
    acceptance = clock(case, ClockKind.ACCEPTANCE)
    assert (acceptance.amount, acceptance.unit) == (15, "days")
    assert acceptance.due_at == end_of(2026, 3, 17)
    case.refresh_from_db()
    assert case.due_at == end_of(2026, 3, 17)
    assert case.clock_colour == ClockColour.GREEN


def test_acceptance_stops_its_clock_and_starts_60_days_of_handling(make_case: Any, dispatcher: Any) -> None:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 3, 5), tick=False):
        services.accept_case(case=case, actor=dispatcher)
    assert clock(case, ClockKind.ACCEPTANCE).state == ClockState.STOPPED
    handling = clock(case, ClockKind.HANDLING)
    # 60 days from 5 Mar 2026 is Mon 4 May, inside the Labour Day holiday (1–5 May): it ends Wed 6 May.
    assert handling.due_at == end_of(2026, 5, 6)
    case.refresh_from_db()
    assert case.due_at == handling.due_at


def test_the_most_specific_policy_wins(make_case: Any) -> None:
    # The shipped sample catalogue: hotline cases are signed for within 2 hours, urgent ones handled in 24.
    case = make_case(channel="hotline_12345", urgency="urgent")
    from jiefen.clocks.services import choose_policy

    assert (choose_policy(ClockKind.SIGN, case).amount, choose_policy(ClockKind.SIGN, case).unit) == (
        2,
        "hours",
    )
    assert choose_policy(ClockKind.HANDLING, case).amount == 24
    walk_in = make_case()
    assert (
        choose_policy(ClockKind.HANDLING, walk_in).amount,
        choose_policy(ClockKind.HANDLING, walk_in).unit,
    ) == (60, "days")


def test_a_category_policy_applies_to_the_categories_below_it(make_case: Any) -> None:
    from jiefen.cases.models import Category
    from jiefen.clocks.services import choose_policy

    property_mgmt = Category.objects.get(code="WY")
    parking = Category.objects.get(code="WY0101")
    ClockPolicy.objects.create(kind=ClockKind.HANDLING, category=property_mgmt, amount=10, unit="workdays")
    from jiefen.clocks.services import clear_policy_cache

    clear_policy_cache()
    assert choose_policy(ClockKind.HANDLING, make_case(category_id=parking.pk)).amount == 10
    assert (
        choose_policy(ClockKind.HANDLING, make_case(category_id=Category.objects.get(code="ZD").pk)).amount
        == 60
    )


def test_awaiting_information_pauses_the_handling_clock_across_the_spring_festival(
    dispatched_case: Any, handler_a: Any
) -> None:
    case = dispatched_case
    lead = case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    handling = clock(case, ClockKind.HANDLING)
    # Pretend the handling clock is on working days and due Thu 12 Feb 2026.
    Clock.objects.filter(pk=handling.pk).update(
        unit="workdays", due_at=end_of(2026, 2, 12), warn_at=at(2026, 2, 11)
    )
    case.refresh_from_db()
    with time_machine.travel(at(2026, 2, 9), tick=False):  # Monday: 10, 11, 12 left = 3 working days
        services.request_info(case=case, actor=handler_a, what="请提供房屋产权证明")
    paused = clock(case, ClockKind.HANDLING)
    assert paused.state == ClockState.PAUSED
    assert paused.remaining == 3
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_INFO
    with time_machine.travel(at(2026, 2, 13), tick=False):  # Friday before the holiday
        services.receive_info(case=case, actor=handler_a, note="材料已收到")
    resumed = clock(case, ClockKind.HANDLING)
    # Three working days after Fri 13 Feb: Sat 14 (make-up), Tue 24, Wed 25.
    assert resumed.state == ClockState.RUNNING
    assert resumed.due_at == end_of(2026, 2, 25)
    assert resumed.paused_seconds == 4 * 24 * 3600
    kinds = list(case.events.values_list("kind", flat=True))
    assert EventKind.CLOCK_PAUSED in kinds and EventKind.CLOCK_RESUMED in kinds


def test_handling_can_be_extended_once_by_at_most_30_days(dispatched_case: Any, dispatcher: Any) -> None:
    case = dispatched_case
    handling = clock(case, ClockKind.HANDLING)
    Clock.objects.filter(pk=handling.pk).update(due_at=end_of(2026, 3, 31))
    with pytest.raises(DomainError, match="1 到 30"):
        services.extend_handling(case=case, actor=dispatcher, days=31, reason="情况复杂")
    services.extend_handling(case=case, actor=dispatcher, days=30, reason="情况复杂，需要现场核查")
    extended = clock(case, ClockKind.HANDLING)
    assert extended.extended_by == 30
    assert extended.due_at == end_of(2026, 4, 30)
    with pytest.raises(IllegalMove, match="延期过一次"):
        services.extend_handling(case=case, actor=dispatcher, days=5, reason="再延")
    assert clock(case, ClockKind.HANDLING).due_at == end_of(2026, 4, 30)


def test_unit_staff_cannot_extend_on_their_own(dispatched_case: Any, handler_a: Any) -> None:
    from jiefen.core.errors import NotAllowed

    before = clock(dispatched_case, ClockKind.HANDLING).due_at
    with pytest.raises(NotAllowed):
        services.extend_handling(case=dispatched_case, actor=handler_a, days=10, reason="忙")
    assert clock(dispatched_case, ClockKind.HANDLING).due_at == before


def test_the_sweep_turns_clocks_yellow_then_red_once_each(make_case: Any) -> None:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = make_case()
    acceptance = clock(case, ClockKind.ACCEPTANCE)
    warn_moment = acceptance.warn_at + timedelta(minutes=1)
    first = sweep(now=warn_moment)
    assert (first.warned, first.breached) == (1, 0)
    assert sweep(now=warn_moment).warned == 0  # already claimed: nothing twice
    case.refresh_from_db()
    assert case.clock_colour == ClockColour.YELLOW
    late = sweep(now=acceptance.due_at + timedelta(minutes=1))
    assert (late.warned, late.breached) == (0, 1)
    case.refresh_from_db()
    assert case.clock_colour == ClockColour.RED
    assert clock(case, ClockKind.ACCEPTANCE).colour == Colour.RED
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CLOCK_WARNING).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CLOCK_BREACHED).count() == 1


def test_stopping_the_overdue_clock_clears_the_cases_colour(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    sweep(now=clock(case, ClockKind.ACCEPTANCE).due_at + timedelta(minutes=1))
    case.refresh_from_db()
    assert case.clock_colour == ClockColour.RED
    services.accept_case(case=case, actor=dispatcher)
    case.refresh_from_db()
    assert case.clock_colour == ClockColour.GREEN
    stopped = clock(case, ClockKind.ACCEPTANCE)
    assert stopped.state == ClockState.STOPPED
    assert case.events.filter(kind=EventKind.CLOCK_STOPPED).latest("id").data["on_time"] is False


def test_an_admin_holiday_entry_moves_new_deadlines(make_case: Any) -> None:
    # Declare Tue 17 Mar 2026 a holiday: a 15-day period from 2 Mar then ends on Wed 18 Mar.
    CalendarDay.objects.create(date=datetime(2026, 3, 17).date(), is_workday=False, name="测试假日")
    clear_cache()
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = make_case()
    assert clock(case, ClockKind.ACCEPTANCE).due_at == end_of(2026, 3, 18)


def test_a_passed_follow_up_window_closes_the_case_as_not_rated(
    dispatched_case: Any, handler_a: Any, leader_a: Any
) -> None:
    case = dispatched_case
    services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
    case.refresh_from_db()
    reply = services.draft_reply(
        case=case,
        actor=handler_a,
        facts="已核实",
        basis="依据",
        conclusion="已处理",
        review_rights="30日内可申请复查",
    )
    services.approve_reply(reply=reply, actor=leader_a)
    case.refresh_from_db()
    services.send_reply(case=case, actor=handler_a)
    window = clock(case, ClockKind.FOLLOW_UP_WINDOW)
    result = sweep(now=window.due_at + timedelta(minutes=1))
    assert result.expired >= 1
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    closing = case.events.filter(kind=EventKind.MOVE).latest("id")
    assert (closing.move, closing.data) == ("window_passed", {"rated": False})
