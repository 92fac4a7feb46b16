"""Reads of disputes, all scoped by the one access function ``disputes_visible_to``; the mediator directory,
the suggestion of a mediator with its reason, and the figures.

Every view and endpoint that shows a dispute goes through ``disputes_visible_to`` or ``get_dispute_for_user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404

from jiefen.mediation.models import Dispute, DisputeKind, MediatorProfile
from jiefen.mediation.workflow import CONCLUDED_STATES, OPEN_STATES, SUCCESS_STATES
from jiefen.org.models import Role, Unit, UnitKind, User


def disputes_visible_to(user: Any) -> QuerySet[Dispute]:
    """The disputes ``user`` may see: all of them for the petition office's own staff; for a mediator, those
    given to them and those of their committee; nothing for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Dispute.objects.none()
    if user.is_office_staff:
        return Dispute.objects.all()
    if user.has_role(Role.MEDIATOR):
        scope = Q(mediator=user)
        if user.unit_id is not None:
            scope |= Q(committee_id=user.unit_id)
        return Dispute.objects.filter(scope)
    return Dispute.objects.none()


def get_dispute_for_user(user: Any, dispute_id: int | str) -> Dispute:
    """The dispute, or 404 — the same answer whether it does not exist or the user may not see it."""
    try:
        pk = int(dispute_id)
    except (TypeError, ValueError) as exc:
        raise Http404("no such dispute") from exc
    dispute = (
        disputes_visible_to(user)
        .select_related("mediator", "committee", "place_unit", "case", "registered_by")
        .filter(pk=pk)
        .first()
    )
    if dispute is None:
        raise Http404("no such dispute")
    return dispute


# --- the mediator directory and the suggestion ------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryEntry:
    profile: MediatorProfile
    user: User
    load: int

    @property
    def is_full(self) -> bool:
        return self.load >= self.profile.capacity


def mediator_directory(*, kind: str = "", speciality: str = "") -> list[DirectoryEntry]:
    """Active mediators with their current load (open disputes given to them), by organisation and name."""
    open_states = [s.value for s in OPEN_STATES]
    profiles = (
        MediatorProfile.objects.filter(is_active=True, user__is_active=True)
        .select_related("user", "user__unit", "user__unit__parent")
        .annotate(
            load=Count("user__mediated_disputes", filter=Q(user__mediated_disputes__status__in=open_states))
        )
        .order_by("user__unit__path", "user__full_name", "pk")
    )
    if kind:
        profiles = profiles.filter(kind=kind)
    entries = [DirectoryEntry(p, p.user, p.load) for p in profiles]  # type: ignore[attr-defined]
    if speciality:
        entries = [e for e in entries if speciality in e.profile.specialities]
    return entries


@dataclass(frozen=True)
class Suggestion:
    entry: DirectoryEntry
    score: float
    reason: str

    @property
    def mediator(self) -> User:
        return self.entry.user


def _home_area(unit: Unit | None) -> Unit | None:
    """The street or community a committee serves: the nearest ancestor that is one."""
    node = unit.parent if unit is not None else None
    while node is not None and node.kind not in (UnitKind.STREET, UnitKind.COMMUNITY):
        node = node.parent
    return node


def _place_score(entry: DirectoryEntry, place: Unit | None) -> tuple[float, str]:
    area = _home_area(entry.user.unit)
    if area is None:
        return 0.0, "全区受理"
    if place is None:
        return 0.0, f"服务{area.name}"
    if place.path.startswith(area.path):
        # The committee of the community where it happened knows the people best; then the street's.
        if area.kind == UnitKind.COMMUNITY:
            return 3.0, f"纠纷发生在本社区（{area.name}）"
        return 2.0, f"纠纷发生在本街道（{area.name}）"
    if area.path.startswith(place.path):
        return 1.0, f"属地{place.name}辖区"
    return -1.0, f"非属地（服务{area.name}）"


def suggest_mediators(dispute: Dispute, *, limit: int = 5) -> list[Suggestion]:
    """Mediators ranked for ``dispute``: speciality matching its kind, then the place (a committee of the
    community or street where it happened), then spare capacity. Mediators at capacity are left out. Each
    suggestion carries the reason, shown to the person who assigns and stored with the assignment."""
    place = dispute.place_unit
    suggestions = []
    for entry in mediator_directory():
        if entry.is_full:
            continue
        parts = []
        score = 0.0
        if dispute.kind in entry.profile.specialities:
            score += 4.0
            parts.append(f"擅长{DisputeKind(dispute.kind).label}")
        place_points, place_reason = _place_score(entry, place)
        score += place_points
        parts.append(place_reason)
        score -= 2.0 * entry.load / max(1, entry.profile.capacity)
        parts.append(f"在办{entry.load}件（上限{entry.profile.capacity}件）")
        suggestions.append(Suggestion(entry, round(score, 2), "；".join(parts)))
    suggestions.sort(key=lambda s: (-s.score, s.entry.load, s.entry.user.pk))
    return suggestions[:limit]


# --- figures -------------------------------------------------------------------------------------------------------


class CountRow(TypedDict):
    key: str
    label: str
    count: int


class MediatorRow(TypedDict):
    mediator_id: int
    name: str
    committee: str
    total: int
    open: int
    succeeded: int
    concluded: int
    success_rate: float | None


class Figures(TypedDict):
    total: int
    open: int
    concluded: int
    succeeded: int
    referred: int
    success_rate: float | None
    average_days: float | None
    by_kind: list[CountRow]
    by_place: list[CountRow]
    by_mediator: list[MediatorRow]


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def dispute_figures(user: Any, *, date_from: date | None = None, date_to: date | None = None) -> Figures:
    """Disputes ``user`` may see, registered between the dates: counts by kind and by street, the success
    rate (agreements over mediations concluded; withdrawn ones are not counted), the average days from
    registration to the end of mediation, and the same per mediator."""
    qs = disputes_visible_to(user)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    success = [s.value for s in SUCCESS_STATES]
    concluded_states = [s.value for s in CONCLUDED_STATES]
    open_states = [s.value for s in OPEN_STATES]
    totals = qs.aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=open_states)),
        concluded=Count("id", filter=Q(status__in=concluded_states)),
        succeeded=Count("id", filter=Q(status__in=success)),
        referred=Count("id", filter=Q(status="referred")),
    )
    span = qs.filter(status__in=concluded_states, concluded_at__isnull=False).aggregate(
        avg=Avg(ExpressionWrapper(F("concluded_at") - F("created_at"), output_field=DurationField()))
    )["avg"]
    by_kind_counts = dict(qs.values_list("kind").annotate(n=Count("id")).order_by())
    by_kind: list[CountRow] = [
        {"key": k.value, "label": str(k.label), "count": by_kind_counts.get(k.value, 0)}
        for k in DisputeKind
        if by_kind_counts.get(k.value)
    ]
    by_place = _by_street(qs)
    by_mediator: list[MediatorRow] = []
    rows = (
        qs.filter(mediator__isnull=False)
        .values("mediator_id", "mediator__full_name", "mediator__username", "committee__name")
        .annotate(
            total=Count("id"),
            open=Count("id", filter=Q(status__in=open_states)),
            succeeded=Count("id", filter=Q(status__in=success)),
            concluded=Count("id", filter=Q(status__in=concluded_states)),
        )
        .order_by("-total", "mediator_id")
    )
    for row in rows:
        by_mediator.append(
            {
                "mediator_id": row["mediator_id"],
                "name": row["mediator__full_name"] or row["mediator__username"],
                "committee": row["committee__name"] or "",
                "total": row["total"],
                "open": row["open"],
                "succeeded": row["succeeded"],
                "concluded": row["concluded"],
                "success_rate": _rate(row["succeeded"], row["concluded"]),
            }
        )
    return {
        "total": totals["total"],
        "open": totals["open"],
        "concluded": totals["concluded"],
        "succeeded": totals["succeeded"],
        "referred": totals["referred"],
        "success_rate": _rate(totals["succeeded"], totals["concluded"]),
        "average_days": round(span.total_seconds() / 86400, 1) if span is not None else None,
        "by_kind": by_kind,
        "by_place": by_place,
        "by_mediator": by_mediator,
    }


def _by_street(qs: QuerySet[Dispute]) -> list[CountRow]:
    """Counts by the street the dispute happened in (a community's disputes count for its street)."""
    counts = dict(qs.values_list("place_unit").annotate(n=Count("id")).order_by())
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[pk for pk in counts if pk is not None])}
    streets = {u.pk: u for u in Unit.objects.filter(kind=UnitKind.STREET)}
    tally: dict[str, list[Any]] = {}
    for pk, n in counts.items():
        unit = units.get(pk) if pk is not None else None
        street = None
        if unit is not None:
            ids = [int(part) for part in unit.path.strip("/").split("/") if part]
            street = next((streets[i] for i in ids if i in streets), None)
        key, label = (str(street.pk), street.name) if street else ("", "未定属地")
        tally.setdefault(key, [label, 0])[1] += n
    rows: list[CountRow] = [{"key": k, "label": v[0], "count": v[1]} for k, v in tally.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["label"]))
