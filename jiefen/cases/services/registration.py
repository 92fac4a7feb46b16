"""Registering petitions, one at a time or in batches (imports)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from jiefen.cases import intake as intake_mod
from jiefen.cases.actors import Actor
from jiefen.cases.events import EventRow, audit_events, event_row, new_event, write_event_rows
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import (
    Case,
    CaseEvent,
    CaseType,
    ClockColour,
    EventKind,
    Matter,
    Petitioner,
)
from jiefen.cases.services import enrichment
from jiefen.cases.services._core import (
    K,
    _user_or_none,
)
from jiefen.cases.workflow import CaseStatus
from jiefen.clocks import services as clocks
from jiefen.core import crypto
from jiefen.core.bulk import build, find_or_insert, insert_instances, insert_together, overlapped_copies
from jiefen.core.errors import InvalidInput
from jiefen.notify.events import notify_case_event


@dataclass(frozen=True)
class Registered:
    case: Case
    # Shown to the petitioner once; only its keyed hash is stored.
    query_code: str


# --- intake -----------------------------------------------------------------------------------------------------


def _petitioner_from(person: PersonInput | None) -> Petitioner | None:
    """Find the person by ID number, else by phone and name (keyed hashes), or create them."""
    if person is None or not (person.name or person.phone or person.id_number):
        return None
    phone = crypto.normalise_phone(person.phone)
    id_number = crypto.normalise_id_number(person.id_number)
    petitioner = Petitioner(name=(person.name or "").strip(), address=person.address or "")
    matches: list[dict[str, str]] = []
    if id_number:
        petitioner.set_id_number(id_number)
        matches.append({"id_number_hash": petitioner.id_number_hash})
    if phone:
        petitioner.set_phone(phone)
        matches.append({"phone_hash": petitioner.phone_hash, "name": person.name or ""})
    return find_or_insert(petitioner, matches=matches)


def _new_case(
    intake: Intake,
    *,
    receipt_number: str,
    query_code: str,
    petitioner: Petitioner | None,
    matter: Matter,
    actor: Actor,
    now: datetime,
) -> tuple[Case, clocks.ClockPlan]:
    """The unsaved case for ``intake`` with its acceptance clock worked out, so the row is written once."""
    title = _title_of(intake)
    case = build(
        Case,
        receipt_number=receipt_number,
        query_code_hash=intake_mod.hash_query_code(query_code),
        channel=intake.channel,
        case_type=intake.case_type,
        title=title,
        content=intake.content.strip(),
        place_text=intake.place_text.strip(),
        latitude=intake.latitude,
        longitude=intake.longitude,
        jurisdiction_unit_id=intake.jurisdiction_unit_id,
        category_id=intake.category_id,
        urgency=intake.urgency,
        people_count=intake.people_count,
        is_group=intake.is_group,
        confidential=intake.confidential or intake.case_type == CaseType.REPORT,
        is_anonymous=intake.is_anonymous,
        petitioner=petitioner,
        matter=matter,
        external_id=intake.external_id.strip(),
        external_source=intake.external_source.strip(),
        support_count=max(0, intake.support_count),
        oppose_count=max(0, intake.oppose_count),
        registered_by=_user_or_none(actor),
        created_at=now,
        received_at=intake.received_at or now,
    )
    plan = clocks.plan_clock(case=case, kind=K.ACCEPTANCE, start=now)
    case.due_at, case.clock_colour = plan.due_at, ClockColour.GREEN
    return case, plan


def _title_of(intake: Intake) -> str:
    return ((intake.title or "").strip() or intake.content.strip()[:40])[:200]


def _registered_event(case: Case) -> dict[str, Any]:
    return {
        "kind": EventKind.REGISTERED,
        "to_status": CaseStatus.REGISTERED,
        "data": {"channel": case.channel, "receipt_number": case.receipt_number},
        "is_public": True,
    }


def _registration_events(case: Case, actor: Actor) -> list[CaseEvent]:
    return [new_event(case=case, actor=actor, **_registered_event(case))]


def _registration_event_rows(case: Case, plan: clocks.ClockPlan, actor: Actor) -> list[EventRow]:
    """The events of ``_registration_events`` and the acceptance clock's start, as rows."""
    return [
        event_row(case_id=case.pk, actor=actor, **_registered_event(case)),
        event_row(
            case_id=case.pk, kind=EventKind.CLOCK_STARTED, actor=actor, data=clocks.clock_started_data(plan)
        ),
    ]


def numbers_ahead(count: int, now: datetime | None = None) -> list[str] | None:
    """``count`` receipt numbers for a registration about to open its transaction, reserved in a statement of
    their own, or None inside a caller's transaction (the registration then takes them in it).

    The day's counter row is then locked for that one statement instead of until the registration commits, so
    concurrent registrations (web processes, an import beside the portal) no longer queue on it from the
    number to the commit. A registration that fails afterwards leaves its numbers unused: a gap in the day's
    numbers, never a number given twice. Bad input is refused before this is called."""
    connection = transaction.get_connection()
    # On SQLite a writing transaction holds the database's one write lock from its BEGIN (IMMEDIATE): a statement
    # of its own would only be one more wait for that lock.
    if connection.in_atomic_block or connection.vendor == "sqlite":
        return None
    return intake_mod.reserve_receipt_numbers(timezone.localdate(now), count)


def number_ahead(now: datetime | None = None) -> str:
    """``numbers_ahead`` for one registration: its number, or "" where it is taken in the transaction."""
    return (numbers_ahead(1, now) or [""])[0]


def register_case(
    *,
    intake: Intake,
    actor: Actor,
    rows_with_case: Callable[[Registered], Sequence[models.Model]] | None = None,
    receipt_number: str = "",
) -> Registered:
    """Register a petition: validate, number it, start the acceptance clock (信访工作条例 Art. 22).

    ``rows_with_case`` gives unsaved rows of the caller's to insert with the case (such as the idempotency
    key of a citizen's submission), each pointing at it as an unsaved related object. ``receipt_number`` is
    one the caller reserved before opening its transaction (``number_ahead``); without it the number is
    reserved before this function's transaction, or inside the caller's.

    All or nothing, in the caller's transaction when there is one: no savepoint of its own (a round trip
    each way on PostgreSQL), so a failure here makes the caller's whole transaction roll back; no caller
    goes on after one."""
    intake_mod.validate_intake(intake)
    now = timezone.now()
    code = intake_mod.new_query_code()
    receipt_number = receipt_number or number_ahead(now)
    # (the text is analysed before the transaction where there is none yet: see ``analysed_first``)
    with enrichment.analysed_first([intake]), transaction.atomic(savepoint=False):
        petitioner = None if intake.is_anonymous else _petitioner_from(intake.petitioner)
        matter = Matter(title=_title_of(intake), category_id=intake.category_id, place_text=intake.place_text)
        case, plan = _new_case(
            intake,
            receipt_number="",
            query_code=code,
            petitioner=petitioner,
            matter=matter,
            actor=actor,
            now=now,
        )
        background = enrichment.in_background()
        enrichment.enrich([case], part=enrichment.AT_THE_DOOR if background else enrichment.ALL)
        case.enrichment_pending = background and enrichment.has_later_enrichers()
        # Taken here (inside a caller's transaction, and on SQLite), the day's counter row stays locked until
        # commit, so every registration queues behind this one from here on: the number comes after the analysis.
        case.receipt_number = receipt_number or intake_mod.next_receipt_number(timezone.localdate(now))
        registered = Registered(case=case, query_code=code)
        events = [
            *_registration_events(case, actor),
            clocks.clock_started_event(case=case, plan=plan, actor=actor),
        ]
        clock = clocks.clock_from_plan(case=case, plan=plan)
        extra = rows_with_case(registered) if rows_with_case is not None else ()
        insert_together([matter, case, clock, *events, *extra])
        for person in intake.representatives:
            representative = _petitioner_from(person)
            if representative is not None:
                case.representatives.add(representative)
        # The receipt number and query code by SMS, once the registration has committed.
        notify_case_event(case=case, kind="registered", query_code=code)
        # Last: the audit chain, too, is held from here until commit.
        audit_events(events)
        if case.enrichment_pending:
            enrichment.schedule()
    return registered


@dataclass
class BulkRegistration:
    registered: list[Registered]
    # (position in the input, the reason it was refused)
    rejected: list[tuple[int, str]]


def _petitioners_bulk(people: Sequence[PersonInput | None]) -> list[Petitioner | None]:
    """``_petitioner_from`` for many people with a handful of queries: existing people are found by keyed
    hash, the rest created once each (the same person twice in a batch is one petitioner)."""
    keys: list[tuple[str, str, str] | None] = []
    for person in people:
        if person is None or not (person.name or person.phone or person.id_number):
            keys.append(None)
            continue
        phone, id_number = crypto.normalise_phone(person.phone), crypto.normalise_id_number(person.id_number)
        keys.append(
            (
                crypto.lookup_hash(id_number) if id_number else "",
                crypto.lookup_hash(phone) if phone else "",
                (person.name or "").strip(),
            )
        )
    id_hashes = {k[0] for k in keys if k and k[0]}
    phone_hashes = {k[1] for k in keys if k and k[1] and not k[0]}
    by_id = {p.id_number_hash: p for p in Petitioner.objects.filter(id_number_hash__in=id_hashes)}
    by_phone = {(p.phone_hash, p.name): p for p in Petitioner.objects.filter(phone_hash__in=phone_hashes)}
    created: dict[tuple[str, str, str], Petitioner] = {}
    result: list[Petitioner | None] = []
    for person, key in zip(people, keys, strict=True):
        if person is None or key is None:
            result.append(None)
            continue
        found = by_id.get(key[0]) if key[0] else by_phone.get((key[1], key[2]))
        if found is None:
            found = created.get(key)
        if found is None:
            found = build(Petitioner, name=key[2], address=person.address or "")
            if key[1]:
                found.set_phone(person.phone)
            if key[0]:
                found.set_id_number(person.id_number)
            created[key] = found
        result.append(found)
    insert_instances(list(created.values()))
    return result


def register_cases(*, intakes: Sequence[Intake], actor: Actor) -> BulkRegistration:
    """Register many petitions at once (imports): each is validated and refused on its own, the accepted
    ones are written in one transaction with the same numbers, clocks, events and audit entries as
    ``register_case``, in a few statements per batch instead of a dozen per case."""
    valid: list[tuple[int, Intake]] = []
    rejected: list[tuple[int, str]] = []
    known = intake_mod.existing_categories({it.category_id for it in intakes})
    for position, intake in enumerate(intakes):
        try:
            intake_mod.validate_intake(intake, categories=known)
        except InvalidInput as exc:
            rejected.append((position, exc.message))
        else:
            valid.append((position, intake))
    if not valid:
        return BulkRegistration([], rejected)
    now = timezone.now()
    ahead = numbers_ahead(len(valid), now)
    with transaction.atomic(), overlapped_copies():
        petitioners = _petitioners_bulk([None if it.is_anonymous else it.petitioner for _, it in valid])
        matters = [
            build(
                Matter,
                title=_title_of(it),
                category_id=it.category_id,
                place_text=it.place_text,
                created_at=now,
            )
            for _, it in valid
        ]
        insert_instances(matters)
        numbers = ahead or intake_mod.reserve_receipt_numbers(timezone.localdate(now), len(valid))
        codes = [intake_mod.new_query_code() for _ in valid]
        built = [
            _new_case(it, receipt_number=n, query_code=c, petitioner=p, matter=m, actor=actor, now=now)
            for (_, it), n, c, p, m in zip(valid, numbers, codes, petitioners, matters, strict=True)
        ]
        cases = [case for case, _ in built]
        enrichment.enrich(cases)
        insert_instances(cases)
        clock_rows = [clocks.clock_from_plan(case=case, plan=plan) for case, plan in built]
        insert_instances(clock_rows)
        write_event_rows([row for case, plan in built for row in _registration_event_rows(case, plan, actor)])
        for (_, intake), case in zip(valid, cases, strict=True):
            for person in intake.representatives:
                representative = _petitioner_from(person)
                if representative is not None:
                    case.representatives.add(representative)
    return BulkRegistration(
        [Registered(case=case, query_code=code) for case, code in zip(cases, codes, strict=True)], rejected
    )
