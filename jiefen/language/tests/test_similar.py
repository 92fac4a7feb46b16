from __future__ import annotations

import datetime as dt
import fcntl
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jiefen.language.similar import (
    Candidate,
    CaseVectorizer,
    IVFIndex,
    brute_force,
    cells_for,
    explain,
    find_repeats,
)

CORPUS = [
    "A5区劳动东路魅力之城小区一楼的夜宵摊严重污染附近的空气，油烟扰民",
    "魅力之城小区临街门面油烟扰民，晚上烧烤到凌晨",
    "A市经济学院强制学生外出实习，不去就不发毕业证",
    "A市经济学院寒假组织学生去工厂打工",
    "A3区西湖街道茶场村五组是如何规划的",
    "A7县星沙镇的路灯坏了一个月没人修",
    "小区物业乱收停车费，业主多次投诉无果",
    "公司拖欠农民工工资半年，包工头跑路",
] * 3


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectoriser_ranks_the_same_problem_first_and_round_trips(tmp_path: Path) -> None:
    vec = CaseVectorizer(dim=6).fit(CORPUS)
    vectors = vec.transform(CORPUS[:8])
    query = vec.transform(["魅力之城小区楼下烧烤油烟扰民"])[0]
    assert set(brute_force(vectors, query, 2).tolist()) == {0, 1}
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    vec.save(tmp_path / "v.npz")
    assert np.allclose(CaseVectorizer.load(tmp_path / "v.npz").transform(CORPUS[:2]), vectors[:2], atol=1e-6)


def test_ivf_index_with_all_cells_probed_equals_brute_force(tmp_path: Path) -> None:
    vectors = unit_vectors(2000, 16, 0)
    index = IVFIndex.create(tmp_path / "ix", vectors, np.arange(2000) + 100, nlist=20)
    query = unit_vectors(1, 16, 1)[0]
    hits = index.search(query, 10, nprobe=20)
    assert [h.case_id - 100 for h in hits] == brute_force(vectors, query, 10).tolist()
    assert hits[0].score >= hits[-1].score


def test_appended_cases_are_visible_to_other_readers_and_survive_compaction(tmp_path: Path) -> None:
    vectors = unit_vectors(500, 8, 2)
    writer = IVFIndex.create(tmp_path / "ix", vectors, np.arange(500), nlist=10)
    reader = IVFIndex(tmp_path / "ix", nprobe=2)
    new = unit_vectors(3, 8, 3)
    writer.add(new, [9001, 9002, 9003])
    assert len(reader) == 503
    assert reader.search(new[1], 1)[0].case_id == 9002
    writer.compact()
    assert (tmp_path / "ix" / "CURRENT").read_text() == "2"
    assert len(reader) == 503
    assert reader.search(new[2], 1, nprobe=10)[0].case_id == 9003
    writer.cleanup(keep=1)
    assert sorted(p.name for p in (tmp_path / "ix").glob("gen-*")) == ["gen-000002"]


def test_explain_names_shared_places_and_phrases() -> None:
    why = explain(CORPUS[0], CORPUS[1])
    assert why.shared_places == ("魅力之城小区",)
    assert why.shared_phrases == ("油烟扰民",)
    assert why.text == "同一地点：魅力之城小区；共同内容：油烟扰民"


def test_find_repeats_sorts_candidates_into_kinds() -> None:
    now = dt.datetime(2019, 9, 5, 12, 0)
    candidates = [
        Candidate(1, CORPUS[0], now - dt.timedelta(minutes=5), 0.97, person_id=7),
        Candidate(2, CORPUS[1], now - dt.timedelta(days=30), 0.6, person_id=8),
        Candidate(3, CORPUS[6], now - dt.timedelta(days=90), 0.3, person_id=7),
        Candidate(4, CORPUS[2], now - dt.timedelta(days=2), 0.2, person_id=9),
    ]
    repeats = find_repeats(CORPUS[0], now, candidates, person_id=7)
    assert [(r.case_id, r.kind, r.auto_merge) for r in repeats] == [
        (1, "near_duplicate", True),
        (2, "same_problem_same_place", False),
        (3, "same_person", False),
    ]
    assert repeats[1].reason == "同一地点：魅力之城小区；共同内容：油烟扰民"


def test_batch_search_matches_one_by_one_and_searches_the_tail_by_cell(tmp_path: Path) -> None:
    vectors = unit_vectors(3000, 16, 2)
    index = IVFIndex.create(tmp_path / "ix", vectors[:2000], np.arange(2000), nlist=30)
    index.add(vectors[2000:2600], np.arange(2000, 2600))
    index.add(vectors[2600:], np.arange(2600, 3000))
    queries = unit_vectors(50, 16, 3)
    batch = index.search_many(queries, 10, nprobe=30)
    for query, hits in zip(queries, batch, strict=True):
        assert [h.case_id for h in hits] == [h.case_id for h in index.search(query, 10, nprobe=30)]
        # every cell probed: exact, the appended rows included
        assert [h.case_id for h in hits] == brute_force(vectors, query, 10).tolist()
    # with fewer cells probed, one query alone finds what it finds in a batch, appended rows included
    few = index.search_many(queries, 10, nprobe=4)
    for query, hits in zip(queries, few, strict=True):
        assert index.search(query, 10, nprobe=4) == hits
    # with fewer cells probed, appended rows are found in their own cell like the sealed ones
    near = index.search_many(vectors[2990:3000] + 0.001, 1, nprobe=3)
    assert [hits[0].case_id for hits in near] == list(range(2990, 3000))
    index.compact()
    assert [h.case_id for h in index.search_many(queries[:5], 10, nprobe=30)[0]] == [
        h.case_id for h in batch[0]
    ]


def test_a_batch_search_leaves_out_hits_below_the_minimum_score(tmp_path: Path) -> None:
    """With ``min_score`` a batch search returns what it returns without, less the hits scoring below it
    (in order, to the rounded score: a hit the caller keeps is never pruned early)."""
    vectors = unit_vectors(3000, 16, 4)
    index = IVFIndex.create(tmp_path / "ix", vectors[:2500], np.arange(2500), nlist=30)
    index.add(vectors[2500:], np.arange(2500, 3000))
    queries = unit_vectors(40, 16, 6)
    every = index.search_many(queries, 20, nprobe=8)
    scores = sorted(h.score for hits in every for h in hits)
    floor = scores[len(scores) // 2]  # half the hits score below it
    some = index.search_many(queries, 20, nprobe=8, min_score=floor)
    assert some == [[h for h in hits if h.score >= floor] for hits in every]
    assert 0 < sum(map(len, some)) < sum(map(len, every))
    assert index.search_many(queries[:1], 20, nprobe=8, min_score=floor) == some[:1]


def test_compaction_partitions_an_outgrown_index_anew(tmp_path: Path) -> None:
    """Merging the append log keeps the cells while the index suits them; once it has outgrown them (about
    2·√n cells would suit it, ``REPARTITION_GROWTH`` times as many) the cells are trained anew, so a probe
    scans about as many vectors as when the index was built."""
    vectors = unit_vectors(1000, 16, 5)
    index = IVFIndex.create(tmp_path / "ix", vectors[:900], np.arange(900))
    index.compact()  # nothing appended yet (the periodic job on a quiet office)
    assert len(index) == 900
    index.add(vectors[900:950], np.arange(900, 950))
    assert not index.tail_outweighs(10)
    index.compact()
    store = index._current_store()
    assert len(store.offsets) - 1 == cells_for(900) == 60  # 950 still suit 60 cells
    small = IVFIndex.create(tmp_path / "small", vectors[:300], np.arange(300))
    small.add(vectors[300:], np.arange(300, 1000))
    assert small.tail_outweighs(10) and not small.tail_outweighs(1000)
    small.compact()
    store = small._current_store()
    assert len(store.offsets) - 1 == cells_for(1000) == 63 and store.tail_count() == 0
    assert sorted(np.asarray(store.ids).tolist()) == list(range(1000))
    for query in unit_vectors(20, 16, 6):  # every cell probed: exact
        assert [h.case_id for h in small.search(query, 10, nprobe=63)] == brute_force(
            vectors, query, 10
        ).tolist()


def test_cases_appended_while_the_index_is_compacted_are_carried_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction holds the writers' lock only at its start and end: a registration appending meanwhile
    does not wait for the new cells to be trained and written, and its cases are in the new generation."""
    from jiefen.language import similar

    vectors = unit_vectors(1000, 16, 7)
    index = IVFIndex.create(tmp_path / "ix", vectors[:300], np.arange(300))
    index.add(vectors[300:900], np.arange(300, 900))
    writer = IVFIndex(tmp_path / "ix")  # (another process's handle)
    write_generation = similar._write_generation

    def meanwhile(*args: Any, **kwargs: Any) -> None:
        with open(tmp_path / "ix" / "lock", "a") as handle:  # free: the append below does not wait
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
        writer.add(vectors[900:], np.arange(900, 1000))
        write_generation(*args, **kwargs)

    monkeypatch.setattr(similar, "_write_generation", meanwhile)
    index.compact()
    store = index._current_store()
    assert store.tail_count() == 100 and len(index) == 1000
    assert sorted([*np.asarray(store.ids).tolist(), *np.asarray(store.tail()[1]).tolist()]) == list(
        range(1000)
    )
    for query in vectors[950:960]:  # the carried-over rows are found in their cells
        assert index.search(query, 1, nprobe=3)[0].case_id in range(950, 960)


def test_a_tail_whose_count_reached_the_disk_before_its_rows_counts_only_its_complete_rows(
    tmp_path: Path,
) -> None:
    """Appends are not flushed to disk one by one: after a crash of the machine, the count may say more rows
    than the files hold. Readers count only the complete rows, and the next append goes on from there."""
    vectors = unit_vectors(310, 8, 11)
    index = IVFIndex.create(tmp_path / "ix", vectors[:300], np.arange(300), nlist=5)
    index.add(vectors[300:305], np.arange(300, 305))
    gen = tmp_path / "ix" / "gen-000001"
    np.array([9], dtype=np.int64).tofile(gen / "tail.count")  # 9 counted; 5 rows on disk
    with open(gen / "tail.ids", "ab") as handle:  # and a torn sixth id
        handle.write(b"\x01\x02\x03")
    with open(gen / "tail.f32", "ab") as handle:  # a whole sixth vector
        handle.write(np.zeros(8, dtype=np.float32).tobytes())
    reader = IVFIndex(tmp_path / "ix")
    assert len(reader) == 305 and sorted(reader.ids().tolist()) == list(range(305))
    assert reader.search(vectors[304], 1, nprobe=5)[0].case_id == 304
    index.add(vectors[305:], np.arange(305, 310))
    assert len(reader) == 310 and sorted(reader.ids().tolist()) == list(range(310))
    for i in (302, 305, 309):
        assert reader.search(vectors[i], 1, nprobe=5)[0] == (i, pytest.approx(1.0, abs=1e-5))
    with open(gen / "tail.cells", "r+b") as handle:  # the cells file, too, counts
        handle.truncate(8 * 8)
    assert len(reader) == 308
    np.array([-(2**62)], dtype=np.int64).tofile(gen / "tail.count")  # a count read half-rewritten
    assert len(reader) == 300
    (gen / "tail.count").write_bytes(b"\x07\x00\x00")  # created, then the crash before its 8 bytes landed
    assert len(reader) == 300 and reader.search(vectors[0], 1, nprobe=5)[0].case_id == 0
    index.add(vectors[300:302], np.arange(300, 302))  # the next append goes on from the complete rows
    assert sorted(reader.ids().tolist()) == list(range(302))
