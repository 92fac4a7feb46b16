"""Lenient readers of query-string values: a value that is missing or malformed is simply not there."""

from __future__ import annotations

from datetime import date


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
