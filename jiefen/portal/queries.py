"""What the citizen may see of a case: the public timeline, the sent replies, the running deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from jiefen.cases.models import Case, CaseEvent, EventKind, Reply
from jiefen.cases.workflow import CaseStatus, Move
from jiefen.clocks.models import ClockKind, ClockState
from jiefen.core import crypto


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime
    passed: bool


def public_timeline(case: Case) -> list[dict[str, Any]]:
    """The public events, oldest first, as the citizen reads them (no staff names)."""
    rows = []
    events: QuerySet[CaseEvent] = case.events.filter(is_public=True).order_by("created_at", "id")
    for event in events:
        if event.kind == EventKind.MOVE and event.to_status:
            label = str(CaseStatus(event.to_status).label)
            if event.move:
                label = f"{Move(event.move).label} → {label}"
        else:
            label = str(EventKind(event.kind).label) if event.kind in EventKind.values else event.kind
        rows.append({"at": event.created_at, "label": label, "note": event.note})
    return rows


def sent_replies(case: Case) -> QuerySet[Reply]:
    return case.replies.filter(sent_at__isnull=False).order_by("-sent_at")


def deadlines(case: Case) -> list[Deadline]:
    now = timezone.now()
    running = case.clocks.filter(state__in=[ClockState.RUNNING, ClockState.PAUSED]).order_by("due_at")
    return [
        Deadline(label=str(ClockKind(c.kind).label), due_at=c.due_at, passed=c.due_at < now)
        for c in running
        if c.due_at is not None
    ]


def info_requested(case: Case) -> str:
    """What the unit asked the person to add, while the case waits for it."""
    if case.status != CaseStatus.AWAITING_INFO:
        return ""
    event = case.events.filter(move=Move.REQUEST_INFO).order_by("-created_at", "-id").first()
    return event.note if event else ""


def cases_of_phone(phone_hash: str) -> QuerySet[Case]:
    """The cases of the person(s) registered with this phone (verified by a one-time code)."""
    if not phone_hash:
        return Case.objects.none()
    return Case.objects.filter(petitioner__phone_hash=phone_hash).order_by("-created_at")


def phone_hash_of(phone: str) -> str:
    return crypto.lookup_hash(crypto.normalise_phone(phone))
