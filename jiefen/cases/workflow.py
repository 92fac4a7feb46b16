"""The lifecycle of a case (DESIGN §3): its states and the one table of allowed moves.

Every move is made by exactly one service function in ``services.py``; the table is the single source of truth
for which state may follow which, and a database constraint keeps the status column inside ``CaseStatus``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ACCEPTED = "accepted", _("已受理")
    DISPATCHED = "dispatched", _("已交办")
    IN_PROGRESS = "in_progress", _("办理中")
    AWAITING_INFO = "awaiting_info", _("待补充材料")
    REPLIED = "replied", _("已答复")
    FOLLOW_UP = "follow_up", _("回访中")
    REOPENED = "reopened", _("重办")
    CLOSED = "closed", _("已办结")
    DECLINED = "declined", _("不予受理")
    TRANSFERRED = "transferred", _("已转送")
    MERGED = "merged", _("已合并")
    WITHDRAWN = "withdrawn", _("已撤回")
    UNDER_REVIEW = "under_review", _("复查中")
    REVIEWED = "reviewed", _("已复查")
    UNDER_REEXAM = "under_reexam", _("复核中")
    FINAL = "final", _("已终结")


class Move(models.TextChoices):
    ACCEPT = "accept", _("受理")
    DECLINE = "decline", _("不予受理")
    TRANSFER = "transfer", _("转送")
    ANSWER_NOW = "answer_now", _("当场答复")
    MERGE = "merge", _("合并")
    DISPATCH = "dispatch", _("交办")
    SIGN = "sign", _("签收")
    ALL_RETURNED = "all_returned", _("全部退单")
    REDISPATCH = "redispatch", _("重新交办")
    REQUEST_INFO = "request_info", _("要求补充材料")
    INFO_RECEIVED = "info_received", _("收到补充材料")
    REPLY = "reply", _("答复")
    START_FOLLOW_UP = "start_follow_up", _("开始回访")
    SATISFIED = "satisfied", _("满意办结")
    WINDOW_PASSED = "window_passed", _("回访期满办结")
    NOT_SATISFIED = "not_satisfied", _("不满意重办")
    RESUME = "resume", _("重新办理")
    REQUEST_REVIEW = "request_review", _("申请复查")
    DECIDE_REVIEW = "decide_review", _("复查决定")
    REVIEW_WINDOW_PASSED = "review_window_passed", _("复核期满办结")
    REQUEST_REEXAM = "request_reexam", _("申请复核")
    DECIDE_REEXAM = "decide_reexam", _("复核决定")
    WITHDRAW = "withdraw", _("撤回")


S = CaseStatus

# States in which the office still owes the person something; a case in any of them can be withdrawn.
OPEN_STATES = frozenset(
    {
        S.REGISTERED,
        S.ACCEPTED,
        S.DISPATCHED,
        S.IN_PROGRESS,
        S.AWAITING_INFO,
        S.REPLIED,
        S.FOLLOW_UP,
        S.REOPENED,
        S.UNDER_REVIEW,
        S.REVIEWED,
        S.UNDER_REEXAM,
    }
)
TERMINAL_STATES = frozenset(set(S) - OPEN_STATES)

# move → (states it may start from, state it leads to)
ALLOWED_MOVES: dict[Move, tuple[frozenset[CaseStatus], CaseStatus]] = {
    Move.ACCEPT: (frozenset({S.REGISTERED}), S.ACCEPTED),
    Move.DECLINE: (frozenset({S.REGISTERED}), S.DECLINED),
    Move.TRANSFER: (frozenset({S.REGISTERED}), S.TRANSFERRED),
    Move.ANSWER_NOW: (frozenset({S.REGISTERED}), S.CLOSED),
    Move.MERGE: (frozenset({S.REGISTERED, S.ACCEPTED}), S.MERGED),
    Move.DISPATCH: (frozenset({S.ACCEPTED}), S.DISPATCHED),
    Move.SIGN: (frozenset({S.DISPATCHED}), S.IN_PROGRESS),
    Move.ALL_RETURNED: (frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.ACCEPTED),
    Move.REDISPATCH: (frozenset({S.IN_PROGRESS, S.REOPENED}), S.DISPATCHED),
    Move.REQUEST_INFO: (frozenset({S.IN_PROGRESS}), S.AWAITING_INFO),
    Move.INFO_RECEIVED: (frozenset({S.AWAITING_INFO}), S.IN_PROGRESS),
    Move.REPLY: (frozenset({S.IN_PROGRESS}), S.REPLIED),
    Move.START_FOLLOW_UP: (frozenset({S.REPLIED}), S.FOLLOW_UP),
    Move.SATISFIED: (frozenset({S.FOLLOW_UP}), S.CLOSED),
    Move.WINDOW_PASSED: (frozenset({S.FOLLOW_UP}), S.CLOSED),
    Move.NOT_SATISFIED: (frozenset({S.FOLLOW_UP}), S.REOPENED),
    Move.RESUME: (frozenset({S.REOPENED}), S.IN_PROGRESS),
    Move.REQUEST_REVIEW: (frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}), S.UNDER_REVIEW),
    Move.DECIDE_REVIEW: (frozenset({S.UNDER_REVIEW}), S.REVIEWED),
    Move.REVIEW_WINDOW_PASSED: (frozenset({S.REVIEWED}), S.CLOSED),
    Move.REQUEST_REEXAM: (frozenset({S.REVIEWED}), S.UNDER_REEXAM),
    Move.DECIDE_REEXAM: (frozenset({S.UNDER_REEXAM}), S.FINAL),
    Move.WITHDRAW: (OPEN_STATES, S.WITHDRAWN),
}


def target_of(move: Move, current: str) -> CaseStatus | None:
    """The state ``move`` leads to from ``current``, or None when the table forbids it."""
    sources, target = ALLOWED_MOVES[move]
    return target if current in sources else None


def moves_from(current: str) -> list[Move]:
    return [move for move, (sources, _target) in ALLOWED_MOVES.items() if current in sources]


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待签收")
    SIGNED = "signed", _("已签收")
    REPLIED = "replied", _("已回复")
    RETURNED = "returned", _("已退单")
    CANCELLED = "cancelled", _("已撤销")


ASSIGNMENT_OPEN = frozenset({AssignmentStatus.PENDING, AssignmentStatus.SIGNED})
