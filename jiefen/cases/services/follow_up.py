"""After the reply: the person's rating, reopening, the review chain (Art. 35–36), withdrawal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jiefen.cases.actors import SYSTEM, Actor
from jiefen.cases.events import new_event
from jiefen.cases.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    EventKind,
    Feedback,
    Matter,
    MatterStatus,
    Review,
    Satisfaction,
)
from jiefen.cases.services._core import (
    K,
    _finish,
    _move,
    _require,
    _user_or_none,
)
from jiefen.cases.workflow import ASSIGNMENT_OPEN, AssignmentStatus, CaseStatus, Move
from jiefen.clocks import services as clocks
from jiefen.clocks.models import ClockKind
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput

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
