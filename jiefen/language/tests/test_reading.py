"""``read``: the language work on a batch, each part on its own; the same in a second process."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from jiefen.language import extract, reading
from jiefen.language.classify import KeywordModel
from jiefen.language.reading import ModelFiles, Models, Reader, read
from jiefen.language.similar import CaseVectorizer, IVFIndex

TAXONOMY = [
    {"code": "WY-TC", "name": "停车管理", "path": "物业管理/停车管理", "synonyms": ["停车费", "车位"]},
    {"code": "HB-ZY", "name": "噪音污染", "path": "环境保护/噪音污染", "synonyms": ["噪音", "扰民"]},
]
TEXTS = [
    "锦绣花园小区物业乱收停车费，车位不够，电话13800138000",
    "东方建筑公司拖欠我们20名工人工资共计8万元，再不给就去北京上访",
    "楼下酒吧深夜噪音扰民",
    "幸福里小区3号楼楼道灯坏了",
]
DAYS: list[dt.date | None] = [dt.date(2020, 1, 10)] * len(TEXTS)


@pytest.fixture
def files(tmp_path: Path) -> ModelFiles:
    vectorizer = CaseVectorizer(dim=8).fit(TEXTS * 3)
    vectorizer.save(tmp_path / "vec.npz")
    IVFIndex.create(tmp_path / "ix", vectorizer.transform(TEXTS), np.arange(len(TEXTS)) + 10, nlist=2)
    return ModelFiles(
        taxonomy=tuple(TAXONOMY), vectorizer=str(tmp_path / "vec.npz"), index=str(tmp_path / "ix")
    )


def test_every_part_is_read_for_each_text(files: ModelFiles) -> None:
    found = read(TEXTS, DAYS, files.load(), k=2)
    assert found.suggestions is not None and found.entities is not None and found.risks is not None
    assert [s[0].label for s in found.suggestions[:1]] == ["WY-TC"]
    assert any(e.type == "phone" for e in found.entities[0])
    assert {f.code for f in found.risks[1].flags} >= {"escalation"}
    assert found.vectors is not None and found.vectors.shape == (4, 8)
    assert found.hits is not None and [h[0][0] for h in found.hits] == [10, 11, 12, 13]
    picked = found.pick([2, 0])
    assert picked.hits is not None and [h[0][0] for h in picked.hits] == [12, 10]
    assert picked.vectors is not None and np.array_equal(picked.vectors, found.vectors[[2, 0]])


def test_a_reading_crosses_to_the_import_process_with_what_it_uses(files: ModelFiles) -> None:
    found = read(TEXTS, DAYS, files.load(), k=2)
    back = pickle.loads(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own bytes)
    assert found.entities is not None and back.entities is None  # their summaries are what it stores
    assert found.extractions == [extract.summary(these) for these in found.entities]
    assert back.extractions == found.extractions and back.risks == found.risks
    assert back.suggestions == found.suggestions and back.hits == found.hits
    assert back.hits is not None and all(type(pair) is tuple for row in back.hits for pair in row)
    assert back.vectors is not None and found.vectors is not None
    assert np.array_equal(back.vectors, found.vectors)


def test_a_failing_part_is_logged_and_the_others_still_count(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(KeywordModel):
        def predict_top(self, texts: object, k: int = 3) -> list[list[object]]:  # type: ignore[override]
            raise RuntimeError("model file damaged")

    with caplog.at_level(logging.ERROR):
        found = read(TEXTS, DAYS, Models(classifier=Broken.from_taxonomy(TAXONOMY)), k=2)
    assert found.suggestions is None
    assert "classification failed" in caplog.text
    assert found.entities is not None and len(found.entities) == 4
    assert found.vectors is None and found.hits is None  # no vectoriser, no index: nothing searched


def test_a_second_process_reads_as_this_one_does(files: ModelFiles) -> None:
    here = read(TEXTS, DAYS, files.load(), k=2)
    reader = Reader(files)
    try:
        there = reader.submit(TEXTS, DAYS, k=2).result(timeout=120)
    finally:
        reader.close()
    assert there.suggestions == here.suggestions
    assert there.extractions == here.extractions and there.entities is None
    assert there.risks == here.risks
    assert there.hits == here.hits
    assert there.vectors is not None and here.vectors is not None
    assert np.allclose(there.vectors, here.vectors)


def test_the_reader_process_loads_the_models_once_and_collects_garbage_seldom(
    files: ModelFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the second process runs when it starts (here in this process, then put back)."""
    import gc

    from jiefen.language import reading

    before = gc.get_threshold()
    monkeypatch.setattr(reading, "_worker_models", None)
    try:
        reading._open(files)
        assert gc.get_threshold() == (reading.BATCH_GC_THRESHOLD, *before[1:])
        assert reading._worker_models is not None and reading._worker_models.index is not None
        assert gc.get_freeze_count() > 0  # the models are left out of collections
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_the_reader_compacts_an_index_whose_append_log_outweighs_its_cells(
    files: ModelFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk load appends its cases to the index, and every search scans them in the cells it probes: the
    reader merges them into the cells first once they outweigh them."""
    models = files.load()
    index = models.index
    assert index is not None and models.vectorizer is not None
    monkeypatch.setattr(reading, "_worker_models", models)
    monkeypatch.setattr(reading, "COMPACT_TAIL_ROWS", 3)
    index.add(models.vectorizer.transform(TEXTS[:3]), [20, 21, 22])  # 3 appended, 4 in the cells
    reading._read_in_worker(TEXTS, DAYS, 2)
    assert (Path(index.directory) / "CURRENT").read_text().strip() == "1"  # not yet
    index.add(models.vectorizer.transform(TEXTS[3:]), [23])
    found = reading._read_in_worker(TEXTS, DAYS, 2)
    assert len(index) == 8 and index.tail_outweighs(1) is False  # all 8 in the cells of a new generation
    assert found.hits is not None and [sorted(case_id for case_id, _ in h) for h in found.hits] == [
        [10, 20],
        [11, 21],
        [12, 22],
        [13, 23],
    ]


def test_the_reader_compares_each_submission_with_the_one_before(
    files: ModelFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import's reading searches the index before the batch in between is in it: the reader gives
    each text its nearest texts of the submission before, by position, with the search's scores."""
    models = files.load()
    monkeypatch.setattr(reading, "_worker_models", models)
    monkeypatch.setattr(reading, "_previous", None)
    first = reading._read_in_worker(TEXTS[:2], DAYS[:2], 2, None, 7)
    assert (first.number, first.recent_of, first.recent) == (7, None, None)
    second = reading._read_in_worker(TEXTS[1:], DAYS[1:], 2, 0.5, 8)
    assert (second.number, second.recent_of) == (8, 7)
    assert second.recent is not None and second.recent[0] == [(1, 1.0)]  # TEXTS[1], the same text
    assert all(score >= 0.5 for row in second.recent for _, score in row)
    picked = second.pick([2, 0])
    assert (picked.positions, picked.number, picked.recent_of) == ([2, 0], 8, 7)
    assert picked.recent == [second.recent[2], second.recent[0]]
