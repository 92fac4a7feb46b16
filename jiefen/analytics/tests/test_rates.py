"""Every rate on hand-built cases whose right answer is known, counted through the rollup job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiefen.analytics.models import DailyRollup, RollupMark, ScoreSettings
from jiefen.analytics.queries import Filters, dashboard, drill_cases
from jiefen.analytics.rates import Weights, rates_of
from jiefen.analytics.services import rebuild_rollups, refresh_rollups
from jiefen.cases import services
from jiefen.cases.actors import CITIZEN
from jiefen.cases.models import Case
from jiefen.clocks.services import sweep

TZ = ZoneInfo("Asia/Shanghai")
MARCH = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=TZ)


def _reply(case: Case, handler: Any, unit_leader: Any) -> None:
    case = Case.objects.get(pk=case.pk)
    reply = services.draft_reply(
        case=case, actor=handler, facts="f", basis="b", conclusion="c", review_rights="r"
    )
    services.approve_reply(reply=reply, actor=unit_leader)
    services.send_reply(case=Case.objects.get(pk=case.pk), actor=handler)


@pytest.fixture
def four_cases(
    make_case: Callable[..., Case], dispatcher: Any, handler_a: Any, leader_a: Any, district: dict[str, Any]
) -> list[Case]:
    """Four complaints to street A, received on Monday 2 March 2026 and dispatched the same morning.

    1: signed at once, replied on 12 March, rated 已解决 / 满意
    2: signed at once, replied on 12 March, rated 部分解决 / 基本满意
    3: signed on 5 March after its one-working-day sign clock was breached, replied, rated 未解决 / 不满意
    4: never signed; its sign clock is breached
    """
    cases = []
    with time_machine.travel(at(2, 9), tick=False):
        for n in range(4):
            case = make_case(
                channel="phone" if n < 2 else "walk_in", jurisdiction_unit_id=district["community_a1"].pk
            )
            services.accept_case(case=case, actor=dispatcher)
            services.dispatch_case(
                case=Case.objects.get(pk=case.pk), actor=dispatcher, lead_unit=district["street_a"]
            )
            cases.append(case)
    with time_machine.travel(at(2, 11), tick=False):
        for case in cases[:2]:
            services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
    with time_machine.travel(at(5, 9), tick=False):
        assert sweep().breached == 2
    with time_machine.travel(at(5, 10), tick=False):
        services.sign_assignment(assignment=cases[2].assignments.get(role="lead"), actor=handler_a)
    with time_machine.travel(at(12, 10), tick=False):
        for case in cases[:3]:
            _reply(case, handler_a, leader_a)
    ratings = [("resolved", "satisfied"), ("partly", "basically"), ("not_resolved", "not_satisfied")]
    with time_machine.travel(at(13, 10), tick=False):
        for case, (resolved, satisfaction) in zip(cases[:3], ratings, strict=False):
            services.record_feedback(
                case=Case.objects.get(pk=case.pk), actor=CITIZEN, resolved=resolved, satisfaction=satisfaction
            )
    return [Case.objects.get(pk=c.pk) for c in cases]


def test_each_rate_is_counted_once_per_clock_and_rating(four_cases: list[Case], leader: Any) -> None:
    result = refresh_rollups(lag_seconds=0)
    assert result.events > 0
    board = dashboard(leader, MARCH)
    c = board.totals.counts
    assert (c["received"], c["accepted"], c["dispatched"], c["replied"]) == (4, 4, 4, 3)
    # Case 3's late sign is not counted again: it was due once, when the sweep breached it.
    assert (c["response_due"], c["response_met"]) == (4, 2)
    assert board.totals.response == 0.5
    assert (c["handling_due"], c["handling_met"]) == (3, 3)
    assert board.totals.on_time == 1.0
    assert (c["rated"], c["resolved"], c["partly"]) == (3, 1, 1)
    assert board.totals.resolution == pytest.approx(1 / 3)
    assert (c["satisfied"], c["basically"], c["unsatisfied"]) == (1, 1, 1)
    assert board.totals.satisfaction == pytest.approx(2 / 3)
    # Accepted 2 March 09:00, replied 12 March 10:00: 10 days and 1 hour each.
    assert board.totals.avg_handling_days == pytest.approx(10 + 1 / 24)
    # Default weights 0.2 / 0.4 / 0.4 / 0 over response, resolution, satisfaction, on time.
    assert board.totals.score == pytest.approx(0.2 * 0.5 + 0.4 / 3 + 0.4 * 2 / 3)
    assert [(b.label, b.rates.counts["received"]) for b in board.by_channel] == [("来电", 2), ("来访", 2)]
    assert [(b.label, b.rates.counts["received"]) for b in board.by_street] == [("八角街道", 4)]
    assert [(b.label, b.rates.counts["received"]) for b in board.by_community] == [("八角南里社区", 4)]


def test_running_the_job_again_counts_nothing_twice(four_cases: list[Case], leader: Any) -> None:
    refresh_rollups(lag_seconds=0)
    before = list(DailyRollup.objects.order_by("pk").values())
    mark = RollupMark.objects.get().last_event_id
    again = refresh_rollups(lag_seconds=0)
    assert again.events == 0
    assert list(DailyRollup.objects.order_by("pk").values()) == before
    assert RollupMark.objects.get().last_event_id == mark


def test_incremental_runs_add_up_to_one_run(four_cases: list[Case], leader: Any) -> None:
    refresh_rollups(lag_seconds=0, batch=7)
    small = dashboard(leader, MARCH).totals.counts
    rebuild_rollups(lag_seconds=0)
    assert dashboard(leader, MARCH).totals.counts == small


def test_drill_down_lists_exactly_the_cases_behind_a_figure(four_cases: list[Case], leader: Any) -> None:
    one, two, three, four = four_cases
    assert set(drill_cases(leader, MARCH, "response_late")) == {three, four}
    assert set(drill_cases(leader, MARCH, "resolved")) == {one}
    assert set(drill_cases(leader, MARCH, "satisfied")) == {one, two}
    assert set(drill_cases(leader, MARCH, "unsatisfied")) == {three}
    assert set(drill_cases(leader, MARCH, "received")) == {one, two, three, four}
    phone = Filters(start=MARCH.start, end=MARCH.end, channel="phone")
    assert set(drill_cases(leader, phone, "received")) == {one, two}
    assert list(drill_cases(leader, MARCH, "no_such_metric")) == []


def test_a_unit_sees_its_own_figures_and_an_outsider_none(
    four_cases: list[Case], handler_a: Any, outsider_b: Any
) -> None:
    refresh_rollups(lag_seconds=0)
    assert dashboard(handler_a, MARCH).totals.counts["received"] == 4
    assert dashboard(outsider_b, MARCH).totals.counts["received"] == 0
    assert list(drill_cases(outsider_b, MARCH, "received")) == []


def test_ranking_leaves_out_units_with_too_few_cases(four_cases: list[Case], leader: Any) -> None:
    refresh_rollups(lag_seconds=0)
    ScoreSettings.objects.update(min_cases_for_ranking=5)
    board = dashboard(leader, MARCH)
    assert board.ranking == []
    assert [b.label for b in board.left_out] == ["八角街道"]
    ScoreSettings.objects.update(min_cases_for_ranking=4)
    assert [b.label for b in dashboard(leader, MARCH).ranking] == ["八角街道"]


def test_rates_with_nothing_to_count_are_none_and_weights_renormalise() -> None:
    empty = rates_of({})
    assert (empty.response, empty.resolution, empty.satisfaction, empty.on_time, empty.score) == (None,) * 5
    only_ratings = rates_of({"rated": 4, "resolved": 3, "satisfied": 1, "basically": 1})
    assert (only_ratings.resolution, only_ratings.satisfaction) == (0.75, 0.5)
    # Response has no data, so resolution and satisfaction share the weight 1:1.
    assert only_ratings.score == pytest.approx(0.625)
    weighted = rates_of({"rated": 4, "resolved": 3, "satisfied": 2}, Weights(0, 1, 3, 0))
    assert weighted.score == pytest.approx((0.75 + 3 * 0.5) / 4)


def test_the_district_view_from_dimension_rollups_equals_the_full_rollups(
    four_cases: list[Case], leader: Any, district: dict[str, Any]
) -> None:
    refresh_rollups(lag_seconds=0)
    fast = dashboard(leader, MARCH)  # unfiltered: per-dimension rollups
    whole = Filters(start=MARCH.start, end=MARCH.end, unit=district["root"].pk)  # filtered: full rollups
    full = dashboard(leader, whole)
    assert fast.totals == full.totals
    assert fast.series == full.series
    for name in (
        "by_channel",
        "by_type",
        "by_category",
        "by_street",
        "by_community",
        "by_property",
        "ranking",
    ):
        assert [(b.key, b.rates) for b in getattr(fast, name)] == [
            (b.key, b.rates) for b in getattr(full, name)
        ]
