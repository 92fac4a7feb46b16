"""Backlog cases (积案), their leaders (包案领导), plans, timelines and outcomes; campaigns (专项治理); governance
tasks made from hotspots (源头治理)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from jiefen.analytics.models import (
    BacklogCase,
    BacklogStatus,
    BacklogStep,
    Campaign,
    GovernanceTask,
    Hotspot,
    TaskStatus,
)
from jiefen.cases.models import Case, Category, Matter, MatterStatus
from jiefen.cases.workflow import OPEN_STATES, CaseStatus
from jiefen.core.errors import InvalidInput, NotAllowed
from jiefen.org.models import Role

REVIEW_STATES = [CaseStatus.UNDER_REVIEW, CaseStatus.REVIEWED, CaseStatus.UNDER_REEXAM]


@dataclass(frozen=True)
class BacklogRules:
    """Which matters are backlog cases; each rule that holds is kept as a reason."""

    open_days: int = 60  # a case of it open longer than this
    min_petitions: int = 3  # petitioned this many times or more
    review: bool = True  # under review (复查) or re-examination (复核)
    group: bool = True  # a group petition (集体访) still open


REASON_LABELS = {
    "open_long": "办理超过规定天数",
    "repeated": "多次重复信访",
    "review": "复查复核中",
    "group": "集体访",
}


def _may_manage(actor: Any) -> None:
    if not (
        getattr(actor, "is_superuser", False) or actor.has_role(Role.LEADER, Role.SUPERVISOR, Role.ADMIN)
    ):
        raise NotAllowed("只有领导、督办员或管理员可以管理积案")


def detect_backlog(*, rules: BacklogRules | None = None, now: datetime | None = None) -> list[BacklogCase]:
    """Find the matters the rules name and open a backlog case for each new one; refresh the reasons of the
    open ones. The new backlog cases."""
    r = rules or BacklogRules()
    moment = now or timezone.now()
    open_cases = Case.objects.filter(status__in=list(OPEN_STATES)).exclude(matter=None)
    reasons: dict[int, set[str]] = {}

    def add(matter_ids: Any, reason: str) -> None:
        for matter_id in matter_ids:
            reasons.setdefault(matter_id, set()).add(reason)

    add(
        open_cases.filter(received_at__lt=moment - timedelta(days=r.open_days)).values_list(
            "matter_id", flat=True
        ),
        "open_long",
    )
    open_matters = open_cases.values("matter_id")
    add(
        Case.objects.filter(matter_id__in=open_matters)
        .values("matter_id")
        .annotate(n=Count("id"))
        .filter(n__gte=r.min_petitions)
        .values_list("matter_id", flat=True),
        "repeated",
    )
    if r.review:
        add(
            Case.objects.filter(status__in=REVIEW_STATES)
            .exclude(matter=None)
            .values_list("matter_id", flat=True),
            "review",
        )
    if r.group:
        add(open_cases.filter(is_group=True).values_list("matter_id", flat=True), "group")
    created: list[BacklogCase] = []
    with transaction.atomic():
        existing = {b.matter_id: b for b in BacklogCase.objects.filter(matter_id__in=list(reasons))}
        latest = dict(
            Case.objects.filter(matter_id__in=list(reasons))
            .order_by("matter_id", "received_at", "id")
            .values_list("matter_id", "pk")
        )
        for matter_id, why in sorted(reasons.items()):
            found = existing.get(matter_id)
            if found is None:
                backlog = BacklogCase.objects.create(
                    matter_id=matter_id, case_id=latest[matter_id], reasons=sorted(why), detected_at=moment
                )
                BacklogStep.objects.create(
                    backlog=backlog,
                    kind="detected",
                    note="、".join(REASON_LABELS[x] for x in sorted(why)),
                    created_at=moment,
                )
                created.append(backlog)
            elif found.status == BacklogStatus.OPEN and sorted(why) != found.reasons:
                BacklogCase.objects.filter(pk=found.pk).update(reasons=sorted(why))
    return created


def assign_leader(*, backlog: BacklogCase, leader: Any, actor: Any) -> BacklogCase:
    """Name the leader who owns the backlog case (领导包案)."""
    _may_manage(actor)
    if not leader.has_role(Role.LEADER, Role.UNIT_LEADER):
        raise InvalidInput("包案领导须为领导或单位负责人")
    with transaction.atomic():
        BacklogCase.objects.filter(pk=backlog.pk).update(leader=leader)
        BacklogStep.objects.create(backlog=backlog, kind="leader", note=str(leader), actor=actor)
    backlog.leader = leader
    return backlog


def set_plan(*, backlog: BacklogCase, plan: str, actor: Any) -> BacklogCase:
    _may_manage(actor)
    if not plan.strip():
        raise InvalidInput("请填写化解方案")
    with transaction.atomic():
        BacklogCase.objects.filter(pk=backlog.pk).update(plan=plan.strip())
        BacklogStep.objects.create(backlog=backlog, kind="plan", note=plan.strip(), actor=actor)
    backlog.plan = plan.strip()
    return backlog


def add_step(*, backlog: BacklogCase, note: str, actor: Any) -> BacklogStep:
    _may_manage(actor)
    if not note.strip():
        raise InvalidInput("请填写进展")
    return BacklogStep.objects.create(backlog=backlog, kind="progress", note=note.strip(), actor=actor)


def settle_backlog(*, backlog: BacklogCase, outcome: str, actor: Any) -> BacklogCase:
    """The case is closed and the matter settled (案结事了): the backlog case and its Matter are settled."""
    _may_manage(actor)
    if backlog.status != BacklogStatus.OPEN:
        raise InvalidInput("该积案已化解")
    if not outcome.strip():
        raise InvalidInput("请填写化解结果")
    now = timezone.now()
    with transaction.atomic():
        updated = BacklogCase.objects.filter(pk=backlog.pk, status=BacklogStatus.OPEN).update(
            status=BacklogStatus.SETTLED, outcome=outcome.strip(), settled_at=now
        )
        if not updated:
            raise InvalidInput("该积案已化解")
        Matter.objects.filter(pk=backlog.matter_id, status=MatterStatus.OPEN).update(
            status=MatterStatus.SETTLED
        )
        BacklogStep.objects.create(backlog=backlog, kind="settled", note=outcome.strip(), actor=actor)
    backlog.refresh_from_db()
    return backlog


# --- campaigns ----------------------------------------------------------------------------------------------------


def create_campaign(
    *,
    name: str,
    kind: str,
    starts_on: date,
    ends_on: date,
    actor: Any,
    category: Category | None = None,
    keywords: str = "",
    lead_unit: Any = None,
) -> Campaign:
    _may_manage(actor)
    if not name.strip() or not kind.strip():
        raise InvalidInput("请填写名称和问题类型")
    if ends_on < starts_on:
        raise InvalidInput("结束日期不能早于开始日期")
    if category is None and not keywords.strip():
        raise InvalidInput("请选择分类或填写关键词")
    return Campaign.objects.create(
        name=name.strip(),
        kind=kind.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        category=category,
        keywords=keywords.strip(),
        lead_unit=lead_unit,
        created_by=actor,
    )


# --- governance tasks ---------------------------------------------------------------------------------------------


def open_governance_task(
    *, hotspot: Hotspot, owner: Any, deadline: date, actor: Any, unit: Any = None, note: str = ""
) -> GovernanceTask:
    """Turn a hotspot into a governance task; its baseline is the hotspot's complaints per 30 days."""
    _may_manage(actor)
    if deadline < timezone.localdate():
        raise InvalidInput("期限不能早于今天")
    span_days = max(1.0, (hotspot.ended_at - hotspot.started_at).total_seconds() / 86400)
    return GovernanceTask.objects.create(
        hotspot=hotspot,
        title=hotspot.title,
        key_phrases=hotspot.key_phrases,
        place=hotspot.place,
        owner=owner,
        unit=unit or hotspot.place_unit,
        deadline=deadline,
        baseline_per_30d=round(hotspot.case_count * 30 / max(30.0, span_days), 2),
        note=note.strip(),
        created_by=actor,
    )


def complete_governance_task(*, task: GovernanceTask, actor: Any) -> GovernanceTask:
    _may_manage(actor)
    GovernanceTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=timezone.now()
    )
    task.refresh_from_db()
    return task
