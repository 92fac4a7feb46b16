"""Starting, pausing, extending and stopping clocks, and the periodic sweep that turns them yellow and red.

Every change writes a case event in the caller's transaction. The case row carries a copy of its nearest due
time and worst colour (``Case.due_at``, ``Case.clock_colour``) for the list filters; ``refresh_case`` keeps it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jiefen.cases.events import EventRow, new_event, write_event_rows, write_events
from jiefen.cases.models import Case, CaseEvent, ClockColour, EventKind
from jiefen.clocks import engine
from jiefen.clocks.calendar import current_calendar
from jiefen.clocks.models import WINDOW_KINDS, Clock, ClockKind, ClockPolicy, ClockState, Colour, TimeUnit
from jiefen.core.bulk import build, insert_instances
from jiefen.core.errors import DomainError, IllegalMove


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- policy -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChoice:
    amount: int
    unit: str
    warn_ratio: float
    max_extension: int
    policy_id: int | None


# Used only when an admin has deleted every row of a kind; the data migration loads the statutory defaults.
FALLBACKS: dict[str, tuple[int, str, int]] = {
    ClockKind.ACCEPTANCE: (15, TimeUnit.DAYS, 0),
    ClockKind.SIGN: (1, TimeUnit.WORKDAYS, 0),
    ClockKind.HANDLING: (60, TimeUnit.DAYS, 30),
    ClockKind.FOLLOW_UP_WINDOW: (15, TimeUnit.DAYS, 0),
    ClockKind.REVIEW_REQUEST_WINDOW: (30, TimeUnit.DAYS, 0),
    ClockKind.REVIEW_DECISION: (30, TimeUnit.DAYS, 0),
    ClockKind.REEXAM_REQUEST_WINDOW: (30, TimeUnit.DAYS, 0),
    ClockKind.REEXAM_DECISION: (30, TimeUnit.DAYS, 0),
    ClockKind.RETURN_WINDOW: (5, TimeUnit.WORKDAYS, 0),
    ClockKind.SUPERVISION: (5, TimeUnit.WORKDAYS, 0),
}


@dataclass(frozen=True)
class _Policy:
    pk: int
    kind: str
    case_type: str
    channel: str
    urgency: str
    category_path: str
    amount: int
    unit: str
    warn_ratio: float
    max_extension: int


_policy_lock = threading.Lock()
_policy_cache: tuple[float, dict[str, list[_Policy]]] | None = None
POLICY_CACHE_SECONDS = 60.0


def _policies(kind: str) -> list[_Policy]:
    """Active policies of ``kind``, cached for a minute per process (an admin's change in this process clears
    the cache at once; other processes see it within a minute)."""
    global _policy_cache
    now = time.monotonic()
    with _policy_lock:
        cached = _policy_cache
    if cached is None or now - cached[0] > POLICY_CACHE_SECONDS:
        table: dict[str, list[_Policy]] = {}
        for row in ClockPolicy.objects.filter(is_active=True).select_related("category").order_by("pk"):
            table.setdefault(row.kind, []).append(
                _Policy(
                    row.pk,
                    row.kind,
                    row.case_type,
                    row.channel,
                    row.urgency,
                    row.category.path if row.category is not None else "",
                    row.amount,
                    row.unit,
                    row.warn_ratio,
                    row.max_extension,
                )
            )
        cached = (now, table)
        with _policy_lock:
            _policy_cache = cached
    return cached[1].get(kind, [])


def clear_policy_cache() -> None:
    global _policy_cache
    with _policy_lock:
        _policy_cache = None


def _specificity(policy: _Policy, case: Case) -> int | None:
    """How specifically ``policy`` matches ``case``; None when it does not match."""
    score = 0
    for attr in ("case_type", "channel", "urgency"):
        wanted = getattr(policy, attr)
        if wanted:
            if wanted != getattr(case, attr):
                return None
            score += 10
    if policy.category_path:
        category = case.category
        if category is None or not category.path.startswith(policy.category_path):
            return None
        score += 10 * policy.category_path.count("/")
    return score


def choose_policy(kind: str, case: Case) -> PolicyChoice:
    best: tuple[int, int, _Policy] | None = None
    for policy in _policies(kind):
        score = _specificity(policy, case)
        if score is not None and (best is None or (score, -policy.pk) > best[:2]):
            best = (score, -policy.pk, policy)
    if best is None:
        amount, unit, max_extension = FALLBACKS[kind]
        return PolicyChoice(amount, unit, 0.8, max_extension, None)
    policy = best[2]
    return PolicyChoice(policy.amount, policy.unit, policy.warn_ratio, policy.max_extension, policy.pk)


@dataclass(frozen=True)
class ClockPlan:
    kind: str
    choice: PolicyChoice
    started_at: datetime
    due_at: datetime
    warn_at: datetime


def plan_clock(*, case: Case, kind: str, start: datetime | None = None) -> ClockPlan:
    """When a clock of ``kind`` would fall due for ``case`` (which need not be saved yet)."""
    started = start or timezone.now()
    choice = choose_policy(kind, case)
    due = due_time(start=started, amount=choice.amount, unit=choice.unit)
    return ClockPlan(kind, choice, started, due, engine.warn_time(started, due, choice.warn_ratio))


# --- one clock -----------------------------------------------------------------------------------------------


def due_time(*, start: datetime, amount: float, unit: str) -> datetime:
    return engine.add(start, amount, unit, current_calendar(), _tz())


def clock_from_plan(*, case: Case, plan: ClockPlan, assignment: Any = None) -> Clock:
    """The unsaved clock row for ``plan`` (made by ``bulk.build``: an import makes one per case)."""
    return build(
        Clock,
        case=case,
        assignment=assignment,
        kind=plan.kind,
        policy_id=plan.choice.policy_id,
        amount=plan.choice.amount,
        unit=plan.choice.unit,
        warn_ratio=plan.choice.warn_ratio,
        started_at=plan.started_at,
        due_at=plan.due_at,
        warn_at=plan.warn_at,
    )


def clock_started_data(plan: ClockPlan) -> dict[str, Any]:
    """The data of the ``clock_started`` event for ``plan``."""
    return {
        "clock": plan.kind,
        "due_at": plan.due_at.isoformat(),
        "amount": plan.choice.amount,
        "unit": plan.choice.unit,
    }


def clock_started_event(*, case: Case, plan: ClockPlan, actor: Any) -> CaseEvent:
    return new_event(case=case, kind=EventKind.CLOCK_STARTED, actor=actor, data=clock_started_data(plan))


def start_clock(
    *,
    case: Case,
    kind: str,
    actor: Any = None,
    start: datetime | None = None,
    assignment: Any = None,
    events: list[CaseEvent] | None = None,
    plan: ClockPlan | None = None,
) -> Clock:
    """Start a clock of ``kind`` for ``case`` by the policy table (or as ``plan`` worked out). The event is
    appended to ``events`` when given (the caller writes it with its own), else written at once."""
    plan = plan or plan_clock(case=case, kind=kind, start=start)
    clock = clock_from_plan(case=case, plan=plan, assignment=assignment)
    insert_instances([clock])
    _emit(clock_started_event(case=case, plan=plan, actor=actor), events)
    return clock


def _emit(event: CaseEvent, events: list[CaseEvent] | None) -> None:
    if events is None:
        write_events([event])
    else:
        events.append(event)


def running_clock(case: Case, kind: str, assignment: Any = None) -> Clock | None:
    qs = Clock.objects.filter(case=case, kind=kind, state__in=[ClockState.RUNNING, ClockState.PAUSED])
    if assignment is not None:
        qs = qs.filter(assignment=assignment)
    return qs.order_by("-started_at").first()


def stop_clocks(
    *,
    case: Case,
    kinds: Iterable[str],
    actor: Any = None,
    assignment: Any = None,
    events: list[CaseEvent] | None = None,
) -> int:
    """Stop the running or paused clocks of these kinds (the work they measured is done)."""
    now = timezone.now()
    qs = Clock.objects.filter(
        case=case, kind__in=list(kinds), state__in=[ClockState.RUNNING, ClockState.PAUSED]
    )
    if assignment is not None:
        qs = qs.filter(assignment=assignment)
    found = list(qs.values_list("pk", "kind", "due_at", "colour", "state"))
    if found:
        Clock.objects.filter(pk__in=[row[0] for row in found]).update(
            state=ClockState.STOPPED, stopped_at=now
        )
    for _pk, kind, due_at, colour, state in found:
        met = colour != Colour.RED and (now <= due_at or state == ClockState.PAUSED)
        _emit(
            new_event(
                case=case,
                kind=EventKind.CLOCK_STOPPED,
                actor=actor,
                data={"clock": kind, "due_at": due_at.isoformat(), "on_time": met},
            ),
            events,
        )
    return len(found)


def pause_clock(*, clock: Clock, actor: Any, reason: str, events: list[CaseEvent] | None = None) -> Clock:
    """Pause a running clock (awaiting information, a hearing): the time left is kept, not the due time."""
    if clock.state != ClockState.RUNNING:
        raise IllegalMove(f"只有计时中的时限可以暂停（当前：{clock.get_state_display()}）")
    now = timezone.now()
    clock.remaining = engine.remaining(now, clock.due_at, clock.unit, current_calendar(), _tz())
    clock.paused_at = now
    clock.state = ClockState.PAUSED
    clock.save(update_fields=["remaining", "paused_at", "state"])
    _emit(
        new_event(
            case=clock.case,
            kind=EventKind.CLOCK_PAUSED,
            actor=actor,
            note=reason,
            data={"clock": clock.kind, "remaining": clock.remaining, "unit": clock.unit},
        ),
        events,
    )
    return clock


def resume_clock(*, clock: Clock, actor: Any, events: list[CaseEvent] | None = None) -> Clock:
    if clock.state != ClockState.PAUSED or clock.paused_at is None:
        raise IllegalMove("只有暂停的时限可以恢复")
    now = timezone.now()
    clock.paused_seconds += (now - clock.paused_at).total_seconds()
    clock.due_at = due_time(start=now, amount=clock.remaining or 0, unit=clock.unit)
    clock.warn_at = (
        engine.warn_time(now, clock.due_at, clock.warn_ratio) if clock.colour == Colour.GREEN else now
    )
    clock.state = ClockState.RUNNING
    clock.paused_at = None
    clock.remaining = None
    clock.save(update_fields=["paused_seconds", "due_at", "warn_at", "state", "paused_at", "remaining"])
    _emit(
        new_event(
            case=clock.case,
            kind=EventKind.CLOCK_RESUMED,
            actor=actor,
            data={"clock": clock.kind, "due_at": clock.due_at.isoformat()},
        ),
        events,
    )
    return clock


def extend_clock(
    *, clock: Clock, amount: int, actor: Any, reason: str, events: list[CaseEvent] | None = None
) -> Clock:
    """Extend a clock once, by at most its policy's maximum (信访工作条例 Art. 34: at most 30 days)."""
    if not clock.can_extend:
        raise IllegalMove("该时限已经延期过一次，或已结束，不能再延期")
    limit = choose_policy(clock.kind, clock.case).max_extension
    if amount <= 0 or amount > limit:
        raise DomainError(f"延期时长必须在 1 到 {limit} {TimeUnit(clock.unit).label} 之间")
    now = timezone.now()
    clock.due_at = engine.add(clock.due_at, amount, clock.unit, current_calendar(), _tz())
    clock.warn_at = engine.warn_time(clock.started_at, clock.due_at, clock.warn_ratio)
    clock.extended_by = amount
    if clock.colour != Colour.GREEN and clock.due_at > now:
        clock.colour = Colour.GREEN if clock.warn_at > now else Colour.YELLOW
    clock.save(update_fields=["due_at", "warn_at", "extended_by", "colour"])
    _emit(
        new_event(
            case=clock.case,
            kind=EventKind.CLOCK_EXTENDED,
            actor=actor,
            note=reason,
            data={
                "clock": clock.kind,
                "amount": amount,
                "unit": clock.unit,
                "due_at": clock.due_at.isoformat(),
            },
        ),
        events,
    )
    return clock


_COLOUR_RANK = {Colour.GREEN: 1, Colour.YELLOW: 2, Colour.RED: 3}


def refresh_case(case: Case) -> None:
    """Copy the nearest due time and the worst colour of the case's obligation clocks onto the case row."""
    clocks = list(
        Clock.objects.filter(case=case, state__in=[ClockState.RUNNING, ClockState.PAUSED])
        .exclude(kind__in=[k.value for k in WINDOW_KINDS])
        .values_list("due_at", "colour")
    )
    if clocks:
        due = min(due for due, _ in clocks)
        colour = max((colour for _, colour in clocks), key=lambda c: _COLOUR_RANK[Colour(c)])
    else:
        due, colour = None, ClockColour.NONE
    if (case.due_at, case.clock_colour) != (due, colour):
        case.due_at, case.clock_colour = due, colour
        Case.objects.filter(pk=case.pk).update(due_at=due, clock_colour=colour)


# --- the sweep -----------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    expired: int = 0
    expired_clocks: list[int] = field(default_factory=list)


# Called for each window that expires, after it is marked: e.g. follow-up window → close the case. Registered
# by the apps that own those moves, so the sweep itself knows nothing of them.
WindowHandler = Callable[[Clock], None]
_window_handlers: dict[str, WindowHandler] = {}


def on_window_expired(kind: str, handler: WindowHandler) -> None:
    _window_handlers[kind] = handler


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:  # pragma: no cover - the column is NOT NULL
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _claim(
    *, where: str, params: list[Any], assignments: str, batch: int
) -> list[tuple[int, int, str, datetime]]:
    """Claim up to ``batch`` clocks matching ``where`` with one conditional UPDATE ... RETURNING.

    PostgreSQL: rows another sweep holds are skipped (SKIP LOCKED), and a row someone else changed no longer
    matches, so two sweeps never claim the same row. SQLite: the transaction is IMMEDIATE, so this sweep is
    the only writer until it commits.
    """
    table = Clock._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET {assignments} WHERE id IN ("  # noqa: S608 - fixed names
        f"SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT %s{lock}) "
        "RETURNING id, case_id, kind, due_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, batch])
        return [(pk, case_id, kind, _as_datetime(due)) for pk, case_id, kind, due in cursor.fetchall()]


def sweep(*, now: datetime | None = None, batch: int = 5000) -> SweepResult:
    """Turn due clocks yellow or red and expire passed windows, writing one event per change.

    Each batch is claimed with one conditional UPDATE and its events are written in the same transaction;
    "0 rows claimed" means there is nothing left, or someone else got there first.
    """
    moment = now or timezone.now()
    at = connection.ops.adapt_datetimefield_value(moment)
    result = SweepResult()
    windows = ", ".join(f"'{kind.value}'" for kind in WINDOW_KINDS)
    # The terms repeat the partial indexes' conditions verbatim so both databases use them.
    stages = [
        (
            f"state = 'running' AND NOT (colour = 'red') AND due_at <= %s AND kind NOT IN ({windows})",
            "colour = 'red'",
            Colour.RED,
            EventKind.CLOCK_BREACHED,
            "breached",
        ),
        (
            f"state = 'running' AND colour = 'green' AND warn_at <= %s AND kind NOT IN ({windows})",
            "colour = 'yellow'",
            Colour.YELLOW,
            EventKind.CLOCK_WARNING,
            "warned",
        ),
        (
            f"state = 'running' AND NOT (colour = 'red') AND due_at <= %s AND kind IN ({windows})",
            "state = 'expired', stopped_at = %s",
            "",
            "",
            "expired",
        ),
    ]
    for where, assignments, colour, event_kind, counter in stages:
        # Expiry also sets stopped_at: that parameter comes first, in the SET clause.
        params = [at, at] if counter == "expired" else [at]
        while True:
            with transaction.atomic():
                claimed = _claim(where=where, params=params, assignments=assignments, batch=batch)
                if not claimed:
                    break
                if counter == "expired":
                    result.expired += len(claimed)
                    result.expired_clocks.extend(row[0] for row in claimed)
                    continue
                case_ids = {row[1] for row in claimed}
                # Colours only worsen here, so the case's worst colour is at least this one.
                worse = [Colour.GREEN] if colour == Colour.YELLOW else [Colour.GREEN, Colour.YELLOW]
                Case.objects.filter(pk__in=case_ids, clock_colour__in=[ClockColour.NONE, *worse]).update(
                    clock_colour=colour
                )
                write_event_rows(
                    [
                        EventRow(
                            case_id,
                            event_kind,
                            "",
                            "",
                            "",
                            None,
                            "system",
                            "",
                            {"clock": kind, "due_at": due.isoformat()},
                            False,
                            moment,
                        )
                        for _pk, case_id, kind, due in claimed
                    ]
                )
                setattr(result, counter, getattr(result, counter) + len(claimed))
    for clock in Clock.objects.filter(pk__in=result.expired_clocks).select_related("case"):
        handler = _window_handlers.get(clock.kind)
        if handler is not None:
            handler(clock)
    return result
