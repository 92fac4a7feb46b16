"""Analytics over the API: the dashboard figures and the hotspots, scoped like the pages."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from jiefen.analytics import queries
from jiefen.core.errors import NotAllowed

router = Router(tags=["analytics"])


class RatesOut(Schema):
    received: int
    dispatched: int
    replied: int
    closed: int
    rated: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None
    avg_handling_days: float | None
    score: float | None


class HotspotOut(Schema):
    id: int
    title: str
    place: str
    started_at: str
    ended_at: str
    case_count: int
    people_count: int
    heat: float
    trend: str
    warning: bool


@router.get("/rates", response=RatesOut)
def rates(request: HttpRequest, start: date | None = None, end: date | None = None) -> RatesOut:
    """The rates of what the caller may see, received from ``start`` to ``end`` (default: the last 30 days)."""
    if not queries.may_see_analytics(request.user):
        raise NotAllowed("无权查看统计")
    last = end or timezone.localdate()
    board = queries.dashboard(
        request.user, queries.Filters(start=start or last - timedelta(days=29), end=last)
    )
    t, c = board.totals, board.totals.counts
    return RatesOut(
        received=c["received"],
        dispatched=c["dispatched"],
        replied=c["replied"],
        closed=c["closed"],
        rated=c["rated"],
        response_rate=t.response,
        resolution_rate=t.resolution,
        satisfaction_rate=t.satisfaction,
        on_time_rate=t.on_time,
        avg_handling_days=t.avg_handling_days,
        score=t.score,
    )


@router.get("/hotspots", response=list[HotspotOut])
def hotspots(request: HttpRequest, limit: int = 50) -> list[HotspotOut]:
    if not queries.may_see_analytics(request.user):
        raise NotAllowed("无权查看统计")
    return [
        HotspotOut(
            id=h.pk,
            title=h.title,
            place=h.place,
            started_at=h.started_at.isoformat(),
            ended_at=h.ended_at.isoformat(),
            case_count=h.case_count,
            people_count=h.people_count,
            heat=h.heat,
            trend=h.trend,
            warning=h.warning,
        )
        for h in queries.hotspots_visible_to(request.user).order_by("-heat")[: max(1, min(limit, 500))]
    ]
