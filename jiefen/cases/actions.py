"""The actions staff take on a case, each a typed input and the one service it calls.

The web case page and the API both go through this table, so a rule lives in the service only once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, Field

from jiefen.cases import services
from jiefen.cases.models import Assignment, Case, ExtensionRequest, Matter, Reply
from jiefen.cases.workflow import Move
from jiefen.core.errors import InvalidInput
from jiefen.org.models import Unit


class VersionIn(BaseModel):
    # The version of the case the user saw; a stale one is refused with a conflict.
    version: int | None = Field(default=None, ge=1)


class NoteIn(VersionIn):
    note: str = Field(default="", max_length=5000)


class ActionNoteIn(BaseModel):
    note: str = Field(max_length=5000)
    action: str = "note"


class AssistPartIn(BaseModel):
    assignment: int
    text: str = Field(max_length=20000)


class DeclineIn(VersionIn):
    reason: str = Field(max_length=5000)
    proper_channel: str = Field(max_length=200)


class TransferIn(VersionIn):
    authority: str = Field(max_length=200)
    reason: str = Field(max_length=5000)


class AnswerIn(VersionIn):
    answer: str = Field(max_length=10000)


class MergeIn(VersionIn):
    into_receipt_number: str = Field(max_length=32)


class DispatchIn(VersionIn):
    lead_unit: int
    assist_units: list[int] = Field(default_factory=list, max_length=20)
    instructions: str = Field(default="", max_length=5000)


class WhatIn(VersionIn):
    what: str = Field(max_length=5000)


class ExtendIn(BaseModel):
    days: int = Field(ge=1, le=365)
    reason: str = Field(max_length=5000)


class ExtensionRequestIn(BaseModel):
    days: int = Field(ge=1, le=365)
    reason: str = Field(max_length=5000)


class ExtensionDecisionIn(BaseModel):
    request: int
    approve: bool
    note: str = Field(default="", max_length=5000)


class MatterIn(BaseModel):
    matter: int


class ReplyIn(BaseModel):
    facts: str = Field(default="", max_length=20000)
    basis: str = Field(default="", max_length=20000)
    conclusion: str = Field(default="", max_length=20000)
    review_rights: str = Field(default="", max_length=5000)


class FeedbackIn(VersionIn):
    resolved: str
    satisfaction: str
    comment: str = Field(default="", max_length=5000)


class ReasonIn(VersionIn):
    reason: str = Field(max_length=5000)


class DecisionIn(VersionIn):
    decision: str = Field(max_length=20000)


class AssignmentIn(BaseModel):
    assignment: int


class AssignmentReasonIn(AssignmentIn):
    reason: str = Field(max_length=5000)


class ReturnReviewIn(AssignmentIn):
    uphold: bool
    note: str = Field(default="", max_length=5000)


class PassDownIn(AssignmentIn):
    unit: int
    instructions: str = Field(default="", max_length=5000)


class ReplyRefIn(BaseModel):
    reply: int


@dataclass(frozen=True)
class Action:
    name: str
    label: Any
    schema: type[BaseModel]
    run: Callable[[Case, Any, Any], Any]
    # The lifecycle move it makes, if any: the case page offers it only where the table allows it.
    move: Move | None = None


def _unit(pk: int) -> Unit:
    unit = Unit.objects.filter(pk=pk, is_active=True).first()
    if unit is None:
        raise InvalidInput("单位不存在或已停用")
    return unit


def _assignment(case: Case, pk: int) -> Assignment:
    assignment = Assignment.objects.filter(pk=pk, case=case).select_related("unit", "case").first()
    if assignment is None:
        raise InvalidInput("该交办任务不属于本信访件")
    return assignment


def _reply(case: Case, pk: int) -> Reply:
    reply = Reply.objects.filter(pk=pk, case=case).select_related("unit", "case").first()
    if reply is None:
        raise InvalidInput("该答复意见不属于本信访件")
    return reply


def _extension(case: Case, pk: int) -> ExtensionRequest:
    request = ExtensionRequest.objects.filter(pk=pk, case=case).select_related("unit", "case").first()
    if request is None:
        raise InvalidInput("该延期申请不属于本信访件")
    return request


def _matter(pk: int) -> Matter:
    matter = Matter.objects.filter(pk=pk).first()
    if matter is None:
        raise InvalidInput("事项不存在")
    return matter


def _merge(case: Case, actor: Any, data: MergeIn) -> Case:
    from jiefen.cases.queries import cases_visible_to

    into = cases_visible_to(actor).filter(receipt_number=data.into_receipt_number.strip()).first()
    if into is None:
        raise InvalidInput(f"找不到受理编号为 {data.into_receipt_number} 的信访件")
    return services.merge_case(case=case, into=into, actor=actor, version=data.version)


S = services
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "accept",
            _("受理"),
            NoteIn,
            lambda c, u, d: S.accept_case(case=c, actor=u, version=d.version, note=d.note),
            Move.ACCEPT,
        ),
        Action(
            "decline",
            _("不予受理"),
            DeclineIn,
            lambda c, u, d: S.decline_case(
                case=c, actor=u, reason=d.reason, proper_channel=d.proper_channel, version=d.version
            ),
            Move.DECLINE,
        ),
        Action(
            "transfer",
            _("转送"),
            TransferIn,
            lambda c, u, d: S.transfer_case(
                case=c, actor=u, authority=d.authority, reason=d.reason, version=d.version
            ),
            Move.TRANSFER,
        ),
        Action(
            "answer",
            _("当场答复"),
            AnswerIn,
            lambda c, u, d: S.answer_now(case=c, actor=u, answer=d.answer, version=d.version),
            Move.ANSWER_NOW,
        ),
        Action("merge", _("合并"), MergeIn, _merge, Move.MERGE),
        Action(
            "dispatch",
            _("交办"),
            DispatchIn,
            lambda c, u, d: S.dispatch_case(
                case=c,
                actor=u,
                lead_unit=_unit(d.lead_unit),
                assist_units=[_unit(pk) for pk in d.assist_units],
                instructions=d.instructions,
                version=d.version,
            ),
            Move.DISPATCH,
        ),
        Action(
            "request_info",
            _("要求补充材料"),
            WhatIn,
            lambda c, u, d: S.request_info(case=c, actor=u, what=d.what, version=d.version),
            Move.REQUEST_INFO,
        ),
        Action(
            "receive_info",
            _("收到补充材料"),
            NoteIn,
            lambda c, u, d: S.receive_info(case=c, actor=u, note=d.note, version=d.version),
            Move.INFO_RECEIVED,
        ),
        Action(
            "extend",
            _("延期"),
            ExtendIn,
            lambda c, u, d: S.extend_handling(case=c, actor=u, days=d.days, reason=d.reason),
        ),
        Action(
            "request_extension",
            _("申请延期"),
            ExtensionRequestIn,
            lambda c, u, d: S.request_extension(case=c, actor=u, days=d.days, reason=d.reason),
        ),
        Action(
            "decide_extension",
            _("审批延期"),
            ExtensionDecisionIn,
            lambda c, u, d: S.decide_extension(
                request=_extension(c, d.request), actor=u, approve=d.approve, note=d.note
            ),
        ),
        Action(
            "link_matter",
            _("关联事项"),
            MatterIn,
            lambda c, u, d: S.link_to_matter(case=c, actor=u, matter=_matter(d.matter)),
        ),
        Action(
            "draft_reply",
            _("起草答复"),
            ReplyIn,
            lambda c, u, d: S.draft_reply(
                case=c,
                actor=u,
                facts=d.facts,
                basis=d.basis,
                conclusion=d.conclusion,
                review_rights=d.review_rights,
            ),
        ),
        Action(
            "approve_reply",
            _("审批答复"),
            ReplyRefIn,
            lambda c, u, d: S.approve_reply(reply=_reply(c, d.reply), actor=u),
        ),
        Action(
            "send_reply",
            _("发送答复"),
            VersionIn,
            lambda c, u, d: S.send_reply(case=c, actor=u, version=d.version),
            Move.REPLY,
        ),
        Action(
            "feedback",
            _("登记回访评价"),
            FeedbackIn,
            lambda c, u, d: S.record_feedback(
                case=c,
                actor=u,
                resolved=d.resolved,
                satisfaction=d.satisfaction,
                comment=d.comment,
                version=d.version,
            ),
            Move.SATISFIED,
        ),
        Action(
            "resume",
            _("重新办理"),
            VersionIn,
            lambda c, u, d: S.resume_case(case=c, actor=u, version=d.version),
            Move.RESUME,
        ),
        Action(
            "request_review",
            _("登记复查申请"),
            ReasonIn,
            lambda c, u, d: S.request_review(case=c, actor=u, reason=d.reason, version=d.version),
            Move.REQUEST_REVIEW,
        ),
        Action(
            "decide_review",
            _("复查决定"),
            DecisionIn,
            lambda c, u, d: S.decide_review(case=c, actor=u, decision=d.decision, version=d.version),
            Move.DECIDE_REVIEW,
        ),
        Action(
            "request_reexam",
            _("登记复核申请"),
            ReasonIn,
            lambda c, u, d: S.request_reexam(case=c, actor=u, reason=d.reason, version=d.version),
            Move.REQUEST_REEXAM,
        ),
        Action(
            "decide_reexam",
            _("复核决定"),
            DecisionIn,
            lambda c, u, d: S.decide_reexam(case=c, actor=u, decision=d.decision, version=d.version),
            Move.DECIDE_REEXAM,
        ),
        Action(
            "withdraw",
            _("撤回"),
            NoteIn,
            lambda c, u, d: S.withdraw_case(case=c, actor=u, reason=d.note, version=d.version),
            Move.WITHDRAW,
        ),
        Action(
            "note",
            _("添加办理记录"),
            ActionNoteIn,
            lambda c, u, d: S.add_note(case=c, actor=u, note=d.note, action=d.action),
        ),
        Action(
            "assist_part",
            _("提交协办意见"),
            AssistPartIn,
            lambda c, u, d: S.submit_assist_part(
                assignment=_assignment(c, d.assignment), actor=u, text=d.text
            ),
        ),
        Action(
            "sign",
            _("签收"),
            AssignmentIn,
            lambda c, u, d: S.sign_assignment(assignment=_assignment(c, d.assignment), actor=u),
        ),
        Action(
            "return",
            _("退单"),
            AssignmentReasonIn,
            lambda c, u, d: S.return_assignment(
                assignment=_assignment(c, d.assignment), actor=u, reason=d.reason
            ),
        ),
        Action(
            "review_return",
            _("审核退单"),
            ReturnReviewIn,
            lambda c, u, d: S.review_return(
                assignment=_assignment(c, d.assignment), actor=u, uphold=d.uphold, note=d.note
            ),
        ),
        Action(
            "pass_down",
            _("转派"),
            PassDownIn,
            lambda c, u, d: S.pass_down_assignment(
                assignment=_assignment(c, d.assignment),
                actor=u,
                unit=_unit(d.unit),
                instructions=d.instructions,
            ),
        ),
    ]
}


def run_action(*, name: str, case: Case, actor: Any, payload: dict[str, Any]) -> Any:
    """Validate ``payload`` against the action's schema and run it. Bad input raises ``InvalidInput``."""
    from pydantic import ValidationError

    action = ACTIONS.get(name)
    if action is None:
        raise InvalidInput(f"未知操作“{name}”")
    try:
        data = action.schema.model_validate(payload)
    except ValidationError as exc:
        problems = "；".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise InvalidInput(f"输入有误：{problems}") from exc
    return action.run(case, actor, data)
