"""Writing case events. The events one transaction writes also go, in full, into one entry of the
hash-chained audit log, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record_many
from jiefen.cases.models import Case, CaseEvent
from jiefen.core.bulk import datetime_adapter, insert_rows, json_text


class EventRow(NamedTuple):
    """A case event as written, without a model instance (the sweep writes tens of thousands at once)."""

    case_id: int
    kind: str
    move: str
    from_status: str
    to_status: str
    actor_id: int | None
    actor_label: str
    note: str
    data: dict[str, Any]
    is_public: bool
    created_at: datetime


def _row_of(event: CaseEvent) -> EventRow:
    return EventRow(*(getattr(event, column) for column in EventRow._fields))


def _audit_payload(rows: Sequence[EventRow], ids: Sequence[int]) -> dict[str, Any]:
    """One audit entry for the events of one transaction: every event is in the chain, in full, and a sweep
    that writes thousands of events adds one entry, not thousands."""
    case_ids = {row.case_id for row in rows}
    actors = {(row.actor_id, row.actor_label) for row in rows}
    # Each time as the chain stores it (``audit.services.as_stored`` writes a datetime as its text), written
    # once: a batch's events share a few.
    stamps = {at: str(at) for at in {row.created_at for row in rows}}
    actor_id, actor_name = next(iter(actors)) if len(actors) == 1 else (None, "")
    return {
        "action": AuditAction.CASE_EVENT,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "object_type": "case",
        "object_id": str(next(iter(case_ids))) if len(case_ids) == 1 else "",
        "at": rows[-1].created_at,
        "data": {
            "events": [
                {
                    "id": pk,
                    "case": row.case_id,
                    "kind": row.kind,
                    "move": row.move,
                    "from": row.from_status,
                    "to": row.to_status,
                    "actor": row.actor_id,
                    "note": row.note,
                    "data": row.data,
                    "at": stamps[row.created_at],
                }
                for row, pk in zip(rows, ids, strict=True)
            ]
        },
    }


def write_event_rows(rows: Sequence[EventRow]) -> list[int]:
    """Insert event rows and their audit entry atomically (the caller's transaction if any); their ids."""
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        ids = _insert(rows)
        record_many([_audit_payload(rows, ids)])
    return ids


def audit_events(events: Sequence[CaseEvent]) -> None:
    """The audit entry of events the caller inserted itself in this transaction (with the rows they belong
    to, in one statement: ``core.bulk.insert_together``); ``write_events`` does both."""
    record_many([_audit_payload([_row_of(event) for event in events], [event.pk for event in events])])


def write_events(events: Sequence[CaseEvent]) -> list[CaseEvent]:
    """``write_event_rows`` for model instances, which get their ids."""
    for event, pk in zip(events, write_event_rows([_row_of(event) for event in events]), strict=True):
        event.pk = pk
        event._state.adding = False
    return list(events)


def _insert(rows: Sequence[EventRow]) -> list[int]:
    """The rows ``bulk_create`` would write, without its per-field overhead, which dominates when the sweep
    writes tens of thousands of events."""
    adapt = datetime_adapter(connection.ops)
    return insert_rows(
        CaseEvent,
        EventRow._fields,
        [(*row[:8], json_text(row.data), row.is_public, adapt(row.created_at)) for row in rows],
    )


def _actor_fields(actor: Any, actor_label: str) -> tuple[int | None, str]:
    label = actor_label or (str(actor) if actor is not None else "")
    return getattr(actor, "pk", None) or None, label[:60]


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
    actor_id, label = _actor_fields(actor, actor_label)
    return CaseEvent(
        case=case,
        kind=kind,
        actor_id=actor_id,
        actor_label=label,
        move=move,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        is_public=is_public,
        created_at=timezone.now(),
    )


def event_row(
    *,
    case_id: int,
    kind: str,
    actor: Any = None,
    actor_label: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
    is_public: bool = False,
) -> EventRow:
    """``new_event`` as a row for ``write_event_rows`` (no model instance: imports write thousands)."""
    actor_id, label = _actor_fields(actor, actor_label)
    return EventRow(
        case_id, kind, "", "", to_status, actor_id, label, "", data or {}, is_public, timezone.now()
    )
