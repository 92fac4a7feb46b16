"""Every change to a case: one function per move of the lifecycle (DESIGN §3).

Each function takes keyword-only arguments and an explicit ``actor``, checks the actor may make the move,
runs in one transaction, and writes its case events (and so the audit log) in that transaction. A move made
against a case someone else has just changed raises ``Conflict``; a move the lifecycle forbids raises
``IllegalMove``; neither changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jiefen.cases import intake as intake_mod
from jiefen.cases.actors import SYSTEM, Actor
from jiefen.cases.events import new_event, write_events
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import (
    ActionKind,
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseType,
    ClockColour,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    Matter,
    MatterStatus,
    Petitioner,
    Reply,
    Review,
    Satisfaction,
)
from jiefen.cases.permissions import OFFICE_DECISIONS, acts_for_unit, check_move
from jiefen.cases.workflow import ASSIGNMENT_OPEN, OPEN_STATES, AssignmentStatus, CaseStatus, Move, target_of
from jiefen.clocks import services as clocks
from jiefen.clocks.models import ClockKind, ClockState
from jiefen.core import crypto
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.documents import services as documents
from jiefen.documents.models import DocumentKind
from jiefen.org.models import Role, UnitKind, User

K = ClockKind


@dataclass(frozen=True)
class Registered:
    case: Case
    # Shown to the petitioner once; only its keyed hash is stored.
    query_code: str


# Enrichers run at intake inside the registering transaction (classification, extraction, risk …). Each gets
# the new case before it is first saved (no id yet) and returns a dict merged into ``Case.enrichment``.
Enricher = Callable[[Case], dict[str, Any]]
intake_enrichers: list[Enricher] = []


# --- the one way a status changes -----------------------------------------------------------------------------


def _move(
    case: Case,
    move: Move,
    actor: Actor,
    events: list[CaseEvent],
    *,
    version: int | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    is_public: bool = True,
    **updates: Any,
) -> Case:
    """Compare-and-set the status: the UPDATE only matches the status and version the caller saw."""
    if version is not None and version != case.version:
        raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    target = target_of(move, case.status)
    if target is None:
        raise IllegalMove(f"信访件处于“{CaseStatus(case.status).label}”状态，不能执行“{move.label}”")
    check_move(actor, case, move)
    seen_version = case.version if version is None else version
    now = timezone.now()
    changed = Case.objects.filter(pk=case.pk, status=case.status, version=seen_version).update(
        status=target, version=F("version") + 1, updated_at=now, **updates
    )
    if changed == 0:
        raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
    from_status = case.status
    case.status, case.version = target, seen_version + 1
    for name, value in updates.items():
        setattr(case, name, value)
    events.append(
        new_event(
            case=case,
            kind=EventKind.MOVE,
            actor=actor,
            move=move,
            from_status=from_status,
            to_status=target,
            note=note,
            data=data,
            is_public=is_public,
        )
    )
    return case


def _staff(actor: Actor, message: str) -> User:
    """The actor as a staff user, or NotAllowed: some acts are only ever done by office or unit staff."""
    if not isinstance(actor, User) or not actor.is_authenticated or not actor.is_active:
        raise NotAllowed(message)
    return actor


def _user_or_none(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _finish(case: Case, events: list[CaseEvent]) -> None:
    write_events(events)
    clocks.refresh_case(case)


# --- intake -----------------------------------------------------------------------------------------------------


def _petitioner_from(person: PersonInput | None) -> Petitioner | None:
    """Find the person by phone or ID (keyed hash) or create them."""
    if person is None or not (person.name or person.phone or person.id_number):
        return None
    phone = crypto.normalise_phone(person.phone)
    id_number = crypto.normalise_id_number(person.id_number)
    existing = None
    if id_number:
        existing = Petitioner.objects.filter(id_number_hash=crypto.lookup_hash(id_number)).first()
    if existing is None and phone:
        existing = Petitioner.objects.filter(
            phone_hash=crypto.lookup_hash(phone), name=person.name or ""
        ).first()
    if existing is not None:
        return existing
    petitioner = Petitioner(name=(person.name or "").strip(), address=person.address or "")
    if phone:
        petitioner.set_phone(phone)
    if id_number:
        petitioner.set_id_number(id_number)
    petitioner.save()
    return petitioner


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
    case = Case(
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
    for enricher in intake_enrichers:
        case.enrichment.update(enricher(case))
    return case, plan


def _title_of(intake: Intake) -> str:
    return ((intake.title or "").strip() or intake.content.strip()[:40])[:200]


def _registration_events(case: Case, actor: Actor) -> list[CaseEvent]:
    return [
        new_event(
            case=case,
            kind=EventKind.REGISTERED,
            actor=actor,
            to_status=CaseStatus.REGISTERED,
            data={"channel": case.channel, "receipt_number": case.receipt_number},
            is_public=True,
        )
    ]


def register_case(*, intake: Intake, actor: Actor) -> Registered:
    """Register a petition: validate, number it, start the acceptance clock (信访工作条例 Art. 22)."""
    intake_mod.validate_intake(intake)
    now = timezone.now()
    code = intake_mod.new_query_code()
    with transaction.atomic():
        petitioner = None if intake.is_anonymous else _petitioner_from(intake.petitioner)
        matter = Matter.objects.create(
            title=_title_of(intake), category_id=intake.category_id, place_text=intake.place_text
        )
        case, plan = _new_case(
            intake,
            receipt_number=intake_mod.next_receipt_number(timezone.localdate(now)),
            query_code=code,
            petitioner=petitioner,
            matter=matter,
            actor=actor,
            now=now,
        )
        case.save(force_insert=True)
        for person in intake.representatives:
            representative = _petitioner_from(person)
            if representative is not None:
                case.representatives.add(representative)
        events = _registration_events(case, actor)
        clocks.start_clock(case=case, kind=K.ACCEPTANCE, actor=actor, events=events, plan=plan)
        write_events(events)
    return Registered(case=case, query_code=code)


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
            found = Petitioner(name=key[2], address=person.address or "")
            if key[1]:
                found.set_phone(person.phone)
            if key[0]:
                found.set_id_number(person.id_number)
            created[key] = found
        result.append(found)
    Petitioner.objects.bulk_create(list(created.values()))
    return result


def register_cases(*, intakes: Sequence[Intake], actor: Actor) -> BulkRegistration:
    """Register many petitions at once (imports): each is validated and refused on its own, the accepted
    ones are written in one transaction with the same numbers, clocks, events and audit entries as
    ``register_case``, in a few statements per batch instead of a dozen per case."""
    valid: list[tuple[int, Intake]] = []
    rejected: list[tuple[int, str]] = []
    for position, intake in enumerate(intakes):
        try:
            intake_mod.validate_intake(intake)
        except InvalidInput as exc:
            rejected.append((position, exc.message))
        else:
            valid.append((position, intake))
    if not valid:
        return BulkRegistration([], rejected)
    now = timezone.now()
    with transaction.atomic():
        petitioners = _petitioners_bulk([None if it.is_anonymous else it.petitioner for _, it in valid])
        matters = Matter.objects.bulk_create(
            [
                Matter(title=_title_of(it), category_id=it.category_id, place_text=it.place_text)
                for _, it in valid
            ]
        )
        numbers = intake_mod.reserve_receipt_numbers(timezone.localdate(now), len(valid))
        codes = [intake_mod.new_query_code() for _ in valid]
        built = [
            _new_case(it, receipt_number=n, query_code=c, petitioner=p, matter=m, actor=actor, now=now)
            for (_, it), n, c, p, m in zip(valid, numbers, codes, petitioners, matters, strict=True)
        ]
        cases = Case.objects.bulk_create([case for case, _ in built])
        events: list[CaseEvent] = []
        clock_rows = []
        for case, plan in built:
            events.extend(_registration_events(case, actor))
            clock_rows.append(clocks.clock_from_plan(case=case, plan=plan))
            events.append(clocks.clock_started_event(case=case, plan=plan, actor=actor))
        clocks.Clock.objects.bulk_create(clock_rows)
        write_events(events)
        for (_, intake), case in zip(valid, cases, strict=True):
            for person in intake.representatives:
                representative = _petitioner_from(person)
                if representative is not None:
                    case.representatives.add(representative)
    return BulkRegistration(
        [Registered(case=case, query_code=code) for case, code in zip(cases, codes, strict=True)], rejected
    )


# --- acceptance (信访工作条例 Art. 22–23) ---------------------------------------------------------------------


def accept_case(*, case: Case, actor: Actor, version: int | None = None, note: str = "") -> Case:
    """Accept: the 15-day acceptance clock stops and the 60-day handling clock starts (Art. 34).

    A petition on a matter already final after re-examination is not accepted again (Art. 36)."""
    matter = Matter.objects.filter(cases=case).first()
    if matter is not None and matter.status == MatterStatus.FINAL:
        final_day = f"{timezone.localtime(matter.final_at):%Y-%m-%d}" if matter.final_at else ""
        raise IllegalMove(
            f"该事项已于 {final_day} 复核终结，依据《信访工作条例》第三十六条不再受理，请作出不予受理告知"
        )
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(case, Move.ACCEPT, actor, events, version=version, note=note, accepted_at=now)
        clocks.stop_clocks(case=case, kinds=[K.ACCEPTANCE], actor=actor, events=events)
        clocks.start_clock(case=case, kind=K.HANDLING, actor=actor, start=now, events=events)
        documents.issue(case=case, kind=DocumentKind.ACCEPTANCE_NOTICE, actor=actor, events=events)
        _finish(case, events)
    return case


def _require(text: str, what: str) -> str:
    if not (text or "").strip():
        raise InvalidInput(f"请填写{what}")
    return text.strip()


def decline_case(
    *, case: Case, actor: Actor, reason: str, proper_channel: str, version: int | None = None
) -> Case:
    """Decline (不予受理) with the reason and the channel the person should use instead (Art. 23, 31)."""
    reason, proper_channel = _require(reason, "不予受理的理由"), _require(proper_channel, "应当通过的途径")
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(
            case,
            Move.DECLINE,
            actor,
            events,
            version=version,
            note=reason,
            data={"proper_channel": proper_channel},
            closed_at=timezone.now(),
        )
        clocks.stop_clocks(case=case, kinds=[K.ACCEPTANCE], actor=actor, events=events)
        documents.issue(
            case=case,
            kind=DocumentKind.DECLINE_NOTICE,
            actor=actor,
            events=events,
            reason=reason,
            proper_channel=proper_channel,
        )
        _finish(case, events)
    return case


def transfer_case(
    *, case: Case, actor: Actor, authority: str, reason: str, version: int | None = None
) -> Case:
    """Transfer (转送) to the authority that is competent for the matter."""
    authority, reason = _require(authority, "转送机关"), _require(reason, "转送理由")
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(
            case,
            Move.TRANSFER,
            actor,
            events,
            version=version,
            note=reason,
            data={"authority": authority},
            closed_at=timezone.now(),
        )
        clocks.stop_clocks(case=case, kinds=[K.ACCEPTANCE], actor=actor, events=events)
        documents.issue(
            case=case,
            kind=DocumentKind.TRANSFER_NOTICE,
            actor=actor,
            events=events,
            reason=reason,
            authority=authority,
        )
        _finish(case, events)
    return case


def answer_now(*, case: Case, actor: Actor, answer: str, version: int | None = None) -> Case:
    """Answer a consultation on the spot and close it."""
    answer = _require(answer, "答复内容")
    if case.case_type != CaseType.CONSULT:
        raise IllegalMove("只有咨询类诉求可以当场答复办结")
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(
            case, Move.ANSWER_NOW, actor, events, version=version, note=answer, closed_at=now, replied_at=now
        )
        clocks.stop_clocks(case=case, kinds=[K.ACCEPTANCE], actor=actor, events=events)
        _finish(case, events)
    return case


def merge_case(*, case: Case, into: Case, actor: Actor, version: int | None = None) -> Case:
    """Merge a repeat petition into another case: both then share that case's Matter."""
    if into.pk == case.pk:
        raise InvalidInput("不能把信访件合并到它自己")
    if into.status not in OPEN_STATES:
        raise IllegalMove(f"目标信访件 {into.receipt_number} 已结束，不能合并进去")
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(
            case,
            Move.MERGE,
            actor,
            events,
            version=version,
            note=f"合并到 {into.receipt_number}",
            data={"into": into.receipt_number},
            matter=into.matter,
            merged_into=into,
        )
        clocks.stop_clocks(case=case, kinds=[K.ACCEPTANCE, K.HANDLING], actor=actor, events=events)
        events.append(
            new_event(case=into, kind=EventKind.NOTE, actor=actor, note=f"{case.receipt_number} 已合并到本件")
        )
        _finish(case, events)
    return case


def link_to_matter(*, case: Case, matter: Matter, actor: Actor) -> Case:
    """A clerk confirms that ``case`` is about an existing matter (a repeat or joint petition). Linking to a
    matter already final after re-examination flags the case, which then cannot be accepted (Art. 36)."""
    user = _staff(actor, "只有工作人员可以关联事项")
    if not user.has_role(Role.RECEPTION_CLERK, Role.DISPATCHER, Role.ADMIN):
        raise NotAllowed("只有接访员和交办员可以关联事项")
    if case.matter_id == matter.pk:
        raise InvalidInput("该信访件已属于这一事项")
    if case.status not in OPEN_STATES:
        raise IllegalMove("已结束的信访件不能再关联事项")
    with transaction.atomic():
        previous = case.matter_id
        changed = Case.objects.filter(pk=case.pk, version=case.version).update(
            matter=matter, version=F("version") + 1
        )
        if not changed:
            raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
        case.matter, case.version = matter, case.version + 1
        final = matter.status == MatterStatus.FINAL
        events = [
            new_event(
                case=case,
                kind=EventKind.FIELD_CHANGED,
                actor=actor,
                note=f"关联到事项“{matter.title}”" + ("（该事项已复核终结）" if final else ""),
                data={"matter": matter.pk, "previous_matter": previous, "final_matter": final},
            )
        ]
        # The matter opened for this case alone is left empty; drop it so counts of matters stay true.
        if previous and not Case.objects.filter(matter_id=previous).exists():
            Matter.objects.filter(pk=previous).delete()
        _finish(case, events)
    return case


# --- dispatch and assignments ------------------------------------------------------------------------------------


def dispatch_case(
    *,
    case: Case,
    actor: Actor,
    lead_unit: Any,
    assist_units: list[Any] | None = None,
    instructions: str = "",
    version: int | None = None,
) -> list[Assignment]:
    """Send the case to a lead unit (主办) and any assisting units (协办). Each task gets a return window of
    5 working days (Art. 23) and a sign clock."""
    assists = [unit for unit in (assist_units or []) if unit.pk != lead_unit.pk]
    if not lead_unit.is_active or any(not unit.is_active for unit in assists):
        raise InvalidInput("不能交办给已停用的单位")
    move = Move.DISPATCH if case.status == CaseStatus.ACCEPTED else Move.REDISPATCH
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, move, actor, events, version=version, note=instructions, data={"lead": lead_unit.name})
        if move == Move.REDISPATCH:
            _close_open_assignments(case, actor, events)
        created = [
            _create_assignment(case, unit, role, actor, instructions, events)
            for unit, role in [
                (lead_unit, AssignmentRole.LEAD),
                *[(u, AssignmentRole.ASSIST) for u in assists],
            ]
        ]
        _finish(case, events)
    return created


def _create_assignment(
    case: Case,
    unit: Any,
    role: str,
    actor: Actor,
    instructions: str,
    events: list[CaseEvent],
    parent: Any = None,
) -> Assignment:
    now = timezone.now()
    assignment = Assignment.objects.create(
        case=case,
        unit=unit,
        role=role,
        parent=parent,
        instructions=instructions,
        assigned_by=_staff(actor, "只有工作人员可以交办"),
        assigned_at=now,
    )
    window = clocks.start_clock(
        case=case, kind=K.RETURN_WINDOW, actor=actor, assignment=assignment, events=events
    )
    assignment.return_due_at = window.due_at
    assignment.save(update_fields=["return_due_at"])
    if role == AssignmentRole.LEAD:
        clocks.start_clock(case=case, kind=K.SIGN, actor=actor, assignment=assignment, events=events)
    events.append(
        new_event(
            case=case,
            kind=EventKind.ASSIGNED,
            actor=actor,
            note=instructions,
            data={"unit": unit.name, "unit_id": unit.pk, "role": role, "assignment": assignment.pk},
            is_public=role == AssignmentRole.LEAD,
        )
    )
    return assignment


def _close_open_assignments(case: Case, actor: Actor, events: list[CaseEvent]) -> None:
    for assignment in Assignment.objects.filter(case=case, status__in=list(ASSIGNMENT_OPEN)):
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.CANCELLED)
        clocks.stop_clocks(case=case, kinds=[K.SIGN, K.RETURN_WINDOW], assignment=assignment, events=events)


def _lock_assignment(assignment: Assignment, expected: set[str]) -> Assignment:
    current = Assignment.objects.select_for_update().select_related("case", "unit").get(pk=assignment.pk)
    if current.status not in expected:
        raise Conflict(f"该交办任务当前为“{AssignmentStatus(current.status).label}”，请刷新后再操作")
    return current


def _check_unit_actor(actor: Actor, assignment: Assignment) -> User:
    user = _staff(actor, "只有承办单位的工作人员可以办理该任务")
    if not user.has_role(Role.UNIT_HANDLER, Role.UNIT_LEADER):
        raise NotAllowed("只有承办单位的工作人员可以办理该任务")
    if not (user.is_superuser or acts_for_unit(user, assignment.unit.path)):
        raise NotAllowed(f"该任务由“{assignment.unit.name}”办理，您无权操作")
    return user


def sign_assignment(*, assignment: Assignment, actor: Actor) -> Assignment:
    """The unit takes the task (签收). When the lead unit signs, the case is in progress."""
    _check_unit_actor(actor, assignment)
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.PENDING})
        case = assignment.case
        events: list[CaseEvent] = []
        now = timezone.now()
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.SIGNED, signed_by=actor, signed_at=now
        )
        assignment.status, assignment.signed_at = AssignmentStatus.SIGNED, now
        clocks.stop_clocks(case=case, kinds=[K.SIGN], assignment=assignment, actor=actor, events=events)
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_SIGNED,
                actor=actor,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
                is_public=assignment.role == AssignmentRole.LEAD,
            )
        )
        if assignment.role == AssignmentRole.LEAD and case.status == CaseStatus.DISPATCHED:
            _move(case, Move.SIGN, actor, events)
        _finish(case, events)
    return assignment


def return_assignment(*, assignment: Assignment, actor: Actor, reason: str) -> Assignment:
    """Send a task back (退单) with a reason, within its 5-working-day window (信访工作条例 Art. 23).
    The dispatcher then reviews it."""
    reason = _require(reason, "退单理由")
    _check_unit_actor(actor, assignment)
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.PENDING, AssignmentStatus.SIGNED})
        now = timezone.now()
        if assignment.return_due_at is not None and now > assignment.return_due_at:
            raise IllegalMove(
                f"退单期限已于 {timezone.localtime(assignment.return_due_at):%Y-%m-%d %H:%M} 届满（5 个工作日），不能再退单"
            )
        case = assignment.case
        events: list[CaseEvent] = []
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.RETURNED, returned_at=now, return_reason=reason, return_decision=""
        )
        assignment.status = AssignmentStatus.RETURNED
        clocks.stop_clocks(
            case=case, kinds=[K.SIGN, K.RETURN_WINDOW], assignment=assignment, actor=actor, events=events
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_RETURNED,
                actor=actor,
                note=reason,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
            )
        )
        _finish(case, events)
    return assignment


def review_return(*, assignment: Assignment, actor: Actor, uphold: bool, note: str = "") -> Assignment:
    """The dispatcher decides a return: upheld, the task ends and (when no lead is left) the case comes back
    for re-dispatch; overruled, the task goes back to the unit to sign."""
    if not _staff(actor, "只有交办员可以审核退单").has_role(*OFFICE_DECISIONS):
        raise NotAllowed("只有交办员可以审核退单")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.RETURNED})
        if assignment.return_decision:
            raise Conflict("该退单已经审核过了")
        case = Case.objects.get(pk=assignment.case_id)
        events: list[CaseEvent] = []
        decision = "upheld" if uphold else "overruled"
        updates: dict[str, Any] = {"return_decision": decision}
        if not uphold:
            updates["status"] = AssignmentStatus.PENDING
        Assignment.objects.filter(pk=assignment.pk).update(**updates)
        for name, value in updates.items():
            setattr(assignment, name, value)
        events.append(
            new_event(
                case=case,
                kind=EventKind.RETURN_REVIEWED,
                actor=actor,
                note=note,
                data={"unit": assignment.unit.name, "assignment": assignment.pk, "decision": decision},
            )
        )
        if not uphold and assignment.role == AssignmentRole.LEAD:
            clocks.start_clock(case=case, kind=K.SIGN, actor=actor, assignment=assignment, events=events)
        open_lead = Assignment.objects.filter(
            case=case, role=AssignmentRole.LEAD, status__in=[*ASSIGNMENT_OPEN, AssignmentStatus.REPLIED]
        ).exists()
        if uphold and not open_lead and case.status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS):
            _close_open_assignments(case, actor, events)
            _move(case, Move.ALL_RETURNED, SYSTEM, events, note="主办单位退单已同意，待重新交办")
        _finish(case, events)
    return assignment


def pass_down_assignment(
    *, assignment: Assignment, actor: Actor, unit: Any, instructions: str = ""
) -> Assignment:
    """A street office passes its task to a community or property company; it stays responsible (首接负责)."""
    _check_unit_actor(actor, assignment)
    if unit.pk == assignment.unit_id:
        raise InvalidInput("不能转派给本单位")
    # Down the tree (a street to its communities) or to a property company; never sideways to another street,
    # which would hand it sight of a case that is not its own.
    if not (unit.path.startswith(assignment.unit.path) or unit.kind == UnitKind.PROPERTY_COMPANY):
        raise InvalidInput(f"只能转派给本单位下属的社区、单位或物业公司，不能转派给“{unit.name}”")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.SIGNED})
        case = assignment.case
        events: list[CaseEvent] = []
        child = _create_assignment(
            case, unit, AssignmentRole.ASSIST, actor, instructions, events, parent=assignment
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.ASSIGNMENT_PASSED_DOWN,
                actor=actor,
                note=instructions,
                data={"from": assignment.unit.name, "to": unit.name, "assignment": child.pk},
            )
        )
        _finish(case, events)
    return child


# --- handling -------------------------------------------------------------------------------------------------------


def request_info(*, case: Case, actor: Actor, what: str, version: int | None = None) -> Case:
    """Ask the petitioner for information; the handling clock pauses until it arrives."""
    what = _require(what, "需要补充的材料")
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.REQUEST_INFO, actor, events, version=version, note=what)
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is not None and clock.state == ClockState.RUNNING:
            clocks.pause_clock(clock=clock, actor=actor, reason=what, events=events)
        _finish(case, events)
    return case


def receive_info(*, case: Case, actor: Actor, note: str = "", version: int | None = None) -> Case:
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.INFO_RECEIVED, actor, events, version=version, note=note)
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is not None and clock.state == ClockState.PAUSED:
            clocks.resume_clock(clock=clock, actor=actor, events=events)
        _finish(case, events)
    return case


def extend_handling(*, case: Case, actor: Actor, days: int, reason: str) -> Case:
    """Extend the handling clock once, with approval, by at most 30 days (信访工作条例 Art. 34)."""
    reason = _require(reason, "延期理由")
    if not _staff(actor, "延期须经信访办批准").has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
        raise NotAllowed("延期须经信访办批准")
    with transaction.atomic():
        clock = clocks.running_clock(case, K.HANDLING)
        if clock is None:
            raise IllegalMove("该信访件没有正在计时的办理时限")
        events: list[CaseEvent] = []
        clocks.extend_clock(clock=clock, amount=days, actor=actor, reason=reason, events=events)
        _finish(case, events)
    return case


def request_extension(*, case: Case, actor: Actor, days: int, reason: str) -> ExtensionRequest:
    """The lead unit asks for more time; its leader and then the petition office approve (Art. 34)."""
    reason = _require(reason, "延期理由")
    lead = case.lead_assignment
    if case.status not in (CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_INFO) or lead is None:
        raise IllegalMove("只有办理中的信访件可以申请延期")
    user = _check_unit_actor(actor, lead)
    clock = clocks.running_clock(case, K.HANDLING)
    if clock is None or not clock.can_extend:
        raise IllegalMove("该信访件的办理时限已经延期过一次，不能再申请")
    limit = clocks.choose_policy(K.HANDLING, case).max_extension
    if not 1 <= days <= limit:
        raise InvalidInput(f"延期天数必须在 1 到 {limit} 天之间")
    if case.extension_requests.filter(
        status__in=[ExtensionStatus.REQUESTED, ExtensionStatus.UNIT_APPROVED]
    ).exists():
        raise IllegalMove("已有一份延期申请在审批中")
    with transaction.atomic():
        request = ExtensionRequest.objects.create(
            case=case, unit=lead.unit, days=days, reason=reason, requested_by=user
        )
        write_events(
            [
                new_event(
                    case=case,
                    kind=EventKind.EXTENSION_REQUESTED,
                    actor=actor,
                    note=reason,
                    data={"request": request.pk, "days": days},
                )
            ]
        )
    return request


def decide_extension(
    *, request: ExtensionRequest, actor: Actor, approve: bool, note: str = ""
) -> ExtensionRequest:
    """First the unit's leader, then the petition office. The office's approval extends the clock."""
    user = _staff(actor, "您无权审批延期申请")
    with transaction.atomic():
        current = (
            ExtensionRequest.objects.select_for_update().select_related("case", "unit").get(pk=request.pk)
        )
        case = current.case
        if current.status == ExtensionStatus.REQUESTED:
            if not (user.has_role(Role.UNIT_LEADER) and acts_for_unit(user, current.unit.path)):
                raise NotAllowed("延期申请须先由承办单位负责人审批")
            stage, next_status = "unit", ExtensionStatus.UNIT_APPROVED
            current.unit_decided_by = user
        elif current.status == ExtensionStatus.UNIT_APPROVED:
            if not user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
                raise NotAllowed("延期申请须经信访办审批")
            stage, next_status = "office", ExtensionStatus.APPROVED
            current.office_decided_by = user
        else:
            raise Conflict("该延期申请已经审批完毕")
        current.status = next_status if approve else ExtensionStatus.REJECTED
        current.decision_note = note
        if not approve or next_status == ExtensionStatus.APPROVED:
            current.decided_at = timezone.now()
        current.save(
            update_fields=["status", "decision_note", "decided_at", "unit_decided_by", "office_decided_by"]
        )
        events = [
            new_event(
                case=case,
                kind=EventKind.EXTENSION_DECIDED,
                actor=actor,
                note=note,
                data={"request": current.pk, "stage": stage, "approved": approve},
            )
        ]
        if approve and next_status == ExtensionStatus.APPROVED:
            clock = clocks.running_clock(case, K.HANDLING)
            if clock is None:
                raise IllegalMove("该信访件没有正在计时的办理时限")
            clocks.extend_clock(
                clock=clock, amount=current.days, actor=actor, reason=current.reason, events=events
            )
        _finish(case, events)
    return current


def add_note(
    *,
    case: Case,
    actor: Actor,
    note: str,
    action: str = ActionKind.NOTE,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Record an action taken on a case: a call, a visit, a meeting, assistance (帮扶救助), counselling
    (思想疏导), a referral to mediation — besides solving the problem itself, these count in analytics."""
    note = _require(note, "办理记录")
    if action not in ActionKind.values:
        raise InvalidInput(f"办理方式“{action}”无效")
    if case.status not in OPEN_STATES:
        raise IllegalMove("已结束的信访件不能再添加办理记录")
    with transaction.atomic():
        events = [
            new_event(
                case=case,
                kind=EventKind.NOTE,
                actor=actor,
                note=note,
                data={**(data or {}), "action": action},
            )
        ]
        write_events(events)
    return events[0]


def submit_assist_part(*, assignment: Assignment, actor: Actor, text: str) -> Assignment:
    """An assisting unit (协办) hands its part of the answer to the lead unit."""
    text = _require(text, "协办意见")
    _check_unit_actor(actor, assignment)
    if assignment.role != AssignmentRole.ASSIST:
        raise IllegalMove("主办单位通过答复意见回复，不需要提交协办意见")
    with transaction.atomic():
        assignment = _lock_assignment(assignment, {AssignmentStatus.SIGNED})
        now = timezone.now()
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.REPLIED, replied_at=now)
        assignment.status, assignment.replied_at = AssignmentStatus.REPLIED, now
        events: list[CaseEvent] = []
        clocks.stop_clocks(
            case=assignment.case, kinds=[K.RETURN_WINDOW], assignment=assignment, events=events
        )
        events.append(
            new_event(
                case=assignment.case,
                kind=EventKind.ASSIGNMENT_REPLIED,
                actor=actor,
                note=text,
                data={"unit": assignment.unit.name, "assignment": assignment.pk},
            )
        )
        _finish(assignment.case, events)
    return assignment


REPLY_PARTS = {
    "facts": "事实",
    "basis": "依据",
    "conclusion": "结论",
    "review_rights": "申请复查的权利和期限告知",
}


def draft_reply(
    *, case: Case, actor: Actor, facts: str, basis: str, conclusion: str, review_rights: str
) -> Reply:
    """Write the answer. A reply must state facts, basis, conclusion and the right to request a review with its
    deadline (信访工作条例 Art. 32, 35); one missing any of them is refused naming what is missing."""
    parts = {"facts": facts, "basis": basis, "conclusion": conclusion, "review_rights": review_rights}
    missing = [label for key, label in REPLY_PARTS.items() if not (parts[key] or "").strip()]
    if missing:
        raise InvalidInput("答复意见缺少：" + "、".join(missing))
    if case.status not in (CaseStatus.IN_PROGRESS,):
        raise IllegalMove(f"信访件处于“{CaseStatus(case.status).label}”状态，不能起草答复")
    lead = case.lead_assignment
    if lead is None:
        raise IllegalMove("该信访件没有主办单位")
    author = _check_unit_actor(actor, lead)
    with transaction.atomic():
        reply = Reply.objects.create(
            case=case, unit=lead.unit, author=author, **{k: v.strip() for k, v in parts.items()}
        )
        write_events(
            [
                new_event(
                    case=case, kind=EventKind.NOTE, actor=actor, note="起草答复意见", data={"reply": reply.pk}
                )
            ]
        )
    return reply


def approve_reply(*, reply: Reply, actor: Actor) -> Reply:
    """The unit leader approves the reply before it is sent."""
    approver = _staff(actor, "答复意见须由承办单位负责人审批")
    if not approver.has_role(Role.UNIT_LEADER):
        raise NotAllowed("答复意见须由承办单位负责人审批")
    if not (approver.is_superuser or acts_for_unit(approver, reply.unit.path)):
        raise NotAllowed("只能审批本单位的答复意见")
    with transaction.atomic():
        changed = Reply.objects.filter(pk=reply.pk, approved_at__isnull=True).update(
            approved_by=approver, approved_at=timezone.now()
        )
        if not changed:
            raise Conflict("该答复意见已经审批过了")
        reply.refresh_from_db()
        write_events(
            [
                new_event(
                    case=reply.case,
                    kind=EventKind.NOTE,
                    actor=actor,
                    note="审批通过答复意见",
                    data={"reply": reply.pk},
                )
            ]
        )
    return reply


def send_reply(*, case: Case, actor: Actor, version: int | None = None) -> Case:
    """Send the approved reply: the handling clock stops, the follow-up window and the 30-day window to request
    a review (Art. 35) start."""
    reply = case.replies.filter(sent_at__isnull=True).order_by("-created_at").first()
    if reply is None:
        raise IllegalMove("没有待发送的答复意见，请先起草")
    if reply.approved_at is None:
        raise IllegalMove("答复意见尚未经单位负责人审批，不能发送")
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(case, Move.REPLY, actor, events, version=version, note=reply.conclusion, replied_at=now)
        Reply.objects.filter(pk=reply.pk).update(sent_at=now)
        documents.issue(
            case=case,
            kind=DocumentKind.REPLY,
            actor=actor,
            events=events,
            unit=reply.unit.name,
            facts=reply.facts,
            basis=reply.basis,
            conclusion=reply.conclusion,
            review_rights=reply.review_rights,
        )
        Assignment.objects.filter(case=case, status=AssignmentStatus.SIGNED).update(
            status=AssignmentStatus.REPLIED, replied_at=now
        )
        # Answered: the units' windows to object to the task close with it.
        clocks.stop_clocks(case=case, kinds=[K.HANDLING, K.SIGN, K.RETURN_WINDOW], actor=actor, events=events)
        _move(case, Move.START_FOLLOW_UP, SYSTEM, events)
        clocks.start_clock(case=case, kind=K.FOLLOW_UP_WINDOW, actor=actor, start=now, events=events)
        clocks.start_clock(case=case, kind=K.REVIEW_REQUEST_WINDOW, actor=actor, start=now, events=events)
        _finish(case, events)
    return case


# --- follow-up ------------------------------------------------------------------------------------------------------


def record_feedback(
    *,
    case: Case,
    actor: Actor,
    resolved: str,
    satisfaction: str,
    comment: str = "",
    version: int | None = None,
) -> Feedback:
    """The person rates the answer. Not satisfied reopens the case to the same unit (重办), at most
    ``settings.REOPEN_LIMIT`` times; after that the case closes with the rating kept for the supervisors."""
    from jiefen.cases.models import Resolved

    if resolved not in Resolved.values or satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择是否解决和是否满意")
    with transaction.atomic():
        events: list[CaseEvent] = []
        feedback = Feedback.objects.create(
            case=case,
            resolved=resolved,
            satisfaction=satisfaction,
            comment=comment.strip(),
            recorded_by=_user_or_none(actor),
        )
        events.append(
            new_event(
                case=case,
                kind=EventKind.FEEDBACK,
                actor=actor,
                note=comment,
                data={"resolved": resolved, "satisfaction": satisfaction},
                is_public=True,
            )
        )
        now = timezone.now()
        if satisfaction == Satisfaction.NOT_SATISFIED and case.reopen_count < settings.REOPEN_LIMIT:
            _move(
                case,
                Move.NOT_SATISFIED,
                actor,
                events,
                version=version,
                note=comment,
                reopen_count=case.reopen_count + 1,
            )
            clocks.stop_clocks(
                case=case, kinds=[K.FOLLOW_UP_WINDOW, K.REVIEW_REQUEST_WINDOW], actor=actor, events=events
            )
            clocks.start_clock(case=case, kind=K.HANDLING, actor=actor, start=now, events=events)
        else:
            data = {"escalate": True} if satisfaction == Satisfaction.NOT_SATISFIED else None
            _move(
                case, Move.SATISFIED, actor, events, version=version, note=comment, data=data, closed_at=now
            )
            clocks.stop_clocks(case=case, kinds=[K.FOLLOW_UP_WINDOW], actor=actor, events=events)
        _finish(case, events)
    return feedback


def resume_case(*, case: Case, actor: Actor, version: int | None = None) -> Case:
    """The unit takes a reopened case up again."""
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.RESUME, actor, events, version=version)
        Assignment.objects.filter(
            case=case, status=AssignmentStatus.REPLIED, role=AssignmentRole.LEAD
        ).update(status=AssignmentStatus.SIGNED)
        _finish(case, events)
    return case


def close_after_follow_up_window(clock: Any) -> None:
    """The rating window passed without an answer: the case closes, counted as not rated."""
    case = Case.objects.get(pk=clock.case_id)
    if case.status != CaseStatus.FOLLOW_UP:
        return
    with transaction.atomic():
        events: list[CaseEvent] = []
        try:
            _move(case, Move.WINDOW_PASSED, SYSTEM, events, closed_at=timezone.now(), data={"rated": False})
        except Conflict:
            return  # the person rated at the same moment; their rating wins
        _finish(case, events)


# --- review chain (信访工作条例 Art. 35–36) ----------------------------------------------------------------------


def _window_open(case: Case, kind: str, label: str) -> Any:
    window = clocks.running_clock(case, kind)
    if window is None or timezone.now() > window.due_at:
        raise IllegalMove(f"{label}期限已过，不能再申请")
    return window


def request_review(*, case: Case, actor: Actor, reason: str, version: int | None = None) -> Review:
    """复查: within 30 days of the reply; decided by the level above within 30 days (Art. 35)."""
    reason = _require(reason, "申请复查的理由")
    with transaction.atomic():
        _window_open(case, K.REVIEW_REQUEST_WINDOW, "复查申请")
        events: list[CaseEvent] = []
        _move(case, Move.REQUEST_REVIEW, actor, events, version=version, note=reason)
        clocks.stop_clocks(
            case=case, kinds=[K.REVIEW_REQUEST_WINDOW, K.FOLLOW_UP_WINDOW], actor=actor, events=events
        )
        review = Review.objects.create(case=case, level=1, reason=reason)
        clocks.start_clock(case=case, kind=K.REVIEW_DECISION, actor=actor, events=events)
        _finish(case, events)
    return review


def decide_review(*, case: Case, actor: Actor, decision: str, version: int | None = None) -> Review:
    decision = _require(decision, "复查意见")
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(case, Move.DECIDE_REVIEW, actor, events, version=version, note=decision)
        review = Review.objects.get(case=case, level=1)
        Review.objects.filter(pk=review.pk).update(decision=decision, decided_by=actor, decided_at=now)
        clocks.stop_clocks(case=case, kinds=[K.REVIEW_DECISION], actor=actor, events=events)
        clocks.start_clock(case=case, kind=K.REEXAM_REQUEST_WINDOW, actor=actor, start=now, events=events)
        _finish(case, events)
    review.refresh_from_db()
    return review


def close_after_review_window(clock: Any) -> None:
    case = Case.objects.get(pk=clock.case_id)
    if case.status != CaseStatus.REVIEWED:
        return
    with transaction.atomic():
        events: list[CaseEvent] = []
        try:
            _move(case, Move.REVIEW_WINDOW_PASSED, SYSTEM, events, closed_at=timezone.now())
        except Conflict:
            return
        _finish(case, events)


def request_reexam(*, case: Case, actor: Actor, reason: str, version: int | None = None) -> Review:
    """复核: within 30 days of the review decision; decided within 30 days (Art. 36)."""
    reason = _require(reason, "申请复核的理由")
    with transaction.atomic():
        _window_open(case, K.REEXAM_REQUEST_WINDOW, "复核申请")
        events: list[CaseEvent] = []
        _move(case, Move.REQUEST_REEXAM, actor, events, version=version, note=reason)
        clocks.stop_clocks(case=case, kinds=[K.REEXAM_REQUEST_WINDOW], actor=actor, events=events)
        review = Review.objects.create(case=case, level=2, reason=reason)
        clocks.start_clock(case=case, kind=K.REEXAM_DECISION, actor=actor, events=events)
        _finish(case, events)
    return review


def decide_reexam(*, case: Case, actor: Actor, decision: str, version: int | None = None) -> Review:
    """After 复核 the matter is final (终结): a new petition on the same facts is not accepted again."""
    decision = _require(decision, "复核意见")
    with transaction.atomic():
        events: list[CaseEvent] = []
        now = timezone.now()
        _move(case, Move.DECIDE_REEXAM, actor, events, version=version, note=decision, closed_at=now)
        review = Review.objects.get(case=case, level=2)
        Review.objects.filter(pk=review.pk).update(decision=decision, decided_by=actor, decided_at=now)
        clocks.stop_clocks(case=case, kinds=[K.REEXAM_DECISION], actor=actor, events=events)
        if case.matter_id:
            Matter.objects.filter(pk=case.matter_id).update(status=MatterStatus.FINAL, final_at=now)
        _finish(case, events)
    review.refresh_from_db()
    return review


def withdraw_case(*, case: Case, actor: Actor, reason: str = "", version: int | None = None) -> Case:
    """The petitioner withdraws; every clock of the case stops."""
    with transaction.atomic():
        events: list[CaseEvent] = []
        _move(case, Move.WITHDRAW, actor, events, version=version, note=reason, closed_at=timezone.now())
        clocks.stop_clocks(case=case, kinds=[k.value for k in ClockKind], actor=actor, events=events)
        Assignment.objects.filter(case=case, status__in=list(ASSIGNMENT_OPEN)).update(
            status=AssignmentStatus.CANCELLED
        )
        _finish(case, events)
    return case


clocks.on_window_expired(K.FOLLOW_UP_WINDOW, close_after_follow_up_window)
clocks.on_window_expired(K.REEXAM_REQUEST_WINDOW, close_after_review_window)
