"""Which case events notify whom, through which channels, with which template.

The case services call ``notify_case_event`` inside their transaction, after writing the change; the messages
go out when it commits. ``EVENT_ROUTES`` is the whole table (README, "Notifications").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jiefen.cases.models import Assignment, AssignmentRole, Case
from jiefen.cases.workflow import ASSIGNMENT_OPEN
from jiefen.core import crypto
from jiefen.notify.models import NotifyChannel, Outbox
from jiefen.notify.services import enqueue
from jiefen.org.models import Role, Unit, User

SMS, EMAIL, INAPP = NotifyChannel.SMS, NotifyChannel.EMAIL, NotifyChannel.INAPP

PETITIONER = "petitioner"  # SMS to the petitioner's phone (none for anonymous cases)
ASSIGNED_UNITS = "assigned_units"  # every unit with an open task on the case (or ``units=``)
LEAD_UNIT = "lead_unit"  # the unit with the open lead task (or ``units=``)
LEAD_UNIT_LEADERS = "lead_unit_leaders"  # as LEAD_UNIT, but only its unit leaders in-app
SUPERVISORS = "supervisors"  # the petition office's supervisors


@dataclass(frozen=True)
class Route:
    template_key: str
    audience: str
    channels: tuple[str, ...]


# event → what goes to whom. A unit is told in-app (its handlers and leaders), by e-mail (members with an
# address) and by SMS to its contact phone; switching a template off in the admin silences that message.
EVENT_ROUTES: dict[str, tuple[Route, ...]] = {
    "registered": (Route("case_registered", PETITIONER, (SMS,)),),
    "accepted": (Route("case_accepted", PETITIONER, (SMS,)),),
    "declined": (Route("case_declined", PETITIONER, (SMS,)),),
    "dispatched": (Route("case_dispatched", ASSIGNED_UNITS, (INAPP, SMS, EMAIL)),),
    "reply_sent": (Route("reply_sent", PETITIONER, (SMS,)),),
    "follow_up": (Route("follow_up_request", PETITIONER, (SMS,)),),
    "clock_warning": (
        Route("clock_warning", LEAD_UNIT, (INAPP, SMS, EMAIL)),
        Route("clock_warning", SUPERVISORS, (INAPP,)),
    ),
    "clock_breached": (
        Route("clock_breached", LEAD_UNIT, (INAPP, SMS, EMAIL)),
        Route("clock_breached", SUPERVISORS, (INAPP, EMAIL)),
    ),
    "urged": (Route("case_urged", LEAD_UNIT, (INAPP, SMS)),),
    "supervision": (Route("supervision_order", LEAD_UNIT_LEADERS, (INAPP, SMS, EMAIL)),),
}


def _units(case: Case, audience: str, units: Iterable[Unit] | None) -> list[Unit]:
    if units is not None:
        return list(units)
    tasks = Assignment.objects.filter(case=case, status__in=list(ASSIGNMENT_OPEN)).select_related("unit")
    if audience in (LEAD_UNIT, LEAD_UNIT_LEADERS):
        tasks = tasks.filter(role=AssignmentRole.LEAD, parent__isnull=True)
    seen: dict[int, Unit] = {}
    for task in tasks.order_by("assigned_at", "pk"):
        seen.setdefault(task.unit_id, task.unit)
    return list(seen.values())


def _members(unit: Unit, roles: Iterable[str]) -> list[User]:
    return list(
        User.objects.filter(unit=unit, is_active=True, groups__name__in=list(roles)).distinct().order_by("pk")
    )


def _supervisors() -> list[User]:
    return list(
        User.objects.filter(is_active=True).filter(Q(groups__name=Role.SUPERVISOR)).distinct().order_by("pk")
    )


def _tag(value: str) -> str:
    """A short stable stand-in for a recipient in the idempotency key, so the key holds no phone number."""
    return hashlib.sha256(crypto.lookup_hash(value).encode()).hexdigest()[:16]


def _context(case: Case, extra: dict[str, Any]) -> dict[str, Any]:
    due = timezone.localtime(case.due_at, ZoneInfo(settings.TIME_ZONE)) if case.due_at else None
    return {
        "office_name": settings.OFFICE_NAME,
        "receipt_number": case.receipt_number,
        "title": case.title,
        "due_at": f"{due:%Y-%m-%d %H:%M}" if due else "",
        **extra,
    }


def notify_case_event(
    *,
    case: Case,
    kind: str,
    ref: str = "",
    units: Iterable[Unit] | None = None,
    **context: Any,
) -> list[Outbox]:
    """Queue the messages ``EVENT_ROUTES[kind]`` calls for, in the caller's transaction; sent after commit.

    ``ref`` tells repeated events of one kind apart (a clock id, an urging's event id); by default the case
    version, which every move bumps. Calling twice with the same case, kind and ref queues nothing more.
    ``units`` overrides the units told (e.g. the units just dispatched to). Any other keyword is passed to the
    templates (``query_code`` for "registered", ``reason`` for "declined", ``unit`` …).
    """
    routes = EVENT_ROUTES.get(kind)
    if routes is None:
        raise ValueError(f"unknown notification event {kind!r}")
    ref = ref or f"v{case.version}"
    base_key = f"{kind}:{case.pk}:{ref}"
    queued: list[Outbox] = []

    def add(row: Outbox | None) -> None:
        if row is not None:
            queued.append(row)

    for route in routes:
        prefix = f"{base_key}:{route.template_key}"
        if route.audience == PETITIONER:
            person = case.petitioner if not case.is_anonymous else None
            phone = person.phone if person is not None else ""
            if phone and SMS in route.channels:
                add(
                    enqueue(
                        channel=SMS,
                        template_key=route.template_key,
                        context=_context(case, context),
                        recipient=phone,
                        case=case,
                        idempotency_key=f"{prefix}:sms:{_tag(phone)}",
                        payload={"params": {"receipt_number": case.receipt_number, **_plain(context)}},
                    )
                )
            continue
        if route.audience == SUPERVISORS:
            for user in _supervisors():
                _tell_user(add, user, route, prefix, case, _context(case, context))
            continue
        roles = (
            (Role.UNIT_LEADER,)
            if route.audience == LEAD_UNIT_LEADERS
            else (Role.UNIT_HANDLER, Role.UNIT_LEADER)
        )
        for unit in _units(case, route.audience, units):
            unit_context = _context(case, {"unit": unit.name, **context})
            for user in _members(unit, roles):
                _tell_user(add, user, route, prefix, case, unit_context)
            if SMS in route.channels and unit.contact_phone:
                add(
                    enqueue(
                        channel=SMS,
                        template_key=route.template_key,
                        context=unit_context,
                        recipient=unit.contact_phone,
                        case=case,
                        idempotency_key=f"{prefix}:sms:u{unit.pk}:{_tag(unit.contact_phone)}",
                        payload={"params": {"receipt_number": case.receipt_number, "unit": unit.name}},
                    )
                )
    for url in settings.NOTIFY_WEBHOOK_URLS:
        add(
            enqueue(
                channel=NotifyChannel.WEBHOOK,
                template_key=routes[0].template_key,
                context=_context(case, context),
                recipient=url,
                case=case,
                idempotency_key=f"{base_key}:webhook:{_tag(url)}",
                payload={
                    "data": {
                        "event": kind,
                        "case_id": case.pk,
                        "receipt_number": case.receipt_number,
                        "status": case.status,
                    }
                },
            )
        )
    return queued


def _plain(context: dict[str, Any]) -> dict[str, str]:
    """Template parameters for an SMS gateway: strings and numbers only."""
    return {key: str(value) for key, value in context.items() if isinstance(value, str | int)}


def _tell_user(add: Any, user: User, route: Route, prefix: str, case: Case, context: dict[str, Any]) -> None:
    if INAPP in route.channels:
        add(
            enqueue(
                channel=INAPP,
                template_key=route.template_key,
                context=context,
                user=user,
                case=case,
                idempotency_key=f"{prefix}:inapp:{user.pk}",
            )
        )
    if EMAIL in route.channels and user.email:
        add(
            enqueue(
                channel=EMAIL,
                template_key=route.template_key,
                context=context,
                recipient=user.email,
                case=case,
                idempotency_key=f"{prefix}:email:{user.pk}",
            )
        )
