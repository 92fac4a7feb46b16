"""Finding names in text and points in polygons: plain Python, no Django.

``PhraseIndex`` finds every stored phrase occurring in a text in one pass (an Aho–Corasick automaton from
``pyahocorasick`` when installed; otherwise a scan by phrase length, which is slower but gives the same
answers). ``contains`` is a ray-casting point-in-polygon test over GeoJSON geometries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

try:
    import ahocorasick
except ImportError:  # pragma: no cover - exercised only where the package is missing
    ahocorasick = None

T = TypeVar("T")


@dataclass(frozen=True)
class Hit(Generic[T]):
    phrase: str
    start: int
    values: tuple[T, ...]


class PhraseIndex(Generic[T]):
    """Phrases, each with the values it stands for (an alias may name more than one unit)."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        table: dict[str, list[T]] = {}
        for phrase, value in entries:
            phrase = phrase.strip()
            if phrase:
                table.setdefault(phrase, []).append(value)
        self._table: dict[str, tuple[T, ...]] = {phrase: tuple(values) for phrase, values in table.items()}
        self._lengths = sorted({len(phrase) for phrase in self._table}, reverse=True)
        self._automaton: Any = None
        if ahocorasick is not None and self._table:
            automaton = ahocorasick.Automaton()
            for phrase in self._table:
                automaton.add_word(phrase, phrase)
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self._table)

    def get(self, phrase: str) -> tuple[T, ...]:
        return self._table.get(phrase, ())

    def hits(self, text: str) -> list[Hit[T]]:
        """Every occurrence of every phrase in ``text``, overlapping ones included, in order of position."""
        if not text or not self._table:
            return []
        found: list[tuple[int, str]] = []
        if self._automaton is not None:
            for end, phrase in self._automaton.iter(text):
                found.append((end - len(phrase) + 1, phrase))
        else:
            for start in range(len(text)):
                for length in self._lengths:
                    phrase = text[start : start + length]
                    if len(phrase) == length and phrase in self._table:
                        found.append((start, phrase))
        found.sort()
        return [Hit(phrase, start, self._table[phrase]) for start, phrase in found]

    def longest(self, text: str) -> Hit[T] | None:
        """The longest phrase found in ``text`` (the earliest among equally long ones): "杨庄东区" beats
        "杨庄" in "杨庄东区5号楼", so a compound wins over the village it was named after."""
        best: Hit[T] | None = None
        for hit in self.hits(text):
            if best is None or len(hit.phrase) > len(best.phrase):
                best = hit
        return best

    def present(self, text: str) -> set[str]:
        return {hit.phrase for hit in self.hits(text)}


# --- point in polygon ----------------------------------------------------------------------------------------

Ring = Sequence[Sequence[float]]
Polygon = Sequence[Ring]


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Ray casting: a horizontal ray from (x, y) crosses the ring's edges an odd number of times iff inside."""
    inside = False
    count = len(ring)
    j = count - 1
    for i in range(count):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _in_polygon(x: float, y: float, polygon: Polygon) -> bool:
    """Inside the outer ring and outside every hole."""
    if not polygon or not _in_ring(x, y, polygon[0]):
        return False
    return not any(_in_ring(x, y, hole) for hole in polygon[1:])


def polygons_of(geojson: Any) -> list[Polygon]:
    """The polygons of a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection; [] for anything else."""
    if not isinstance(geojson, dict):
        return []
    kind = geojson.get("type")
    if kind == "Feature":
        return polygons_of(geojson.get("geometry"))
    if kind == "FeatureCollection":
        return [p for feature in geojson.get("features") or [] for p in polygons_of(feature)]
    if kind == "GeometryCollection":
        return [p for geometry in geojson.get("geometries") or [] for p in polygons_of(geometry)]
    coordinates = geojson.get("coordinates")
    if kind == "Polygon" and isinstance(coordinates, list):
        return [coordinates]
    if kind == "MultiPolygon" and isinstance(coordinates, list):
        return list(coordinates)
    return []


@dataclass(frozen=True)
class Shape:
    """Polygons with their bounding box, so most points are rejected by four comparisons."""

    polygons: tuple[Polygon, ...]
    min_x: float
    min_y: float
    max_x: float
    max_y: float

    @classmethod
    def from_geojson(cls, geojson: Any) -> Shape | None:
        polygons = [p for p in polygons_of(geojson) if p and len(p[0]) >= 3]
        if not polygons:
            return None
        xs = [point[0] for polygon in polygons for point in polygon[0]]
        ys = [point[1] for polygon in polygons for point in polygon[0]]
        return cls(tuple(polygons), min(xs), min(ys), max(xs), max(ys))

    def contains(self, lon: float, lat: float) -> bool:
        if not (self.min_x <= lon <= self.max_x and self.min_y <= lat <= self.max_y):
            return False
        return any(_in_polygon(lon, lat, polygon) for polygon in self.polygons)


def contains(geojson: Any, lon: float, lat: float) -> bool:
    """Whether the point (GeoJSON order: longitude, latitude) lies in the geometry."""
    shape = Shape.from_geojson(geojson)
    return shape is not None and shape.contains(lon, lat)
