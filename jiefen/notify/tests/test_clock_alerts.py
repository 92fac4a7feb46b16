"""Clock events written by the sweep are turned into messages once, in order, from a checkpoint."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from jiefen.clocks.models import Clock, ClockKind
from jiefen.clocks.services import sweep
from jiefen.notify.clock_alerts import notify_clock_events
from jiefen.notify.models import Message


def test_a_warning_reaches_the_lead_unit_and_supervisors_once(
    dispatched_case: Any,
    handler_a: Any,
    supervisor: Any,
    outbox_log: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handling = Clock.objects.get(case=dispatched_case, kind=ClockKind.HANDLING)
    result = sweep(now=handling.warn_at + timedelta(minutes=1))
    assert result.warned >= 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_clock_events() == result.warned + result.breached
    messages = Message.objects.filter(subject=f"时限预警：{dispatched_case.receipt_number}")
    assert sorted(messages.values_list("user__username", flat=True).distinct()) == ["handler_a", "supervisor"]
    assert "办理答复即将到期" in messages.filter(user=handler_a).first().body  # type: ignore[union-attr]
    before = Message.objects.count()
    assert notify_clock_events() == 0
    assert Message.objects.count() == before
