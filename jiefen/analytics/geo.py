"""Boundaries for the map. Real boundaries come from ``Unit.boundary`` (GeoJSON, entered by an admin); where
there are none, ``schematic_boundaries`` lays the street offices out as a tidy grid of squares with their
communities as smaller squares inside, so the map works from the project's own data alone. The layout is
deterministic (units ordered by code) and clearly schematic, not geography."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from jiefen.org.models import Unit, UnitKind

# Schematic coordinates: a made-up plane (x 0–100, y 0–100) rather than longitude/latitude, so nobody takes
# the squares for real places.
_SIZE = 100.0
_GAP = 0.06  # share of a cell left empty around each square


def _square(x0: float, y0: float, side: float) -> dict[str, Any]:
    pad = side * _GAP
    a, b = x0 + pad, y0 + pad
    c, d = x0 + side - pad, y0 + side - pad
    return {"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]}


def _grid(n: int) -> int:
    return max(1, math.ceil(math.sqrt(n)))


def schematic_boundaries(units: Iterable[Unit]) -> dict[int, dict[str, Any]]:
    """unit id → a GeoJSON Polygon for every street office and community among ``units``: streets as the cells
    of a square grid (by code), each street's communities as a square sub-grid inside its cell."""
    units = list(units)
    streets = sorted((u for u in units if u.kind == UnitKind.STREET), key=lambda u: u.code)
    communities: dict[int, list[Unit]] = {}
    for u in units:
        if u.kind == UnitKind.COMMUNITY and u.parent_id is not None:
            communities.setdefault(u.parent_id, []).append(u)
    shapes: dict[int, dict[str, Any]] = {}
    cols = _grid(len(streets))
    cell = _SIZE / cols
    for i, street in enumerate(streets):
        x0, y0 = (i % cols) * cell, _SIZE - (i // cols + 1) * cell
        shapes[street.pk] = _square(x0, y0, cell)
        inner = sorted(communities.get(street.pk, []), key=lambda u: u.code)
        sub = _grid(len(inner))
        side = cell * (1 - 2 * _GAP) / sub
        for j, community in enumerate(inner):
            cx = x0 + cell * _GAP + (j % sub) * side
            cy = y0 + cell * (1 - _GAP) - (j // sub + 1) * side
            shapes[community.pk] = _square(cx, cy, side)
    return shapes


def fill_missing_boundaries() -> int:
    """Give every street office and community without a boundary its schematic square (the demo loader calls
    this); boundaries an admin entered are kept. The number filled. A schematic square is marked so the map
    can say it is schematic."""
    units = list(Unit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.COMMUNITY], is_active=True))
    shapes = schematic_boundaries(units)
    filled = 0
    with transaction.atomic():
        for unit in units:
            if unit.boundary or unit.pk not in shapes:
                continue
            Unit.objects.filter(pk=unit.pk, boundary__isnull=True).update(
                boundary={**shapes[unit.pk], "schematic": True}
            )
            filled += 1
    return filled


def centroid(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """The mean of a polygon's outer ring (good enough to place a marker)."""
    try:
        coords = geometry["coordinates"]
        ring = coords[0][0] if geometry["type"] == "MultiPolygon" else coords[0]
        points = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    except (KeyError, IndexError, TypeError, ZeroDivisionError):
        return None


def marker_point(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """Where a marker goes: below the centre of the shape's bounding box, clear of the area's name label."""
    try:
        coords = geometry["coordinates"]
        ring = coords[0][0] if geometry["type"] == "MultiPolygon" else coords[0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return ((min(xs) + max(xs)) / 2, min(ys) + (max(ys) - min(ys)) * 0.28)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def feature_collection(units: Iterable[Unit]) -> dict[str, Any]:
    """The GeoJSON ECharts ``registerMap`` takes: one feature per unit with a boundary, named by the unit."""
    features = []
    for u in units:
        if not u.boundary:
            continue
        geometry = {k: v for k, v in u.boundary.items() if k in ("type", "coordinates")}
        features.append(
            {
                "type": "Feature",
                "properties": {"name": u.name, "id": u.pk, "kind": u.kind},
                "geometry": geometry,
            }
        )
    return {"type": "FeatureCollection", "features": features}
