"""What the case page shows and offers: the action panels, the timeline and the side boxes.

Everything here only reads. The services check every rule again when an action is posted; the offers below only
keep dead ends off the page, so each mirrors the check of the service it leads to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiefen.cases import queries
from jiefen.cases.actions import ACTIONS, Action
from jiefen.cases.models import (
    ActionKind,
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseType,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Reply,
    Urgency,
)
from jiefen.cases.permissions import OFFICE_DECISIONS, acts_for_unit, may_move
from jiefen.cases.services.acceptance import may_link_matter
from jiefen.cases.workflow import AssignmentStatus, CaseStatus, Move
from jiefen.clocks import services as clock_services
from jiefen.clocks.models import ClockKind, ClockState
from jiefen.org.models import Role, Unit, UnitKind, User
from jiefen.supervision.models import OrderStatus, SupervisionOrder
from jiefen.supervision.services import SUPERVISORS

# How each offered action is drawn: the step that moves the case on, or one that ends or refuses it.
_PRIMARY = frozenset(
    {
        "accept",
        "answer",
        "dispatch",
        "sign",
        "draft_reply",
        "approve_reply",
        "send_reply",
        "feedback",
        "resume",
    }
    | {"decide_review", "decide_reexam", "receive_info", "review_return", "decide_extension"}
)
_DANGER = frozenset({"decline", "withdraw", "return"})
_UNIT_ROLES = (Role.UNIT_HANDLER, Role.UNIT_LEADER)
# Who decides an extension once the unit's leader has approved it (``services.decide_extension``).
_OFFICE_EXTENSION = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
# Who may take a case into mediation (``jiefen.mediation.permissions.REGISTERING``).
_MEDIATION_REFERRERS = (Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.MEDIATOR)
_PENDING_EXTENSION = (ExtensionStatus.REQUESTED, ExtensionStatus.UNIT_APPROVED)


@dataclass
class CaseRows:
    """The rows of a case the offers look at, read once per page."""

    assignments: list[Assignment]
    replies: list[Reply]
    extensions: list[ExtensionRequest]


def _acts_for(user: Any, assignment: Assignment) -> bool:
    """Mirrors the services' unit check (``services._check_unit_actor``) so the page only offers what will work."""
    return user.has_role(*_UNIT_ROLES) and (user.is_superuser or acts_for_unit(user, assignment.unit.path))


def _assignment_label(assignment: Assignment) -> str:
    return f"{assignment.unit.name}（{assignment.get_role_display()}）"


def _pass_down_units(assignment: Assignment) -> list[tuple[int, str]]:
    """A street office passes a task to a unit below it or to a property company (首接负责)."""
    units = (
        Unit.objects.filter(is_active=True)
        .filter(Q(path__startswith=assignment.unit.path) | Q(kind=UnitKind.PROPERTY_COMPANY))
        .exclude(pk=assignment.unit_id)
        .order_by("path")
    )
    return [(u.pk, u.name) for u in units]


def _lead(rows: CaseRows) -> Assignment | None:
    """The lead task, as ``Case.lead_assignment`` picks it, from the rows already read."""
    wanted = {AssignmentStatus.PENDING, AssignmentStatus.SIGNED, AssignmentStatus.REPLIED}
    leads = [a for a in rows.assignments if a.role == AssignmentRole.LEAD and a.status in wanted]
    return max(leads, key=lambda a: a.assigned_at) if leads else None


def _extension_label(request: ExtensionRequest) -> str:
    return _("#%(pk)s %(unit)s 申请延期%(days)s日（%(status)s）") % {
        "pk": request.pk,
        "unit": request.unit.name,
        "days": request.days,
        "status": request.get_status_display(),
    }


def _may_decide(user: Any, request: ExtensionRequest) -> bool:
    """Mirrors ``services.decide_extension``: the unit's leader first, then the petition office."""
    if request.status == ExtensionStatus.REQUESTED:
        return user.has_role(Role.UNIT_LEADER) and (
            user.is_superuser or acts_for_unit(user, request.unit.path)
        )
    if request.status == ExtensionStatus.UNIT_APPROVED:
        return bool(user.has_role(*_OFFICE_EXTENSION))
    return False


def _offer_extension_request(user: Any, case: Case, rows: CaseRows) -> Any:
    """Mirrors ``services.request_extension`` (信访工作条例 Art. 34: once, with approval)."""
    lead = _lead(rows)
    if case.status not in (CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_INFO) or lead is None:
        return None
    if not _acts_for(user, lead):
        return None
    if any(r.status in _PENDING_EXTENSION for r in rows.extensions):
        return None
    running = [
        c
        for c in case.clocks.all()
        if c.kind == ClockKind.HANDLING and c.state in (ClockState.RUNNING, ClockState.PAUSED)
    ]
    if not running or not max(running, key=lambda c: c.started_at).can_extend:
        return None
    return {"max_days": clock_services.choose_policy(ClockKind.HANDLING, case).max_extension}


def _offer(name: str, user: Any, case: Case, rows: CaseRows) -> Any:
    """For an action that is not a lifecycle move: None when it is not for this user now, else the extra
    context its form needs. The services check all of this again; this only keeps dead ends off the page."""
    assignments, replies = rows.assignments, rows.replies
    if name == "note":
        return {"kinds": ActionKind.choices} if case.is_open else None
    if name == "extend":
        if not user.has_role(*_OFFICE_EXTENSION):
            return None
        handling = [c for c in case.clocks.all() if c.kind == ClockKind.HANDLING and c.can_extend]
        return {} if handling else None
    if name == "request_extension":
        return _offer_extension_request(user, case, rows)
    if name == "decide_extension":
        decidable = [r for r in rows.extensions if _may_decide(user, r)]
        return {"choices": [(r.pk, _extension_label(r)) for r in decidable]} if decidable else None
    if name == "link_matter":
        if not may_link_matter(user, case):
            return None
        return {"choices": petitioner_matters(user, case)}
    if name == "assist_part":
        mine = [
            a
            for a in assignments
            if a.role == AssignmentRole.ASSIST and a.status == AssignmentStatus.SIGNED and _acts_for(user, a)
        ]
        return {"choices": [(a.pk, _assignment_label(a)) for a in mine]} if mine else None
    if name == "draft_reply":
        lead = _lead(rows) if case.status == CaseStatus.IN_PROGRESS else None
        return {} if lead is not None and _acts_for(user, lead) else None
    if name == "approve_reply":
        if not user.has_role(Role.UNIT_LEADER):
            return None
        choices = [
            (r.pk, f"#{r.pk} {r.conclusion[:30]}")
            for r in replies
            if r.approved_at is None and (user.is_superuser or acts_for_unit(user, r.unit.path))
        ]
        return {"choices": choices} if choices else None
    wanted = {
        "sign": {AssignmentStatus.PENDING},
        "return": {AssignmentStatus.PENDING, AssignmentStatus.SIGNED},
        "pass_down": {AssignmentStatus.SIGNED},
    }
    if name in wanted:
        mine = [a for a in assignments if a.status in wanted[name] and _acts_for(user, a)]
        if not mine:
            return None
        extra: dict[str, Any] = {"choices": [(a.pk, _assignment_label(a)) for a in mine]}
        if name == "pass_down":
            extra["units"] = _pass_down_units(mine[0])
        return extra
    if name == "review_return":
        if not user.has_role(*OFFICE_DECISIONS):
            return None
        returned = [a for a in assignments if a.status == AssignmentStatus.RETURNED and not a.return_decision]
        return {"choices": [(a.pk, _assignment_label(a)) for a in returned]} if returned else None
    return None


def _offer_move(action: Action, user: Any, case: Case, replies: list[Reply]) -> Any:
    """For an action that makes a lifecycle move: None unless the table and the role allow it now."""
    move = action.move
    assert move is not None
    label = action.label
    if action.name == "dispatch" and case.status != CaseStatus.ACCEPTED:
        # dispatch_case re-dispatches a case in progress or reopened (Move.REDISPATCH).
        move, label = Move.REDISPATCH, _("重新交办")
    if not case.can(move) or not may_move(user, case, move):
        return None
    if action.name == "answer" and case.case_type != CaseType.CONSULT:
        return None
    if action.name == "send_reply":
        unsent = [r for r in replies if r.sent_at is None]
        if not unsent or unsent[0].approved_at is None:  # replies are newest first, as send_reply picks
            return None
    return {"label": label}


def case_rows(case: Case) -> CaseRows:
    return CaseRows(
        assignments=list(case.assignments.select_related("unit").order_by("assigned_at", "pk")),
        replies=list(case.replies.select_related("unit").order_by("-created_at", "-pk")),
        extensions=list(case.extension_requests.select_related("unit").order_by("requested_at", "pk")),
    )


def available_actions(user: Any, case: Any, rows: CaseRows) -> list[dict[str, Any]]:
    """The actions ``user`` may take on ``case`` in its current state, each with what its form needs."""
    available = []
    for action in ACTIONS.values():
        if action.move is not None:
            extra = _offer_move(action, user, case, rows.replies)
        else:
            extra = _offer(action.name, user, case, rows)
        if extra is None:
            continue
        style = "primary" if action.name in _PRIMARY else "danger" if action.name in _DANGER else ""
        available.append({"name": action.name, "label": action.label, "style": style, **extra})
    # The next step first, the ones that end or refuse the case last; otherwise the order of the action table.
    rank = {"primary": 0, "": 1, "danger": 2}
    return sorted(available, key=lambda a: rank[a["style"]])


# --- matters ------------------------------------------------------------------------------------------------


def _matter_label(case: Case) -> str:
    assert case.matter is not None
    return f"{case.matter.title}（{case.receipt_number} · {case.get_status_display()}）"


def petitioner_matters(user: Any, case: Case) -> list[tuple[int, str]]:
    """The matters of the petitioner's other cases that ``user`` may see: the usual repeat petition."""
    if case.petitioner_id is None:
        return []
    others = (
        queries.cases_visible_to(user)
        .filter(petitioner_id=case.petitioner_id, matter__isnull=False)
        .exclude(pk=case.pk)
        .exclude(matter_id=case.matter_id or 0)
        .select_related("matter")
        .order_by("-created_at", "-pk")[:20]
    )
    return _unique_matters(others)


def matters_by_receipt(user: Any, case: Case, receipt: str) -> list[tuple[int, str]]:
    """The matters of visible cases whose receipt number starts with ``receipt`` (at least 4 characters)."""
    receipt = receipt.strip()
    if len(receipt) < 4:
        return []
    found = (
        queries.cases_visible_to(user)
        .filter(receipt_number__istartswith=receipt, matter__isnull=False)
        .exclude(pk=case.pk)
        .exclude(matter_id=case.matter_id or 0)
        .select_related("matter")
        .order_by("receipt_number")[:10]
    )
    return _unique_matters(found)


def _unique_matters(cases: Any) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for other in cases:
        seen.setdefault(other.matter_id, _matter_label(other))
    return list(seen.items())


def matter_box(user: Any, case: Case) -> dict[str, Any] | None:
    """The case's matter and the other cases in it that ``user`` may see."""
    if case.matter is None:
        return None
    others = (
        queries.cases_visible_to(user)
        .filter(matter_id=case.matter_id or 0)
        .exclude(pk=case.pk)
        .order_by("created_at", "pk")[:50]
    )
    return {"matter": case.matter, "others": list(others)}


# --- routing, enrichment, supervision -----------------------------------------------------------------------


def routing_suggestion(user: Any, case: Case) -> Any:
    """The routing suggestion, for the office staff who dispatch, while the case can still be (re)dispatched."""
    if not user.has_role(*OFFICE_DECISIONS) or not case.is_open:
        return None
    from jiefen.routing.services import suggestion_for

    return suggestion_for(case)


# What each enricher's key is called on the page; an unknown key is shown under its own name.
_ENRICHMENT_LABELS = {
    "routing": gettext_lazy("派单分析"),
    "emergency": gettext_lazy("紧急情况"),
    "classification": gettext_lazy("分类建议"),
    "extraction": gettext_lazy("要素提取"),
    "similar": gettext_lazy("相似信访件"),
    "risk": gettext_lazy("风险"),
    "sentiment": gettext_lazy("情绪"),
}
# What a finding inside an enricher's result is called; an unknown one is shown under its own name.
_FIELD_LABELS = {
    "lead": gettext_lazy("主办"),
    "assists": gettext_lazy("协办"),
    "copies": gettext_lazy("抄送"),
    "jurisdiction": gettext_lazy("属地"),
    "property_company": gettext_lazy("物业"),
    "kinds": gettext_lazy("类型"),
    "numbers": gettext_lazy("应急电话"),
    "category": gettext_lazy("分类"),
    "level": gettext_lazy("等级"),
    "score": gettext_lazy("得分"),
}
# The same names where one enricher means something more particular by them.
_ENRICHER_FIELD_LABELS = {
    "classification": {
        "category": gettext_lazy("建议分类"),
        "score": gettext_lazy("置信度"),
        "alternatives": gettext_lazy("其他建议"),
        "model": gettext_lazy("模型"),
        "applied": gettext_lazy("登记时自动采用"),
    },
    "extraction": {
        "places": gettext_lazy("地点"),
        "organisations": gettext_lazy("单位和机构"),
        "phones": gettext_lazy("电话"),
        "id_numbers": gettext_lazy("身份证号"),
        "money": gettext_lazy("金额"),
        "people": gettext_lazy("人数"),
        "dates": gettext_lazy("日期"),
    },
    "risk": {
        "level": gettext_lazy("风险等级"),
        "urgency": gettext_lazy("建议紧急程度"),
        "flags": gettext_lazy("风险类型"),
        "emergency_flag": gettext_lazy("需立即处置"),
    },
}
# Stored codes and the words the page shows for them.
_VALUE_LABELS: dict[tuple[str, str], dict[str, Any]] = {
    ("risk", "level"): {
        "none": gettext_lazy("无"),
        "low": gettext_lazy("低"),
        "medium": gettext_lazy("中"),
        "high": gettext_lazy("高"),
        "critical": gettext_lazy("极高"),
    },
    ("risk", "urgency"): dict(Urgency.choices),
    ("risk", "flags"): {
        "self_harm": gettext_lazy("自伤自残言语"),
        "violence": gettext_lazy("暴力威胁言语"),
        "escalation": gettext_lazy("扬言进京或越级上访"),
        "group": gettext_lazy("群体性"),
        "vulnerable": gettext_lazy("涉及困难群体"),
        "repeat": gettext_lazy("重复信访"),
        "wage_arrears_festival": gettext_lazy("春节前后欠薪"),
        "emergency": gettext_lazy("需立即处置的紧急情况"),
    },
    ("emergency", "kinds"): {
        "violence": gettext_lazy("暴力伤害（报警）"),
        "fire": gettext_lazy("火情"),
        "medical": gettext_lazy("急救"),
        "suicide": gettext_lazy("自杀风险"),
    },
}
# Findings kept for the machinery, not for people: the place keys related cases are matched on.
_HIDDEN_FIELDS = frozenset({("extraction", "specific_places")})
# Entries the page draws in their own way (``category_box``, ``related_box``) rather than as findings.
_OWN_BOXES = frozenset({"similar"})
_EXPLAINING = ("reasons", "explanation", "explanations", "evidence", "why")


def _as_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("label") or value.get("title") or "")
    if isinstance(value, list | tuple):
        return "、".join(t for t in (_as_text(v) for v in value) if t)
    if value is None or value == "":
        return ""
    return str(value)


def _model_label(value: Any) -> str:
    if value == "keywords":
        return str(_("关键词规则（尚未训练模型）"))
    return _("训练模型 %(version)s") % {"version": value}


def _fact_text(key: str, field: str, value: Any) -> str:
    """A finding as people read it: yes/no, two decimals, the label of a stored code."""
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, float):
        return f"{value:.2f}"
    if (key, field) == ("classification", "model") and value:
        return _model_label(value)
    labels = _VALUE_LABELS.get((key, field))
    if labels is not None:
        codes = value if isinstance(value, list | tuple) else [value]
        return "、".join(str(labels.get(str(c), c)) for c in codes if c not in (None, ""))
    return _as_text(value)


def _field_label(key: str, field: str) -> str:
    label = _ENRICHER_FIELD_LABELS.get(key, {}).get(field) or _FIELD_LABELS.get(field)
    return str(label) if label is not None else field


def _in_order(mapping: dict[str, Any], order: Iterable[str]) -> list[tuple[str, Any]]:
    """The items of ``mapping`` with the names in ``order`` first, in that order, then the rest by name — the
    same on every database (PostgreSQL's jsonb does not keep the order keys were written in)."""
    rank: dict[str, int] = {}
    for name in order:
        rank.setdefault(name, len(rank))
    return sorted(mapping.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def enrichment_items(case: Case) -> list[dict[str, Any]]:
    """``Case.enrichment`` as the page shows it: per enricher, its explanations and its other findings. The
    related cases are left to ``related_box``, which knows what the user may see of them."""
    enrichment = case.enrichment if isinstance(case.enrichment, dict) else {}
    items = []
    for key, value in _in_order(enrichment, _ENRICHMENT_LABELS):
        if key in _OWN_BOXES:
            continue
        explanations: list[str] = []
        facts: list[tuple[str, str]] = []
        if isinstance(value, dict):
            known = [*_ENRICHER_FIELD_LABELS.get(key, {}), *_FIELD_LABELS]
            for field, inner in _in_order(value, known):
                if field in _EXPLAINING:
                    inner = inner if isinstance(inner, list) else [inner]
                    explanations += [t for t in (_as_text(v) for v in inner) if t]
                elif field.endswith("_id") or (key, field) in _HIDDEN_FIELDS:
                    continue
                elif text := _fact_text(key, field, inner):
                    facts.append((_field_label(key, field), text))
        elif _as_text(value):
            facts.append(("", _as_text(value)))
        if explanations or facts:
            label = str(_ENRICHMENT_LABELS.get(key, key))
            items.append({"key": key, "label": label, "explanations": explanations, "facts": facts})
    return items


# --- the language engine's suggestions: the category and related cases ------------------------------------


@dataclass
class CategoryPick:
    """One of the classifier's suggestions, offered as a one-click choice."""

    category_id: int
    label: str
    score: float
    current: bool


# How ``enrich._classifications`` writes an alternative suggestion: "物业管理 › 停车管理（0.39）".
_ALTERNATIVE = re.compile(r"^(?P<label>.+)（(?P<score>\d+(?:\.\d+)?)）$")


def category_picks(case: Case, limit: int = 3) -> list[CategoryPick]:
    """The suggestions stored at intake, best first, that name an active category."""
    from jiefen.intelligence.enrich import category_for

    classification = (case.enrichment if isinstance(case.enrichment, dict) else {}).get("classification")
    if not isinstance(classification, dict):
        return []
    found: list[tuple[int, float]] = []
    if isinstance(classification.get("category_id"), int):
        found.append((classification["category_id"], float(classification.get("score") or 0)))
    for alternative in classification.get("alternatives") or []:
        if isinstance(alternative, dict):
            label, score = str(alternative.get("label") or ""), alternative.get("score") or 0
        elif match := _ALTERNATIVE.match(str(alternative)):
            label, score = match["label"], match["score"]
        else:
            continue
        category = category_for(label)
        if category is not None:
            found.append((category.pk, float(score)))
    active = Category.objects.filter(pk__in=[pk for pk, _ in found], is_active=True).in_bulk()
    picks: list[CategoryPick] = []
    for pk, score in found:
        if pk in active and all(p.category_id != pk for p in picks):
            picks.append(CategoryPick(pk, active[pk].full_name, score, pk == case.category_id))
    return picks[:limit]


def category_choices() -> list[tuple[int, str, str]]:
    """The active taxonomy as (id, indented name, full name), each node under its parent, by code."""
    rows = list(
        Category.objects.filter(is_active=True).order_by("code").only("pk", "name", "full_name", "parent")
    )
    ids = {c.pk for c in rows}
    children: dict[int | None, list[Category]] = {}
    for c in rows:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    out: list[tuple[int, str, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            # A full-width space indents inside a <select>, where ordinary spaces collapse.
            out.append((c.pk, "\u3000" * depth + (c.name if depth else c.full_name), c.full_name))
            walk(c.pk, depth + 1)

    walk(None, 0)
    return out


def category_box(user: Any, case: Case) -> dict[str, Any]:
    """Who last corrected the category (while it stands), and for those ``set_category`` allows, the chooser:
    the taxonomy with the suggestion pre-selected and the top suggestions as quick picks."""
    from jiefen.intelligence.queries import corrections_of
    from jiefen.intelligence.services import may_set_category

    latest = corrections_of(case).first() if case.category_id else None
    box: dict[str, Any] = {
        "correction": latest if latest is not None and latest.category_id == case.category_id else None,
        "may_change": may_set_category(user),
    }
    if box["may_change"]:
        picks = category_picks(case)
        box["picks"] = picks
        box["choices"] = category_choices()
        box["selected"] = picks[0].category_id if picks else case.category_id
    return box


# What each kind of proposed related case is called (``enrich.related_many`` and ``queries.related_cases``).
_RELATED_KINDS = {
    "near_duplicate": gettext_lazy("重复提交"),
    "same_person": gettext_lazy("同一信访人重复信访"),
    "same_problem_same_place": gettext_lazy("同一地点同一问题（联名/热点）"),
    "final_matter": gettext_lazy("相同事实已复核终结"),
    "related": gettext_lazy("内容相近"),
}


def related_box(user: Any, case: Case) -> list[dict[str, Any]]:
    """The related cases proposed at intake, each with its kind, score and evidence, whether it is already in
    this case's matter, and whether ``user`` may confirm the link now. A proposed case the user may not see
    is named by its kind alone: no receipt number, no id, nothing of its content."""
    similar = (case.enrichment if isinstance(case.enrichment, dict) else {}).get("similar")
    stored = similar.get("cases") if isinstance(similar, dict) else None
    proposed = [p for p in stored or [] if isinstance(p, dict)]
    if not proposed:
        return []
    ids = [p["case_id"] for p in proposed if isinstance(p.get("case_id"), int)]
    visible = {
        c.pk: c
        for c in queries.cases_visible_to(user)
        .filter(pk__in=ids)
        .only("pk", "receipt_number", "title", "status", "matter_id")
    }
    may_link = may_link_matter(user, case)
    rows = []
    for p in proposed:
        kind = str(p.get("kind") or "related")
        score = p.get("score")
        row: dict[str, Any] = {
            "kind": kind,
            "kind_label": str(_RELATED_KINDS.get(kind, _RELATED_KINDS["related"])),
            "score": float(score) if isinstance(score, int | float) else None,
        }
        other = visible.get(p.get("case_id"))  # type: ignore[arg-type]
        if other is None:
            rows.append({**row, "visible": False})
            continue
        linked = other.matter_id is not None and other.matter_id == case.matter_id
        rows.append(
            {
                **row,
                "visible": True,
                "case": other,
                "evidence": [str(e) for e in p.get("evidence") or [] if e],
                "linked": linked,
                "confirmable": may_link and not linked and other.matter_id is not None,
            }
        )
    return rows


def may_refer_to_mediation(user: Any, case: Case) -> bool:
    return case.is_open and bool(user.has_role(*_MEDIATION_REFERRERS))


def supervision_box(user: Any, case: Case) -> dict[str, Any]:
    """The case's supervision orders, which of them ``user`` may answer, and the supervisors' forms."""
    orders = list(
        SupervisionOrder.objects.filter(case=case).select_related("unit").order_by("issued_at", "pk")
    )
    for order in orders:
        order.answerable = (  # type: ignore[attr-defined]
            order.status == OrderStatus.OPEN
            and user.has_role(*_UNIT_ROLES)
            and (user.is_superuser or acts_for_unit(user, order.unit.path))
        )
    supervises = case.is_open and bool(user.has_role(*SUPERVISORS))
    return {
        "orders": orders,
        "supervises": supervises,
        "leaders": (
            User.objects.filter(groups__name=Role.LEADER, is_active=True).order_by("username")
            if supervises
            else []
        ),
    }


# Event kinds whose data names the unit concerned (``data["to"]`` for a pass-down, the lead for a dispatch).
_UNIT_EVENTS = frozenset(
    {
        "move",
        "assigned",
        "assignment_signed",
        "assignment_returned",
        "return_reviewed",
        "assignment_passed_down",
    }
)


def timeline(case: Case) -> list[CaseEvent]:
    """The case's events, oldest first, with the labels the timeline shows."""
    events = list(case.events.select_related("actor").order_by("created_at", "id"))
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        event.from_label = CaseStatus(event.from_status).label if event.from_status else ""  # type: ignore[attr-defined]
        event.to_label = CaseStatus(event.to_status).label if event.to_status else ""  # type: ignore[attr-defined]
        event.is_clock = event.kind.startswith("clock_")  # type: ignore[attr-defined]
        detail = ""
        if event.is_clock and data.get("clock") in ClockKind.values:  # type: ignore[attr-defined]
            detail = str(ClockKind(data["clock"]).label)
        elif event.kind in _UNIT_EVENTS:
            detail = data.get("to") or data.get("unit") or data.get("lead") or data.get("authority") or ""
        elif event.kind == "note" and data.get("action") in set(ActionKind.values) - {ActionKind.NOTE}:
            detail = str(ActionKind(data["action"]).label)
        # What the event concerns: the clock, the unit a task went to, or the kind of action recorded.
        event.detail = detail if isinstance(detail, str) else ""  # type: ignore[attr-defined]
    return events
