"""The Chinese working-day calendar.

Order of authority for a date: an admin's ``CalendarDay`` entry, then the ``chinesecalendar`` package (the State
Council's notices up to the last year it knows), then plain weekends. Years that fall back to weekends are
reported by ``years_without_data`` so admins are told to load the new notice (published each
November–December).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

_PACKAGE_YEARS: frozenset[int] = frozenset(d.year for d in chinese_calendar.holidays)


@dataclass(frozen=True)
class WorkCalendar:
    """A snapshot of the calendar: admin overrides plus the package's data. Pure; safe to share."""

    overrides: dict[date, bool] = field(default_factory=dict)
    complete_years: frozenset[int] = frozenset()
    # Answers already worked out (the package's lookup is slow next to a dict, and imports ask it per case).
    _memo: dict[date, bool] = field(default_factory=dict, compare=False, repr=False)

    def has_data_for(self, year: int) -> bool:
        return year in _PACKAGE_YEARS or year in self.complete_years

    def is_workday(self, day: date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        if day.year in _PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself not counted, as legal periods are)."""
        current = day
        remaining = count
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def years_without_data(self, years: Iterable[int]) -> list[int]:
        return [year for year in years if not self.has_data_for(year)]


_cache_lock = threading.Lock()
_cached: tuple[float, WorkCalendar] | None = None
CACHE_SECONDS = 60.0


def current_calendar() -> WorkCalendar:
    """The calendar with the admins' entries, cached for a minute per process (changes made in this process
    clear the cache at once; other processes see them within a minute)."""
    global _cached
    now = time.monotonic()
    with _cache_lock:
        if _cached is not None and now - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    from jiefen.clocks.models import CalendarDay, CalendarYear

    snapshot = WorkCalendar(
        overrides=dict(CalendarDay.objects.values_list("date", "is_workday")),
        complete_years=frozenset(
            CalendarYear.objects.filter(is_complete=True).values_list("year", flat=True)
        ),
    )
    with _cache_lock:
        _cached = (now, snapshot)
    return snapshot


def clear_cache() -> None:
    global _cached
    with _cache_lock:
        _cached = None
