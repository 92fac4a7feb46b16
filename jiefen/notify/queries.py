"""Reads for notifications: a user's own messages, and the outbox for the petition office's staff."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from jiefen.notify.models import Message, Outbox, OutboxStatus
from jiefen.org.models import Role

PROBLEM_STATUSES = (OutboxStatus.FAILED, OutboxStatus.DEAD)


def messages_for(user: Any) -> QuerySet[Message]:
    if not getattr(user, "is_authenticated", False):
        return Message.objects.none()
    return Message.objects.filter(user=user)


def unread_count(user: Any) -> int:
    return messages_for(user).filter(read_at__isnull=True).count()


def get_message_for_user(user: Any, message_id: int | str) -> Message:
    message = messages_for(user).filter(pk=int(message_id)).first()
    if message is None:
        raise Http404("no such message")
    return message


def may_watch_outbox(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.has_role(Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER))
    )


def outbox_for(user: Any, status: str = "") -> QuerySet[Outbox]:
    """The outbox as staff see it: by default the messages that failed, newest first."""
    if not may_watch_outbox(user):
        return Outbox.objects.none()
    rows = Outbox.objects.select_related("case")
    if status in OutboxStatus.values:
        return rows.filter(status=status)
    return rows.filter(status__in=PROBLEM_STATUSES)


def get_outbox_for_user(user: Any, outbox_id: int | str) -> Outbox:
    row = Outbox.objects.filter(pk=int(outbox_id)).first() if may_watch_outbox(user) else None
    if row is None:
        raise Http404("no such message")
    return row
