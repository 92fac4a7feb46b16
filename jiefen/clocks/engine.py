"""The deadline engine: pure arithmetic over a ``WorkCalendar``.

Conventions (as for legal periods in Chinese law): the day a period starts is not counted; a period in days
ends at the end of its last day; when the last day of a period in days falls on a rest day, the period ends on
the next working day (民法典 Art. 203 and 信访工作条例 practice). A period in hours ends exactly that many hours
later.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jiefen.clocks.calendar import WorkCalendar

HOURS, DAYS, WORKDAYS = "hours", "days", "workdays"
_END_OF_DAY = time(23, 59, 59)


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=tz)


def add(start: datetime, amount: float, unit: str, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    """When a period of ``amount`` ``unit`` that starts at ``start`` ends."""
    if unit == HOURS:
        return start + timedelta(seconds=amount * 3600)
    local_day = start.astimezone(tz).date()
    whole = round(amount)
    if unit == DAYS:
        return _end_of(calendar.next_workday(local_day + timedelta(days=whole)), tz)
    if unit == WORKDAYS:
        return _end_of(calendar.add_workdays(local_day, whole), tz)
    raise ValueError(f"unknown time unit {unit!r}")


def remaining(at: datetime, due: datetime, unit: str, calendar: WorkCalendar, tz: ZoneInfo) -> float:
    """What is left of a period at ``at``, in its own unit (hours, days or working days). Never negative."""
    if unit == HOURS:
        return max(0.0, (due - at).total_seconds() / 3600)
    start_day, due_day = at.astimezone(tz).date(), due.astimezone(tz).date()
    if due_day <= start_day:
        return 0.0
    if unit == DAYS:
        return float((due_day - start_day).days)
    return float(calendar.workdays_between(start_day, due_day))


def warn_time(start: datetime, due: datetime, ratio: float) -> datetime:
    """The moment ``ratio`` of the period's wall-clock time has been used."""
    return start + (due - start) * ratio
