"""Filling the rollup table from the case events, incrementally, behind a high-water mark.

The job reads the events with an id above the mark, turns each into counter increments on the row of its
(day, place, handling unit, category, channel, case type), adds them with one upsert per batch and moves the
mark, all in one transaction, so a run that dies counts nothing twice. The mark row is locked for the run:
two runs at once take turns.

Ids are handed out when an event is inserted but become visible when its transaction commits; on PostgreSQL
a long transaction can commit an event with a lower id after a higher one was counted. The job therefore
stops before the first event younger than ``lag_seconds`` (30 s on PostgreSQL; 0 on SQLite, where writers take
turns and ids become visible in order).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from jiefen.analytics.models import COUNTERS, DailyRollup, DimensionRollup, RollupMark
from jiefen.cases.models import Assignment, AssignmentRole, CaseEvent, EventKind
from jiefen.cases.workflow import CaseStatus, Move

MARK = "events"
_RELEVANT = [
    EventKind.REGISTERED,
    EventKind.MOVE,
    EventKind.ASSIGNED,
    EventKind.CLOCK_STOPPED,
    EventKind.CLOCK_BREACHED,
    EventKind.FEEDBACK,
]
# Which clock measures which rate: the unit's sign-for clock is the response clock (响应), the handling clock
# is the on-time clock (按时办结).
_CLOCK_COUNTERS = {"sign": ("response_due", "response_met"), "handling": ("handling_due", "handling_met")}
_INDEX = {name: i for i, name in enumerate(COUNTERS)}

Key = tuple[date, int, int, int, str, str]


@dataclass
class RollupResult:
    events: int = 0
    rows: int = 0
    last_event_id: int = 0


def default_lag() -> int:
    configured = getattr(settings, "ANALYTICS_ROLLUP_LAG_SECONDS", None)
    if configured is not None:
        return int(configured)
    return 30 if connection.vendor == "postgresql" else 0


def current_mark() -> int:
    return RollupMark.objects.filter(name=MARK).values_list("last_event_id", flat=True).first() or 0


def is_stale() -> bool:
    """Whether events wait to be counted."""
    return CaseEvent.objects.filter(id__gt=current_mark()).exists()


def refresh_rollups(
    *, batch: int = 20000, lag_seconds: int | None = None, max_batches: int = 1000
) -> RollupResult:
    """Count every event above the mark (up to ``max_batches`` batches of ``batch``); idempotent."""
    result = RollupResult()
    lag = default_lag() if lag_seconds is None else lag_seconds
    for _ in range(max_batches):
        done, events, rows, last = _one_batch(batch, lag)
        result.events += events
        result.rows += rows
        result.last_event_id = last
        if done:
            break
    return result


def _one_batch(batch: int, lag: int) -> tuple[bool, int, int, int]:
    with transaction.atomic():
        RollupMark.objects.get_or_create(name=MARK)
        mark = RollupMark.objects.select_for_update().get(name=MARK)
        start = mark.last_event_id
        cutoff = timezone.now() - timedelta(seconds=lag)
        newer = CaseEvent.objects.filter(id__gt=start)
        young = newer.filter(created_at__gte=cutoff).aggregate(m=Min("id"))["m"] if lag else None
        bound = newer.filter(id__lt=young) if young is not None else newer
        top = bound.order_by("-id").values_list("id", flat=True).first()
        if top is None:
            return True, 0, 0, start
        rows = list(
            bound.filter(kind__in=_RELEVANT)
            .order_by("id")
            .values_list(
                "id",
                "case_id",
                "kind",
                "move",
                "to_status",
                "data",
                "created_at",
                "case__jurisdiction_unit_id",
                "case__category_id",
                "case__channel",
                "case__case_type",
                "case__received_at",
                "case__accepted_at",
            )[:batch]
        )
        full = len(rows) == batch
        last = rows[-1][0] if full else top
        sums = _count(rows)
        _upsert(sums)
        RollupMark.objects.filter(name=MARK).update(last_event_id=last, updated_at=timezone.now())
    return not full, len(rows), len(sums), last


def _lead_units(case_ids: set[int]) -> dict[int, int]:
    """Each case's latest lead unit (主办单位), which the rates of its later events are counted against."""
    units: dict[int, int] = {}
    ids = list(case_ids)
    for start in range(0, len(ids), 5000):
        for case_id, unit_id in (
            Assignment.objects.filter(case_id__in=ids[start : start + 5000], role=AssignmentRole.LEAD)
            .order_by("case_id", "assigned_at", "id")
            .values_list("case_id", "unit_id")
        ):
            units[case_id] = unit_id
    return units


def _breaches(case_ids: set[int]) -> set[tuple[int, str, str]]:
    """(case, clock, due time) of every recorded breach of a sign or handling clock of these cases: a clock
    stopped late after the sweep marked it red was already counted as due when it was breached."""
    found: set[tuple[int, str, str]] = set()
    ids = list(case_ids)
    for start in range(0, len(ids), 5000):
        for case_id, data in CaseEvent.objects.filter(
            case_id__in=ids[start : start + 5000], kind=EventKind.CLOCK_BREACHED
        ).values_list("case_id", "data"):
            found.add((case_id, str(data.get("clock", "")), str(data.get("due_at", ""))))
    return found


def _day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _count(rows: list[tuple[Any, ...]]) -> dict[Key, list[int]]:
    late_stops = {
        r[1]
        for r in rows
        if r[2] == EventKind.CLOCK_STOPPED
        and r[5].get("clock") in _CLOCK_COUNTERS
        and not r[5].get("on_time")
    }
    breached = _breaches(late_stops) if late_stops else set()
    needs_lead = {r[1] for r in rows if r[2] != EventKind.REGISTERED and r[2] != EventKind.ASSIGNED}
    leads = _lead_units(needs_lead) if needs_lead else {}
    sums: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))

    for (
        _id,
        case_id,
        kind,
        move,
        to_status,
        data,
        at,
        place,
        category,
        channel,
        case_type,
        received,
        accepted,
    ) in rows:
        handling = leads.get(case_id, 0)
        day = _day(at)
        adds: list[tuple[str, int]] = []
        if kind == EventKind.REGISTERED:
            day, handling = _day(received), 0
            adds.append(("received", 1))
        elif kind == EventKind.ASSIGNED:
            if data.get("role") != AssignmentRole.LEAD:
                continue
            handling = int(data.get("unit_id") or 0)
            adds.append(("dispatched", 1))
        elif kind == EventKind.MOVE:
            if move == Move.ACCEPT:
                adds.append(("accepted", 1))
            elif move == Move.REPLY:
                adds.append(("replied", 1))
                if accepted is not None:
                    adds.append(("handling_seconds", max(0, int((at - accepted).total_seconds()))))
            if to_status == CaseStatus.CLOSED:
                adds.append(("closed", 1))
                if move == Move.WINDOW_PASSED:
                    adds.append(("unrated_closed", 1))
        elif kind in (EventKind.CLOCK_STOPPED, EventKind.CLOCK_BREACHED):
            names = _CLOCK_COUNTERS.get(str(data.get("clock", "")))
            if names is None:
                continue
            due, met = names
            if kind == EventKind.CLOCK_BREACHED:
                adds.append((due, 1))
            elif data.get("on_time"):
                adds.extend([(due, 1), (met, 1)])
            elif (case_id, data.get("clock"), str(data.get("due_at", ""))) not in breached:
                adds.append((due, 1))
        elif kind == EventKind.FEEDBACK:
            adds.append(("rated", 1))
            resolved = {"resolved": "resolved", "partly": "partly"}.get(str(data.get("resolved")))
            if resolved:
                adds.append((resolved, 1))
            satisfaction = {
                "satisfied": "satisfied",
                "basically": "basically",
                "not_satisfied": "unsatisfied",
            }
            mood = satisfaction.get(str(data.get("satisfaction")))
            if mood:
                adds.append((mood, 1))
        if not adds:
            continue
        row = sums[(day, place or 0, handling, category or 0, channel or "", case_type or "")]
        for name, value in adds:
            row[_INDEX[name]] += value
    return sums


DIMENSIONS = {"channel": 4, "case_type": 5, "category": 3, "place_unit": 1, "handling_unit": 2}


def _project(sums: dict[Key, list[int]]) -> dict[tuple[date, str, str], list[int]]:
    """The per-dimension sums of a batch's full-key sums."""
    out: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    for key, values in sums.items():
        targets = [(key[0], "all", "")] + [(key[0], dim, str(key[i])) for dim, i in DIMENSIONS.items()]
        for target in targets:
            row = out[target]
            for i, v in enumerate(values):
                row[i] += v
    return out


def _upsert(sums: dict[Key, list[int]]) -> None:
    if not sums:
        return
    _upsert_into(
        DailyRollup._meta.db_table,
        ["day", "place_unit", "handling_unit", "category", "channel", "case_type"],
        sums,
    )
    _upsert_into(DimensionRollup._meta.db_table, ["day", "dim", "key"], _project(sums))


def _upsert_into(table: str, keys: list[str], sums: Any) -> None:
    columns = keys + list(COUNTERS)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
    items = list(sums.items())
    chunk = max(1, 30000 // len(columns) // 2)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            params: list[Any] = []
            for key, values in part:
                params.extend([adapt(key[0]), *key[1:], *values])
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(part))} "  # noqa: S608
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
                params,
            )


def rebuild_rollups(*, lag_seconds: int | None = None) -> RollupResult:
    """Drop every rollup row and count all events again (after a change of the counting rules)."""
    with transaction.atomic():
        DailyRollup.objects.all().delete()
        DimensionRollup.objects.all().delete()
        RollupMark.objects.update_or_create(name=MARK, defaults={"last_event_id": 0})
    return refresh_rollups(lag_seconds=default_lag() if lag_seconds is None else lag_seconds)
