"""The plain-Python matchers: phrases in text and points in polygons."""

from __future__ import annotations

import random

from jiefen.routing import matching
from jiefen.routing.matching import PhraseIndex, Shape, contains

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}
WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}


def test_a_point_inside_a_polygon_is_found_and_one_outside_is_not() -> None:
    assert contains(SQUARE, 5, 5)
    assert not contains(SQUARE, 11, 5)
    assert not contains(SQUARE, 5, -0.1)


def test_a_point_in_a_hole_is_outside() -> None:
    assert contains(WITH_HOLE, 2, 2)
    assert not contains(WITH_HOLE, 5, 5)


def test_a_concave_polygon_is_handled() -> None:
    # A "U": the notch between the arms is outside.
    u_shape = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [9, 0], [9, 9], [6, 9], [6, 3], [3, 3], [3, 9], [0, 9], [0, 0]]],
    }
    assert contains(u_shape, 1, 8)
    assert contains(u_shape, 8, 8)
    assert not contains(u_shape, 4.5, 6)


def test_multipolygons_features_and_collections_are_read() -> None:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [SQUARE["coordinates"], [[[20, 20], [30, 20], [30, 30], [20, 30], [20, 20]]]],
    }
    feature = {"type": "Feature", "properties": {}, "geometry": multi}
    collection = {"type": "FeatureCollection", "features": [feature]}
    for geometry in (multi, feature, collection):
        assert contains(geometry, 25, 25)
        assert contains(geometry, 5, 5)
        assert not contains(geometry, 15, 15)


def test_bad_geometry_contains_nothing() -> None:
    for geometry in (None, {}, {"type": "Point", "coordinates": [1, 1]}, "x", {"type": "Polygon"}):
        assert not contains(geometry, 1, 1)
    assert Shape.from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}) is None


def test_the_longest_phrase_wins_then_the_earliest() -> None:
    index = PhraseIndex([("杨庄", "village"), ("杨庄东区", "compound"), ("东区", "area")])
    hit = index.longest("北京杨庄东区5号楼")
    assert hit is not None
    assert (hit.phrase, hit.start, hit.values) == ("杨庄东区", 2, ("compound",))
    first = PhraseIndex([("甲乙", 1), ("丙丁", 2)]).longest("丙丁和甲乙")
    assert first is not None and first.phrase == "丙丁"
    assert index.longest("无关的文字") is None
    assert index.present("杨庄东区") == {"杨庄", "杨庄东区", "东区"}


def test_one_phrase_may_stand_for_several_values() -> None:
    index = PhraseIndex([("八角南里", 1), ("八角南里", 2)])
    assert index.get("八角南里") == (1, 2)


def test_the_fallback_scan_finds_what_the_automaton_finds() -> None:
    rng = random.Random(7)
    alphabet = "东西南北中花园小区里街路村庄家湾"
    phrases = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))) for _ in range(400)})
    texts = ["".join(rng.choice(alphabet) for _ in range(60)) for _ in range(50)]
    with_automaton = PhraseIndex((p, p) for p in phrases)
    assert with_automaton._automaton is not None
    matching_module = matching
    saved = matching_module.ahocorasick
    matching_module.ahocorasick = None
    try:
        scanning = PhraseIndex((p, p) for p in phrases)
    finally:
        matching_module.ahocorasick = saved
    assert scanning._automaton is None
    for text in texts:
        assert [(h.phrase, h.start) for h in with_automaton.hits(text)] == [
            (h.phrase, h.start) for h in scanning.hits(text)
        ]


def test_among_twenty_thousand_aliases_the_longest_one_in_a_long_text_is_found() -> None:
    """The text also holds shorter aliases, before the longest one ("6小区") and inside it ("876小区" in
    "第9876小区"). (Their speed is measured by bench/routing.py, over 10,000 aliases.)"""
    aliases = [(f"第{n}小区", n) for n in range(10_000)] + [(f"{n}小区", -n) for n in range(10_000)]
    index = PhraseIndex(aliases)
    text = "反映" * 200 + "6小区和第9876小区门口" + "停车" * 200
    assert {"6小区", "876小区", "9876小区", "第9876小区"} <= index.present(text)
    hit = index.longest(text)
    assert hit is not None and hit.values == (9876,)
