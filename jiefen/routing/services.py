"""Suggesting who should handle a case: its jurisdiction, then the first routing rule that matches.

``suggest(case)`` reads nothing from the database once the per-process table is loaded: units, categories,
place aliases (one Aho–Corasick automaton), unit boundaries and the compiled rules are cached together for
``CACHE_SECONDS`` and dropped at once when an admin changes any of them in this process
(``clear_routing_cache``, called from the admin and from the model signals wired in ``apps.py``).

Jurisdiction, first found wins:
1. the unit staff recorded on the case (``Case.jurisdiction_unit``);
2. the longest place alias in the case's place text ("杨庄东区" beats "杨庄");
3. the deepest unit whose GeoJSON boundary contains the case's coordinates;
4. the longest place alias in the title and content.

An alias owned by a property company (物业公司) says which company manages that compound; every other alias
names a jurisdiction. The reasons spell the chain out: "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation

from jiefen.cases.models import Case, CaseType, Category, Channel
from jiefen.org.models import AliasKind, JurisdictionAlias, Unit, UnitKind
from jiefen.routing.matching import PhraseIndex, Shape
from jiefen.routing.models import WEEKDAY_NAMES, KeywordMode, RoutingRule, Target, split_words

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class UnitRef:
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    path: str
    is_active: bool = True

    @property
    def label(self) -> str:
        return f"{self.kind_label} {self.name}"


@dataclass(frozen=True)
class Jurisdiction:
    unit: UnitRef
    # The street office over the unit (the unit itself when it is one); None when there is no street above.
    street: UnitRef | None
    source: str  # "registered", "alias", "boundary"
    reason: str
    alias: str = ""


@dataclass(frozen=True)
class Suggestion:
    lead: UnitRef | None
    assists: list[UnitRef]
    reasons: list[str]
    jurisdiction: Jurisdiction | None
    rule_id: int | None = None
    # Units copied for information (direct dispatch copies the district); they are also among ``assists``.
    copies: list[UnitRef] = field(default_factory=list)
    property_company: UnitRef | None = None

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as stored in ``Case.enrichment["routing"]``."""

        def ref(unit: UnitRef | None) -> dict[str, Any] | None:
            return None if unit is None else {"id": unit.id, "name": unit.name, "kind": unit.kind}

        return {
            "lead": ref(self.lead),
            "assists": [ref(unit) for unit in self.assists],
            "copies": [ref(unit) for unit in self.copies],
            "jurisdiction": ref(self.jurisdiction.unit) if self.jurisdiction else None,
            "property_company": ref(self.property_company),
            "rule_id": self.rule_id,
            "reasons": list(self.reasons),
        }


# --- the compiled table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    pk: int
    name: str
    category_path: str
    category_name: str
    case_type: str
    channel: str
    keywords: tuple[str, ...]
    keyword_all: bool
    place_path: str
    place_name: str
    weekdays: frozenset[int]
    time_from: clock_time | None
    time_to: clock_time | None
    target: str
    lead_unit_id: int | None
    assist_unit_ids: tuple[int, ...]
    assist_jurisdiction: bool
    assist_property_company: bool


@dataclass
class _Table:
    units: dict[int, UnitRef]
    categories: dict[int, tuple[str, str]]  # id → (path, name)
    aliases: PhraseIndex[tuple[str, int]]  # alias → (alias kind, unit id), jurisdictions only
    property_aliases: PhraseIndex[int]  # compound → property company unit id
    shapes: list[tuple[int, Shape]]  # (unit id, boundary), deepest units first
    rules: list[_Rule]
    keywords: PhraseIndex[str]
    buckets: dict[tuple[str, str], list[_Rule]]
    case_type_labels: dict[str, str]
    channel_labels: dict[str, str]
    alias_kind_labels: dict[str, str]


def _load() -> _Table:
    # Labels are written into stored reasons, so they are taken in the source language, not the reader's.
    with translation.override("zh-hans"):
        kind_labels = {value: str(label) for value, label in UnitKind.choices}
        alias_kind_labels = {value: str(label) for value, label in AliasKind.choices}
        case_type_labels = {value: str(label) for value, label in CaseType.choices}
        channel_labels = {value: str(label) for value, label in Channel.choices}
    units: dict[int, UnitRef] = {}
    shapes: list[tuple[int, Shape]] = []
    for pk, name, kind, parent_id, path, is_active, boundary in Unit.objects.values_list(
        "pk", "name", "kind", "parent_id", "path", "is_active", "boundary"
    ):
        units[pk] = UnitRef(pk, name, kind, kind_labels.get(kind, kind), parent_id, path, is_active)
        shape = Shape.from_geojson(boundary) if boundary and is_active else None
        if shape is not None:
            shapes.append((pk, shape))
    shapes.sort(key=lambda item: -units[item[0]].path.count("/"))
    jurisdiction_entries: list[tuple[str, tuple[str, int]]] = []
    property_entries: list[tuple[str, int]] = []
    for alias, kind, unit_id in JurisdictionAlias.objects.order_by("alias", "unit_id").values_list(
        "alias", "kind", "unit_id"
    ):
        unit = units.get(unit_id)
        if unit is None or not unit.is_active:
            continue
        if unit.kind == UnitKind.PROPERTY_COMPANY:
            property_entries.append((alias, unit_id))
        else:
            jurisdiction_entries.append((alias, (kind, unit_id)))
    categories = {pk: (path, name) for pk, path, name in Category.objects.values_list("pk", "path", "name")}
    rules: list[_Rule] = []
    assists: dict[int, list[int]] = {}
    for rule_id, unit_id in RoutingRule.assist_units.through.objects.values_list("routingrule_id", "unit_id"):
        assists.setdefault(rule_id, []).append(unit_id)
    for row in RoutingRule.objects.filter(is_active=True).order_by("order", "pk"):
        category = categories.get(row.category_id) if row.category_id else None
        place = units.get(row.place_unit_id) if row.place_unit_id else None
        rules.append(
            _Rule(
                pk=row.pk,
                name=row.name,
                category_path=category[0] if category else "",
                category_name=category[1] if category else "",
                case_type=row.case_type,
                channel=row.channel,
                keywords=tuple(split_words(row.keywords)),
                keyword_all=row.keyword_mode == KeywordMode.ALL,
                place_path=place.path if place else "",
                place_name=place.name if place else "",
                weekdays=row.weekday_set,
                time_from=row.time_from,
                time_to=row.time_to,
                target=row.target,
                lead_unit_id=row.lead_unit_id,
                assist_unit_ids=tuple(sorted(assists.get(row.pk, []))),
                assist_jurisdiction=row.assist_jurisdiction,
                assist_property_company=row.assist_property_company,
            )
        )
    # Rules pre-sorted into one list per (case type, channel), so a decision skips the rules that could never
    # match on those two fields; every list keeps the admins' order.
    buckets = {
        (case_type, channel): [
            rule for rule in rules if rule.case_type in ("", case_type) and rule.channel in ("", channel)
        ]
        for case_type in CaseType.values
        for channel in Channel.values
    }
    return _Table(
        units=units,
        categories=categories,
        aliases=PhraseIndex(jurisdiction_entries),
        property_aliases=PhraseIndex(property_entries),
        shapes=shapes,
        rules=rules,
        keywords=PhraseIndex((word, word) for rule in rules for word in rule.keywords),
        buckets=buckets,
        case_type_labels=case_type_labels,
        channel_labels=channel_labels,
        alias_kind_labels=alias_kind_labels,
    )


_lock = threading.Lock()
_cache: tuple[float, _Table] | None = None


def _table() -> _Table:
    """The compiled table, loaded at most once per ``CACHE_SECONDS`` per process (another process sees an
    admin's change within that time; this one at once)."""
    global _cache
    now = time.monotonic()
    with _lock:
        cached = _cache
    if cached is None or now - cached[0] > CACHE_SECONDS:
        cached = (now, _load())
        with _lock:
            _cache = cached
    return cached[1]


def clear_routing_cache(**_: Any) -> None:
    """Drop the compiled table (signature fits a signal receiver)."""
    global _cache
    with _lock:
        _cache = None


# --- jurisdiction -------------------------------------------------------------------------------------------


def _ancestors(table: _Table, unit: UnitRef) -> list[UnitRef]:
    """``unit`` and its ancestors, nearest first."""
    chain = [unit]
    while chain[-1].parent_id is not None and chain[-1].parent_id in table.units and len(chain) < 32:
        chain.append(table.units[chain[-1].parent_id])
    return chain


def _street_of(table: _Table, unit: UnitRef) -> UnitRef | None:
    return next((u for u in _ancestors(table, unit) if u.kind == UnitKind.STREET), None)


def _chain_reason(table: _Table, start: str, unit: UnitRef) -> str:
    """ "小区 八角南里 → 社区 八角南里社区 → 街道 八角街道": from what was found up to the street office."""
    steps = [start] if start else []
    for node in _ancestors(table, unit):
        steps.append(node.label)
        if node.kind == UnitKind.STREET:
            break
    return " → ".join(steps)


def _pick(table: _Table, values: Iterable[tuple[str, int]]) -> tuple[str, UnitRef] | None:
    """Of the units one alias names, the deepest (a community over its street), then the lowest id."""
    candidates = [(kind, table.units[unit_id]) for kind, unit_id in values if unit_id in table.units]
    if not candidates:
        return None
    return min(candidates, key=lambda item: (-item[1].path.count("/"), item[1].id))


def _by_alias(table: _Table, text: str) -> Jurisdiction | None:
    hit = table.aliases.longest(text)
    if hit is None:
        return None
    picked = _pick(table, hit.values)
    if picked is None:
        return None
    kind, unit = picked
    start = f"{table.alias_kind_labels.get(kind, kind)} {hit.phrase}"
    return Jurisdiction(unit, _street_of(table, unit), "alias", _chain_reason(table, start, unit), hit.phrase)


def resolve_jurisdiction(case: Case) -> Jurisdiction | None:
    """Where the case's problem is, by the order in the module docstring; None when nothing says."""
    return _jurisdiction(case, _table())


def _jurisdiction(case: Case, table: _Table) -> Jurisdiction | None:
    if case.jurisdiction_unit_id and case.jurisdiction_unit_id in table.units:
        unit = table.units[case.jurisdiction_unit_id]
        return Jurisdiction(
            unit, _street_of(table, unit), "registered", _chain_reason(table, "登记属地", unit)
        )
    found = _by_alias(table, case.place_text or "")
    if found is not None:
        return found
    if case.latitude is not None and case.longitude is not None:
        for unit_id, shape in table.shapes:
            if shape.contains(case.longitude, case.latitude):
                unit = table.units[unit_id]
                start = f"坐标 {case.latitude:.6f},{case.longitude:.6f}"
                return Jurisdiction(
                    unit, _street_of(table, unit), "boundary", _chain_reason(table, start, unit)
                )
    return _by_alias(table, f"{case.title or ''}\n{case.content or ''}")


def _property_company(table: _Table, case: Case, jurisdiction: Jurisdiction | None) -> UnitRef | None:
    """The company managing the compound the case is about: of the alias that gave the jurisdiction if a
    company manages it, else of the longest compound named in the place text, then in the content."""
    if jurisdiction is not None and jurisdiction.alias:
        managed_by = table.property_aliases.get(jurisdiction.alias)
        if managed_by:
            return table.units[managed_by[0]]
    for text in (case.place_text or "", f"{case.title or ''}\n{case.content or ''}"):
        hit = table.property_aliases.longest(text)
        if hit is not None:
            return table.units[hit.values[0]]
    return None


# --- rules --------------------------------------------------------------------------------------------------


def _in_window(rule: _Rule, moment: datetime) -> bool:
    if rule.weekdays and moment.isoweekday() not in rule.weekdays:
        return False
    if rule.time_from is not None and rule.time_to is not None:
        now = moment.time()
        if rule.time_from <= rule.time_to:
            return rule.time_from <= now < rule.time_to
        return now >= rule.time_from or now < rule.time_to  # the window spans midnight
    return True


def _weekday_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"周{WEEKDAY_NAMES[ordered[0] - 1]}至周{WEEKDAY_NAMES[ordered[-1] - 1]}"
    return "、".join(f"周{WEEKDAY_NAMES[day - 1]}" for day in ordered)


def _conditions(table: _Table, rule: _Rule, present: set[str]) -> str:
    """The rule's conditions as they matched, in words: "分类 物业管理；关键词 停车"."""
    parts: list[str] = []
    if rule.category_path:
        parts.append(f"分类 {rule.category_name}")
    if rule.case_type:
        parts.append(f"诉求类型 {table.case_type_labels.get(rule.case_type, rule.case_type)}")
    if rule.channel:
        parts.append(f"渠道 {table.channel_labels.get(rule.channel, rule.channel)}")
    if rule.keywords:
        parts.append("关键词 " + "、".join(word for word in rule.keywords if word in present))
    if rule.place_path:
        parts.append(f"属地 {rule.place_name}")
    if rule.weekdays:
        parts.append(_weekday_text(rule.weekdays))
    if rule.time_from is not None and rule.time_to is not None:
        parts.append(f"时间 {rule.time_from:%H:%M}–{rule.time_to:%H:%M}")
    return "；".join(parts) or "无条件"


def _matches(
    rule: _Rule,
    category: tuple[str, str] | None,
    present: set[str],
    jurisdiction: Jurisdiction | None,
    moment: datetime,
) -> bool:
    if rule.category_path and (category is None or not category[0].startswith(rule.category_path)):
        return False
    if rule.keywords:
        if rule.keyword_all:
            if not all(word in present for word in rule.keywords):
                return False
        elif not any(word in present for word in rule.keywords):
            return False
    if rule.place_path and (jurisdiction is None or not jurisdiction.unit.path.startswith(rule.place_path)):
        return False
    if rule.target != Target.UNIT and jurisdiction is None:
        return False  # a rule that sends to the jurisdiction cannot decide a case whose place is unknown
    return _in_window(rule, moment) if (rule.weekdays or rule.time_from is not None) else True


def _district_above(table: _Table, street: UnitRef) -> UnitRef | None:
    return next((u for u in _ancestors(table, street)[1:] if u.kind == UnitKind.DISTRICT), None)


def _street_lead(
    table: _Table, jurisdiction: Jurisdiction, reasons: list[str], copies: list[UnitRef]
) -> UnitRef:
    """The lead for "the jurisdiction's street office", by the dispatch setting.

    With ``JIEFEN_DIRECT_DISPATCH`` on, the street office leads and the district over it is copied. Off, a
    case goes through the district over the street, unless that district is the top of the tree (the office
    doing the dispatching), when there is no one in between."""
    street = jurisdiction.street or jurisdiction.unit
    district = _district_above(table, street)
    if settings.ROUTING_DIRECT_DISPATCH:
        if district is not None:
            copies.append(district)
            reasons.append(f"直派街道 → 主办 {street.label}，抄送 {district.label}")
        return street
    if district is not None and district.parent_id is not None:
        reasons.append(f"{street.label} → 经 {district.label} 转办")
        return district
    return street


def suggest(case: Case, *, now: datetime | None = None) -> Suggestion:
    """The suggested lead unit, assisting units and the reasons, for the dispatcher to confirm or change.

    Reads ``case`` only (it need not be saved) and, once the table is cached, no database rows. ``now`` is
    unused unless the case has no ``received_at``; time windows test the time the petition was received."""
    table = _table()
    jurisdiction = _jurisdiction(case, table)
    reasons: list[str] = [jurisdiction.reason] if jurisdiction else []
    text = f"{case.title or ''}\n{case.place_text or ''}\n{case.content or ''}"
    present = table.keywords.present(text) if len(table.keywords) else set()
    category = table.categories.get(case.category_id) if case.category_id else None
    moment = timezone.localtime(case.received_at or now or timezone.now(), ZoneInfo(settings.TIME_ZONE))
    rules = table.buckets.get((case.case_type, case.channel))
    if rules is None:
        rules = [rule for rule in table.rules if not rule.case_type and not rule.channel]

    copies: list[UnitRef] = []
    assists: list[UnitRef] = []
    lead: UnitRef | None = None
    property_company: UnitRef | None = None
    chosen: _Rule | None = None
    lead_reasons: list[str] = []
    for rule in rules:
        if not _matches(rule, category, present, jurisdiction, moment):
            continue
        if rule.target == Target.UNIT:
            candidate = table.units.get(rule.lead_unit_id or 0)
            if candidate is None or not candidate.is_active:
                continue
            lead = candidate
        elif jurisdiction is not None:
            if rule.target == Target.JURISDICTION_COMMUNITY:
                lead = jurisdiction.unit
            else:
                lead = _street_lead(table, jurisdiction, lead_reasons, copies)
        chosen = rule
        break

    if chosen is not None and lead is not None:
        reasons.append(f"规则「{chosen.name}」：{_conditions(table, chosen, present)} → 主办 {lead.label}")
        for unit_id in chosen.assist_unit_ids:
            unit = table.units.get(unit_id)
            if unit is not None and unit.is_active:
                assists.append(unit)
        if chosen.assist_jurisdiction and jurisdiction is not None:
            assists.append(jurisdiction.street or jurisdiction.unit)
        if chosen.assist_property_company:
            property_company = _property_company(table, case, jurisdiction)
            subject = chosen.category_name or chosen.name
            if property_company is not None:
                assists.append(property_company)
                reasons.append(f"{subject} → {property_company.label}")
            else:
                reasons.append(f"{subject} → 未找到小区的物业公司")
    elif jurisdiction is not None:
        lead = _street_lead(table, jurisdiction, lead_reasons, copies)
        reasons.append(f"无匹配规则，按属地 → 主办 {lead.label}")
    else:
        reasons.append("未找到属地，也没有匹配的派单规则，请人工指定主办单位")
    reasons.extend(lead_reasons)
    assists.extend(copies)

    seen = {lead.id} if lead is not None else set()
    unique: list[UnitRef] = []
    for unit in assists:
        if unit.id not in seen:
            seen.add(unit.id)
            unique.append(unit)
    return Suggestion(
        lead=lead,
        assists=unique,
        reasons=reasons,
        jurisdiction=jurisdiction,
        rule_id=chosen.pk if chosen is not None and lead is not None else None,
        copies=copies,
        property_company=property_company,
    )


def suggestion_for(case: Case) -> Suggestion:
    """The suggestion shown on the case page and used to prefill the dispatch form. Never raises for a bad
    rule table: a failure is logged and the dispatcher gets an empty suggestion that says so."""
    try:
        return suggest(case)
    except Exception:
        log.exception("routing suggestion failed for case %s", case.pk)
        return Suggestion(lead=None, assists=[], reasons=["派单建议暂不可用，请人工指定"], jurisdiction=None)


def routing_enrichment(case: Case) -> dict[str, Any]:
    """An intake enricher: the suggestion at registration, stored with its reasons in ``Case.enrichment``."""
    try:
        return {"routing": suggest(case).as_dict()}
    except Exception:  # enrichment must never block a registration
        log.exception("routing enrichment failed")
        return {}
