"""ECharts options built on the server from query results; the page's script only draws them. Each option
may carry ``drill``: the URL behind each data point, followed on click."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from jiefen.analytics import geo
from jiefen.analytics.queries import Bar, Dashboard
from jiefen.analytics.rates import rates_of

COLOURS = ["#1f5fa8", "#d9822b", "#3a9a5b", "#b8434e", "#7a5fb0", "#4a9bb5", "#c7a23a", "#6b6b6b"]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _bars(bars: list[Bar], drill: str, q: str, metric: str = "received", limit: int = 12) -> dict[str, Any]:
    shown = bars[:limit]
    return {
        "color": COLOURS,
        "grid": {"left": 100, "right": 16, "top": 8, "bottom": 24},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": True, "data": [b.label for b in shown]},
        "series": [{"type": "bar", "data": [b.rates.counts[metric] for b in shown], "name": _("件数")}],
        "drill": [f"{drill}?metric={metric}&{q}&{b.drill}" for b in shown],
    }


def dashboard_charts(board: Dashboard, drill: str) -> dict[str, Any]:
    q = board.filters.query()
    labels = [label for label, _c in board.series]
    series_rates = [rates_of(c) for _l, c in board.series]
    return {
        "volume": {
            "color": COLOURS,
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 40, "right": 40, "top": 32, "bottom": 24},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": [{"type": "value", "name": _("件")}, {"type": "value", "name": "%", "max": 100}],
            "series": [
                {
                    "type": "bar",
                    "name": _("受理量"),
                    "data": [c.get("received", 0) for _l, c in board.series],
                },
                {
                    "type": "line",
                    "name": _("满意率"),
                    "yAxisIndex": 1,
                    "connectNulls": True,
                    "data": [_pct(r.satisfaction) for r in series_rates],
                },
                {
                    "type": "line",
                    "name": _("响应率"),
                    "yAxisIndex": 1,
                    "connectNulls": True,
                    "data": [_pct(r.response) for r in series_rates],
                },
            ],
        },
        "channel": {
            "color": COLOURS,
            "tooltip": {"trigger": "item"},
            "series": [
                {
                    "type": "pie",
                    "radius": ["40%", "70%"],
                    "data": [
                        {"name": b.label, "value": b.rates.counts["received"]} for b in board.by_channel
                    ],
                }
            ],
            "drill": [f"{drill}?metric=received&{q}&{b.drill}" for b in board.by_channel],
        },
        "category": _bars(board.by_category, drill, q),
        "street": _bars(board.by_street, drill, q),
        "property": _bars(board.by_property, drill, q, metric="dispatched"),
    }


def hotspot_chart(hotspots: list[Any]) -> dict[str, Any]:
    return {
        "color": ["#b8434e"],
        "grid": {"left": 200, "right": 24, "top": 8, "bottom": 24},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value", "name": _("热度")},
        "yAxis": {"type": "category", "inverse": True, "data": [h.title[:18] for h in hotspots]},
        "series": [{"type": "bar", "data": [round(h.heat, 1) for h in hotspots], "name": _("热度")}],
        "drill": [f"/analytics/hotspots/{h.pk}/" for h in hotspots],
    }


def map_chart(units: list[Any], counts: dict[int, int], hotspots: list[Any]) -> dict[str, Any]:
    """Communities coloured by cases received, street offices outlined, hotspots as circles sized by heat at
    the centre of their community or street."""
    by_id = {u.pk: u for u in units}
    values = [
        {"name": u.name, "value": int(counts.get(u.pk, 0) or 0)}
        for u in units
        if u.kind == "community" and u.boundary
    ]
    top = max([v["value"] for v in values] + [1])
    points = []
    for h in hotspots:
        unit = by_id.get(h.place_unit_id) if h.place_unit_id else None
        at = geo.marker_point(unit.boundary) if unit and unit.boundary else None
        if at is None:
            continue
        points.append({"name": h.title, "value": [at[0], at[1], round(h.heat, 1)], "id": h.pk})
    bounds = [[0, 100], [100, 0]]
    return {
        "tooltip": {"trigger": "item"},
        "visualMap": {
            "min": 0,
            "max": top,
            "left": 8,
            "bottom": 8,
            "text": [_("多"), _("少")],
            "calculable": True,
            "inRange": {"color": ["#eef3fa", "#9dbde3", "#1f5fa8"]},
            "seriesIndex": 0,
        },
        "geo": [
            {
                "map": "jiefen-streets",
                "boundingCoords": bounds,
                "aspectScale": 1,
                "layoutCenter": ["55%", "50%"],
                "layoutSize": "92%",
                "roam": False,
                "silent": True,
                "itemStyle": {"areaColor": "#fafafa", "borderColor": "#333", "borderWidth": 2},
                "label": {"show": True, "position": "top", "color": "#333", "fontWeight": "bold"},
                "z": 1,
            }
        ],
        "series": [
            {
                "type": "map",
                "map": "jiefen-communities",
                "boundingCoords": bounds,
                "aspectScale": 1,
                "layoutCenter": ["55%", "50%"],
                "layoutSize": "92%",
                "roam": False,
                "name": _("受理量"),
                "data": values,
                "label": {"show": True, "fontSize": 10},
                "itemStyle": {"borderColor": "#fff", "borderWidth": 1},
                "z": 2,
            },
            {
                "type": "scatter",
                "coordinateSystem": "geo",
                "name": _("热点"),
                "data": points,
                "symbolSize": "__heat__",
                "itemStyle": {"color": "rgba(184,67,78,0.75)", "borderColor": "#fff"},
                "z": 5,
            },
        ],
        "drill": [f"/analytics/hotspots/{p['id']}/" for p in points],
    }
