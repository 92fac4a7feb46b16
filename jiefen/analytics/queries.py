"""Reads for the dashboards: sums of rollup rows scoped to what the user may see, and the drill-down from a
figure to the cases behind it (through ``cases_visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from jiefen.analytics.models import COUNTERS, DailyRollup, DimensionRollup, ScoreSettings
from jiefen.analytics.rates import Rates, Weights, rates_of
from jiefen.cases.models import Assignment, AssignmentRole, Case, CaseEvent, Category, EventKind
from jiefen.cases.queries import cases_visible_to
from jiefen.org.models import Role, Unit, UnitKind


def may_see_analytics(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_office_staff or user.has_role(Role.UNIT_LEADER, Role.UNIT_HANDLER))


def _subtree_ids(unit: Unit) -> list[int]:
    return list(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))


def rollups_visible_to(user: Any) -> QuerySet[DailyRollup]:
    """The rollup rows behind what ``user`` may see: all for the petition office; for a unit's people the rows
    of places in its subtree or handled by a unit in it (the same two ways ``cases_visible_to`` lets a unit
    see a case; assisting units are not counted in rollups)."""
    if not may_see_analytics(user):
        return DailyRollup.objects.none()
    if user.is_office_staff:
        return DailyRollup.objects.all()
    if user.unit is None:
        return DailyRollup.objects.none()
    ids = _subtree_ids(user.unit)
    return DailyRollup.objects.filter(Q(place_unit__in=ids) | Q(handling_unit__in=ids))


def score_settings() -> ScoreSettings:
    found = ScoreSettings.objects.order_by("pk").first()
    return found or ScoreSettings()


def weights() -> Weights:
    s = score_settings()
    return Weights(s.response_weight, s.resolution_weight, s.satisfaction_weight, s.on_time_weight)


@dataclass
class Filters:
    start: date
    end: date
    channel: str = ""
    case_type: str = ""
    category: int | None = None
    unit: int | None = None  # a place (street/community) or handling unit; its subtree

    def query(self) -> str:
        parts = [f"start={self.start}", f"end={self.end}"]
        for name in ("channel", "case_type", "category", "unit"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value}")
        return "&".join(parts)


def _category_ids(category_id: int) -> list[int]:
    path = Category.objects.filter(pk=category_id).values_list("path", flat=True).first()
    if not path:
        return []
    return list(Category.objects.filter(path__startswith=path).values_list("pk", flat=True))


def filtered_rollups(user: Any, f: Filters) -> QuerySet[DailyRollup]:
    qs = rollups_visible_to(user).filter(day__gte=f.start, day__lte=f.end)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.case_type:
        qs = qs.filter(case_type=f.case_type)
    if f.category:
        qs = qs.filter(category__in=_category_ids(f.category))
    if f.unit:
        unit = Unit.objects.filter(pk=f.unit).first()
        ids = _subtree_ids(unit) if unit else []
        qs = qs.filter(Q(place_unit__in=ids) | Q(handling_unit__in=ids))
    return qs


_SUMS = {name: Sum(name) for name in COUNTERS}


def _grouped(qs: QuerySet[Any], by: str) -> dict[Any, dict[str, int]]:
    return {row.pop(by): row for row in qs.values(by).annotate(**_SUMS).order_by(by)}


@dataclass
class Bar:
    key: Any
    label: str
    rates: Rates
    drill: str = ""


@dataclass
class Dashboard:
    filters: Filters
    totals: Rates
    series: list[tuple[str, dict[str, int]]]
    by_channel: list[Bar]
    by_type: list[Bar]
    by_category: list[Bar]
    by_street: list[Bar]
    by_community: list[Bar]
    by_property: list[Bar]
    ranking: list[Bar]
    left_out: list[Bar] = field(default_factory=list)
    min_cases: int = 10


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for name in COUNTERS:
        into[name] = into.get(name, 0) + int(counts.get(name) or 0)


def _roll_up_to(groups: dict[Any, dict[str, int]], parent_of: dict[Any, Any]) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for key, counts in groups.items():
        target = parent_of.get(key)
        if target is None:
            continue
        _add(out.setdefault(target, {}), counts)
    return out


def dashboard(user: Any, f: Filters) -> Dashboard:
    """Every figure of the dashboard, from rollup rows only (one grouped query per breakdown)."""
    from jiefen.cases.models import CaseType, Channel

    w = weights()
    s = score_settings()
    unfiltered = not (f.channel or f.case_type or f.category or f.unit)
    if unfiltered and may_see_analytics(user) and user.is_office_staff:
        # The whole district with no filter: the per-dimension rollups answer every breakdown.
        dims = DimensionRollup.objects.filter(day__gte=f.start, day__lte=f.end)

        def grouped(by: str) -> dict[Any, dict[str, int]]:
            if by == "day":
                return _grouped(dims.filter(dim="all"), "day")
            found = _grouped(dims.filter(dim=by), "key")
            if by in ("place_unit", "handling_unit", "category"):
                return {int(k): v for k, v in found.items()}
            return found

        total = dims.filter(dim="all").aggregate(**_SUMS)
    else:
        qs = filtered_rollups(user, f)

        def grouped(by: str) -> dict[Any, dict[str, int]]:
            return _grouped(qs, by)

        total = qs.aggregate(**_SUMS)
    monthly = (f.end - f.start).days > 92
    days = grouped("day")
    series: dict[str, dict[str, int]] = {}
    for day, counts in days.items():
        _add(series.setdefault(day.strftime("%Y-%m") if monthly else day.isoformat(), {}), counts)

    units = {u.pk: u for u in Unit.objects.only("pk", "name", "kind", "parent_id", "path")}
    street_of: dict[int, int] = {}
    community_of: dict[int, int] = {}
    for u in units.values():
        if u.kind == UnitKind.COMMUNITY:
            community_of[u.pk] = u.pk
            if u.parent_id in units and units[u.parent_id].kind == UnitKind.STREET:
                street_of[u.pk] = u.parent_id
        elif u.kind == UnitKind.STREET:
            street_of[u.pk] = u.pk
    places = grouped("place_unit")
    handlers = grouped("handling_unit")
    categories = grouped("category")
    cats = {c.pk: c for c in Category.objects.only("pk", "name", "parent_id", "path")}
    top_of = {pk: int(c.path.strip("/").split("/")[0]) for pk, c in cats.items() if c.path}

    def bars(groups: dict[Any, dict[str, int]], label: Any, param: str) -> list[Bar]:
        out = [
            Bar(key, str(label(key)), rates_of(counts, w), f"{param}={key}" if param else "")
            for key, counts in groups.items()
            if key not in (None, "", 0)
        ]
        return sorted(out, key=lambda b: -b.rates.counts["received"] - b.rates.counts["dispatched"])

    channel_labels = dict(Channel.choices)
    type_labels = dict(CaseType.choices)
    property_groups = {
        k: v for k, v in handlers.items() if k in units and units[k].kind == UnitKind.PROPERTY_COMPANY
    }
    ranked: list[Bar] = []
    left_out: list[Bar] = []
    for key, counts in handlers.items():
        if key not in units:
            continue
        bar = Bar(key, units[key].name, rates_of(counts, w), f"unit={key}")
        enough = max(bar.rates.counts["rated"], bar.rates.counts["response_due"]) >= s.min_cases_for_ranking
        (ranked if enough and bar.rates.score is not None else left_out).append(bar)
    ranked.sort(key=lambda b: -(b.rates.score or 0))
    return Dashboard(
        filters=f,
        totals=rates_of(total, w),
        series=sorted(series.items()),
        by_channel=bars(grouped("channel"), lambda k: channel_labels.get(k, k), "channel"),
        by_type=bars(grouped("case_type"), lambda k: type_labels.get(k, k), "case_type"),
        by_category=bars(_roll_up_to(categories, top_of), lambda k: cats[k].name, "category"),
        by_street=bars(_roll_up_to(places, street_of), lambda k: units[k].name, "unit"),
        by_community=bars(_roll_up_to(places, community_of), lambda k: units[k].name, "unit"),
        by_property=bars(property_groups, lambda k: units[k].name, "unit"),
        ranking=ranked,
        left_out=left_out,
        min_cases=s.min_cases_for_ranking,
    )


# --- drill-down ---------------------------------------------------------------------------------------------------

DRILL_METRICS = (
    "received",
    "dispatched",
    "replied",
    "closed",
    "rated",
    "resolved",
    "satisfied",
    "unsatisfied",
    "response_late",
    "handling_late",
    "unrated_closed",
)


def _span(f: Filters) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(f.start, time.min, tzinfo=tz),
        datetime.combine(f.end + timedelta(days=1), time.min, tzinfo=tz),
    )


def drill_cases(user: Any, f: Filters, metric: str) -> QuerySet[Case]:
    """The cases behind one figure of the dashboard: the same period, filters and counting rule, read live
    from the cases the user may see."""
    lo, hi = _span(f)
    qs = cases_visible_to(user)
    events = CaseEvent.objects.filter(case=OuterRef("pk"), created_at__gte=lo, created_at__lt=hi)
    if metric == "received":
        qs = qs.filter(received_at__gte=lo, received_at__lt=hi)
    elif metric == "dispatched":
        qs = qs.filter(Exists(events.filter(kind=EventKind.ASSIGNED, data__role=AssignmentRole.LEAD)))
    elif metric == "replied":
        qs = qs.filter(Exists(events.filter(kind=EventKind.MOVE, move="reply")))
    elif metric == "closed":
        qs = qs.filter(Exists(events.filter(kind=EventKind.MOVE, to_status="closed")))
    elif metric == "unrated_closed":
        qs = qs.filter(Exists(events.filter(kind=EventKind.MOVE, move="window_passed")))
    elif metric in ("rated", "resolved", "satisfied", "unsatisfied"):
        rated = events.filter(kind=EventKind.FEEDBACK)
        if metric == "resolved":
            rated = rated.filter(data__resolved="resolved")
        elif metric == "satisfied":
            rated = rated.filter(data__satisfaction__in=["satisfied", "basically"])
        elif metric == "unsatisfied":
            rated = rated.filter(data__satisfaction="not_satisfied")
        qs = qs.filter(Exists(rated))
    elif metric in ("response_late", "handling_late"):
        clock = "sign" if metric == "response_late" else "handling"
        late = events.filter(data__clock=clock).filter(
            Q(kind=EventKind.CLOCK_BREACHED) | Q(kind=EventKind.CLOCK_STOPPED, data__on_time=False)
        )
        qs = qs.filter(Exists(late))
    else:
        return Case.objects.none()
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.case_type:
        qs = qs.filter(case_type=f.case_type)
    if f.category:
        qs = qs.filter(category_id__in=_category_ids(f.category))
    if f.unit:
        unit = Unit.objects.filter(pk=f.unit).first()
        if unit is None:
            return Case.objects.none()
        lead = Assignment.objects.filter(
            case=OuterRef("pk"), role=AssignmentRole.LEAD, unit__path__startswith=unit.path
        )
        qs = qs.filter(Q(jurisdiction_unit__path__startswith=unit.path) | Q(Exists(lead)))
    return qs.select_related("category", "jurisdiction_unit").order_by("-received_at", "-id")


# --- source governance --------------------------------------------------------------------------------------------


@dataclass
class Recurring:
    unit: Unit
    top: list[tuple[str, int]]
    total: int


def recurring_problems(user: Any, f: Filters, *, kind: str, limit: int = 3) -> list[Recurring]:
    """The top categories of complaints per community (kind="community", by place) or per property company
    (kind="property_company", by handling unit), from the rollups."""
    qs = filtered_rollups(user, f)
    column = "place_unit" if kind == UnitKind.COMMUNITY else "handling_unit"
    counter = "received" if kind == UnitKind.COMMUNITY else "dispatched"
    units = {u.pk: u for u in Unit.objects.filter(kind=kind)}
    cats = {c.pk: c for c in Category.objects.only("pk", "name", "path")}
    top_of = {pk: int(c.path.strip("/").split("/")[0]) for pk, c in cats.items() if c.path}
    table: dict[int, dict[int, int]] = {}
    for unit_id, category_id, n in (
        qs.filter(**{f"{column}__in": list(units)}).values_list(column, "category").annotate(n=Sum(counter))
    ):
        if not n:
            continue
        top = top_of.get(category_id, 0)
        row = table.setdefault(unit_id, {})
        row[top] = row.get(top, 0) + int(n)
    out = []
    for unit_id, row in table.items():
        ranked = sorted(row.items(), key=lambda kv: -kv[1])[:limit]
        out.append(
            Recurring(
                units[unit_id],
                [(cats[c].name if c in cats else "未分类", n) for c, n in ranked],
                sum(row.values()),
            )
        )
    return sorted(out, key=lambda r: -r.total)


def hotspots_visible_to(user: Any) -> QuerySet[Any]:
    """Hotspots for the office; for a unit's people, the hotspots with a member case they may see."""
    from jiefen.analytics.models import Hotspot

    if not may_see_analytics(user):
        return Hotspot.objects.none()
    if user.is_office_staff:
        return Hotspot.objects.all()
    return Hotspot.objects.filter(members__in=cases_visible_to(user)).distinct()


def problems_of_the_month(user: Any, month: date, limit: int = 5) -> list[Any]:
    """Candidates for the problem of the month (每月一题): the hottest hotspots active in ``month``, with their
    evidence (members, people, sample titles)."""
    first = month.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    lo, hi = _span(Filters(first, after - timedelta(days=1)))
    found = list(
        hotspots_visible_to(user).filter(started_at__lt=hi, ended_at__gte=lo).order_by("-heat")[:limit]
    )
    for h in found:
        h.samples = list(h.members.order_by("-received_at").values_list("title", flat=True)[:3])
    return found


def complaints_since(task: Any, *, now: datetime | None = None) -> tuple[float, int]:
    """Complaints about a governance task's problem since it opened, per 30 days, and their number: cases
    naming its place and one of its key phrases."""
    moment = now or timezone.now()
    qs = Case.objects.filter(received_at__gte=task.created_at)
    if task.place:
        qs = qs.filter(Q(title__contains=task.place) | Q(content__contains=task.place))
    phrases = [p for p in task.key_phrases if p][:3]
    if phrases:
        any_phrase = Q()
        for p in phrases:
            any_phrase |= Q(title__contains=p) | Q(content__contains=p)
        qs = qs.filter(any_phrase)
    n = qs.count()
    days = max(1.0, (moment - task.created_at).total_seconds() / 86400)
    return round(n * 30 / max(30.0, days), 2), n


def campaign_cases(user: Any, campaign: Any) -> QuerySet[Case]:
    """The cases of a campaign: received within its dates, in its category subtree or naming a key word."""
    lo, hi = _span(Filters(campaign.starts_on, campaign.ends_on))
    qs = cases_visible_to(user).filter(received_at__gte=lo, received_at__lt=hi)
    match = Q(pk__in=[])
    if campaign.category_id:
        match |= Q(category_id__in=_category_ids(campaign.category_id))
    for word in campaign.keyword_list:
        match |= Q(title__contains=word) | Q(content__contains=word)
    return qs.filter(match).select_related("category", "jurisdiction_unit").order_by("-received_at")
