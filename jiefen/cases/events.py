"""Writing case events. Every event also goes into the hash-chained audit log, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record_many
from jiefen.cases.models import Case, CaseEvent


def _audit_payload(event: CaseEvent) -> dict[str, Any]:
    return {
        "action": AuditAction.CASE_EVENT,
        "actor_id": event.actor_id,
        "actor_name": event.actor_label,
        "object_type": "case",
        "object_id": str(event.case_id),
        "at": event.created_at,
        "data": {
            "kind": event.kind,
            "move": event.move,
            "from": event.from_status,
            "to": event.to_status,
            "note": event.note,
            "data": event.data,
        },
    }


def write_events(events: Sequence[CaseEvent]) -> list[CaseEvent]:
    """Insert events and their audit entries atomically (the caller's transaction if any)."""
    if not events:
        return []
    with transaction.atomic():
        created = CaseEvent.objects.bulk_create(events)
        record_many([_audit_payload(event) for event in created])
    return created


def new_event(
    *,
    case: Case,
    kind: str,
    actor: Any = None,
    actor_label: str = "",
    move: str = "",
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    is_public: bool = False,
) -> CaseEvent:
    """An unsaved event; ``write_events`` saves it. ``actor_label`` defaults to the actor's name."""
    label = actor_label or (str(actor) if actor is not None else "")
    return CaseEvent(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label[:60],
        move=move,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        is_public=is_public,
        created_at=timezone.now(),
    )


def write_event(**kwargs: Any) -> CaseEvent:
    return write_events([new_event(**kwargs)])[0]
