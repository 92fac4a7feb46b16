"""Times as other platforms export them: datetime cells, '2019/5/3 12:00:00', '2019-05-03', '2019年5月3日 12:00',
Excel serial numbers, Unix seconds. Plain Python (dateutil), no Django."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from dateutil import parser as du_parser  # type: ignore[import-untyped]

_EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
_CJK = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?\s*(.*)")
_CJK_TIME = str.maketrans({"时": ":", "点": ":", "分": ":", "秒": ""})
# The shapes nearly every export uses, read without dateutil (which costs ~0.5 ms a value):
# 2019-05-03, 2019/5/3 12:00, 2019-05-03 12:00:00, 2019.5.3 8:05
_COMMON = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class BadTime(ValueError):
    pass


def parse_time(value: object, tz: tzinfo) -> datetime | None:
    """An aware datetime for ``value`` (naive values are taken as local time in ``tz``); None when empty;
    BadTime when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_number(float(value), tz)
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_number(float(text), tz)
    match = _CJK.fullmatch(text)
    if match:
        cjk_year, cjk_month, cjk_day, rest = match.groups()
        clock = rest.translate(_CJK_TIME).strip().rstrip(":")
        text = f"{cjk_year}-{int(cjk_month):02d}-{int(cjk_day):02d} {clock}".strip()
    common = _COMMON.fullmatch(text)
    if common:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in common.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError as exc:
            raise BadTime(text) from exc
    try:
        parsed = du_parser.parse(text, yearfirst=True, dayfirst=False)
    except (ValueError, OverflowError) as exc:
        raise BadTime(text) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _from_number(number: float, tz: tzinfo) -> datetime:
    if 20000 <= number < 80000:  # an Excel serial day (1954 … 2119)
        return (_EXCEL_EPOCH + timedelta(days=number)).replace(tzinfo=tz)
    if 1e8 <= number < 1e10:  # Unix seconds
        return datetime.fromtimestamp(number, tz)
    if 1e11 <= number < 1e13:  # Unix milliseconds
        return datetime.fromtimestamp(number / 1000, tz)
    if 19000101 <= number <= 21001231 and number == int(number):  # 20190503
        try:
            return datetime.strptime(str(int(number)), "%Y%m%d").replace(tzinfo=tz)
        except ValueError as exc:
            raise BadTime(str(number)) from exc
    raise BadTime(str(number))
