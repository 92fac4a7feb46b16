"""Telling units and supervisors when clocks turn yellow or red.

The sweep only writes the clock events (it must stay fast with tens of thousands of clocks due at once); this
job follows those events in order from a checkpoint and queues the messages. Each message's idempotency key
names its event, so a rerun after a crash sends nothing twice.
"""

from __future__ import annotations

from django.db import transaction

from jiefen.cases.models import CaseEvent, EventKind
from jiefen.clocks.models import ClockKind
from jiefen.core import checkpoints
from jiefen.notify.events import notify_case_event

CHECKPOINT = "notify-clock-alerts"
_KINDS = {EventKind.CLOCK_WARNING: "clock_warning", EventKind.CLOCK_BREACHED: "clock_breached"}


def notify_clock_events(*, batch: int = 500) -> int:
    """Queue the messages for clock events written since the last run; returns how many events were handled."""
    handled = 0
    while True:
        seen = checkpoints.position(CHECKPOINT)
        events = list(
            CaseEvent.objects.filter(pk__gt=seen, kind__in=list(_KINDS))
            .select_related("case", "case__petitioner")
            .order_by("pk")[:batch]
        )
        if not events:
            return handled
        with transaction.atomic():
            for event in events:
                clock_kind = event.data.get("clock", "")
                notify_case_event(
                    case=event.case,
                    kind=_KINDS[EventKind(event.kind)],
                    ref=f"clock-event-{event.pk}",
                    clock=ClockKind(clock_kind).label if clock_kind in ClockKind.values else "",
                )
            if not checkpoints.advance(CHECKPOINT, seen=seen, to=events[-1].pk):
                # Another run handled this stretch first; its messages stand, ours roll back.
                transaction.set_rollback(True)
                continue
        handled += len(events)
