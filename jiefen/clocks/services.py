"""Starting, pausing, extending and stopping clocks, and the periodic sweep that turns them yellow and red.

Every change writes a case event in the caller's transaction. The case row carries a copy of its nearest due
time and worst colour (``Case.due_at``, ``Case.clock_colour``) for the list filters; ``refresh_case`` keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jiefen.cases.events import new_event, write_events
from jiefen.cases.models import Case, CaseEvent, ClockColour, EventKind
from jiefen.clocks import engine
from jiefen.clocks.calendar import current_calendar
from jiefen.clocks.models import WINDOW_KINDS, Clock, ClockKind, ClockPolicy, ClockState, Colour, TimeUnit
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


def _specificity(policy: ClockPolicy, case: Case) -> int | None:
    """How specifically ``policy`` matches ``case``; None when it does not match."""
    score = 0
    for attr in ("case_type", "channel", "urgency"):
        wanted = getattr(policy, attr)
        if wanted:
            if wanted != getattr(case, attr):
                return None
            score += 10
    wanted_category = policy.category
    if wanted_category is not None:
        category = case.category
        if category is None or not category.path.startswith(wanted_category.path):
            return None
        score += 10 * wanted_category.path.count("/")
    return score


def choose_policy(kind: str, case: Case) -> PolicyChoice:
    candidates = ClockPolicy.objects.filter(kind=kind, is_active=True).select_related("category")
    best: tuple[int, int, ClockPolicy] | None = None
    for policy in candidates:
        score = _specificity(policy, case)
        if score is not None and (best is None or (score, -policy.pk) > best[:2]):
            best = (score, -policy.pk, policy)
    if best is None:
        amount, unit, max_extension = FALLBACKS[kind]
        return PolicyChoice(amount, unit, 0.8, max_extension, None)
    policy = best[2]
    return PolicyChoice(policy.amount, policy.unit, policy.warn_ratio, policy.max_extension, policy.pk)


# --- one clock -----------------------------------------------------------------------------------------------


def due_time(*, start: datetime, amount: float, unit: str) -> datetime:
    return engine.add(start, amount, unit, current_calendar(), _tz())


def start_clock(
    *,
    case: Case,
    kind: str,
    actor: Any = None,
    start: datetime | None = None,
    assignment: Any = None,
    events: list[CaseEvent] | None = None,
) -> Clock:
    """Start a clock of ``kind`` for ``case`` by the policy table. The event is appended to ``events`` when
    given (the caller writes it with its own), else written at once."""
    started = start or timezone.now()
    choice = choose_policy(kind, case)
    due = due_time(start=started, amount=choice.amount, unit=choice.unit)
    clock = Clock.objects.create(
        case=case,
        assignment=assignment,
        kind=kind,
        policy_id=choice.policy_id,
        amount=choice.amount,
        unit=choice.unit,
        warn_ratio=choice.warn_ratio,
        started_at=started,
        due_at=due,
        warn_at=engine.warn_time(started, due, choice.warn_ratio),
    )
    event = new_event(
        case=case,
        kind=EventKind.CLOCK_STARTED,
        actor=actor,
        data={"clock": kind, "due_at": due.isoformat(), "amount": choice.amount, "unit": choice.unit},
    )
    _emit(event, events)
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
    stopped = 0
    for clock in qs:
        met = clock.colour != Colour.RED and (now <= clock.due_at or clock.state == ClockState.PAUSED)
        Clock.objects.filter(pk=clock.pk).update(state=ClockState.STOPPED, stopped_at=now)
        _emit(
            new_event(
                case=case,
                kind=EventKind.CLOCK_STOPPED,
                actor=actor,
                data={"clock": clock.kind, "due_at": clock.due_at.isoformat(), "on_time": met},
            ),
            events,
        )
        stopped += 1
    return stopped


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


def _claim(filter_q: Q, batch: int) -> list[tuple[int, int, str, datetime]]:
    # PostgreSQL: rows another sweep holds are skipped, so two sweeps never claim the same row.
    # SQLite: the transaction is IMMEDIATE, so this sweep is the only writer until it commits.
    return list(
        Clock.objects.select_for_update(skip_locked=True)
        .filter(filter_q)
        .order_by("pk")
        .values_list("pk", "case_id", "kind", "due_at")[:batch]
    )


def sweep(*, now: datetime | None = None, batch: int = 5000) -> SweepResult:
    """Turn due clocks yellow or red and expire passed windows, writing one event per change.

    Each batch is claimed and updated in one transaction with a conditional UPDATE; a row already changed by
    someone else simply drops out of the next claim.
    """
    moment = now or timezone.now()
    result = SweepResult()
    windows = [k.value for k in WINDOW_KINDS]
    running_obligation = Q(state=ClockState.RUNNING) & ~Q(kind__in=windows)
    stages: list[tuple[Q, str, str, str]] = [
        (
            running_obligation & ~Q(colour=Colour.RED) & Q(due_at__lte=moment),
            Colour.RED,
            EventKind.CLOCK_BREACHED,
            "breached",
        ),
        (
            running_obligation & Q(colour=Colour.GREEN) & Q(warn_at__lte=moment),
            Colour.YELLOW,
            EventKind.CLOCK_WARNING,
            "warned",
        ),
        (Q(state=ClockState.RUNNING, kind__in=windows, due_at__lte=moment), "", "", "expired"),
    ]
    for filter_q, colour, event_kind, counter in stages:
        while True:
            with transaction.atomic():
                claimed = _claim(filter_q, batch)
                if not claimed:
                    break
                ids = [row[0] for row in claimed]
                if counter == "expired":
                    Clock.objects.filter(pk__in=ids, state=ClockState.RUNNING).update(
                        state=ClockState.EXPIRED, stopped_at=moment
                    )
                    result.expired += len(ids)
                    result.expired_clocks.extend(ids)
                    continue
                Clock.objects.filter(pk__in=ids).update(colour=colour)
                case_ids = {row[1] for row in claimed}
                # Colours only worsen here, so the case's worst colour is at least this one.
                worse = [Colour.GREEN] if colour == Colour.YELLOW else [Colour.GREEN, Colour.YELLOW]
                Case.objects.filter(pk__in=case_ids, clock_colour__in=[ClockColour.NONE, *worse]).update(
                    clock_colour=colour
                )
                write_events(
                    [
                        CaseEvent(
                            case_id=case_id,
                            kind=event_kind,
                            actor_label="system",
                            data={"clock": kind, "due_at": due.isoformat()},
                            created_at=moment,
                        )
                        for _pk, case_id, kind, due in claimed
                    ]
                )
                setattr(result, counter, getattr(result, counter) + len(ids))
    for clock in Clock.objects.filter(pk__in=result.expired_clocks).select_related("case"):
        handler = _window_handlers.get(clock.kind)
        if handler is not None:
            handler(clock)
    return result
