"""The deadline engine over the Chinese calendar: 2025 and 2026 Spring Festival and National Day with their
make-up working days, calendar-day periods ending on a holiday, years without data."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from jiefen.clocks import engine
from jiefen.clocks.calendar import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "workdays", "due"),
    [
        # 2025 Spring Festival: Jan 28 – Feb 4 off; Sun Jan 26 and Sat Feb 8 are make-up working days.
        (at(2025, 1, 24), 1, end_of(2025, 1, 26)),
        (at(2025, 1, 24), 2, end_of(2025, 1, 27)),
        (at(2025, 1, 24), 3, end_of(2025, 2, 5)),
        (at(2025, 1, 24), 5, end_of(2025, 2, 7)),
        (at(2025, 1, 24), 6, end_of(2025, 2, 8)),
        # 2025 National Day: Oct 1 – 8 off; Sun Sep 28 and Sat Oct 11 are make-up working days.
        (at(2025, 9, 26), 1, end_of(2025, 9, 28)),
        (at(2025, 9, 26), 4, end_of(2025, 10, 9)),
        (at(2025, 9, 26), 6, end_of(2025, 10, 11)),
        # 2026 Spring Festival: Feb 15 – 23 off; Sat Feb 14 and Sat Feb 28 are make-up working days.
        (at(2026, 2, 12), 2, end_of(2026, 2, 14)),
        (at(2026, 2, 12), 3, end_of(2026, 2, 24)),
        (at(2026, 2, 12), 5, end_of(2026, 2, 26)),
        (at(2026, 2, 26), 2, end_of(2026, 2, 28)),
        # 2026 National Day: Oct 1 – 7 off; Sun Sep 20 and Sat Oct 10 are make-up working days.
        (at(2026, 9, 18), 1, end_of(2026, 9, 20)),
        (at(2026, 9, 30), 1, end_of(2026, 10, 8)),
        (at(2026, 9, 30), 3, end_of(2026, 10, 10)),
    ],
)
def test_it_counts_working_days_across_holidays_and_make_up_days(
    start: datetime, workdays: int, due: datetime
) -> None:
    assert engine.add(start, workdays, engine.WORKDAYS, CAL, TZ) == due


def test_the_return_window_of_five_working_days_spans_the_2026_spring_festival() -> None:
    # Dispatched on Fri 13 Feb 2026: Sat 14 (make-up), then the holiday, then 24, 25, 26, 27.
    assert engine.add(at(2026, 2, 13), 5, engine.WORKDAYS, CAL, TZ) == end_of(2026, 2, 27)


def test_a_calendar_day_period_ending_on_a_holiday_ends_on_the_next_working_day() -> None:
    # 15 days from 31 Jan 2026 is 15 Feb, the first day of the Spring Festival: it ends on 24 Feb.
    assert engine.add(at(2026, 1, 31), 15, engine.DAYS, CAL, TZ) == end_of(2026, 2, 24)
    # 15 days from 16 Sep 2025 is 1 Oct (National Day): it ends on 9 Oct.
    assert engine.add(at(2025, 9, 16), 15, engine.DAYS, CAL, TZ) == end_of(2025, 10, 9)
    # An ordinary working day stays as it is.
    assert engine.add(at(2026, 3, 2), 15, engine.DAYS, CAL, TZ) == end_of(2026, 3, 17)


def test_a_calendar_day_period_ending_on_a_make_up_working_day_is_not_moved() -> None:
    # 15 days from 13 Feb 2026 is Sat 28 Feb, a make-up working day.
    assert engine.add(at(2026, 2, 13), 15, engine.DAYS, CAL, TZ) == end_of(2026, 2, 28)


def test_hour_periods_ignore_the_calendar() -> None:
    assert engine.add(at(2026, 2, 16, 9), 2, engine.HOURS, CAL, TZ) == at(2026, 2, 16, 11)


def test_remaining_counts_what_is_left_in_the_clocks_unit() -> None:
    due = end_of(2026, 2, 26)
    assert engine.remaining(at(2026, 2, 13), due, engine.WORKDAYS, CAL, TZ) == 4  # 14, 24, 25, 26
    assert engine.remaining(at(2026, 2, 13), due, engine.DAYS, CAL, TZ) == 13
    assert engine.remaining(at(2026, 2, 27), due, engine.WORKDAYS, CAL, TZ) == 0
    assert engine.remaining(at(2026, 2, 16, 9), at(2026, 2, 16, 11, 30), engine.HOURS, CAL, TZ) == 2.5


def test_a_year_without_data_falls_back_to_weekends_and_is_flagged() -> None:
    assert not CAL.has_data_for(2031)
    assert CAL.years_without_data([2026, 2031]) == [2031]
    # 1 Oct 2031 is a Wednesday: without the State Council's notice it counts as a working day.
    assert CAL.is_workday(date(2031, 10, 1))
    assert not CAL.is_workday(date(2031, 10, 4))


def test_admin_entries_override_the_built_in_calendar() -> None:
    cal = WorkCalendar(
        overrides={date(2031, 10, 1): False, date(2031, 10, 4): True}, complete_years=frozenset({2031})
    )
    assert not cal.is_workday(date(2031, 10, 1))
    assert cal.is_workday(date(2031, 10, 4))
    assert cal.years_without_data([2031]) == []
    # Tue 30 Sep 2031 + 1 working day: Wed 1 Oct is now a holiday, so Thu 2 Oct.
    assert engine.add(at(2031, 9, 30), 1, engine.WORKDAYS, cal, TZ) == end_of(2031, 10, 2)


def test_unknown_units_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time unit"):
        engine.add(at(2026, 1, 5), 1, "fortnights", CAL, TZ)


def test_warning_time_is_the_configured_share_of_the_period() -> None:
    start, due = at(2026, 3, 1, 0), at(2026, 3, 11, 0)
    assert engine.warn_time(start, due, 0.8) == at(2026, 3, 9, 0)
