"""Deciding on a registered petition (信访工作条例 Art. 22–23, 31, 36)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jiefen.cases.actors import Actor
from jiefen.cases.events import new_event
from jiefen.cases.models import (
    Case,
    CaseEvent,
    CaseType,
    EventKind,
    Matter,
    MatterStatus,
)
from jiefen.cases.services._core import (
    K,
    _finish,
    _move,
    _require,
    _staff,
)
from jiefen.cases.workflow import OPEN_STATES, Move
from jiefen.clocks import services as clocks
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed
from jiefen.documents import services as documents
from jiefen.documents.models import DocumentKind
from jiefen.notify.events import notify_case_event
from jiefen.org.models import Role, User

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
        notify_case_event(case=case, kind="accepted")
        _finish(case, events)
    return case


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
        notify_case_event(case=case, kind="declined", reason=reason, proper_channel=proper_channel)
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


# Who may tie a case to an existing matter: the office staff who register and dispatch.
MATTER_LINKERS = (Role.RECEPTION_CLERK, Role.DISPATCHER, Role.ADMIN)


def may_link_matter(actor: Actor, case: Case | None = None) -> bool:
    """The rule ``link_to_matter`` enforces (and confirming a proposed related case), for pages to ask:
    the matter linkers, while ``case`` (when given) is open."""
    return (
        isinstance(actor, User)
        and actor.is_authenticated
        and actor.is_active
        and actor.has_role(*MATTER_LINKERS)
        and (case is None or case.status in OPEN_STATES)
    )


def link_to_matter(*, case: Case, matter: Matter, actor: Actor) -> Case:
    """A clerk confirms that ``case`` is about an existing matter (a repeat or joint petition). Linking to a
    matter already final after re-examination flags the case, which then cannot be accepted (Art. 36)."""
    user = _staff(actor, "只有工作人员可以关联事项")
    if not may_link_matter(user):
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
